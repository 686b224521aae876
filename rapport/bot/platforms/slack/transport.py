"""Checks on a /slack/events request before anything parses it (Bolt parses the body while
building its request, before it verifies the signature): malformed input is a 400 with one log
line, never a 500."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

from aiohttp import web

from rapport.bot.service.payloads import json_too_deep

logger = logging.getLogger(__name__)

# Seconds since the epoch, as Slack sends them; int() would also take " 1", "1_0" or "١".
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def malformed(headers: Mapping[str, str], body: bytes) -> str | None:
    """Why the request cannot be a Slack request, or None. A missing timestamp or signature
    is left to Bolt, which answers 401."""
    timestamp = headers.get("X-Slack-Request-Timestamp")
    if timestamp is not None and not _TIMESTAMP.fullmatch(timestamp):
        return "timestamp not a number"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body not UTF-8"
    # The same choice as Bolt's parse_body: a JSON body, or a form with a JSON "payload".
    content_type = headers.get("Content-Type", "")
    if content_type.startswith("application/json") or text.lstrip().startswith(("{", "[")):
        return "JSON nested too deeply" if json_too_deep(text) else None
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload", "")
        return "JSON nested too deeply" if json_too_deep(payload) else None
    return None


def refusal(headers: Mapping[str, str], body: bytes) -> web.Response | None:
    """A 400 for a malformed request (logged once), or None to go on."""
    reason = malformed(headers, body)
    if reason is None:
        return None
    logger.warning("slack request refused", extra={"reason": reason})
    return web.Response(status=400, text="bad request")
