"""The lean generator: wrk (C, one thread) posting scores with fresh random scores.

    python -m loadtests.lean --url http://127.0.0.1:8080 --board bench --players 1000000 \
        [--batch 1000 | --batch 0] [--connections 4] [--seconds 60]

Locust spends a core of its own on what it sends; wrk sends the same requests for a
fraction of that, so the service gets the box (loadtests/lean.lua builds each request,
loadtests.targets runs it beside locust). Needs Debian's `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass
class Lean:
    """One wrk run: posts and updates per second, latencies in ms, failed requests."""

    posts_per_s: float
    updates_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    failed: int


def run_wrk(
    url: str,
    board: str,
    regions: str,
    players: int,
    batch: int,
    connections: int,
    seconds: int,
    started: Callable[[int], None] = lambda pid: None,
) -> Lean:
    """Runs wrk to the end; ``started`` gets its pid (to meter its CPU)."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("the lean generator needs wrk: apt-get install wrk")
    env = dict(
        os.environ, LEAN_BOARD=board, LEAN_REGIONS=regions, LEAN_PLAYERS=str(players),
        LEAN_BATCH=str(batch),
    )  # fmt: skip
    cmd = [binary, "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s"]
    cmd += ["-s", str(HERE / "lean.lua"), url]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    started(proc.pid)
    out, _ = proc.communicate(timeout=seconds + 60)
    line = next((x for x in out.splitlines() if x.startswith("LEAN ")), None)
    if proc.returncode or line is None:
        raise RuntimeError(f"wrk exited {proc.returncode}: {out[-500:]}")
    r = json.loads(line[5:])
    posts = (r["requests"] - r["non2xx"]) / (r["us"] / 1e6)
    return Lean(
        round(posts, 1), round(posts * max(batch, 1)), r["p50_us"] / 1000, r["p99_us"] / 1000,
        r["max_us"] / 1000, r["non2xx"] + r["errors"],
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--board", default="bench")
    parser.add_argument("--regions", default="na,eu,apac")
    parser.add_argument("--players", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="0: single-score posts")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=60)
    a = parser.parse_args()
    print(run_wrk(a.url, a.board, a.regions, a.players, a.batch, a.connections, a.seconds))


if __name__ == "__main__":
    main()
