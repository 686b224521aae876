"""The wheel an operator installs: one top-level name, and every data file the CLI needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What pip prints when it cannot download the build backend (setuptools) from the index.
_OFFLINE = ("Could not find a version that satisfies the requirement",
            "Failed to establish a new connection", "Temporary failure in name resolution")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """Build the wheel from a copy of the sources (a build leaves build/ behind)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "rapport", source / "rapport",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
         str(source)], capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0 and any(sign in result.stderr for sign in _OFFLINE):
        pytest.skip("building the wheel needs setuptools from the package index, which this "
                    "machine cannot reach")
    assert result.returncode == 0, result.stderr[-3000:]
    [built] = out.glob("rapport-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_claims_only_the_rapport_name(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/", 1)[0] for name in wheel.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"rapport"}


def test_the_wheel_ships_the_manifests_migrations_and_icons(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "rapport/bot/platforms/slack/app_manifest.yml" in names
    assert wheel.read("rapport/bot/platforms/slack/app_manifest.yml") == \
        (ROOT / "app_manifest.yml").read_bytes()
    for icon in ("manifest.json", "color.png", "outline.png"):
        assert f"rapport/bot/platforms/teams/app_package/{icon}" in names
    assert "rapport/storage/migrations/env.py" in names
    assert any(n.startswith("rapport/storage/migrations/versions/0001_") for n in names)
    assert "rapport/py.typed" in names


def test_the_wheel_needs_matplotlib_only_for_the_report_extra(wheel: zipfile.ZipFile) -> None:
    [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [line for line in wheel.read(metadata).decode().splitlines()
                if line.startswith("Requires-Dist:")]
    charting = [line for line in requires if "matplotlib" in line or "numpy" in line]
    assert charting and all('extra == "report"' in line for line in charting), charting
    assert "Provides-Extra: report" in wheel.read(metadata).decode()
