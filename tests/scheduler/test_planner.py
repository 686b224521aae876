"""Pure planning functions and nudge wording: windows, working days, caps, pauses, DST, zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.scheduler import planner, wording
from rapport.scheduler.planner import DeliveryPrefs, local_moment, next_delivery_moment

SUN_THU = 0b1001111
MON_FRI = 0b0011111


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --------------------------------------------------------------------------- window and days
def test_inside_the_window_is_now() -> None:
    now = utc(2026, 11, 23, 10, 0)  # Monday
    assert next_delivery_moment(DeliveryPrefs(), now) == now
    assert planner.may_deliver_now(DeliveryPrefs(), now)


def test_before_and_after_the_window() -> None:
    prefs = DeliveryPrefs()
    assert next_delivery_moment(prefs, utc(2026, 11, 23, 7, 30)) == utc(2026, 11, 23, 9, 0)
    assert not planner.may_deliver_now(prefs, utc(2026, 11, 23, 7, 30))
    # The end of the window is exclusive: 17:00 already belongs to tomorrow's window.
    assert next_delivery_moment(prefs, utc(2026, 11, 23, 17, 0)) == utc(2026, 11, 24, 9, 0)
    assert next_delivery_moment(prefs, utc(2026, 11, 23, 16, 59)) == utc(2026, 11, 23, 16, 59)


def test_weekend_moves_to_monday() -> None:
    prefs = DeliveryPrefs()
    assert next_delivery_moment(prefs, utc(2026, 11, 27, 18, 0)) == utc(2026, 11, 30, 9, 0)
    assert next_delivery_moment(prefs, utc(2026, 11, 28, 12, 0)) == utc(2026, 11, 30, 9, 0)


def test_custom_working_days_sun_thu() -> None:
    prefs = DeliveryPrefs(tz="Asia/Jerusalem", working_days=SUN_THU)
    # Friday 2026-11-27 10:00 local (08:00 UTC) is a day off; Sunday 09:00 local is next.
    friday = utc(2026, 11, 27, 8, 0)
    assert next_delivery_moment(prefs, friday) == utc(2026, 11, 29, 7, 0)
    sunday_noon = utc(2026, 11, 29, 10, 0)
    assert next_delivery_moment(prefs, sunday_noon) == sunday_noon
    assert planner.is_working_day(date(2026, 11, 29), SUN_THU)
    assert not planner.is_working_day(date(2026, 11, 28), SUN_THU)


def test_cap_reached_today_moves_to_next_working_days_window_start() -> None:
    prefs = DeliveryPrefs(daily_cap=2)
    friday_noon = utc(2026, 11, 27, 12, 0)
    assert next_delivery_moment(prefs, friday_noon, sent_on=date(2026, 11, 27),
                                sent_count=1) == friday_noon
    assert next_delivery_moment(prefs, friday_noon, sent_on=date(2026, 11, 27),
                                sent_count=2) == utc(2026, 11, 30, 9, 0)
    assert not planner.may_deliver_now(prefs, friday_noon, sent_on=date(2026, 11, 27),
                                       sent_count=2)
    # A count from another day does not hold today back.
    assert next_delivery_moment(prefs, friday_noon, sent_on=date(2026, 11, 26),
                                sent_count=9) == friday_noon


def test_remaining_today() -> None:
    prefs = DeliveryPrefs(daily_cap=3)
    now = utc(2026, 11, 23, 10, 0)
    assert planner.remaining_today(prefs, now, sent_on=date(2026, 11, 23), sent_count=1) == 2
    assert planner.remaining_today(prefs, now, sent_on=date(2026, 11, 23), sent_count=5) == 0
    assert planner.remaining_today(prefs, now, sent_on=date(2026, 11, 22), sent_count=3) == 3
    assert planner.remaining_today(prefs, now, sent_on=None, sent_count=0) == 3
    # "Today" is the user's day: 23:30 UTC Monday is already Tuesday in Tokyo.
    tokyo = DeliveryPrefs(tz="Asia/Tokyo", daily_cap=3)
    late = utc(2026, 11, 23, 23, 30)
    assert planner.remaining_today(tokyo, late, sent_on=date(2026, 11, 23), sent_count=3) == 3


def test_pause_until_a_moment() -> None:
    monday = utc(2026, 11, 23, 10, 0)
    inside = DeliveryPrefs(paused_until=utc(2026, 11, 24, 13, 15))
    assert next_delivery_moment(inside, monday) == utc(2026, 11, 24, 13, 15)
    overnight = DeliveryPrefs(paused_until=utc(2026, 11, 24, 0, 0))
    assert next_delivery_moment(overnight, monday) == utc(2026, 11, 24, 9, 0)
    over_weekend = DeliveryPrefs(paused_until=utc(2026, 11, 28, 0, 0))
    assert next_delivery_moment(over_weekend, monday) == utc(2026, 11, 30, 9, 0)
    ended = DeliveryPrefs(paused_until=utc(2026, 11, 1))
    assert next_delivery_moment(ended, monday) == monday
    forever = DeliveryPrefs(paused_until=datetime(9999, 1, 1, tzinfo=UTC))
    assert next_delivery_moment(forever, monday) is None


@pytest.mark.parametrize("prefs", [
    DeliveryPrefs(working_days=0), DeliveryPrefs(daily_cap=0),
    DeliveryPrefs(window_start_minute=600, window_end_minute=600),
    DeliveryPrefs(window_start_minute=700, window_end_minute=600),
])
def test_no_moment_exists(prefs: DeliveryPrefs) -> None:
    assert next_delivery_moment(prefs, utc(2026, 11, 23, 10, 0)) is None
    assert not planner.may_deliver_now(prefs, utc(2026, 11, 23, 10, 0))


def test_window_until_midnight() -> None:
    prefs = DeliveryPrefs(window_start_minute=22 * 60, window_end_minute=24 * 60)
    assert next_delivery_moment(prefs, utc(2026, 11, 23, 23, 59)) == utc(2026, 11, 23, 23, 59)
    assert next_delivery_moment(prefs, utc(2026, 11, 24, 0, 0)) == utc(2026, 11, 24, 22, 0)
    assert local_moment(date(2026, 11, 23), 1440, "UTC") == utc(2026, 11, 24, 0, 0)


# --------------------------------------------------------------------------- DST
@pytest.mark.parametrize(("tz", "day", "expected"), [
    ("Europe/Berlin", date(2026, 3, 28), utc(2026, 3, 28, 8, 0)),    # CET, +1
    ("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 29, 7, 0)),    # spring forward: CEST, +2
    ("Europe/Berlin", date(2026, 10, 24), utc(2026, 10, 24, 7, 0)),  # CEST
    ("Europe/Berlin", date(2026, 10, 25), utc(2026, 10, 25, 8, 0)),  # fall back: CET
    ("America/New_York", date(2026, 3, 7), utc(2026, 3, 7, 14, 0)),  # EST, -5
    ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 13, 0)),  # spring forward: EDT, -4
    ("America/New_York", date(2026, 10, 31), utc(2026, 10, 31, 13, 0)),
    ("America/New_York", date(2026, 11, 1), utc(2026, 11, 1, 14, 0)),  # fall back: EST
])
def test_window_start_on_dst_days(tz: str, day: date, expected: datetime) -> None:
    assert local_moment(day, 9 * 60, tz) == expected
    every_day = DeliveryPrefs(tz=tz, working_days=0b1111111)
    midnight_utc = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=3)
    if planner.local_date(midnight_utc, tz) != day:
        midnight_utc += timedelta(hours=6)
    assert next_delivery_moment(every_day, midnight_utc) == expected


@pytest.mark.parametrize(("tz", "day", "jump"), [
    ("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 29, 1, 0)),      # 02:00 -> 03:00 local
    ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 7, 0)),     # 02:00 -> 03:00 local
])
def test_a_skipped_wall_time_maps_to_the_instant_after_the_jump(tz: str, day: date,
                                                                 jump: datetime) -> None:
    for minute in (120, 150, 179):  # 02:00, 02:30, 02:59 do not exist that night
        moment = local_moment(day, minute, tz)
        assert moment == jump
        assert moment.astimezone(planner.zone(tz)).strftime("%H:%M") == "03:00"
    prefs = DeliveryPrefs(tz=tz, window_start_minute=150, window_end_minute=600,
                          working_days=0b1111111)
    assert next_delivery_moment(prefs, jump - timedelta(hours=5)) == jump
    # 03:00 itself exists and is unaffected.
    assert local_moment(day, 180, tz) == jump


def test_an_ambiguous_wall_time_takes_the_first_occurrence() -> None:
    # 02:30 happens twice in Berlin on 2026-10-25; the earlier (CEST) one is used.
    assert local_moment(date(2026, 10, 25), 150, "Europe/Berlin") == utc(2026, 10, 25, 0, 30)
    assert local_moment(date(2026, 11, 1), 90, "America/New_York") == utc(2026, 11, 1, 5, 30)


# --------------------------------------------------------------------------- far zones
@pytest.mark.parametrize("tz", ["Pacific/Apia", "Pacific/Tongatapu", "Pacific/Kanton"])
def test_user_at_utc_plus_13(tz: str) -> None:
    prefs = DeliveryPrefs(tz=tz)
    # Sunday 20:00 UTC is already Monday 09:00 for them: a working day, inside the window.
    sunday_utc = utc(2026, 11, 22, 20, 0)
    assert planner.local_date(sunday_utc, tz) == date(2026, 11, 23)
    assert next_delivery_moment(prefs, sunday_utc) == sunday_utc
    # Friday 04:00 UTC is their Friday 17:00, the end of the week: next is Monday 09:00 local,
    # which is still Sunday in UTC.
    assert next_delivery_moment(prefs, utc(2026, 11, 27, 4, 0)) == utc(2026, 11, 29, 20, 0)
    # The cap counts their day, not UTC's.
    assert next_delivery_moment(prefs, sunday_utc, sent_on=date(2026, 11, 23),
                                sent_count=3) == utc(2026, 11, 23, 20, 0)


def test_user_at_utc_minus_10() -> None:
    prefs = DeliveryPrefs(tz="Pacific/Honolulu")
    # Tuesday 05:00 UTC is Monday 19:00 in Honolulu: next is Tuesday 09:00 local (19:00 UTC).
    tuesday_utc = utc(2026, 11, 24, 5, 0)
    assert planner.local_date(tuesday_utc, "Pacific/Honolulu") == date(2026, 11, 23)
    assert next_delivery_moment(prefs, tuesday_utc) == utc(2026, 11, 24, 19, 0)
    # Saturday 02:00 UTC is still Friday 16:00 there: deliver now.
    saturday_utc = utc(2026, 11, 28, 2, 0)
    assert next_delivery_moment(prefs, saturday_utc) == saturday_utc
    # Their Friday cap is reached: Monday 09:00 HST.
    assert next_delivery_moment(prefs, saturday_utc, sent_on=date(2026, 11, 27),
                                sent_count=3) == utc(2026, 11, 30, 19, 0)


def test_unknown_zone_falls_back_to_utc() -> None:
    assert next_delivery_moment(DeliveryPrefs(tz="Mars/Olympus"),
                                utc(2026, 11, 23, 7, 0)) == utc(2026, 11, 23, 9, 0)


# --------------------------------------------------------------------------- due reasons
def test_cadence_next_due_counts_from_the_last_touch() -> None:
    created = utc(2026, 1, 1)
    last = utc(2026, 11, 20, 12, 0)
    # From the day of the last touch, due from the start of the rhythm's day.
    assert planner.cadence_next_due(last, 14, created) == utc(2026, 12, 4)
    assert planner.cadence_next_due(None, 14, created) == utc(2026, 1, 15)
    assert planner.cadence_next_due(last, None, created) is None
    assert planner.cadence_next_due(last, 0, created) is None


def test_follow_up_moment_is_the_window_start_in_the_users_zone() -> None:
    prefs = DeliveryPrefs(tz="America/New_York", window_start_minute=8 * 60 + 30)
    assert planner.follow_up_moment(date(2026, 11, 30), prefs) == utc(2026, 11, 30, 13, 30)


def test_yearly_occurrence() -> None:
    assert planner.yearly_occurrence(5, 4, date(2026, 11, 23)) == date(2027, 5, 4)
    assert planner.yearly_occurrence(12, 1, date(2026, 11, 23)) == date(2026, 12, 1)
    assert planner.yearly_occurrence(11, 23, date(2026, 11, 23)) == date(2026, 11, 23)
    assert planner.yearly_occurrence(2, 29, date(2026, 11, 23)) == date(2027, 2, 28)
    assert planner.yearly_occurrence(2, 29, date(2027, 3, 1)) == date(2028, 2, 29)


@pytest.mark.parametrize(("days", "text"), [
    (1, "1 day"), (3, "3 days"), (13, "13 days"), (14, "2 weeks"), (42, "6 weeks"),
    (62, "9 weeks"), (63, "2 months"), (120, "4 months"), (730, "2 years"),
])
def test_humanize_days(days: int, text: str) -> None:
    assert planner.humanize_days(days) == text


# --------------------------------------------------------------------------- wording
def test_headlines() -> None:
    assert wording.follow_up_headline("Dana Scully", "hiking trip in Yosemite",
                                      date(2026, 11, 20)) == \
        "Ask Dana about the hiking trip in Yosemite (you noted it on Fri Nov 20)"
    # Issue 14 (item 9): one date format across messages, with the weekday.
    assert wording.follow_up_headline("Dana", "her new job", date(2026, 3, 2)) == \
        "Ask Dana about her new job (you noted it on Mon Mar 2)"
    assert wording.follow_up_headline("Dana", "moving to Berlin.", date(2026, 3, 2)) == \
        "Ask Dana about moving to Berlin (you noted it on Mon Mar 2)"
    assert wording.cadence_headline("Lee", "Acme", 42, 42) == \
        "It has been 6 weeks since you talked to Lee (Acme)"
    assert wording.cadence_headline("Lee Park", None, 3, 14) == \
        "It has been 3 days since you talked to Lee Park"
    assert wording.cadence_headline("Lee", None, None, 14).startswith(
        "You wanted to keep in touch with Lee every 2 weeks")
    assert wording.important_date_headline("Dana Scully", "birthday", date(2027, 5, 4),
                                           date(2027, 5, 1)) == \
        "Dana's birthday is on Tue May 4 (in 3 days)"
    assert wording.last_touch_context("coffee", date(2026, 10, 2), "talked about Q3") == \
        "Last time: coffee on Fri Oct 2: talked about Q3"


# --------------------------------------------------------------------------- properties
_ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Apia", "Pacific/Honolulu",
          "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Kiritimati"]


@st.composite
def _prefs(draw: st.DrawFn) -> DeliveryPrefs:
    start = draw(st.integers(0, 23 * 60 + 59))
    end = draw(st.integers(start + 1, 24 * 60))
    paused = draw(st.none() | st.datetimes(min_value=datetime(2025, 1, 1),
                                          max_value=datetime(2028, 1, 1),
                                          timezones=st.just(UTC)))
    return DeliveryPrefs(tz=draw(st.sampled_from(_ZONES)), window_start_minute=start,
                         window_end_minute=end, working_days=draw(st.integers(0, 127)),
                         daily_cap=draw(st.integers(0, 5)), paused_until=paused)


_NOW = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1),
                    timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(prefs=_prefs(), now=_NOW, sent_count=st.integers(0, 6), sent_offset=st.integers(-1, 1))
def test_next_delivery_moment_is_allowed_and_idempotent(prefs: DeliveryPrefs, now: datetime,
                                                        sent_count: int,
                                                        sent_offset: int) -> None:
    sent_on = planner.local_date(now, prefs.tz) + timedelta(days=sent_offset)
    moment = next_delivery_moment(prefs, now, sent_on=sent_on, sent_count=sent_count)
    if prefs.working_days == 0 or prefs.daily_cap == 0:
        assert moment is None
    if moment is None:
        return
    assert moment >= now
    if prefs.paused_until is not None:
        assert moment >= prefs.paused_until
    day = planner.local_date(moment, prefs.tz)
    assert planner.is_working_day(day, prefs.working_days)
    assert local_moment(day, prefs.window_start_minute, prefs.tz) <= moment
    assert moment < local_moment(day, prefs.window_end_minute, prefs.tz)
    if day == sent_on:
        assert sent_count < prefs.daily_cap
    again = next_delivery_moment(prefs, moment, sent_on=sent_on, sent_count=sent_count)
    assert again == moment
    assert planner.may_deliver_now(prefs, moment, sent_on=sent_on, sent_count=sent_count)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 1, 1)),
       minute=st.integers(0, 24 * 60), tz=st.sampled_from(_ZONES))
def test_local_moment_never_reads_earlier_than_asked(day: date, minute: int, tz: str) -> None:
    moment = local_moment(day, minute, tz)
    reading = moment.astimezone(planner.zone(tz))
    wanted = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
    assert reading.replace(tzinfo=None) >= wanted
    # ...and it is the earliest such instant: a minute before reads earlier than asked.
    before = (moment - timedelta(minutes=1)).astimezone(planner.zone(tz))
    assert before.replace(tzinfo=None) < wanted


def test_local_dates_give_each_zone_s_date_at_the_moment_and_work_it_out_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    moment = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    worked_out: list[str] = []
    local_date = planner.local_date

    def counted(at: datetime, tz_name: str) -> date:
        worked_out.append(tz_name)
        return local_date(at, tz_name)

    monkeypatch.setattr(planner, "local_date", counted)
    days = planner.LocalDates(moment)
    assert [days[tz] for tz in ("UTC", "Europe/Berlin", "America/New_York", "Europe/Berlin",
                                "UTC")] == [date(2026, 11, 23), date(2026, 11, 24),
                                            date(2026, 11, 23), date(2026, 11, 24),
                                            date(2026, 11, 23)]
    assert worked_out == ["UTC", "Europe/Berlin", "America/New_York"]


@pytest.mark.parametrize(("days", "text"), [
    (1, "1 day"), (3, "3 days"), (14, "2 weeks"), (30, "30 days"), (42, "6 weeks"),
    (70, "10 weeks"), (100, "100 days"), (3500, "500 weeks")])
def test_a_rhythm_in_days_reads_as_it_was_set(days: int, text: str) -> None:
    """`every Dana 10 weeks` answered “every 2 months”, and 30 days read “4 weeks”: a rhythm
    is shown exactly, unlike how long it has been (`humanize_days`)."""
    assert planner.cadence_text(days) == text


@given(st.integers(min_value=14, max_value=3660))
def test_a_rhythm_of_two_weeks_or_more_names_its_exact_days(days: int) -> None:
    amount, unit = planner.cadence_text(days).split()
    assert int(amount) * (7 if unit == "weeks" else 1) == days


@pytest.mark.parametrize("text", ["prefers email over calls", "Vegetarian", "allergic to nuts",
                                  "goes by Sam", "doesn't drink coffee", "She likes sailing",
                                  "is allergic to shellfish"])
def test_notes_of_what_someone_is_like_are_background(text: str) -> None:
    assert wording.is_background(text)


@pytest.mark.parametrize("text", ["hiking trip in Yosemite", "ask how the offsite went",
                                  "send the deck", "wife is expecting", "likely to renew",
                                  "always-on project review"])
def test_topics_and_things_to_do_are_not_background(text: str) -> None:
    assert not wording.is_background(text)
