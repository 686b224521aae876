"""Downloading a file a user sent in Teams, without letting the link reach anything else.

The ``downloadUrl`` of a Teams file attachment comes inside the activity, so whoever can post
an activity chooses it. It is fetched only when it is https on a host Teams really serves files
from (SharePoint and OneDrive; ``RAPPORT_TEAMS_FILE_HOSTS``), and only from public addresses:
the check runs on the addresses DNS returned, inside the connector's resolver, and the
connection goes to exactly those addresses, so a second lookup (DNS rebinding) cannot swap in
a private one. Redirects are followed only on the same host, and each hop is checked again.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from rapport.bot.service.config import DEFAULT_TEAMS_FILE_HOSTS


def parse_hosts(value: str) -> tuple[str, ...]:
    """``"*.sharepoint.com, files.example.org"`` -> lower-case patterns, blanks dropped."""
    return tuple(part.strip().lower().rstrip(".") for part in value.split(",") if part.strip())


# Where Teams stores files sent in a personal chat (the sender's OneDrive for Business, a
# SharePoint site): commercial, GCC High/DoD and consumer OneDrive.
DEFAULT_FILE_HOSTS = parse_hosts(DEFAULT_TEAMS_FILE_HOSTS)
DOWNLOAD_TIMEOUT_SECONDS = 20.0
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
# NAT64 (RFC 6052) and IPv4-compatible addresses carry an IPv4 address in their last 32 bits.
_EMBEDDING_V4 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))


class DownloadFailed(Exception):
    """The file could not be fetched (network error, timeout, non-200 answer)."""


class TooLarge(DownloadFailed):
    """The file is larger than the import limit."""


class DownloadRefused(DownloadFailed):
    """The link points somewhere Rapport does not fetch from (the reason is safe to log)."""


def host_allowed(host: str, patterns: tuple[str, ...]) -> bool:
    """Whether `host` matches a pattern: ``*.example.com`` is any subdomain, else exact."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        if pattern.startswith("*."):
            suffix = pattern[1:]  # ".example.com": at least one label must come before it
            if host.endswith(suffix) and len(host) > len(suffix):
                return True
        elif host == pattern:
            return True
    return False


def _embedded(address: ipaddress.IPv4Address | ipaddress.IPv6Address
              ) -> Iterator[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The address and every IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64)."""
    yield address
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            yield address.ipv4_mapped
        if address.sixtofour is not None:
            yield address.sixtofour
        if address.teredo is not None:
            yield address.teredo[1]
        if any(address in network for network in _EMBEDDING_V4):
            yield ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def is_public(address: str) -> bool:
    """False for loopback, private, link-local (cloud metadata), shared, reserved and
    multicast addresses, including IPv4 ones hidden inside IPv6 forms."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return all(candidate.is_global and not candidate.is_multicast
               for candidate in _embedded(parsed))


@dataclass(frozen=True)
class FileHostPolicy:
    """Which download links are fetched. Production uses the defaults (plus the hosts
    setting); the two seams below exist for tests and are never read from the environment."""

    hosts: tuple[str, ...] = DEFAULT_FILE_HOSTS
    # Tests serve files from 127.0.0.1; production never fetches from non-public addresses.
    allow_private_for_tests: bool = False
    # Trust anchors for the file host's certificate (tests: their own CA); None = system store.
    ssl_context: ssl.SSLContext | None = None
    # Where names are looked up (tests: a static table); None = the system resolver.
    resolver: Callable[[], AbstractResolver] | None = field(default=None, compare=False)

    def check_url(self, url: str | URL) -> URL:
        """The parsed link, or DownloadRefused saying why it is not fetched."""
        try:
            parsed = url if isinstance(url, URL) else URL(url)
        except (ValueError, TypeError) as problem:
            raise DownloadRefused("not a URL") from problem
        if parsed.scheme != "https":
            raise DownloadRefused("not https")
        if parsed.user is not None or parsed.password is not None:
            raise DownloadRefused("credentials in the URL")
        host = (parsed.raw_host or "").lower()  # IDNA-encoded: what DNS and TLS will see
        if not host or not host_allowed(host, self.hosts):
            raise DownloadRefused("host not allowed")
        if _is_ip_literal(host) and not self.address_allowed(host):
            raise DownloadRefused("address not public")
        return parsed

    def address_allowed(self, address: str) -> bool:
        return self.allow_private_for_tests or is_public(address)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class PublicOnlyResolver(AbstractResolver):
    """Resolves through `inner` (a thread, off the event loop) and refuses the name when any
    address it returns is not public: the connector then connects to the checked addresses."""

    def __init__(self, inner: AbstractResolver, policy: FileHostPolicy) -> None:
        self.inner = inner
        self.policy = policy
        self.refused = False

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        if not results or not all(self.policy.address_allowed(r["host"]) for r in results):
            self.refused = True
            # The connector expects an OSError from a resolver (it becomes a ClientError).
            raise OSError("the name resolves to an address that is not public")
        return results

    async def close(self) -> None:
        await self.inner.close()


async def download(url: str, limit: int, *, policy: FileHostPolicy | None = None) -> bytes:
    """GET `url` under `policy`, reading at most `limit` bytes; more raises TooLarge, a link
    the policy refuses raises DownloadRefused (before any connection is made)."""
    policy = policy or FileHostPolicy()
    target = policy.check_url(url)
    inner = policy.resolver() if policy.resolver is not None else ThreadedResolver()
    resolver = PublicOnlyResolver(inner, policy)
    connector = aiohttp.TCPConnector(resolver=resolver,
                                     use_dns_cache=False,
                                     ssl=policy.ssl_context if policy.ssl_context else True)
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_SECONDS)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                         trust_env=False) as session:
            for _hop in range(MAX_REDIRECTS + 1):
                async with session.get(target, allow_redirects=False) as response:
                    if response.status in _REDIRECTS:
                        target = _next_hop(policy, target, response.headers.get("Location"))
                        continue
                    if response.status != 200:
                        raise DownloadFailed(f"status {response.status}")
                    return await _read_at_most(response, limit)
            raise DownloadRefused("too many redirects")
    except (aiohttp.ClientError, TimeoutError) as failure:
        if resolver.refused:
            raise DownloadRefused("address not public") from failure
        raise DownloadFailed(type(failure).__name__) from failure


def _next_hop(policy: FileHostPolicy, current: URL, location: str | None) -> URL:
    """Where a redirect leads, when it stays on the same host over https."""
    if not location:
        raise DownloadFailed("redirect without a location")
    try:
        following = current.join(URL(location))
    except ValueError as problem:
        raise DownloadRefused("redirect to a bad URL") from problem
    if (following.raw_host or "").lower() != (current.raw_host or "").lower():
        raise DownloadRefused("redirect to another host")
    return policy.check_url(following)


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> bytes:
    if (response.content_length or 0) > limit:
        raise TooLarge
    data = bytearray()
    while True:
        # At most limit + 1 bytes in all: enough to know it is too large, never more.
        chunk = await response.content.read(min(_CHUNK, limit + 1 - len(data)))
        if not chunk:
            return bytes(data)
        data.extend(chunk)
        if len(data) > limit:
            raise TooLarge
