"""The README stays short, every link in the docs leads somewhere, and the map of the code
(docs/architecture.md) says what the code says: its package diagram and its rule table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import package_graph

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
README_LIMIT = 15_000

_FENCE = re.compile(r"^(```|~~~)")
_INLINE_CODE = re.compile(r"`[^`]*`")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (a `# comment` in a shell block is no heading)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(page.read_text()):
        match = _HEADING.match(line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(page: Path) -> list[str]:
    return [
        target
        for line in prose_lines(page.read_text())
        for target in _LINK.findall(_INLINE_CODE.sub("", line))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # https:, mailto: … are not files here
    ]


def broken(page: Path, target: str) -> str | None:
    """Why ``target``, linked from ``page``, leads nowhere (None when it resolves)."""
    path_part, _, anchor = target.partition("#")
    linked = (page.parent / path_part).resolve() if path_part else page
    if not linked.exists():
        return f"{target}: no such file"
    if anchor and linked.suffix == ".md" and anchor not in anchors(linked):
        return f"{target}: no heading #{anchor} in {linked.name}"
    return None


def test_the_readme_stays_within_its_size() -> None:
    assert len(README.read_bytes()) <= README_LIMIT


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    problems = [why for target in relative_links(page) if (why := broken(page, target))]
    assert problems == []


def test_the_link_check_sees_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    # Given: a page that links to itself, to a heading it has, and to what does not exist
    page = tmp_path / "page.md"
    page.write_text(
        "# A `page`: its title\n\n```bash\n# not a heading\n```\n"
        "[ok](#a-page-its-title) [no](#not-a-heading) [gone](missing.md) [code `x`](page.md)\n"
    )
    # When / Then
    assert [broken(page, target) for target in relative_links(page)] == [
        None,
        "#not-a-heading: no heading #not-a-heading in page.md",
        "missing.md: no such file",
        None,
    ]


def test_the_package_diagram_says_what_the_imports_say() -> None:
    documented = package_graph.documented(package_graph.DOC.read_text())
    assert documented == package_graph.block(), (
        f"docs/architecture.md's package diagram is stale: run `{package_graph.REGENERATE}` and commit it"
    )


def test_the_package_diagram_draws_the_domain_by_its_floors() -> None:
    roots = frozenset({"ses_feedback", "functions"})
    assert package_graph.group_of("ses_feedback.usecases.sending", roots) == "ses_feedback.usecases"
    assert package_graph.group_of("ses_feedback.wiring", roots) == "ses_feedback.wiring"
    assert package_graph.group_of("functions.sender.app", roots) == "functions"
    assert package_graph.group_of("botocore.exceptions", roots) == "boto3"
    assert package_graph.group_of("json", roots) is None


def rule_table() -> list[tuple[str, Path, list[str]]]:
    """docs/architecture.md's "Where each rule lives": (rule, the file, the names it cites)."""
    page = ROOT / "docs" / "architecture.md"
    text = page.read_text().split("\n## Where each rule lives\n")[1].split("\n## ")[0]
    rows = []
    for rule, where in re.findall(r"^\| (.+?) \| (.+?) \|$", text, re.M):
        link = re.search(r"\]\(([^)]+)\)", where)
        if link is None:
            continue
        names = re.findall(r"`([\w.]+)`", where.split(")", 1)[1])
        rows.append((rule, (page.parent / link.group(1)).resolve(), names))
    return rows


def test_each_rule_names_what_its_file_defines() -> None:
    # Given: every row of the table that names a function, class or constant beside its file
    rows = rule_table()
    assert len(rows) >= 20
    # Then: the file defines each of them (a method by its own name)
    missing = [
        f"{rule}: {name} not in {path.relative_to(ROOT)}"
        for rule, path, names in rows
        for name in names
        if not re.search(
            rf"^\s*(?:def|class) {re.escape(name.split('.')[-1])}\b|^{re.escape(name)}\b.*=",
            path.read_text(),
            re.M,
        )
    ]
    assert missing == []
