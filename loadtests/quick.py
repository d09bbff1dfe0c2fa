"""A quick HTTP load test of the real service: write rates and read latencies.

    python -m loadtests.quick [--seconds 10] [--players 100000] [--workers 1]
                              [--names] [--key] [--idempotency] [--rate R]

It answers "what does one box do" with the service as it ships: its own redis-server,
`python -m leaderboard serve --workers N` pointed at it, players preloaded by batch
POSTs, then one phase per request kind, each for --seconds, with a fixed number of
requests in flight over keep-alive connections and bodies encoded before the clock
starts (so the client spends its CPU on HTTP, not on JSON). CPU use of the client, the
server processes and Redis is printed per phase: on a small box the load generator
shares the cores with what it measures, and that column says who ran out first.

--key, --idempotency and --rate put a price on the v1.2 protections: every request then
carries a server key (LEADERBOARD_SERVER_KEYS is set), every write a fresh
Idempotency-Key, or the server limits each key or address to R requests/s (a rate set to
never trigger measures what the check costs).

The server is stopped with SIGTERM and Redis by PID; nothing else is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp
import orjson

from loadtests._support import busy_seconds, children, cpu_seconds, percentile
from tests.redis_process import RedisProcess, RedisTarget, free_port

BOARD = "default"
FIRST_ID = 1_000_000  # player-1000000, player-1000001, ...
BATCH = 1000
SCORES = 1_000_000_000
JSON = {"Content-Type": "application/json"}
RESULTS = Path(__file__).parent / "results" / "quick.json"

Request = tuple[str, str, bytes | None]  # method, path, body


class Server:
    """`python -m leaderboard serve` in a child process, its output in a log file."""

    def __init__(
        self, redis_url: str, workers: int, log: Path, cluster: bool = False, read_url: str = ""
    ) -> None:
        self.port = free_port()
        self.workers = workers
        self.redis_url = redis_url
        self.cluster = cluster  # redis_url is a seed node of a Redis Cluster
        self.read_url = read_url  # a replica of redis_url for the reads, or ""
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = dict(os.environ, LEADERBOARD_REDIS_URL=self.redis_url)
        env["LEADERBOARD_REDIS_CLUSTER"] = str(int(self.cluster))
        env["LEADERBOARD_REDIS_READ_URL"] = self.read_url
        args = [sys.executable, "-m", "leaderboard", "serve", "--port", str(self.port)]
        args += ["--workers", str(self.workers)]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                args, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def pids(self) -> list[int]:
        """The serving processes: the parent and, with --workers > 1, its workers."""
        assert self.process is not None
        return [self.process.pid, *children(self.process.pid)]

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, timeout: float = 40.0) -> int | None:
        """SIGTERM (the parent passes it on to its workers); answers the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@dataclass
class Phase:
    """One measured phase: counts, client-side latencies, and who was busy."""

    name: str
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    updates_per_request: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # percent of one core

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Cpu:
    """CPU seconds of client, server, Redis and anything else since it was made.

    "redis" sums every redis-server of the target (one, or each master of a cluster, also
    listed as "redis:<port>"); without a server (a store-level run) "server" is 0. "other"
    is the whole machine's busy time minus ours: when it is not near 0, someone else was
    using the cores and the phase's figures are not to be trusted.
    """

    def __init__(self, server: Server | None, redis: RedisTarget) -> None:
        self.server, self.nodes = server, redis.masters()
        self.start = self.read()

    def read(self) -> dict[str, float]:
        now = {"client": time.process_time()}
        now["server"] = cpu_seconds(self.server.pids()) if self.server else 0.0
        now |= {f"redis:{n.port}": cpu_seconds([n.pid]) for n in self.nodes}
        return now | {"machine": busy_seconds()}

    def spent(self) -> dict[str, float]:
        """Seconds of CPU each used so far: client, server, redis, redis:<port>..., other."""
        now = self.read()
        spent = {who: now[who] - self.start[who] for who in now}
        nodes = [spent[who] for who in spent if who.startswith("redis:")]
        ours = spent["client"] + spent["server"] + sum(nodes)
        other = max(0.0, spent.pop("machine") - ours)
        return {"client": spent.pop("client"), "server": spent.pop("server"),
                "redis": sum(nodes), **spent, "other": other}  # fmt: skip

    def busy(self, seconds: float) -> dict[str, float]:
        """The same, in % of one core over ``seconds``."""
        return {who: round(100 * s / seconds) for who, s in self.spent().items()}


async def measure(
    http: aiohttp.ClientSession,
    base: str,
    name: str,
    requests: Sequence[Request],
    seconds: float,
    concurrency: int,
    start_meter: Callable[[], Cpu],
    updates_per_request: int = 0,
    idempotency: bool = False,
) -> Phase:
    """Keeps ``concurrency`` requests in flight for ``seconds``, cycling ``requests``.

    Latency is taken around the whole exchange, body read included, for every answer;
    anything but a 2xx counts as an error under its status (or the exception's type).
    """
    phase = Phase(name, updates_per_request=updates_per_request)
    latencies: list[float] = []
    counter = 0
    meter = start_meter()
    started = time.perf_counter()
    deadline = started + seconds

    async def worker() -> None:
        nonlocal counter
        while time.perf_counter() < deadline:
            method, path, body = requests[counter % len(requests)]
            counter += 1
            t0 = time.perf_counter()
            try:
                headers = JSON if body is not None else None
                if idempotency and body is not None:
                    headers = {**JSON, "Idempotency-Key": f"quick-{started}-{counter}"}
                async with http.request(method, base + path, data=body, headers=headers) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                key = type(exc).__name__
                phase.errors[key] = phase.errors.get(key, 0) + 1
                continue
            latencies.append(time.perf_counter() - t0)
            if status >= 300:
                phase.errors[str(status)] = phase.errors.get(str(status), 0) + 1
            else:
                phase.requests += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    phase.seconds = time.perf_counter() - started
    phase.cpu = meter.busy(phase.seconds)
    latencies.sort()
    phase.p50_ms = round(1000 * percentile(latencies, 50), 2)
    phase.p99_ms = round(1000 * percentile(latencies, 99), 2)
    phase.max_ms = round(1000 * (latencies[-1] if latencies else 0.0), 2)
    return phase


def player(i: int) -> str:
    return f"player-{FIRST_ID + i}"


def update(i: int, regions: Sequence[str], rng: random.Random) -> dict:
    """A score for player i in its home region (i mod R), so nobody changes region."""
    return {
        "player_id": player(i),
        "region": regions[i % len(regions)],
        "score": rng.randrange(SCORES),
    }


def batch_body(
    ids: Sequence[int], regions: Sequence[str], rng: random.Random, names: bool = False
) -> bytes:
    updates = [update(i, regions, rng) for i in ids]
    if names:
        for i, u in zip(ids, updates, strict=True):
            u["name"] = f"Player {i}"
    return orjson.dumps({"updates": updates})


def session(concurrency: int, key: str = "") -> aiohttp.ClientSession:
    """Keep-alive connections, at most ``concurrency`` of them, 60 s per request."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": f"Bearer {key}"} if key else None
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=60), headers=headers
    )


async def wait_ready(
    http: aiohttp.ClientSession, server: Server, timeout: float = 60.0
) -> list[str]:
    """Until the `default` board exists (the server creates it at start-up, once Redis
    answers); answers its regions."""
    deadline = time.monotonic() + timeout
    while True:
        if not server.alive():
            raise RuntimeError(f"the server exited at start:\n{server.tail()}")
        try:
            async with http.get(f"{server.base}/v1/boards/{BOARD}") as resp:
                if resp.status == 200:
                    return (await resp.json())["regions"]
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not get ready:\n{server.tail()}")
        await asyncio.sleep(0.1)


async def preload(
    http: aiohttp.ClientSession,
    base: str,
    players: int,
    regions: Sequence[str],
    rng: random.Random,
    names: bool,
) -> float:
    """Every player once (with a name when ``names``), by batch POSTs of 1000, 8 at a
    time; answers the updates/s."""
    bodies = [
        batch_body(range(start, min(start + BATCH, players)), regions, rng, names)
        for start in range(0, players, BATCH)
    ]
    pending = iter(bodies)
    started = time.perf_counter()

    async def worker() -> None:
        for body in pending:
            url = f"{base}/v1/boards/{BOARD}/scores/batch"
            async with http.post(url, data=body, headers=JSON) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"preload batch: {resp.status} {await resp.text()}")

    await asyncio.gather(*(worker() for _ in range(8)))
    return players / (time.perf_counter() - started)


def requests_for(args: argparse.Namespace, regions: Sequence[str]) -> dict[str, list[Request]]:
    """Every phase's requests, encoded now; random existing players, random scores.

    Enough distinct bodies that a phase hardly repeats one (a repeated `best` score
    would be a cheaper no-op), sized from generous rates times --seconds.
    """
    rng = random.Random(args.seed)
    n = args.players
    singles = min(200_000, max(20_000, int(8_000 * args.seconds)))
    reads = [player(rng.randrange(n)) for _ in range(50_000)]
    lookups = [[player(i) for i in rng.sample(range(n), min(100, n))] for _ in range(1000)]
    path = f"/v1/boards/{BOARD}"
    return {
        "single": [
            ("POST", f"{path}/scores", orjson.dumps(update(rng.randrange(n), regions, rng)))
            for _ in range(singles)
        ],
        "batch": batch_requests(args, regions, rng),
        "top": [("GET", f"{path}/top?limit=100", None)],
        "player": [("GET", f"{path}/players/{p}", None) for p in reads],
        "around": [("GET", f"{path}/players/{p}/around?radius=10", None) for p in reads],
        "lookup": [("GET", f"{path}/players?ids={','.join(ids)}", None) for ids in lookups],
    }


def batch_requests(
    args: argparse.Namespace, regions: Sequence[str], rng: random.Random
) -> list[Request]:
    """Batch posts of BATCH random existing players, each in its home region."""
    n, path = args.players, f"/v1/boards/{BOARD}/scores/batch"
    batches = min(2_000, max(50, int(60 * args.seconds)))
    return [
        ("POST", path, batch_body(rng.sample(range(n), BATCH), regions, rng))
        for _ in range(batches)
    ]


PHASES = (
    ("single", "POST /scores (1 update)", 1),
    ("batch", f"POST /scores/batch ({BATCH})", BATCH),
    ("top", "GET /top?limit=100 (global)", 0),
    ("player", "GET /players/{id}", 0),
    ("around", "GET /players/{id}/around?radius=10", 0),
    ("lookup", "GET /players?ids= (100 players)", 0),
)


def print_table(phases: Sequence[Phase]) -> None:
    head = (
        f"{'phase':<36} {'req/s':>8} {'updates/s':>10} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} {'errors':>7}  cpu% client/server/redis/other"
    )
    print(head)
    print("-" * len(head))
    for p in phases:
        ups = f"{p.rate * p.updates_per_request:,.0f}" if p.updates_per_request else ""
        cpu = "/".join(f"{p.cpu[k]:.0f}" for k in ("client", "server", "redis", "other"))
        print(
            f"{p.name:<36} {p.rate:>8,.0f} {ups:>10} {p.p50_ms:>7.2f} {p.p99_ms:>7.2f} "
            f"{p.max_ms:>7.1f} {sum(p.errors.values()):>7}  {cpu}"
        )
    for p in phases:
        if p.errors:
            print(f"errors in {p.name}: {p.errors}")


async def run(args: argparse.Namespace) -> dict:
    key = "quick-bench-server-key-0123456789" if args.key else ""
    os.environ["LEADERBOARD_SERVER_KEYS"] = key
    os.environ["LEADERBOARD_SERVER_RATE"] = os.environ["LEADERBOARD_CLIENT_RATE"] = str(args.rate)
    with tempfile.TemporaryDirectory(prefix="lb-quick-") as tmp:
        redis = RedisProcess(Path(tmp) / "redis").start()
        server = Server(redis.url, args.workers, Path(tmp) / "server.log")
        try:
            server.start()
            async with session(args.concurrency, key) as http:
                regions = await wait_ready(http, server)
                print(
                    f"server pid {server.pids()[0]} on "
                    f"{server.base}, {args.workers} worker(s); redis-server pid {redis.pid} "
                    f"({redis.binary}); {os.cpu_count()} CPUs"
                )
                rng = random.Random(args.seed)
                rate = await preload(http, server.base, args.players, regions, rng, args.names)
                print(
                    f"preloaded {args.players:,} players ({','.join(regions)}) by batch POSTs "
                    f"of {BATCH}: {rate:,.0f} updates/s"
                )
                requests = requests_for(args, regions)
                phases = []
                for key, label, per in PHASES:
                    phases.append(
                        await measure(
                            http,
                            server.base,
                            label,
                            requests[key],
                            args.seconds,
                            args.concurrency,
                            lambda: Cpu(server, redis),
                            per,
                            args.idempotency,
                        )
                    )
            print()
            print_table(phases)
        finally:
            code = server.stop()
            redis.stop()
        if code not in (0, None):
            print(f"server exited with {code}:\n{server.tail()}")
        if any(s in server.log.read_text() for s in ("Traceback", "unexpected error")):
            print("the server logged errors; its log ends:\n" + server.tail(40))
    return {
        "workers": args.workers,
        "players": args.players,
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "key": args.key,
        "idempotency": args.idempotency,
        "rate": args.rate,
        "cpus": os.cpu_count(),
        "preload_updates_per_s": round(rate),
        "server_exit": code,
        "phases": [asdict(p) | {"rate": round(p.rate, 1)} for p in phases],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Quick HTTP load test of the service.")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (10)")
    parser.add_argument("--players", type=int, default=100_000, help="players preloaded")
    parser.add_argument("--workers", type=int, default=1, help="server processes (1)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (32)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--names", action="store_true", help="preload players with names")
    parser.add_argument("--key", action="store_true", help="every request with a server key")
    parser.add_argument(
        "--idempotency", action="store_true", help="every write with its own Idempotency-Key"
    )
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s limit (0: off)")
    parser.add_argument(
        "--json",
        nargs="?",
        const=str(RESULTS),
        metavar="PATH",
        help="also write the figures as JSON (PATH: loadtests/results/quick.json)",
    )
    args = parser.parse_args()
    if not 1 <= args.players <= 9_000_000:
        parser.error("--players must be within 1..9000000 (ids have 7 digits)")
    result = asyncio.run(run(args))
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
