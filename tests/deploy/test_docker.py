"""The container image: read from the Dockerfile always, built and run when an engine answers."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rapport import __version__
from tests.bot.processes import clean_env, free_port, start_cli, wait_until_answering
from tests.deploy.compose import load_compose

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text("utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip())
            for text in logical]


def _healthcheck_command() -> list[str]:
    [healthcheck] = [args for name, args in _instructions() if name == "HEALTHCHECK"]
    command: list[str] = json.loads(healthcheck[healthcheck.index("CMD") + 3:].strip())
    return command


def test_dockerfile_builds_the_wheel_then_runs_it_unprivileged() -> None:
    instructions = _instructions()
    stages = [args for name, args in instructions if name == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim") in instructions
    runs = [args for name, args in instructions if name == "RUN"]
    assert any("pip wheel" in run for run in runs)
    assert ("COPY", "--from=build /wheels /wheels") in instructions
    assert any("pip install" in run and "rapport-*.whl" in run for run in runs)
    assert ("USER", "rapport") in instructions
    [env] = [args for name, args in instructions if name == "ENV"]
    assert "RAPPORT_HOST=0.0.0.0" in env.split()
    assert ("ENTRYPOINT", '["rapport"]') in instructions
    assert ("CMD", '["serve", "--no-console"]') in instructions
    assert "RAPPORT_METRICS_PORT=3001" in env.split()  # the operator port every role answers
    command = _healthcheck_command()
    assert command == ["python", "-m", "rapport.bot.service.healthcheck"]
    # The image has no curl: the check uses the Python that runs Rapport.
    assert "curl" not in DOCKERFILE.read_text("utf-8").split("HEALTHCHECK", 1)[1]


def test_dockerignore_sends_only_what_the_build_copies() -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"
    assert {"!pyproject.toml", "!README.md", "!rapport/"} <= set(lines)


async def test_the_healthcheck_command_answers_for_a_live_server_only(tmp_path: Path) -> None:
    """Run the Dockerfile's (and compose.yaml's) HEALTHCHECK against a real `rapport serve`."""
    command = _healthcheck_command()
    compose = load_compose({"POSTGRES_PASSWORD": "x"})
    assert compose["services"]["serve"]["healthcheck"]["test"] == ["CMD", *command]
    port = free_port()
    env = clean_env(tmp_path, RAPPORT_PORT=str(port))
    probe = [sys.executable, *command[1:]]

    def check() -> int:
        return subprocess.run(probe, env=env, capture_output=True, timeout=60,
                              check=False).returncode

    assert check() != 0  # nothing listens yet
    process = await start_cli("serve", "--no-console", env=env, cwd=tmp_path)
    try:
        await wait_until_answering(process, f"http://127.0.0.1:{port}/healthz")
        assert await asyncio.to_thread(check) == 0
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert check() != 0


def _engine_problem() -> str | None:
    """Why no container engine can build here, or None when `docker info` succeeds."""
    docker = shutil.which("docker")
    if docker is None:
        return "no container engine: the docker command is not installed"
    result = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=60,
                            check=False)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["docker info failed"])[-1]
        return f"no container engine answers (`docker info`: {reason[:200]})"
    return None


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    problem = _engine_problem()
    if problem:
        pytest.skip(problem)
    tag = f"rapport-test:{uuid.uuid4().hex[:12]}"
    build = subprocess.run(["docker", "build", "-t", tag, str(ROOT)], capture_output=True,
                           text=True, timeout=1800, check=False)
    assert build.returncode == 0, build.stderr[-4000:]
    yield tag
    subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, timeout=120,
                   check=False)


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300,
                          check=False)


def test_the_image_runs_rapport_as_a_non_root_user(image: str) -> None:
    version = _docker("run", "--rm", image, "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"rapport {__version__}"
    uid = _docker("run", "--rm", "--entrypoint", "id", image, "-u")
    assert uid.stdout.strip() not in ("", "0")
    [config] = json.loads(_docker("image", "inspect", image).stdout)
    assert config["Config"]["Entrypoint"] == ["rapport"]
    assert config["Config"]["Cmd"] == ["serve", "--no-console"]
    assert config["Config"]["Healthcheck"]["Test"] == ["CMD", *_healthcheck_command()]
    # The base install: the chart libraries are the optional `report` extra.
    imports = _docker("run", "--rm", "--entrypoint", "python", image, "-c",
                      "import importlib.util as u; print(u.find_spec('matplotlib'))")
    assert imports.stdout.strip() == "None"


def assert_becomes_healthy(image: str, *command: str) -> None:
    """`docker run IMAGE COMMAND` detached, and Docker's own HEALTHCHECK finds it healthy (its
    logs shown when not); the container is removed either way."""
    name = f"rapport-test-{uuid.uuid4().hex[:8]}"
    started = _docker("run", "-d", "--name", name, "--health-interval", "1s", image, *command)
    assert started.returncode == 0, started.stderr
    try:
        status = ""
        deadline = time.monotonic() + 300  # a hang guard while the engine starts the container
        while status not in ("healthy", "unhealthy") and time.monotonic() < deadline:
            time.sleep(1)
            status = _docker("inspect", "--format", "{{.State.Health.Status}}",
                             name).stdout.strip()
        assert status == "healthy", _docker("logs", name).stderr[-2000:]
    finally:
        _docker("rm", "-f", name)


def test_the_image_becomes_healthy(image: str) -> None:
    """`rapport serve` on SQLite in /data; Docker's own HEALTHCHECK must find /healthz."""
    assert_becomes_healthy(image)
