"""The documentation: README short and commands first, links that lead somewhere, every setting
documented and none invented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
CONFIG = ROOT / "rapport" / "bot" / "service" / "config.py"
CONFIGURATION_DOC = ROOT / "docs" / "configuration.md"
MAX_README_LINES = 230

# [text](target) or [text](target "title"); images too.
_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


def _prose(text: str) -> str:
    """Markdown without code blocks and code spans, where a `](...)` is no link."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    anchors: set[str] = set()
    for line in text.splitlines():
        match = re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)
        if match:
            slug = _slug(match.group(1))
            # Repeated headings get -1, -2, ... as on GitHub.
            candidate, n = slug, 0
            while candidate in anchors:
                n += 1
                candidate = f"{slug}-{n}"
            anchors.add(candidate)
    return anchors


def _links(path: Path) -> list[str]:
    return _LINK.findall(_prose(path.read_text(encoding="utf-8")))


def test_readme_starts_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    body = [line for line in lines[1:] if line.strip()] if lines[0].startswith("# ") else lines
    assert body[0].startswith("```"), "the first thing after the title is the commands block"
    end = body.index("```", 1)
    commands = [line.split("#", 1)[0].strip() for line in body[1:end]]
    assert commands == ["make run", "make test"]


def test_readme_is_short() -> None:
    count = len(README.read_text(encoding="utf-8").splitlines())
    assert count <= MAX_README_LINES, f"README.md has {count} lines; move detail into docs/"


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_at_existing_files(path: Path) -> None:
    broken = []
    for target in _links(path):
        if _EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{path.relative_to(ROOT)}: {broken}"


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_tables_have_as_many_cells_as_their_header(path: Path) -> None:
    """GitHub drops a table whose rows and delimiter disagree; a `|` inside code needs `\\|`."""

    def cells(row: str) -> int:
        return len(re.split(r"(?<!\\)\|", row.strip().strip("|")))

    tables: list[list[str]] = [[]]
    for line in _FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    bad = [row for table in tables if len(table) > 1
           for row in table if cells(row) != cells(table[1])]
    assert not bad, f"{path.relative_to(ROOT)}: {bad}"


def test_readme_links_every_doc() -> None:
    linked = {(README.parent / target.partition("#")[0]).resolve()
              for target in _links(README) if not _EXTERNAL.match(target)}
    assert not [doc.name for doc in DOCS if doc.resolve() not in linked]


def _setting_names() -> set[str]:
    """Every environment variable Settings reads: the `validation_alias` of each field."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(CONFIG.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.keyword) or node.arg != "validation_alias":
            continue
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            names.add(value.value)
        elif isinstance(value, ast.Call):  # AliasChoices("A", "B")
            names.update(arg.value for arg in value.args
                         if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return names


def _configuration_table() -> list[str]:
    return [line for line in CONFIGURATION_DOC.read_text(encoding="utf-8").splitlines()
            if line.startswith("| `")]


def test_every_setting_is_in_the_configuration_table() -> None:
    names = _setting_names()
    assert len(names) > 40  # the parse found the fields
    documented = {name for row in _configuration_table()
                  for name in re.findall(r"`([^`]+)`", row.split("|")[1])}
    assert sorted(names - documented) == []


def test_the_configuration_table_invents_no_setting() -> None:
    documented = {name for row in _configuration_table()
                  for name in re.findall(r"`([^`]+)`", row.split("|")[1])}
    assert sorted(documented - _setting_names()) == []


def test_the_readme_command_table_names_every_verb() -> None:
    from rapport.bot.core.verbs import TABLE

    rows = [line for line in README.read_text(encoding="utf-8").splitlines()
            if line.startswith("| `")]
    first_cells = " ".join(row.split(" | ")[0] for row in rows)
    missing = [verb.name for verb in TABLE
               if not re.search(rf"`{re.escape(verb.name)}\b", first_cells)]
    assert missing == []


def test_the_phrasing_figures_quoted_are_the_tables_size() -> None:
    """README and docs/people.md quote how many lines the phrasing table holds."""
    import yaml

    table = ROOT / "tests" / "phrasing" / "phrases.yaml"
    lines = len(yaml.safe_load(table.read_text(encoding="utf-8")))
    readme = " ".join(README.read_text(encoding="utf-8").split())
    people = " ".join((ROOT / "docs" / "people.md").read_text(encoding="utf-8").split())
    assert f"**Understood the way people type:** {lines} lines" in readme
    assert f"`tests/phrasing/phrases.yaml` holds {lines} lines" in people
    assert f"Today: {lines} of {lines} understood" in people
