"""Slack's people directory (users.info), cached so the hot path rarely calls Slack."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core.context import NotAPerson
from rapport.bot.platforms.slack.incoming import group_mentioned

logger = logging.getLogger(__name__)

# Names and zones change rarely; an hour keeps them fresh enough without a call per command.
CACHE_SECONDS = 3600.0
_MAX_ENTRIES = 10_000


# Slackbot is no person, yet users.info says `is_bot: false` for it ("Slackbot is special").
SLACKBOT = "USLACKBOT"

# users.info's answers that the account is not there for this workspace (removed, or another
# organisation's it can't see): asking again won't change them, unlike a timeout or a 5xx.
NOT_FOUND_ERRORS = frozenset({"user_not_found", "user_not_visible"})


@dataclass(frozen=True, slots=True)
class Profile:
    """What Rapport needs from users.info."""

    user_id: str
    display_name: str
    tz: str | None
    deleted: bool = False
    # A bot user (an app's, a workflow's) or Slackbot: never someone to keep in touch with.
    is_bot: bool = False
    # @here, @channel, @everyone or a user group (`incoming.group_mentioned`): many people.
    is_group: bool = False
    # Slack said there is no such account for this workspace (`NOT_FOUND_ERRORS`).
    not_found: bool = False

    @property
    def not_a_person(self) -> NotAPerson | None:
        """Why this account can't become a contact, or None when it can."""
        if self.is_group:
            return "group"
        if self.not_found:
            return "unknown"
        if self.is_bot:
            return "bot"
        return "deactivated" if self.deleted else None


class ProfileCache:
    """Profiles by (team, user) with an expiry; owned by the Slack installer, not the module."""

    def __init__(self, *, ttl: float = CACHE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._monotonic = monotonic
        self._entries: dict[tuple[str, str], tuple[float, Profile]] = {}

    def get(self, team_id: str, user_id: str) -> Profile | None:
        entry = self._entries.get((team_id, user_id))
        if entry is None or self._monotonic() - entry[0] > self.ttl:
            return None
        return entry[1]

    def put(self, team_id: str, profile: Profile) -> None:
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()  # crude but bounded; entries are cheap to refetch
        self._entries[(team_id, profile.user_id)] = (self._monotonic(), profile)


def _profile_from(user: dict[str, object]) -> Profile:
    raw_profile = user.get("profile")
    profile: dict[str, object] = raw_profile if isinstance(raw_profile, dict) else {}
    # The full name first: a contact named "sam" (a display name, often a nickname or
    # handle) is hard to find again among people; the display name only when no real name.
    name = next((str(v).strip() for v in (profile.get("real_name"), user.get("real_name"),
                                          profile.get("display_name"), user.get("name"))
                 if isinstance(v, str) and v.strip()), "")
    tz = user.get("tz")
    user_id = str(user.get("id", ""))
    return Profile(user_id=user_id, display_name=name[:200], tz=str(tz) if tz else None,
                   deleted=bool(user.get("deleted")),
                   is_bot=bool(user.get("is_bot")) or user_id == SLACKBOT)


class SlackDirectory:
    """The `Directory` and `Admins` of the core for one workspace, backed by users.info and
    a cache."""

    who = "Slack workspace admins and owners"

    def __init__(self, *, client: AsyncWebClient, team_id: str, cache: ProfileCache) -> None:
        self.client = client
        self.team_id = team_id
        self.cache = cache

    def cached(self, user_id: str) -> Profile | None:
        """The cached profile, without calling Slack."""
        return self.cache.get(self.team_id, user_id)

    async def profile(self, user_id: str) -> Profile | None:
        """The user's profile, from the cache or users.info; None when Slack cannot tell just
        now. An account Slack says is not there is remembered as such (`not_found`), as is a
        group's mention (never asked about: users.info knows people only)."""
        cached = self.cached(user_id)
        if cached is not None:
            return cached
        group = group_mentioned(user_id)
        if group is not None:
            profile = Profile(user_id=user_id, display_name=group, tz=None, is_group=True)
            self.cache.put(self.team_id, profile)
            return profile
        user = await self._users_info(user_id)
        if isinstance(user, str):
            if user not in NOT_FOUND_ERRORS:
                return None  # a passing failure: the next lookup asks again
            profile = Profile(user_id=user_id, display_name="", tz=None, not_found=True)
        else:
            profile = _profile_from(user)
        self.cache.put(self.team_id, profile)
        return profile

    async def _users_info(self, user_id: str) -> dict[str, Any] | str:
        """users.info's user object, or Slack's error when it refused (logged)."""
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as failure:
            error = str(failure.response.get("error") or "")
            logger.info("users.info failed", extra={"error": error})
            return error
        user = response.get("user")
        return user if isinstance(user, dict) else "invalid_response"

    async def display_name(self, user_external_id: str) -> str | None:
        """The person's name as Slack shows it in their profile: the real name, else the
        display name."""
        profile = await self.profile(user_external_id)
        return profile.display_name if profile and profile.display_name else None

    async def not_a_person(self, user_external_id: str) -> NotAPerson | None:
        """A bot or a deactivated account, which the core refuses as a new contact (the
        profile `display_name` just cached)."""
        profile = await self.profile(user_external_id)
        return profile.not_a_person if profile is not None else None

    async def is_admin(self, user_external_id: str) -> bool | None:
        """users.info's `is_admin`, `is_owner` or `is_primary_owner`, asked afresh each time
        (an admin demoted a minute ago is no admin); None when Slack did not answer."""
        try:
            user = await self._users_info(user_external_id)
        except (ClientError, TimeoutError) as failure:
            logger.warning("users.info failed", extra={"error": type(failure).__name__})
            return None
        if isinstance(user, str) or str(user.get("id", "")) != user_external_id:
            return None
        self.cache.put(self.team_id, _profile_from(user))
        if user.get("deleted"):
            return False
        return any(user.get(flag) is True for flag in ("is_admin", "is_owner",
                                                        "is_primary_owner"))
