"""`stats` in Teams with several goals, a varied history and open suggestions: the card, trend
chart included, is more than the Bot Connector's 40 KB (UTF-16) unless it is measured. It must
always arrive, with the chart when there is room for it and a visible line when there is not."""

from __future__ import annotations

import base64
import json
import os
import random
import struct
import zlib
from datetime import timedelta
from typing import Any

import pytest

from rapport.bot.core.stats import UserStats
from rapport.bot.core.trend_chart import TrendChart
from rapport.bot.platforms.teams import cards
from rapport.scheduler import suggestions as rules
from rapport.scheduler.messenger import SuggestionItem
from tests.conftest import MONDAY_10_UTC
from tests.fakes.bot_connector import MAX_MESSAGE_UTF16_BYTES
from tests.teams.test_goals import _texts
from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    PERSONAL,
    TeamsHarness,
    _card,
    _install,
    teams,
)

NOW = MONDAY_10_UTC + timedelta(weeks=20)
TAGS = ("clients", "team", "emea", "partners", "execs", "mentors")
FIRST = ("Ana", "Ben", "Cy", "Di", "Ed", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kim", "Lu", "Mo",
         "Ned", "Oz", "Pia", "Quin", "Rae", "Sol", "Tia", "Uma", "Vic", "Wes", "Xi")


async def _say(teams: TeamsHarness, *lines: str) -> None:  # noqa: F811
    for line in lines:
        assert await teams.say(line) == 201, line


async def _goals_with_history_and_suggestions(teams: TeamsHarness,  # noqa: F811
                                              goals: int) -> None:
    """`goals` goals of four people each, talked to unevenly over ten weeks (so each goal's
    trend line zigzags, which makes the chart's PNG big), and three open suggestions."""
    teams.clock.set(NOW - timedelta(weeks=20))
    await _install(teams)
    people: list[str] = []
    for index, tag in enumerate(TAGS[:goals]):
        for member in range(4):
            name = f"{FIRST[index * 4 + member]} Person{index}{member}"
            people.append(name)
            await _say(teams, f'add "{name}" client #{tag}')
        await _say(teams, f"goal {tag} every 2 weeks")
    # Seeded: the same uneven history on every run.
    talked = random.Random(2)
    for week in range(10, 0, -1):
        teams.clock.set(NOW - timedelta(weeks=week))
        await _say(teams, *(f'log "{name}" call' for name in people if talked.random() < 0.35))
    # Three people noted about often but not talked to: a suggestion for each.
    extra = ("Marco Polo", "Nina Simone", "Otto Hahn")
    teams.clock.set(NOW - timedelta(days=45))
    for name in extra:
        await _say(teams, f'add "{name}"', f'log "{name}" lunch')
    teams.clock.set(NOW - timedelta(days=40))
    for name in extra:
        await _say(teams, *(f'note "{name}": {text}'
                            for text in ("the new baby", "moving to Lisbon", "the Q3 budget")))
    teams.clock.set(NOW - timedelta(days=4))
    for _ in range(3):
        teams.clock.advance(days=1, minutes=1)
        await rules.make_suggestions(teams.runtime.rapport.db, teams.clock.now)
    teams.clock.set(NOW)
    teams.connector.reset()


def _utf16_size(body: dict[str, Any]) -> int:
    return len(json.dumps(body, ensure_ascii=False).encode("utf-16-le"))


@pytest.mark.parametrize("goals", [5, 6])
async def test_stats_with_many_goals_and_suggestions_arrives_with_its_chart(
        teams: TeamsHarness, goals: int) -> None:  # noqa: F811
    await _goals_with_history_and_suggestions(teams, goals)

    assert await teams.say("stats") == 201

    # One answer, accepted the first time (no 413 and no "Sorry, something went wrong").
    assert [request.status for request in teams.connector.requests] == [201]
    [reply] = teams.connector.sent_to(PERSONAL)
    assert _utf16_size(reply.body) <= MAX_MESSAGE_UTF16_BYTES
    card = _card(reply)
    texts = _texts(card)
    assert texts[:2] == ["How it is going", "Goals"]
    assert sum(text.startswith("💡 Suggestion") for text in texts) == 3
    # The chart is there (smaller, when the one drawn did not fit), with its text line.
    [image] = [block for block in card["body"] if block["type"] == "Image"]
    prefix = "data:image/png;base64,"
    assert image["url"].startswith(prefix)
    png = base64.b64decode(image["url"][len(prefix):])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (320, 128)
    assert image["altText"].startswith("Goal attainment over the last 8 weeks:")
    assert image["altText"] in texts
    assert cards.CHART_LEFT_OUT not in texts


def _noise_png(width: int = 320, height: int = 128) -> bytes:
    """A PNG no encoding makes small: random pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


STATS = UserStats(touchpoints_week=3, touchpoints_month=12, people_reconnected_week=1,
                  nudges_acted_on=4, nudges_done_late=0, nudges_snoozed=1, nudges_dismissed=0,
                  nudges_ignored=1, nudges_waiting=0, contacts_total=30,
                  contacts_with_cadence=24, contacts_within_cadence=18, most_overdue=(),
                  drafts_total=0, drafts_used=0, drafts_edited=0, mean_edit_distance=None)
ALT = "Goal attainment over the last 8 weeks: Clients from 56% to 78%."


def _suggestion(number: int) -> SuggestionItem:
    return SuggestionItem(suggestion_id=number, kind="cadence", kind_label="rhythm",
                          text=f"You noted three things about Person {number} in a month but "
                               "have not talked since: talk every 2 weeks instead of monthly?")


def test_a_chart_that_cannot_fit_is_left_out_with_a_line_saying_so() -> None:
    chart = TrendChart(png=_noise_png(), alt_text=ALT)

    card = cards.stats_card(STATS, goals=["Clients: 7 of 9 within a month (78%), up from 56%"],
                            chart=chart)

    assert cards.card_size(card) <= cards.MAX_STATS_CARD_UTF16_BYTES
    assert not [block for block in card["body"] if block["type"] == "Image"]
    texts = _texts(card)
    # Said where the chart would be, and its figures are still there as text.
    assert texts[2:5] == ["Clients: 7 of 9 within a month (78%), up from 56%",
                          cards.CHART_LEFT_OUT, ALT]


def test_suggestions_beyond_what_fits_are_counted_not_dropped_silently() -> None:
    goals = [f"Group{number}: 3 of 9 within a month (33%), up from 11%" for number in range(60)]
    suggestions = [_suggestion(number) for number in range(1, 11)]

    card = cards.stats_card(STATS, goals=goals, chart=TrendChart(png=_noise_png(), alt_text=ALT),
                            suggestions=suggestions,
                            suggestions_line="Suggestions: 10 made, 0 accepted.")

    assert cards.card_size(card) <= cards.MAX_STATS_CARD_UTF16_BYTES
    texts = _texts(card)
    shown = sum(text.startswith("💡 Suggestion") for text in texts)
    assert 1 <= shown < 10
    assert f"… and {10 - shown} more; “suggestions” shows them all." in texts
    assert cards.CHART_LEFT_OUT in texts and goals[-1] in texts


def test_the_stats_card_fits_whatever_the_goals() -> None:
    goals = [f"Group{number}: 3 of 9 within a month (33%), up from 11%" for number in range(400)]

    card = cards.stats_card(STATS, goals=goals, chart=TrendChart(png=_noise_png(), alt_text=ALT),
                            suggestions=[_suggestion(1)])

    assert cards.card_size(card) <= cards.MAX_STATS_CARD_UTF16_BYTES
    texts = _texts(card)
    shown = sum(text.startswith("Group") for text in texts)
    assert 1 <= shown < 400
    assert f"… and {400 - shown} more goals; “goals” lists them all." in texts
