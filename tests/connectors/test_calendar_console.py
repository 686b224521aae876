"""`connect calendar` in the real `rapport chat` process: the consent link must come back to
something that answers, since the console runs no web server of its own for Slack or Teams."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import aiohttp

from tests.bot.processes import clean_env, free_port
from tests.fakes import google_api
from tests.fakes.google_api import FakeGoogle

KEY = "NILSlBsyztpV3Lqd3gGdfzSTjqiSy5Olm5arc38zWb0="


async def _read_until(stream: asyncio.StreamReader, needle: str) -> str:
    seen = ""
    while needle not in seen:
        chunk = await asyncio.wait_for(stream.read(4096), 60)
        assert chunk, f"{needle!r} never printed; got:\n{seen}"
        seen += chunk.decode()
    return seen


async def test_a_consent_link_from_the_console_connects(fake_google: FakeGoogle,
                                                        tmp_path: Path) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    fake_google.allow_redirect(f"{public}/oauth/google/callback")
    env = clean_env(tmp_path, RAPPORT_PUBLIC_URL=public, RAPPORT_PORT=str(port),
                    RAPPORT_ENCRYPTION_KEY=KEY, GOOGLE_CLIENT_ID=google_api.CLIENT_ID,
                    GOOGLE_CLIENT_SECRET=google_api.CLIENT_SECRET,
                    GOOGLE_OAUTH_URL=fake_google.base_url, GOOGLE_API_URL=fake_google.base_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rapport", "chat", "--user", "sam", "--no-scheduler",
        cwd=tmp_path, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(b"connect google calendar\n")
        said = await _read_until(process.stdout, "undoes it.")
        [link] = re.findall(r"https?://\S+/o/oauth2/v2/auth\S+", said)
        fake_google.oauth.signed_in = "sam@example.com"
        async with aiohttp.ClientSession() as browser, browser.get(link) as page:
            # Before, the browser was sent to a port nothing listened on.
            assert page.status == 200 and "Connected" in await page.text()
        process.stdin.write(b"settings\n")
        assert "• Calendars: Google (connected)\n" in await _read_until(
            process.stdout, "Google (connected)\n")
        process.stdin.write(b"quit\n")
        await asyncio.wait_for(process.wait(), 60)
        assert process.returncode == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
