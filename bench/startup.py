"""Start-up: process start to /healthz answering, and `rapport chat` to its first prompt.

Each is measured side by side with a bare `python -c pass` in the same run, so the ratio says
how much Rapport adds to the interpreter's own start.

    python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bare_python() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def serve_until_healthy(workdir: Path) -> float:
    port = _free_port()
    env = {**os.environ, "RAPPORT_PORT": str(port), "RAPPORT_METRICS_PORT": "0",
           "RAPPORT_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bench.db'}"}
    for name in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "MicrosoftAppId"):
        env.pop(name, None)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "rapport", "serve", "--no-console"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + 60
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("server never became healthy")
    finally:
        process.terminate()
        process.wait(10)


def chat_until_prompt(workdir: Path) -> float:
    env = {**os.environ, "RAPPORT_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'chat.db'}"}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "rapport", "chat", "--no-scheduler"], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    assert process.stdout is not None and process.stdin is not None
    seen = b""
    while b"rapport> " not in seen:
        chunk = process.stdout.read1(1024)  # type: ignore[attr-defined]
        if not chunk:
            raise RuntimeError("chat exited before its prompt")
        seen += chunk
    elapsed = time.perf_counter() - started
    process.stdin.write(b"quit\n")
    process.stdin.close()
    process.wait(10)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        serve_until_healthy(workdir)  # first run migrates; measure warm starts
        chat_until_prompt(workdir)
        rows = {"python -c pass": [], "serve -> /healthz": [], "chat -> prompt": []}
        for _ in range(args.runs):
            rows["python -c pass"].append(bare_python())
            rows["serve -> /healthz"].append(serve_until_healthy(workdir))
            rows["chat -> prompt"].append(chat_until_prompt(workdir))
    base = statistics.median(rows["python -c pass"])
    print(f"{'what':<20} {'median s':>9} {'max s':>7} {'x bare python':>14}")
    for name, values in rows.items():
        median = statistics.median(values)
        print(f"{name:<20} {median:>9.3f} {max(values):>7.3f} {median / base:>13.1f}x")


if __name__ == "__main__":
    main()
