"""How many CPUs this process may actually use: the CPUs it is allowed to run on
(`os.sched_getaffinity`), capped by its cgroup's CPU quota (v2 `cpu.max`, v1
`cpu.cfs_quota_us` / `cpu.cfs_period_us`, on its own cgroup and every ancestor).
`os.cpu_count()` counts the machine's CPUs, which a container or a pinned process may not get.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _quota(text: str, period_text: str | None = None) -> float | None:
    """CPUs granted by one quota file's content; None when unlimited or unreadable."""
    parts = text.split()
    if period_text is not None:  # v1: quota and period in separate files
        parts = [parts[0] if parts else "", period_text.strip()]
    if len(parts) != 2 or parts[0] in ("max", "-1"):
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def _ancestors(relative: str) -> list[str]:
    parts = [p for p in relative.strip("/").split("/") if p]
    return ["/".join(parts[:i]) for i in range(len(parts), -1, -1)]


def cgroup_cpu_limit(proc_cgroup: Path = Path("/proc/self/cgroup"), root: Path = CGROUP_ROOT) -> float | None:
    """The smallest CPU quota on the way from this process's cgroup to the root, or None."""
    try:
        lines = proc_cgroup.read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for rel in _ancestors(path):
            if controllers == "":  # v2 unified hierarchy
                candidates = [(root / rel / "cpu.max", None)]
            elif "cpu" in controllers.split(","):
                base = root / "cpu" / rel
                candidates = [(base / "cpu.cfs_quota_us", base / "cpu.cfs_period_us")]
            else:
                continue
            for quota_file, period_file in candidates:
                try:
                    found = _quota(quota_file.read_text(), period_file.read_text() if period_file else None)
                except OSError:
                    continue
                if found is not None:
                    limits.append(found)
    return min(limits) if limits else None


def usable_cpus() -> int:
    """Whole CPUs this process may use (at least 1)."""
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        allowed = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    if limit is not None:
        allowed = min(allowed, math.ceil(limit))
    return max(1, allowed)
