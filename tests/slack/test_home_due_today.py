"""App Home's "Coming up" says someone whose rhythm's day is today is due today, as `due`,
`people` and `show` do, not "overdue since today"."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import Clock
from tests.slack.conftest import SlackHarness, section_texts


async def test_app_home_lists_someone_due_today_as_due_today(slack: SlackHarness,
                                                             clock: Clock) -> None:
    clock.set(datetime(2026, 12, 4, 16, 0, tzinfo=UTC))  # Friday afternoon
    for line in ("add Cat Fox every 3 weeks", "log Cat 21 days ago", "add Dana Scully every "
                 "2 weeks", "log Dana 20 days ago"):
        assert (await slack.runtime.rapport.handle_text(slack.actor(), line)).ok, line

    view = await slack.open_home()
    lines = section_texts(view["blocks"]).splitlines()
    # 17:00 in Berlin: Alex's window has closed for the week, so the nudges come on Monday.
    assert "Dana Scully (since Sat Nov 28): next reminder Mon Dec 7" in lines
    assert "Cat Fox (due today): next reminder Mon Dec 7" in lines
