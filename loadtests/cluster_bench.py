"""The same batch writes on one standalone Redis and on a 3-master Redis Cluster, side by side.

    python -m loadtests.cluster_bench [--players 100000] [--seconds 10] [--workers 1,2]

For each target (a fresh `redis-server`, or a fresh cluster of 3 masters without replicas,
from tests.redis_process) it measures, each time on an empty Redis:

- store level (`loadtests.memory.load`: `Store.write` of chunks of 100 updates of one
  region, 50 chunks per call, --inflight calls at once): the first write of --players new
  players (the locked path), then updates of those players in their region for --seconds;
- over HTTP (`loadtests.quick`: `leaderboard serve --workers N`, with
  LEADERBOARD_REDIS_CLUSTER=1 on the cluster): the preload of the players by batch POSTs of
  1,000 (new players), then quick's batch phase (existing players) for --seconds.

Next to every figure it prints the CPU seconds of the client (this process), the server
processes and each redis-server, and what else the machine did: on a small box the cluster's
three Redis processes share the cores with everything else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redis.crc import key_slot

from leaderboard.domain import BoardConfig
from leaderboard.settings import Settings
from leaderboard.store import Store, keys
from loadtests.memory import Plan, load
from loadtests.quick import (
    BATCH,
    BOARD,
    Cpu,
    Server,
    batch_requests,
    measure,
    preload,
    session,
    wait_ready,
)
from tests.redis_process import RedisClusterProcess, RedisProcess, RedisTarget

REGIONS = ("na", "eu", "apac")
RESULTS = Path(__file__).parent / "results" / "cluster_bench.json"
Row = dict[str, Any]  # what, updates_per_s, seconds, cpu (CPU seconds per process group)


def zsets(board: str, regions: Sequence[str]) -> dict[str, str]:
    """The zset key of each region of a new board (the store tags regions by keys.place)."""
    tags = keys.place(board, regions, {})
    return {region: keys.zset(board, tag) for region, tag in zip(regions, tags, strict=True)}


def two_masters(workdir: Path, board: str, regions: Sequence[str]) -> RedisClusterProcess:
    """A 2-master cluster whose first master serves the slot of the new board's first
    region (in slot order) and the second the others: each master holds some of it."""
    slots = sorted(key_slot(z.encode()) for z in zsets(board, regions).values())
    return RedisClusterProcess(workdir, masters=2, cuts=[slots[0] + 1])


def row(what: str, updates: int, seconds: float, meter: Cpu) -> Row:
    cpu = {who: round(s, 2) for who, s in meter.spent().items()}
    return {"what": what, "updates_per_s": round(updates / seconds), "seconds": seconds, "cpu": cpu}


async def store_rows(target: RedisTarget, args: argparse.Namespace) -> list[Row]:
    """New players once, then updates of the same players until --seconds have passed."""
    store = Store.connect(target.url, 2 * args.inflight, 60.0, cluster=target.cluster)
    try:
        await store.put_board(BoardConfig(args.board, REGIONS), None, Settings().activity_buckets)
        record = await store.load_board(args.board)
        assert record is not None
        meter = Cpu(None, target)
        took = await load(store, record, Plan(args.players, REGIONS, False, 7), args.inflight)
        rows = [row("store: new players", args.players, took, meter)]
        meter, took, rounds = Cpu(None, target), 0.0, 0
        while took < args.seconds:
            rounds += 1
            plan = Plan(args.players, REGIONS, False, 7 + rounds)
            took += await load(store, record, plan, args.inflight)
        rows.append(row("store: existing players", rounds * args.players, took, meter))
        return rows
    finally:
        await store.close()


async def http_rows(target: RedisTarget, workers: int, args: argparse.Namespace) -> list[Row]:
    """quick.py's preload (new players) and batch phase (existing ones) on one server."""
    with tempfile.TemporaryDirectory(prefix="lb-cluster-http-") as tmp:
        server = Server(target.url, workers, Path(tmp) / "server.log", target.cluster)
        try:
            server.start()
            async with session(args.concurrency) as http:
                regions = await wait_ready(http, server)
                rng = random.Random(args.seed)
                meter, started = Cpu(server, target), time.perf_counter()
                await preload(http, server.base, args.players, regions, rng)
                took = time.perf_counter() - started
                label = f"HTTP w{workers}"
                rows = [row(f"{label}: new players (preload)", args.players, took, meter)]
                requests = batch_requests(args, regions, rng)
                meters: list[Cpu] = []  # the phase's own meter, read again after it

                def start_meter() -> Cpu:
                    meters.append(Cpu(server, target))
                    return meters[-1]

                phase = await measure(
                    http, server.base, label, requests, args.seconds, args.concurrency,
                    start_meter, BATCH,
                )  # fmt: skip
                ups = phase.requests * BATCH
                done = row(f"{label}: existing players", ups, phase.seconds, meters[0])
                done["errors"] = phase.errors
                rows.append(done)
        finally:
            code = server.stop()
        log = server.log.read_text(errors="replace")
        if code not in (0, None) or "Traceback" in log:
            print(f"server exited with {code}, its log ends:\n{server.tail(30)}")
    return rows


async def target_rows(cluster: bool, args: argparse.Namespace) -> list[Row]:
    """Every measurement on a fresh target, so that each preload writes new players."""
    rows = []
    for workers in [0, *args.workers]:
        with tempfile.TemporaryDirectory(prefix="lb-cluster-") as tmp:
            target = (
                RedisClusterProcess(Path(tmp), masters=3) if cluster else RedisProcess(Path(tmp))
            )
            target.start()
            try:
                if isinstance(target, RedisClusterProcess) and not workers:
                    placement(target, [args.board, BOARD])
                if workers:
                    rows += await http_rows(target, workers, args)
                else:
                    rows += await store_rows(target, args)
            finally:
                target.stop()
    return rows


def placement(cluster: RedisClusterProcess, boards: list[str]) -> None:
    """Which master holds each region of the boards (keys.place spreads them over slots)."""
    for board in boards:
        tags = dict(zip(REGIONS, keys.place(board, REGIONS, {}), strict=True))  # a new board's
        where = [f"{r} {cluster.owner(keys.zset(board, tags[r]))[0].port}" for r in REGIONS]
        mirror = cluster.owner(keys.global_mirror(board))[0].port
        print(f"cluster, board {board}: regions on masters {', '.join(where)}; board keys {mirror}")


def print_tables(results: dict[str, list[Row]]) -> None:
    names = list(results)
    print(f"\n{'updates/s':<40}" + "".join(f"{n:>14}" for n in names))
    for i, first in enumerate(results[names[0]]):
        rates = "".join(f"{results[n][i]['updates_per_s']:>14,}" for n in names)
        print(f"{first['what']:<40}{rates}")
    print("\nCPU seconds (wall s): client / server / each redis-server (port: s) / other")
    for n in names:
        for r in results[n]:
            cpu = r["cpu"]
            nodes = ", ".join(
                f"{k[6:]}: {v:.1f}" for k, v in sorted(cpu.items()) if k[:6] == "redis:"
            )
            print(
                f"  {n:<10} {r['what']:<36} ({r['seconds']:5.1f} s)  {cpu['client']:5.1f} / "
                f"{cpu['server']:5.1f} / {nodes} / {cpu['other']:.1f}"
            )
            if r.get("errors"):
                print(f"    errors: {r['errors']}")
            if cpu["other"] > 0.2 * r["seconds"]:
                print("    the box was shared (other > 20 % of a core): repeat this run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--players", type=int, default=100_000, help="players written (100000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of steady phases")
    parser.add_argument("--workers", default="1,2", help="server processes per HTTP run (1,2)")
    parser.add_argument("--redis", choices=("standalone", "cluster", "both"), default="both")
    parser.add_argument("--inflight", type=int, default=4, help="store.write calls at once (4)")
    parser.add_argument("--concurrency", type=int, default=32, help="HTTP requests in flight")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--board", default="bench", help="board of the store-level runs (bench)")
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",") if w.strip()]
    if not 1 <= args.players <= 9_000_000:
        parser.error("--players must be within 1..9000000 (ids have 7 digits)")
    kinds = {"standalone": [False], "cluster": [True], "both": [False, True]}[args.redis]
    results = {"cluster" if c else "standalone": asyncio.run(target_rows(c, args)) for c in kinds}
    print_tables(results)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"args": vars(args), "results": results}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
