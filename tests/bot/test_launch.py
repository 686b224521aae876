"""The entry point pauses the cyclic collector for start-up imports, and only for them; a
started server keeps what start-up built from it."""

from __future__ import annotations

import gc
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from rapport.launch import collector_paused

ROOT = Path(__file__).resolve().parents[2]


def test_collector_is_paused_inside_and_resumes_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collector_resumes_after_a_failed_import() -> None:
    with pytest.raises(ModuleNotFoundError), collector_paused():
        import rapport.no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert gc.isenabled()


def test_a_collector_paused_by_the_caller_stays_paused() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_command_runs_with_the_collector_on() -> None:
    """After start-up imports the collector is back: a long-running server must collect."""
    probe = ("import gc, sys; import rapport.launch as launch, rapport.bot.service.cli as cli; "
             "cli.main = lambda: print(gc.isenabled()); launch.main()")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "True"


def test_the_installed_script_and_python_dash_m_share_the_entry_point() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["rapport"] == "rapport.launch:main"
    assert "from rapport.launch import main" in (ROOT / "rapport" / "__main__.py").read_text()


def test_what_start_up_built_is_kept_from_the_collector_and_garbage_is_not() -> None:
    """In a process of its own: the permanent generation would outlive this test."""
    probe = (
        "import gc, weakref\n"
        "from rapport.launch import keep_from_collector\n"
        "class Node: pass\n"
        "kept, garbage = Node(), Node()\n"
        "kept.me = kept; garbage.me = garbage\n"
        "gone = weakref.ref(garbage); del garbage\n"
        "count = keep_from_collector()\n"
        "print(gone() is None, count == gc.get_freeze_count() > 0,\n"
        "      any(o is kept for o in gc.get_objects()), gc.isenabled())\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    # The cycle that was garbage is freed; the live one left the collected generations;
    # the collector still runs for what is built afterwards.
    assert result.stdout.split() == ["True", "True", "False", "True"]
