"""The layers import one way (bot -> scheduler -> storage), the core holds no platform code and
each platform is a package of its own: a new platform is one new package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "rapport"
PLATFORM_SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "aiohttp")


def _imports(package: str) -> dict[str, set[str]]:
    """Every absolute module each file under `package` imports (function-level ones too)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT.parent / package.replace(".", "/")).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT.parent))] = names
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{path} imports {name}" for path, names in _imports(package).items()
            for name in sorted(names)
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


@pytest.mark.parametrize(("package", "forbidden"), [
    ("rapport.storage", ("rapport.bot", "rapport.scheduler")),
    ("rapport.scheduler", ("rapport.bot",)),
    ("rapport.bot.core", ("rapport.bot.platforms", "rapport.bot.service",
                          "rapport.bot.connectors", *PLATFORM_SDKS)),
    ("rapport.bot.platforms.console", ("rapport.bot.platforms.slack",
                                       "rapport.bot.platforms.teams", *PLATFORM_SDKS)),
    ("rapport.bot.platforms.slack", ("rapport.bot.platforms.teams",
                                     "rapport.bot.platforms.console", "botbuilder")),
    ("rapport.bot.platforms.teams", ("rapport.bot.platforms.slack",
                                     "rapport.bot.platforms.console", "slack_bolt",
                                     "slack_sdk")),
])
def test_a_layer_imports_only_what_is_below_it(package: str, forbidden: tuple[str, ...]
                                               ) -> None:
    assert _imports(package), f"{package} has no modules: the layout moved"
    assert _offenders(package, forbidden) == []
