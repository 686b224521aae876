"""The Slack app manifest with an operator's public URL filled in (`rapport slack-manifest`).

The template, ``app_manifest.yml`` beside this module, ships in the wheel, so operators never
edit files inside site-packages. It is rendered as text rather than parsed and dumped: the
output keeps the template's order and comments, and needs no YAML library at run time.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("app_manifest.yml")
PLACEHOLDER_URL = "https://rapport.example.com"
_SOCKET_MODE_OFF = "socket_mode_enabled: false"


def public_base_url(url: str) -> str:
    """`url` as a base for Rapport's routes (no trailing slash); ValueError unless it is an
    https URL with a host and nothing but an optional path prefix."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"the public URL must start with https:// and name a host (Slack calls "
                         f"only HTTPS request URLs), not {url.strip()[:80]!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("the public URL must be a plain base URL such as "
                         "https://bot.example.com, without query, fragment or credentials")
    return urllib.parse.urlunsplit(("https", parts.netloc, parts.path.rstrip("/"), "", ""))


def render_slack_manifest(*, url: str | None, socket_mode: bool = False,
                          template: str | None = None) -> str:
    """The manifest YAML with `url` as the base of every request URL.

    With `socket_mode`, events arrive over Socket Mode; without a `url` the request and
    redirect URLs are then left out (OAuth installs still need the public URL).
    """
    text = template if template is not None else MANIFEST_PATH.read_text(encoding="utf-8")
    lines = text.splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)  # the template's own instructions do not apply to the rendered copy
    if url is not None:
        base = public_base_url(url)
        lines = [line.replace(PLACEHOLDER_URL, base) for line in lines]
        header = f"# Rapport's Slack app for {base}, made by `rapport slack-manifest`."
    elif socket_mode:
        lines = _without_urls(lines)
        header = "# Rapport's Slack app in Socket Mode, made by `rapport slack-manifest`."
    else:
        raise ValueError("give the public URL (--url https://bot.example.com), or "
                         "--socket-mode when Slack should connect without one")
    if socket_mode:
        lines = [line.replace(_SOCKET_MODE_OFF, "socket_mode_enabled: true") for line in lines]
    rendered = "\n".join([header, "# Paste it at https://api.slack.com/apps -> Create New App "
                                  "-> From a manifest.", *lines]) + "\n"
    if PLACEHOLDER_URL in rendered:
        raise ValueError("the manifest template still names the placeholder URL")
    return rendered


def _without_urls(lines: list[str]) -> list[str]:
    kept = [line for line in lines if PLACEHOLDER_URL not in line]
    # A key whose only entries were URLs (redirect_urls) would be left empty: drop it too.
    result: list[str] = []
    for index, line in enumerate(kept):
        following = kept[index + 1] if index + 1 < len(kept) else ""
        if re.fullmatch(r"\s*redirect_urls:\s*", line) and \
                _indent(following) <= _indent(line):
            continue
        result.append(line)
    return result


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))
