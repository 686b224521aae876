"""Start-up: process start to /healthz answering, and `rapport chat` to its first prompt.

Each is measured side by side with a bare `python -c pass` in the same run, so the ratio says
how much Rapport adds to the interpreter's own start. Beside the wall time it prints the CPU
the process had used by then (from /proc, on Linux), which a loaded machine disturbs less.

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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (NaN where /proc is not there)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bare_python() -> tuple[float, float]:
    started = time.perf_counter()
    usage_before = os.times()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    usage_after = os.times()
    cpu = (usage_after.children_user - usage_before.children_user
           + usage_after.children_system - usage_before.children_system)
    return time.perf_counter() - started, cpu


def serve_until_healthy(workdir: Path) -> tuple[float, float]:
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
                    return time.perf_counter() - started, _cpu_seconds(process.pid)
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("server never became healthy")
    finally:
        process.terminate()
        process.wait(10)


def chat_until_prompt(workdir: Path) -> tuple[float, float]:
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
    cpu = _cpu_seconds(process.pid)
    process.stdin.write(b"quit\n")
    process.stdin.close()
    process.wait(10)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        serve_until_healthy(workdir)  # first run migrates; measure warm starts
        chat_until_prompt(workdir)
        rows: dict[str, list[tuple[float, float]]] = {
            "python -c pass": [], "serve -> /healthz": [], "chat -> prompt": []}
        for _ in range(args.runs):
            rows["python -c pass"].append(bare_python())
            rows["serve -> /healthz"].append(serve_until_healthy(workdir))
            rows["chat -> prompt"].append(chat_until_prompt(workdir))
    base = statistics.median(wall for wall, _ in rows["python -c pass"])
    base_cpu = statistics.median(cpu for _, cpu in rows["python -c pass"])
    print(f"{'what':<20} {'median s':>9} {'max s':>7} {'x bare python':>14} "
          f"{'CPU s':>7} {'CPU x bare':>11}")
    for name, values in rows.items():
        median = statistics.median(wall for wall, _ in values)
        cpu = statistics.median(cpu for _, cpu in values)
        print(f"{name:<20} {median:>9.3f} {max(wall for wall, _ in values):>7.3f} "
              f"{median / base:>13.1f}x {cpu:>7.3f} {cpu / base_cpu:>10.1f}x")

if __name__ == "__main__":
    main()
