"""The small HTML page a browser lands on after an OAuth consent redirect (calendars, Slack DM
capture): a title and one sentence, escaped, never echoing the request, never cached."""

from __future__ import annotations

import html

from aiohttp import web

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rapport: {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto;">
<h1>{title}</h1><p>{message}</p></body></html>
"""
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}


def consent_result_page(title: str, message: str, *, ok: bool) -> web.Response:
    """200 with the page when consent went through, 400 when it did not."""
    page = _PAGE.format(title=html.escape(title), message=html.escape(message))
    return web.Response(text=page, content_type="text/html", headers=_HEADERS,
                        status=200 if ok else 400)
