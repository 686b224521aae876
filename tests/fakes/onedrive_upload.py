"""A local stand-in for the OneDrive upload session Teams opens when a user accepts a file.

When a user accepts a bot's FileConsentCard, Teams creates the file in the user's OneDrive and
hands the bot an ``uploadInfo.uploadUrl``: a pre-authenticated upload session (Microsoft
Learn, "Upload large files with an upload session"). The bot PUTs the bytes there, each
request with ``Content-Range: bytes start-end/total`` and ``Content-Length``; every byte range
but the last must be a multiple of 320 KiB; an Authorization header is refused (401, the URL
itself carries the grant); an intermediate range is answered 202 with
``nextExpectedRanges``, the last one 201 with the driveItem. This fake serves that over TLS
under a SharePoint name (``contoso-my.sharepoint.com``) that the bot's resolver maps to
127.0.0.1, and records every PUT.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from rapport.bot.platforms.teams.downloads import FileHostPolicy
from tests.fakes.dns import StaticResolver
from tests.fakes.tls import local_tls

UPLOAD_HOST = "contoso-my.sharepoint.com"
FRAGMENT_MULTIPLE = 320 * 1024
MAX_FRAGMENT_BYTES = 60 * 1024 * 1024
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass(frozen=True)
class ReceivedPut:
    """One PUT to an upload URL and what the fake answered."""

    session_id: str
    headers: dict[str, str]
    length: int
    status: int


@dataclass
class _Session:
    name: str
    total: int | None = None
    data: bytearray = field(default_factory=bytearray)
    complete: bool = False


class OneDriveUploadFake:
    """Upload sessions by id; ``files`` holds each completed upload's bytes."""

    def __init__(self) -> None:
        self.puts: list[ReceivedPut] = []
        self.files: dict[str, bytes] = {}
        self._sessions: dict[str, _Session] = {}
        self._ids = itertools.count(1)
        self._faults: deque[int] = deque()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.base_url = ""
        # How the bot reaches this server: its name in a DNS table, its CA, 127.0.0.1.
        self.policy = FileHostPolicy()

    async def start(self) -> None:
        tls = local_tls(UPLOAD_HOST)
        app = web.Application(client_max_size=MAX_FRAGMENT_BYTES + 1024)
        app.router.add_put("/up/{session}", self._put)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=tls.server).start()
        self.port = int(self._runner.addresses[0][1])
        self.base_url = f"https://{UPLOAD_HOST}:{self.port}"
        self.policy = FileHostPolicy(
            allow_private_for_tests=True, ssl_context=tls.client,
            resolver=lambda: StaticResolver({UPLOAD_HOST: "127.0.0.1"}))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def upload_info(self, name: str) -> dict[str, Any]:
        """A fresh session for `name`, as the ``uploadInfo`` of Teams' accept invoke."""
        session_id = f"session-{next(self._ids)}"
        self._sessions[session_id] = _Session(name=name)
        return {
            "name": name,
            "uploadUrl": f"{self.base_url}/up/{session_id}?tempauth=abc",
            "contentUrl": f"https://contoso-my.sharepoint.com/personal/dana_contoso_com/"
                          f"Documents/Applications/Rapport/{name}",
            "uniqueId": f"1150D938-8870-4044-9F2C-{session_id}",
            "fileType": name.rsplit(".", 1)[-1],
        }

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next `times` PUTs with `status` and keep nothing of them."""
        self._faults.extend([status] * times)

    def uploaded(self, upload_info: dict[str, Any]) -> bytes | None:
        """The complete file of the session behind `upload_info`, or None."""
        session_id = str(upload_info["uploadUrl"]).rsplit("/", 1)[-1].split("?")[0]
        return self.files.get(session_id)

    async def _put(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session"]
        body = await request.read()
        response = self._answer(request, session_id, body)
        self.puts.append(ReceivedPut(session_id=session_id, headers=dict(request.headers),
                                     length=len(body), status=response.status))
        return response

    def _answer(self, request: web.Request, session_id: str, body: bytes) -> web.Response:
        if self._faults:
            status = self._faults.popleft()
            return _error(status, "serviceNotAvailable" if status >= 500 else "badRequest")
        if "Authorization" in request.headers:
            return _error(401, "unauthenticated")
        session = self._sessions.get(session_id)
        if session is None or session.complete:
            return _error(404, "itemNotFound")
        found = _RANGE.match(request.headers.get("Content-Range", ""))
        if found is None:
            return _error(400, "invalidRange")
        start, end, total = (int(part) for part in found.groups())
        if request.headers.get("Content-Length") != str(len(body)) or end - start + 1 != len(body):
            return _error(400, "invalidRange")
        if session.total not in (None, total) or end >= total:
            return _error(400, "invalidRange")
        if start != len(session.data):
            return _error(416, "invalidRange")
        last = end == total - 1
        if len(body) > MAX_FRAGMENT_BYTES or (not last and len(body) % FRAGMENT_MULTIPLE):
            return _error(400, "invalidRange")
        session.total = total
        session.data.extend(body)
        if not last:
            return web.json_response({"expirationDateTime": "2030-01-01T00:00:00Z",
                                      "nextExpectedRanges": [f"{end + 1}-"]}, status=202)
        session.complete = True
        self.files[session_id] = bytes(session.data)
        return web.json_response({"id": session_id, "name": session.name, "size": total,
                                  "file": {}}, status=201)


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": code}}, status=status)
