"""A lean reader beside locust: the three global reads at Poisson times, timed client-side.

    python -m loadtests.probe --url http://127.0.0.1:8080 [--players 100000] [--rate 50]
                              [--seconds 30] [--delay 0]

Locust's users are greenlets of the processes that also send the load, and their clock
includes the wait for their own process: on an idle box, 16 GameClient users at 200
requests/s together measured p99 23-58 ms (15-18 ms once their requests no longer came in
step) while this probe, against the same server at the same moment, measured 4-8 ms.
Target (2) is p99 < 10 ms, so the bench needs a client that does not add that much itself.

One asyncio process, raw HTTP/1.1 on keep-alive connections. Open loop: each request
starts at its Poisson time whatever the earlier ones are doing (a new connection when
none is idle), so a slow answer does not hold back the next request and queueing in the
service is measured, not hidden. Prints one JSON object: per endpoint the latencies'
count, p50/p95/p99/max in ms, and failures by kind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

from loadtests._support import percentile

BOARD = os.environ.get("LEADERBOARD_BENCH_BOARD", "default")  # as locustfile.py
LENGTH = re.compile(rb"(?im)^content-length:\s*(\d+)")
TIMEOUT = 5.0


KINDS = (
    "GET /top global",
    "GET /players/{id}",
    "GET /players/{id}/around",
    "GET /players?ids= (100, global)",
)


def path(kind: str, players: int, rng: random.Random) -> str:
    """A read target (2) names, for a player anywhere on the board; names as locust's
    (the lookup of 100 players is issue 20's row)."""
    base = f"/v1/boards/{BOARD}"
    if kind == "GET /top global":
        return f"{base}/top?limit=100"
    if kind.startswith("GET /players?ids"):
        ids = ",".join(f"player-{i}" for i in rng.sample(range(players), min(100, players)))
        return f"{base}/players?ids={ids}"
    me = f"player-{rng.randrange(players)}"
    return f"{base}/players/{me}" + ("/around?radius=10" if kind.endswith("around") else "")


@dataclass
class Endpoint:
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    def fail(self, kind: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1

    def summary(self, seconds: float) -> dict[str, object]:
        ms = sorted(1000 * x for x in self.latencies)
        return {
            "requests": len(ms), "rps": round(len(ms) / seconds, 1),
            "p50": round(percentile(ms, 50), 2), "p95": round(percentile(ms, 95), 2),
            "p99": round(percentile(ms, 99), 2), "max": round(ms[-1] if ms else 0.0, 2),
            "failures": self.failures,
        }  # fmt: skip


class Client:
    """Keep-alive connections to one server; a request takes an idle one or opens one."""

    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, path: str) -> int:
        """The answer's status, its body read; the connection goes back only when clean."""
        conn = self.idle.pop() if self.idle else await asyncio.open_connection(self.host, self.port)
        reader, writer = conn
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            found = LENGTH.search(head)
            await reader.readexactly(int(found[1]) if found else 0)
        except BaseException:
            writer.close()
            raise
        self.idle.append(conn)
        return int(head[9:12])

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def probe(
    url: str, players: int, rate: float, seconds: float, seed: int = 1, kinds: int = len(KINDS)
) -> dict[str, Endpoint]:
    """Requests at Poisson times of `rate` per second for `seconds`, the first ``kinds``
    kinds in turn."""
    rng = random.Random(seed)
    client = Client(url)
    found: dict[str, Endpoint] = {}

    async def one(kind: str, target: str) -> None:
        endpoint = found.setdefault(kind, Endpoint())
        started = time.perf_counter()
        try:
            async with asyncio.timeout(TIMEOUT):
                status = await client.get(target)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            endpoint.fail(type(exc).__name__)
            return
        if status >= 300:
            endpoint.fail(str(status))
        else:
            endpoint.latencies.append(time.perf_counter() - started)

    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    due = loop.time()
    running: set[asyncio.Task[None]] = set()
    sent = 0
    while (due := due + rng.expovariate(rate)) < end:
        await asyncio.sleep(max(0.0, due - loop.time()))
        kind = KINDS[sent % kinds]
        sent += 1
        task = asyncio.create_task(one(kind, path(kind, players, rng)))
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)
    client.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the service (or its read server)")
    parser.add_argument("--players", type=int, default=100_000, help="player-0 ... on the board")
    parser.add_argument("--rate", type=float, default=50.0, help="requests/s, all kinds (50)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--delay", type=float, default=0.0, help="wait this long before")
    parser.add_argument(
        "--kinds", type=int, default=len(KINDS), help="the first N kinds (3: no lookups)"
    )
    args = parser.parse_args()
    time.sleep(args.delay)
    found = asyncio.run(probe(args.url, args.players, args.rate, args.seconds, 1, args.kinds))
    print(json.dumps({name: e.summary(args.seconds) for name, e in found.items()}))


if __name__ == "__main__":
    main()
