"""A DNS answer table for aiohttp connectors: names resolve to what the test says, e.g. a
SharePoint name to 127.0.0.1 (what a hostile or rebinding DNS server could answer)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping

from aiohttp.abc import AbstractResolver, ResolveResult


class StaticResolver(AbstractResolver):
    """Answers from `table` (name -> addresses); other names do not exist."""

    def __init__(self, table: Mapping[str, str | list[str]]) -> None:
        self.table = {name.lower(): [a] if isinstance(a, str) else list(a)
                      for name, a in table.items()}
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.lookups.append(host)
        addresses = self.table.get(host.lower())
        if not addresses:
            raise OSError(f"{host}: name not known")
        return [ResolveResult(
            hostname=host, host=address, port=port,
            family=socket.AF_INET6 if ipaddress.ip_address(address).version == 6
            else socket.AF_INET, proto=0, flags=socket.AI_NUMERICHOST)
            for address in addresses]

    async def close(self) -> None:
        return None
