"""A `rapport worker` container is healthy while its worker runs, and its deliveries can be
scraped: with RAPPORT_METRICS_PORT set (the image sets it) the worker answers /healthz, /readyz
and /metrics on the operator port, which is where the image's HEALTHCHECK asks.

Found by a tester: the HEALTHCHECK polled /healthz on RAPPORT_PORT, where a worker listens on
nothing, so a plain `docker run ... rapport worker` turned unhealthy; and no worker had /metrics.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from rapport.bot.service.healthcheck import health_url
from tests.bot.processes import (
    clean_env,
    free_port,
    running_cli,
    stop_cleanly,
    wait_for_metric,
    wait_until_answering,
)
from tests.deploy.test_docker import (
    _healthcheck_command,
    assert_becomes_healthy,
    image,
)

__all__ = ["image"]  # the image fixture, built once per module when an engine answers


async def test_the_image_healthcheck_answers_for_a_live_worker_only(tmp_path: Path) -> None:
    operator_port = free_port()
    env = clean_env(tmp_path, RAPPORT_METRICS_PORT=str(operator_port),
                    RAPPORT_SWEEP_SECONDS="1", RAPPORT_LOG_FORMAT="text")
    probe = [sys.executable, *_healthcheck_command()[1:]]

    def check() -> int:
        return subprocess.run(probe, env=env, capture_output=True, timeout=60,
                              check=False).returncode

    assert check() != 0  # nothing listens yet
    base = f"http://127.0.0.1:{operator_port}"
    async with running_cli("worker", env=env, cwd=tmp_path) as process:
        await wait_until_answering(process, f"{base}/healthz")
        assert await asyncio.to_thread(check) == 0
        async with aiohttp.ClientSession() as http, http.get(f"{base}/readyz") as ready:
            assert ready.status == 200, await ready.text()
        # The sweep runs every second.
        await wait_for_metric(base, "rapport_sweep_duration_seconds_count", 1,
                              failure="the worker's sweeps never showed in /metrics")
        await stop_cleanly(process)
    assert check() != 0


@pytest.mark.parametrize(("environ", "url"), [
    ({}, "http://127.0.0.1:3001/healthz"),
    ({"RAPPORT_METRICS_PORT": "3101"}, "http://127.0.0.1:3101/healthz"),
    ({"RAPPORT_METRICS_HOST": "0.0.0.0"}, "http://127.0.0.1:3001/healthz"),
    ({"RAPPORT_METRICS_HOST": "::"}, "http://[::1]:3001/healthz"),
    ({"RAPPORT_METRICS_HOST": "10.1.2.3"}, "http://10.1.2.3:3001/healthz"),
    # A port the system picks cannot be known from outside: the public port, which serve has.
    ({"RAPPORT_METRICS_PORT": "0", "RAPPORT_HOST": "0.0.0.0", "RAPPORT_PORT": "3000"},
     "http://127.0.0.1:3000/healthz"),
])
def test_the_healthcheck_asks_where_the_process_listens(environ: dict[str, str],
                                                        url: str) -> None:
    assert health_url(environ) == url


def test_a_worker_container_becomes_healthy(image: str) -> None:
    """`docker run IMAGE worker` on SQLite in /data: Docker's own HEALTHCHECK finds it."""
    assert_becomes_healthy(image, "worker")
