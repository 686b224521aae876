"""`commands.mention_alone`: a line that is one @mention and nothing else is that person's card."""

from __future__ import annotations

import pytest

from rapport.bot.core import commands as c


@pytest.mark.parametrize(("line", "mention_id", "label"), [
    ("<@U0DANA|dana>", "U0DANA", "dana"),  # `/rapport @dana` in Slack
    ("<@U0DANA>", "U0DANA", None),  # a DM to the bot that only mentions Dana
    ("  <@U0DANA> ? ", "U0DANA", None),
    ("<@29:fox-mulder|Fox Mulder>", "29:fox-mulder", "Fox Mulder"),  # Teams' <at>Fox Mulder</at>
])
def test_one_mention_alone_is_that_persons_card(line: str, mention_id: str,
                                                 label: str | None) -> None:
    shown = c.mention_alone(line)
    assert shown == c.ShowPerson(c.PersonRef(text=label or "", mention_id=mention_id,
                                             mention_name=label))


@pytest.mark.parametrize("line", [
    "show <@U0DANA>", "<@U0DANA> coffee yesterday", "<@U0DANA> <@U0SAM>", "@Dana", "Dana",
    "<#C123|general>", "<!here>", "",
])
def test_anything_more_or_less_is_left_to_the_grammar(line: str) -> None:
    assert c.mention_alone(line) is None
