"""A person's health line counts the user's days, as the "next nudge" date beside it does."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.bot.core.overview import contact_health

# Friday 4 December 2026, 15:00 UTC; due moments are a day's noon, as the planner sets them.
NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def test_due_in_counts_days_on_the_users_calendar() -> None:
    assert contact_health(datetime(2026, 12, 8, 12, tzinfo=UTC), NOW, "UTC") == "due in 4 days"
    assert contact_health(datetime(2026, 12, 5, 12, tzinfo=UTC), NOW, "UTC") == "due in 1 day"
    assert contact_health(datetime(2026, 12, 4, 18, tzinfo=UTC), NOW, "UTC") == "due today"
    assert contact_health(datetime(2026, 12, 11, 12, tzinfo=UTC), NOW, "UTC") == ""
    assert contact_health(None, NOW, "UTC") == ""


def test_overdue_counts_whole_days_missed() -> None:
    assert contact_health(datetime(2026, 12, 4, 9, tzinfo=UTC), NOW, "UTC") == "due today"
    assert contact_health(datetime(2026, 12, 3, 12, tzinfo=UTC), NOW, "UTC") == \
        "overdue 1 day"
    assert contact_health(datetime(2026, 11, 20, 12, tzinfo=UTC), NOW, "UTC") == \
        "overdue 2 weeks"


def test_the_users_time_zone_decides_which_day_it_is() -> None:
    # 15:00 UTC is already Saturday 00:00 in Tokyo: Saturday noon there is due today.
    saturday_noon_tokyo = datetime(2026, 12, 5, 3, tzinfo=UTC)
    assert contact_health(saturday_noon_tokyo, NOW, "Asia/Tokyo") == "due today"
    assert contact_health(saturday_noon_tokyo, NOW, "UTC") == "due in 1 day"
