"""A short end-to-end benchmark over HTTP (the full locust suite is issue 6).

    python -m loadtests.http_bench [--seconds 10] [--players 100000] [--workers 1]

Starts its own redis-server and `leaderboard serve`, preloads players with batch posts, then
measures single-score posts, 1,000-item batches and the three global reads, each for a few
seconds with 32 requests in flight on keep-alive connections.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import orjson

from tests.redis_process import RedisProcess, free_port

REGIONS = ("na", "eu", "apac")
IN_FLIGHT = 32
JSON = {"Content-Type": "application/json"}


def start_server(redis_url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, LEADERBOARD_REDIS_URL=redis_url, LEADERBOARD_LOG_LEVEL="WARNING")
    process = subprocess.Popen(
        [sys.executable, "-m", "leaderboard", "serve", "--port", str(port),
         "--workers", str(workers)],
        env=env,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


async def wait_ready(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        try:
            async with session.get(f"{url}/v1/boards/default") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not come up")


async def timed(
    seconds: float, make: Callable[[], tuple[str, str, bytes | None]], session, url: str
) -> list[float]:
    """Latencies (s) of requests sent with IN_FLIGHT in flight for ``seconds``."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def user() -> None:
        while time.perf_counter() < deadline:
            method, path, body = make()
            started = time.perf_counter()
            async with session.request(method, url + path, data=body, headers=JSON) as r:
                await r.read()
                assert r.status == 200, (path, r.status)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(user() for _ in range(IN_FLIGHT)))
    return latencies


def row(name: str, latencies: list[float], seconds: float, per_request: int = 1) -> str:
    q = statistics.quantiles(latencies, n=100)
    rate = len(latencies) / seconds
    extra = f", {rate * per_request:,.0f} updates/s" if per_request > 1 else ""
    return (
        f"{name:<22} {rate:>9,.0f} req/s  p50 {q[49] * 1000:6.2f} ms  "
        f"p99 {q[98] * 1000:6.2f} ms{extra}"
    )


async def bench(url: str, players: int, seconds: float) -> None:
    rng = random.Random(1)
    ids = [f"player-{1_000_000 + i}" for i in range(players)]
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        await wait_ready(session, url)
        started = time.perf_counter()
        for i in range(0, players, 1000):
            updates = [
                {"player_id": p, "region": REGIONS[j % 3], "score": rng.randrange(10**6)}
                for j, p in enumerate(ids[i : i + 1000])
            ]
            body = orjson.dumps({"updates": updates})
            async with session.post(
                f"{url}/v1/boards/default/scores/batch", data=body, headers=JSON
            ) as r:
                assert r.status == 200
        print(f"preload {players:,}: {players / (time.perf_counter() - started):,.0f} updates/s")

        def single() -> tuple[str, str, bytes]:
            i = rng.randrange(players)
            body = {"player_id": ids[i], "region": REGIONS[i % 3], "score": rng.randrange(10**6)}
            return "POST", "/v1/boards/default/scores", orjson.dumps(body)

        batches = []
        for _ in range(50):
            start = rng.randrange(players - 1000)
            updates = [
                {"player_id": ids[j], "region": REGIONS[j % 3], "score": rng.randrange(10**6)}
                for j in range(start, start + 1000)
            ]
            batches.append(orjson.dumps({"updates": updates}))

        def batch() -> tuple[str, str, bytes]:
            return "POST", "/v1/boards/default/scores/batch", rng.choice(batches)

        def top() -> tuple[str, str, None]:
            return "GET", "/v1/boards/default/top?limit=100", None

        def rank() -> tuple[str, str, None]:
            return "GET", f"/v1/boards/default/players/{rng.choice(ids)}", None

        def around() -> tuple[str, str, None]:
            return "GET", f"/v1/boards/default/players/{rng.choice(ids)}/around?radius=10", None

        for name, make, per in [
            ("single score POST", single, 1),
            ("batch POST (1000)", batch, 1000),
            ("global top 100", top, 1),
            ("global rank", rank, 1),
            ("global around r=10", around, 1),
        ]:
            print(row(name, await timed(seconds, make, session, url), seconds, per), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisProcess(Path(tmp)).start()
        server, url = start_server(redis.url, args.workers)
        try:
            print(f"{os.cpu_count()} cores, {args.workers} server worker(s), {IN_FLIGHT} in flight")
            asyncio.run(bench(url, args.players, args.seconds))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
            redis.stop()


if __name__ == "__main__":
    main()
