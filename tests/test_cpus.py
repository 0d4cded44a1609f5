"""Worker counts follow the CPUs the process may use: affinity and the cgroup CPU quota."""
import os

from index.cpus import cgroup_cpu_limit, usable_cpus


def _cgroup(tmp_path, lines: str):
    proc = tmp_path / "proc-cgroup"
    proc.write_text(lines, encoding="ascii")
    return proc


def test_cgroup_v2_quota_of_the_process_group_and_its_ancestors(tmp_path):
    root = tmp_path / "sys"
    (root / "app" / "worker").mkdir(parents=True)
    (root / "cpu.max").write_text("max 100000\n")
    (root / "app" / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs for the parent group
    (root / "app" / "worker" / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_limit(_cgroup(tmp_path, "0::/app/worker\n"), root) == 1.5


def test_cgroup_v1_quota_and_unlimited(tmp_path):
    root = tmp_path / "sys"
    (root / "cpu" / "box").mkdir(parents=True)
    (root / "cpu" / "box" / "cpu.cfs_quota_us").write_text("50000\n")
    (root / "cpu" / "box" / "cpu.cfs_period_us").write_text("100000\n")
    (root / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_limit(_cgroup(tmp_path, "4:memory:/x\n1:cpu,cpuacct:/box\n"), root) == 0.5
    assert cgroup_cpu_limit(_cgroup(tmp_path, "1:cpu,cpuacct:/\n"), root) is None
    assert cgroup_cpu_limit(tmp_path / "no-such-file", root) is None


def test_usable_cpus_follow_affinity_and_quota_not_the_machine(monkeypatch):
    import index.cpus as cpus

    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5, 7})
    for quota, expected in ((None, 4), (1.5, 2), (0.25, 1), (16.0, 4)):
        monkeypatch.setattr(cpus, "cgroup_cpu_limit", lambda quota=quota: quota)
        assert usable_cpus() == expected
