"""The README and docs/ hold together: tables are well formed, links resolve, the architecture
page names every module, and the README's two commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
PAGES = [README, *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
QUICKSTART = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && "
    ".venv/bin/python -m runner +experiment=quickstart"
)
TESTS = (
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && "
    '.venv/bin/python -m pytest -m "not slow" -n 2 && .venv/bin/python -m pytest -m slow'
)


def prose(page: Path) -> str:
    """The page without its fenced code blocks."""
    return re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)


def cells(row: str) -> list[str]:
    """A table row's cells: `|` inside code spans or escaped as `\\|` does not split."""
    row = re.sub(r"`[^`]*`", "code", row.strip()).replace("\\|", "")
    return row.strip("|").split("|")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_table_row_has_the_header_s_columns(page: Path) -> None:
    for table in re.findall(r"(?:^\|.*\n)+", prose(page), re.M):
        rows = table.splitlines()
        width = len(cells(rows[0]))
        for row in rows[1:]:
            assert len(cells(row)) == width, f"{page.name}: {row[:80]}"


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(page)):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.is_file(), f"{page.name}: {target}"
        if fragment:
            headings = re.findall(r"^#+ (.*)$", prose(linked), re.M)
            assert fragment in {anchor(h) for h in headings}, f"{page.name}: {target}"


def test_architecture_names_every_module() -> None:
    """docs/architecture.md has a table per package (`### `runner/x/``) naming each module."""
    page = (PROJECT_ROOT / "docs" / "architecture.md").read_text().split("\n## Modules", 1)[1]
    named = {
        folder + name
        for folder, table in re.findall(
            r"^### `(runner/[\w/]*)`\n(.*?)(?=^### |\Z)", page, re.M | re.S
        )
        for name in re.findall(r"^\| `(\w+\.py)` \|", table, re.M)
    }
    modules = {
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "runner").rglob("*.py")
        if path.name != "__init__.py" or path.parent.name == "runner"
    }
    assert sorted(modules - named) == []
    assert sorted(named - modules) == []  # no module named that is gone


def test_readme_starts_with_the_two_commands_ci_runs() -> None:
    first_block = README.read_text().split("```bash\n", 1)[1].split("```", 1)[0]
    assert first_block.splitlines() == [QUICKSTART, TESTS]
    assert TESTS in (PROJECT_ROOT / ".ci" / "run").read_text()
