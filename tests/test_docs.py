"""The README and docs/*.md: every relative link and image points at a file of the repository
and, when it names a section (`file.md#section`), at a heading that file has."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)|<img [^>]*src=\"([^\"]+)\"")


def prose(path):
    """The page without its fenced code blocks (a `# comment` there is no heading)."""
    fence, lines = False, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence:
            lines.append(line)
    return lines


def anchors(path):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    return {re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
            for line in prose(path) if re.match(r"#{1,6} ", line)}


def links(path):
    for line in prose(path):
        for match in LINK.finditer(line):
            target = match.group(1) or match.group(2)
            if not re.match(r"[a-z]+:", target):
                yield target


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_resolve(page):
    broken = []
    for target in links(page):
        file, _, section = target.partition("#")
        goal = (page.parent / file).resolve() if file else page
        if not goal.exists() or (section and section not in anchors(goal)):
            broken.append(target)
    assert not broken, f"{page.name}: links to nothing: {broken}"


def test_the_docs_pages_are_linked_from_the_readme():
    linked = {(REPO / target.partition("#")[0]).resolve() for target in links(REPO / "README.md")}
    assert not [p.name for p in PAGES[1:] if p not in linked]
