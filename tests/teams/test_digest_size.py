"""A proactive digest of ten nudges with long notes and names in Teams: more than one Teams
message holds (about 60 KB as UTF-16 against the 40 KB the Connector accepts), so it goes out
as several cards, every nudge delivered and pointing at the message that holds it."""

from __future__ import annotations

import json
from typing import Any

from rapport.bot.platforms.teams.messenger import TeamsMessenger
from rapport.storage.models import Nudge
from tests.fakes.bot_connector import MAX_MESSAGE_UTF16_BYTES, ReceivedActivity
from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    PERSONAL,
    TeamsHarness,
    _actions,
    _card,
    _install,
    teams,
)

NAMES = ("Maximiliana Oyelaran-Fitzgerald", "Bartholomew Kowalczyk-Nakamura",
         "Anastasia Papadopoulou-Whitfield", "Christopher Vanderhoeven-Ito",
         "Guadalupe Hernández-Castellanos", "Sebastián Rautenberg-Okonkwo",
         "Evangeline Thistlewood-Marchetti", "Oluwaseun Abernathy-Lindqvist",
         "Bernadette Szczepańska-Morrison", "Jean-Baptiste Delacroix-Haverford")


def _note(index: int) -> str:
    words = (f"follow up on the quarterly roadmap review number {index} and the budget for "
             "the offsite, ask how the hiring for the platform team is going, whether the "
             "migration to the new data warehouse is still blocked on security sign-off, and "
             "remind them about the customer advisory board invitations and the slides")
    return words[:300]


async def _ten_long_nudges_due(harness: TeamsHarness) -> None:
    await _install(harness)
    # The highest cap: ten nudges due at once go out as a digest.
    assert await harness.say("settings cap 20") == 201
    for name in NAMES:
        assert await harness.say(f"add {name}") == 201
    for index, name in enumerate(NAMES):
        assert await harness.say(f"note {name}: {_note(index)} on today") == 201
    harness.connector.reset()


def _nudges_on(activity: ReceivedActivity) -> set[int]:
    return {a["data"]["nudge_id"] for a in _actions(_card(activity)) if "data" in a}


def _size(activity: ReceivedActivity) -> int:
    return len(json.dumps(activity.body, ensure_ascii=False).encode("utf-16-le"))


async def test_a_ten_nudge_digest_with_long_notes_is_delivered_whole(
        teams: TeamsHarness) -> None:  # noqa: F811
    await _ten_long_nudges_due(teams)

    report = await teams.runtime.sweeper.sweep()

    assert report.sent == len(NAMES) and report.failed == 0, report
    cards = teams.connector.sent_to(PERSONAL)
    assert len(cards) > 1 and all(_size(card) <= MAX_MESSAGE_UTF16_BYTES for card in cards)
    nudges = await teams.rows(Nudge)
    assert len(nudges) == len(NAMES) and {n.status for n in nudges} == {"sent"}
    # Each nudge is on one card, and its delivery record names that card's message.
    holder = {nudge_id: card.activity_id for card in cards for nudge_id in _nudges_on(card)}
    assert holder == {n.id: json.loads(n.delivery_ref or "")["activity_id"] for n in nudges}
    text = json.dumps([_card(card) for card in cards], ensure_ascii=False)
    assert all(name.split()[0] in text for name in NAMES)


async def test_a_digest_card_that_is_not_sent_leaves_its_nudges_for_the_next_sweep(
        teams: TeamsHarness) -> None:  # noqa: F811
    await _ten_long_nudges_due(teams)
    [messenger] = [m for m in teams.runtime.messengers.values()
                   if isinstance(m, TeamsMessenger)]
    send_one = messenger._deliver_one
    calls = 0

    async def second_fails(reference: Any, message: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            teams.connector.fail_next(503, retry_after=0, count=3)
        return await send_one(reference, message)

    messenger._deliver_one = second_fails  # type: ignore[method-assign]

    report = await teams.runtime.sweeper.sweep()

    [first] = teams.connector.sent_to(PERSONAL)
    on_first = _nudges_on(first)
    assert 0 < report.sent == len(on_first) < len(NAMES), report
    nudges = {n.id: n for n in await teams.rows(Nudge)}
    assert {i for i, n in nudges.items() if n.status == "sent"} == on_first
    assert {n.last_error for i, n in nudges.items() if i not in on_first} == {"teams 503"}

    messenger._deliver_one = send_one  # type: ignore[method-assign]
    teams.clock.advance(minutes=5)
    report = await teams.runtime.sweeper.sweep()

    assert report.sent == len(NAMES) - len(on_first), report
    later = teams.connector.sent_to(PERSONAL)[1:]
    assert set().union(*map(_nudges_on, later)) == set(nudges) - on_first
    assert {n.status for n in await teams.rows(Nudge)} == {"sent"}
