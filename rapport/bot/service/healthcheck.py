"""The container's health check: `python -m rapport.bot.service.healthcheck` exits 0 when the
Rapport process beside it answers /healthz, else 1.

It asks the operator port (RAPPORT_METRICS_HOST:RAPPORT_METRICS_PORT), which `rapport serve` and
`rapport worker` both answer (a worker when RAPPORT_METRICS_PORT is set, as the image sets it),
so one check fits every role. Only with RAPPORT_METRICS_PORT=0 (a port the system picks, which
no one else can know) does it ask the public port, which `serve` answers.

Standard library only and no settings object: it runs every 30 seconds in every container.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping

DEFAULT_METRICS_HOST = "127.0.0.1"
DEFAULT_METRICS_PORT = "3001"
DEFAULT_PORT = "3000"
TIMEOUT_SECONDS = 4.0
# A listener on every address is reached through the loopback of its own family.
_WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}


def health_url(environ: Mapping[str, str]) -> str:
    """Where this container's Rapport answers /healthz."""
    port = environ.get("RAPPORT_METRICS_PORT", DEFAULT_METRICS_PORT).strip()
    host = environ.get("RAPPORT_METRICS_HOST", DEFAULT_METRICS_HOST).strip()
    if port == "0":
        port = environ.get("RAPPORT_PORT", DEFAULT_PORT).strip()
        host = environ.get("RAPPORT_HOST", DEFAULT_METRICS_HOST).strip()
    host = _WILDCARDS.get(host, host).strip("[]")
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/healthz"


def main() -> int:
    """0 when /healthz answers 200, 1 otherwise (Docker's HEALTHCHECK contract)."""
    url = health_url(os.environ)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            healthy = response.status == 200
    except (OSError, urllib.error.URLError, ValueError) as failure:
        print(f"unhealthy: {url}: {failure}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
