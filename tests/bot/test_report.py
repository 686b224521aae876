"""The team report: aggregates only, no names or notes, refuses groups under five."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.report import GroupTooSmall, build_report, report_csv, write_report
from rapport.bot.service.cli import app
from rapport.storage import db
from tests.bot import seed
from tests.conftest import Clock, console_user

SECRETS = ("Quartermaine", "Zebulon", "divorce lawyer", "chemo next week", "Hi Zeb, hope",
           "Ursula", "ursula", "Initech")


async def _seed_team(rapport: Rapport, clock: Clock, users: int, *,
                     workspace: str = "local", start: int = 0) -> None:
    now = clock.now
    for i in range(start, start + users):
        actor = console_user(f"ursula{i}")
        actor = type(actor)(platform=actor.platform, workspace_external_id=workspace,
                            user_external_id=actor.user_external_id,
                            display_name=f"Ursula {i}", tz="UTC")
        ctx = await rapport.user_context(actor)
        ids = (ctx.workspace_id, ctx.user_id)
        async with rapport.sessions() as session, session.begin():
            overdue = i < 2
            person = seed.contact(ids, f"Zebulon{i} Quartermaine", now, cadence=7,
                                  company="Initech",
                                  next_due=now + timedelta(days=-20 if overdue else 3))
            await seed.add_all(session, person)
            await seed.add_all(
                session,
                seed.note(person, "divorce lawyer", now),
                seed.touch(person, now - timedelta(hours=1), "chemo next week"),
                seed.touch(person, now - timedelta(hours=2)),
                seed.touch(person, now - timedelta(weeks=3)),
                seed.nudge(person, "done", now - timedelta(days=2),
                           delivered=now - timedelta(days=2),
                           acted=now - timedelta(days=2, hours=-1)),
                seed.draft(person, "posted", 7, now, text="Hi Zeb, hope all is well"))
            if i == 0:
                await seed.add_all(session, seed.nudge(person, "sent", now - timedelta(days=3),
                                                       delivered=now - timedelta(days=3)))


async def test_report_aggregates_without_personal_data(rapport: Rapport, clock: Clock,
                                                       tmp_path: Path) -> None:
    await _seed_team(rapport, clock, 6)
    await _seed_team(rapport, clock, 5, workspace="other")  # another tenant: not counted
    ctx = await rapport.user_context(console_user("ursula0"))
    report = await build_report(rapport.sessions, ctx.workspace_id, clock.now)
    assert (report.users, report.contacts) == (6, 6)
    assert report.weeks[-1] == clock.now.date() and len(report.weeks) == 12
    assert report.touchpoints_per_week[-1] == 12 and report.touchpoints_per_week[-4] == 6
    assert sum(report.touchpoints_per_week) == 18
    assert (report.nudges_resolved, report.nudges_acted_on) == (7, 6)
    assert dict(report.health) == {"within rhythm": 4, "overdue < 2 weeks": 0,
                                   "overdue 2-8 weeks": 2, "overdue > 8 weeks": 0}
    assert (report.drafts_used, report.drafts_edited) == (6, 6)
    html_path, csv_path = write_report(report, tmp_path / "out")
    page = html_path.read_text(encoding="utf-8")
    table = csv_path.read_text(encoding="utf-8")
    for secret in SECRETS:
        assert secret not in page and secret not in table
    assert page.count('src="data:image/png;base64,') == 3
    assert "6 of 7 answered (86%)" in page
    rows = list(csv.reader(io.StringIO(table)))
    assert rows[0] == ["section", "label", "value"]
    assert ["summary", "users", "6"] in rows and ["health", "overdue 2-8 weeks", "2"] in rows
    assert ["touchpoints per week", clock.now.date().isoformat(), "12"] in rows
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@")]
    # Keep a chart next to the test output for a human look.
    from rapport.bot.core.report import render_charts

    (tmp_path / "out" / "touchpoints.png").write_bytes(
        render_charts(report)["touchpoints_per_week"])


async def test_due_today_is_within_rhythm_in_each_users_calendar(rapport: Rapport,
                                                                  clock: Clock) -> None:
    """Health counts as `stats` does: due today is within the rhythm, whatever the hour;
    overdue starts the next day in the contact's owner's time zone."""
    now = clock.now  # Monday 10:00 UTC
    due = {"UTC": now - timedelta(hours=2),                 # 08:00 today: due today
           "Asia/Tokyo": now - timedelta(hours=9),          # 10:00 today in Tokyo
           "America/New_York": now - timedelta(hours=9.5),  # Sunday 19:30 there: overdue
           "Europe/Paris": now + timedelta(days=3),
           "Europe/Lisbon": now - timedelta(days=20)}
    for i, (tz, next_due) in enumerate(due.items()):
        ctx = await rapport.user_context(console_user(f"ursula{i}", tz=tz))
        async with rapport.sessions() as session, session.begin():
            await seed.add_all(session, seed.contact((ctx.workspace_id, ctx.user_id),
                                                     f"Zebulon{i}", now, cadence=7,
                                                     next_due=next_due))
    report = await build_report(rapport.sessions, ctx.workspace_id, now)
    assert dict(report.health) == {"within rhythm": 3, "overdue < 2 weeks": 1,
                                   "overdue 2-8 weeks": 1, "overdue > 8 weeks": 0}


async def test_groups_under_five_are_refused(any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _seed_team(rapport, clock, 4)
    await rapport.user_context(console_user("lurker"))  # no contacts: does not count
    ctx = await rapport.user_context(console_user("ursula0"))
    with pytest.raises(GroupTooSmall) as refused:
        await build_report(rapport.sessions, ctx.workspace_id, clock.now)
    assert refused.value.users == 4
    assert "needs at least 5" in str(refused.value)


async def test_report_csv_has_no_formula_even_for_odd_labels(rapport: Rapport, clock: Clock
                                                             ) -> None:
    await _seed_team(rapport, clock, 5)
    ctx = await rapport.user_context(console_user("ursula0"))
    report = await build_report(rapport.sessions, ctx.workspace_id, clock.now)
    odd = type(report)(**{**{f: getattr(report, f) for f in report.__dataclass_fields__},
                          "health": (("=cmd|' /C calc'!A0", 1),)})
    assert "'=cmd" in report_csv(odd)


def test_cli_report_writes_files_and_refuses_small_groups(
        tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch,
        clock: Clock) -> None:
    import asyncio

    target = tmp_path / "cli.db"
    shutil.copy(sqlite_template, target)
    url = f"sqlite+aiosqlite:///{target}"
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)

    async def seed_users(count: int, start: int) -> None:
        engine = db.create_engine(url)
        await _seed_team(Rapport(sessions=db.session_factory(engine), clock=clock), clock,
                         count, start=start)
        await engine.dispose()

    asyncio.run(seed_users(3, 0))
    runner = CliRunner()
    out = tmp_path / "report"
    result = runner.invoke(app, ["report", "--workspace", "console:local", "--out", str(out)])
    assert result.exit_code == 2 and "needs at least 5" in result.output
    assert not (out / "report.html").exists()
    asyncio.run(seed_users(2, 3))
    result = runner.invoke(app, ["report", "--workspace", "console:local", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists() and (out / "report.csv").exists()
    assert "Quartermaine" not in (out / "report.html").read_text(encoding="utf-8")


# A Python started with this first blocks matplotlib and numpy as if they were not installed,
# then runs the real CLI: the base install (without the `report` extra) in one process.
WITHOUT_CHARTS = """
import importlib.abc, runpy, sys

class Uninstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("matplotlib", "numpy"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Uninstalled())
sys.argv = ["rapport", *sys.argv[1:]]
try:
    runpy.run_module("rapport", run_name="__main__")
finally:
    leaked = [m for m in sys.modules if m.split(".")[0] in ("matplotlib", "numpy")]
    print("LEAKED", leaked, file=sys.stderr)
"""


def test_report_without_matplotlib_writes_tables_and_says_how_to_get_charts(
        tmp_path: Path, sqlite_template: Path, clock: Clock) -> None:
    import asyncio
    import os
    import subprocess
    import sys

    target = tmp_path / "cli.db"
    shutil.copy(sqlite_template, target)
    url = f"sqlite+aiosqlite:///{target}"

    async def seed_users() -> None:
        engine = db.create_engine(url)
        await _seed_team(Rapport(sessions=db.session_factory(engine), clock=clock), clock, 5)
        await engine.dispose()

    asyncio.run(seed_users())
    out = tmp_path / "report"
    env = {**os.environ, "RAPPORT_DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_CHARTS, "report", "--workspace", "console:local",
         "--out", str(out)], env=env, capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr
    assert "LEAKED []" in result.stderr  # nothing imported them, not even indirectly
    assert "tables instead of charts" in result.stdout
    assert "pip install 'rapport[report]'" in result.stdout
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<img" not in page and "data:image/png" not in page
    assert "pip install &#x27;rapport[report]&#x27;" in page
    assert "<caption>Conversations logged per week</caption>" in page
    # The CLI reports up to the real today; the seeded week (a Monday) is inside the 12 weeks.
    assert f"<tr><td>{clock.now.date().isoformat()}</td><td>10</td></tr>" in page
    assert "<tr><td>overdue 2-8 weeks</td><td>2</td></tr>" in page
    assert "Nudges acted on within 48 hours</th><td>5 of 6 answered (83%)" in page
    table = (out / "report.csv").read_text(encoding="utf-8")
    assert "summary,users,5" in table
    for secret in SECRETS:
        assert secret not in page and secret not in table


def test_charts_are_an_optional_extra_of_the_distribution() -> None:
    from importlib.metadata import requires

    needs = requires("rapport") or []
    charting = [r for r in needs if r.startswith(("matplotlib", "numpy"))]
    assert charting and all('extra == "report"' in r for r in charting), charting
