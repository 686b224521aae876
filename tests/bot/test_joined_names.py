"""A name with "&" or "and" in it (`add Tom & Jerry`, `add "Procter and Gamble"`) can be
named again, in quotes or, when it is someone's whole name, without: it used to answer "One
person at a time" to every command but `add`. Two people joined that are nobody's whole name
still get that answer, and a conversation with both is still logged with each."""

from __future__ import annotations

from rapport.bot.core.rapport import Rapport
from tests.conftest import console_user, say

ONE_AT_A_TIME = "One person at a time, please"


async def _people(rapport: Rapport) -> None:
    for line in ("add Tom & Jerry", 'add "Procter and Gamble"', "add Dana Scully",
                 "add Lee Park"):
        assert (await say(rapport, line)).startswith("Added "), line


async def test_a_quoted_name_with_and_or_ampersand_is_never_split(rapport: Rapport) -> None:
    await _people(rapport)

    assert (await say(rapport, 'show "Tom & Jerry"')).startswith("Tom & Jerry: colleague")
    assert (await say(rapport, 'note "Tom & Jerry": likes cheese')).startswith(
        "Noted for Tom & Jerry")
    assert await say(rapport, 'log "Tom & Jerry"') == "Logged chat with Tom & Jerry."
    assert (await say(rapport, 'show "Procter and Gamble"')).startswith(
        "Procter and Gamble: colleague")
    assert (await say(rapport, 'note “Procter and Gamble”: renewal in May')).startswith(
        "Noted for Procter and Gamble")


async def test_someones_whole_name_unquoted_is_them(rapport: Rapport) -> None:
    await _people(rapport)
    # Someone else called Tom: "Tom & Jerry" is still the one whose whole name it is.
    await say(rapport, "add Tom Smith")

    assert (await say(rapport, "show Tom & Jerry")).startswith("Tom & Jerry: colleague")
    assert (await say(rapport, "note Tom & Jerry: likes cheese")).startswith(
        "Noted for Tom & Jerry")
    # What `add` suggests, word for word.
    assert (await say(rapport, "every Tom & Jerry 2 weeks")).startswith(
        "I'll remind you to talk to Tom & Jerry every 2 weeks")
    assert await say(rapport, "log Tom & Jerry coffee") == "Logged coffee with Tom & Jerry."
    assert (await say(rapport, "show Procter and Gamble")).startswith(
        "Procter and Gamble: colleague")
    assert (await say(rapport, "forget Tom & Jerry")).startswith("This deletes Tom & Jerry")


async def test_two_people_joined_are_still_two(rapport: Rapport) -> None:
    await _people(rapport)

    assert await say(rapport, "log Dana & Lee coffee") == \
        "Logged coffee with Dana Scully and Lee Park."
    for line in ("note Dana and Lee: the offsite", "show Dana & Lee", "every Dana & Lee monthly",
                 "forget Dana and Lee"):
        reply = await rapport.handle_text(console_user(), line)
        assert not reply.ok and reply.text.startswith(ONE_AT_A_TIME), line


async def test_a_detail_said_of_a_joined_whole_name_is_theirs(rapport: Rapport) -> None:
    """"Tom & Jerry's company is Acme" answered “I don't know the command “tom””, while
    "Dana's company is Acme" set Dana's."""
    await _people(rapport)
    await say(rapport, "add Tom Smith")

    assert await say(rapport, "Tom & Jerry's company is Acme") == \
        "Tom & Jerry's company is now Acme."
    assert await say(rapport, "Tom & Jerry’s new role is CTO") == "Tom & Jerry's role is now CTO."
    assert await say(rapport, "procter and gamble's email is pg@example.com") == \
        "Procter and Gamble's email is now pg@example.com."
    assert (await say(rapport, "Tom & Jerry's birthday is May 5")).startswith(
        "I'll remind you of")
    card = await say(rapport, "show Tom & Jerry")
    assert card.startswith("Tom & Jerry: CTO at Acme, colleague") and "birthday" in card
    assert "Acme" not in await say(rapport, "show Tom Smith")


async def test_a_detail_said_of_two_people_joined_is_refused(rapport: Rapport) -> None:
    """Joined names that are nobody's whole name stay two people: nothing is set for either."""
    await _people(rapport)

    for line in ("Dana & Lee's company is Acme", "Dana and Lee's role is CTO",
                 "Dana & Lee's birthday is May 5"):
        reply = await rapport.handle_text(console_user(), line)
        assert not reply.ok and reply.text.startswith(ONE_AT_A_TIME), (line, reply.text)
    for name in ("Dana", "Lee"):
        card = await say(rapport, f"show {name}")
        assert "Acme" not in card and "CTO" not in card and "birthday" not in card, card
