"""A typed name is looked up once per command: the reading chosen carries its contact on to
the use case (each lookup is a round trip on PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.storage import queries


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys looked up, by either lookup of a full name (`log`'s reads the contact's
    clock with it)."""
    keys: list[str] = []
    original = queries.contact_by_key
    original_shared = queries.contact_by_key_shared
    original_touched = queries.contact_by_key_touched

    def counting(session: Any, user_id: int, key: str) -> Any:
        keys.append(key)
        return original(session, user_id, key)

    def counting_shared(session: Any, user_id: int, key: str) -> Any:
        keys.append(key)
        return original_shared(session, user_id, key)

    def counting_touched(session: Any, user_id: int, key: str, *columns: Any) -> Any:
        keys.append(key)
        return original_touched(session, user_id, key, *columns)

    monkeypatch.setattr(queries, "contact_by_key", counting)
    monkeypatch.setattr(queries, "contact_by_key_shared", counting_shared)
    monkeypatch.setattr(queries, "contact_by_key_touched", counting_touched)
    return keys


@pytest.mark.parametrize("line, answer", [
    ("log Dana Scully coffee", "Logged coffee with Dana Scully"),
    ("log Dana Scully yesterday: lunch", "Logged lunch with Dana Scully"),
    ("note Dana Scully: hiking trip in May", "n1"),
])
async def test_a_known_full_name_is_looked_up_once(rapport: Rapport, actor: Actor,
                                                   lookups: list[str], line: str,
                                                   answer: str) -> None:
    await rapport.handle_text(actor, "add Dana Scully")
    await rapport.handle_text(actor, "add Dana White")
    lookups.clear()
    reply = await rapport.handle_text(actor, line)
    assert reply.ok and answer in reply.text, reply.text
    assert lookups.count("dana scully") == 1


async def test_a_first_name_is_resolved_and_logged_for_that_contact(
        rapport: Rapport, actor: Actor, lookups: list[str]) -> None:
    await rapport.handle_text(actor, "add Dana Scully")
    lookups.clear()
    reply = await rapport.handle_text(actor, "log Dana coffee")
    assert reply.ok and "Logged coffee with Dana Scully" in reply.text, reply.text
    shown = await rapport.handle_text(actor, "show Dana Scully")
    assert "coffee" in shown.text


@pytest.mark.parametrize("line, answer", [
    ("log Dana Scully yesterday: coffee", "Logged coffee with Dana Scully"),
    ("log Dana Scully: lunch", "Logged lunch with Dana Scully"),
    ("log Dana Scully yesterday", "Logged chat with Dana Scully"),
    ("note Dana Scully: hiking trip in May", "Noted for Dana Scully"),
    ('log "Dana": coffee', "Logged coffee with Dana."),
])
async def test_a_name_that_starts_with_another_contacts_name_is_the_longer_person(
        rapport: Rapport, actor: Actor, line: str, answer: str) -> None:
    # "Dana" and "Dana Scully" are both people: the whole name before the colon is Dana
    # Scully, never "Dana" with "Scully" as something said.
    await rapport.handle_text(actor, "add Dana Scully")
    await rapport.handle_text(actor, "add Dana")
    reply = await rapport.handle_text(actor, line)
    assert reply.ok and answer in reply.text, reply.text
