"""Issue 17's four targets in one run, each printed with its ceiling and peer of the same run.

    python -m loadtests.targets [--players 1000000] [--seconds 60] [--workers 2]

1. Redis CPU per applied update of the write script, against a plain pipelined ZADD into a
   set of the same size (loadtests.write_cost, its own Redis): at most 1.5x.
2. Batch updates/s over HTTP on a `set` board of --players, every update a fresh random
   score, from locust (`write`) and from the lean generator (wrk, loadtests.lean): at least
   100,000/s; from 10M players on, at least 0.75 of the peer library's pipelined ZADDs
   into a set of that size on the same Redis.
3. p99 of the three global reads (top 100, rank, around-me), timed by loadtests.probe at
   --read-rate in all, while locust's game servers post --write-rate updates/s: under 10 ms.
4. Single-score posts/s from the lean generator: at least 15,000 with p99 under 10 ms.

After those, each on a stack of its own: `reads-apart`, target 3 again with the reads on
a server process of their own that reads a replica; and `cluster`, beside target 2, the
lean generator's batches on a 2-master Redis Cluster: updates/s per master and per core.

The stack is runner.py's (its own redis-server and `leaderboard serve --workers N`); the
ceiling is redis-benchmark's pipelined ZADD on that Redis, the peer the agoragames library.
Each phase prints who used the two cores. Figures go to loadtests/results/targets-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

import redis

from loadtests import cluster_bench, runner, server_side, write_cost
from loadtests.lean import Lean, run_wrk
from loadtests.quick import Server
from tests.redis_process import wait_replicated

BOARD = "bench"
PHASES = ("cost", "write", "lean-write", "reads", "lean-single", "reads-apart", "cluster")
ON_THE_STACK = PHASES[1:5]  # one Redis and one server, in this order


def reads_apart(
    args: argparse.Namespace, ns: argparse.Namespace, scenario: runner.Scenario, stamp: str
) -> dict[str, Any]:
    """The reads phase again, with the reads off the writers' path as a deployment can
    put them: a server process of their own (runner's --read-workers 1) that reads a
    replica of Redis (LEADERBOARD_REDIS_READ_URL). On a new stack, loaded the same way."""
    apart = argparse.Namespace(**{**vars(ns), "redis_url": None, "service_url": None,
                                  "replica": True, "read_url": "", "read_host": "",
                                  "read_workers": 1})  # fmt: skip
    with runner.stack(apart) as pids:
        create_board(apart.service_url)
        asyncio.run(runner.preload(apart.redis_url, 0, args.players, board=BOARD))
        wait_replicated(apart.redis_url, apart.read_url)
        prefix = runner.RESULTS / f"targets-{stamp}-reads-apart"
        result = runner.run_locust(scenario, apart, args.players, prefix, pids)
    runner.print_result(result)
    return asdict(result)


def cluster_phase(args: argparse.Namespace) -> dict[str, Any]:
    """The lean generator's batches on a 2-master Redis Cluster of this machine (the
    board's regions split 1 and 2 over its masters), with each master's share of the
    updates (the generator spreads them evenly over the regions) per core of its CPU:
    the figure a studio multiplies by its masters."""
    with tempfile.TemporaryDirectory(prefix="lb-cluster-") as tmp, ExitStack() as stop:
        cluster = cluster_bench.two_masters(Path(tmp) / "cluster", BOARD, runner.REGIONS)
        stop.callback(cluster.start().stop)
        server = Server(cluster.url, args.workers, Path(tmp) / "server.log", cluster=True)
        stop.callback(server.start().stop)
        runner.wait_ready(server.base, server)
        create_board(server.base)
        rate = asyncio.run(runner.preload(cluster.url, 0, args.players, board=BOARD, cluster=True))
        print(f"  2 masters, {args.players:,} players preloaded at {rate:,.0f}/s")
        zsets = cluster_bench.zsets(BOARD, runner.REGIONS)
        owners = {region: cluster.owner(zset)[0] for region, zset in zsets.items()}
        held: dict[str, list[str]] = {}
        for i, node in enumerate(cluster.nodes):
            mine = [g for g, owner in owners.items() if owner is node]
            held[f"redis {i + 1} ({','.join(mine)})"] = mine
        assert server.process is not None
        pids = {name: node.pid for name, node in zip(held, cluster.nodes, strict=True)}
        pids["server"] = server.process.pid
        on_cluster = argparse.Namespace(**{**vars(args), "service_url": server.base})
        figure, cpu = lean(on_cluster, pids, 1000, 4)
    masters = []
    for name, regions in held.items():
        share = figure.updates_per_s * len(regions) / len(runner.REGIONS)
        busy = cpu.get(name) or 0
        per_core = round(share / busy * 100) if busy else None
        masters.append({"regions": regions, "updates_per_s": round(share), "cpu": busy,
                        "updates_per_core_s": per_core})  # fmt: skip
    print(f"  {figure}\n  CPU (% of one core): {cpu}")
    for m in masters:
        print(f"  master {','.join(m['regions'])}: {m['updates_per_s']:,}/s at {m['cpu']} %"
              f" of a core: {m['updates_per_core_s'] or 0:,} per core")  # fmt: skip
    return {**asdict(figure), "cpu": cpu, "masters": masters}


def create_board(service_url: str) -> None:
    body = json.dumps({"regions": list(runner.REGIONS), "mode": "set"}).encode()
    request = urllib.request.Request(
        f"{service_url}/v1/boards/{BOARD}", body, {"Content-Type": "application/json"}, method="PUT"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status in (200, 201), answer.status


def changes(redis_url: str) -> int:
    """Redis's count of changes so far (its Redis never saves, so nothing resets it): each
    update makes one for its activity and one more when it changes a stored score, since a
    ZADD counts the members it added or moved (the write script sends many in one ZADD)."""
    info = redis.Redis.from_url(redis_url).info("persistence")
    return int(info["rdb_changes_since_last_save"])


def lean(
    args: argparse.Namespace, pids: dict[str, int | None], batch: int, connections: int
) -> tuple[Lean, dict[str, float | None]]:
    """A wrk run, with the CPU of each process over it."""
    samplers: list[runner.CpuSampler] = []

    def meter(pid: int) -> None:
        samplers.append(runner.CpuSampler({**pids, "wrk": pid}))
        samplers[0].thread.start()

    began = time.time()
    figure = run_wrk(
        args.service_url, BOARD, ",".join(runner.REGIONS), args.players, batch, connections,
        args.seconds, meter,
    )  # fmt: skip
    ended = began + args.seconds - 0.5  # wrk still runs (a gone process counts nothing)
    samplers[0].stop.set()
    samplers[0].thread.join()
    return figure, samplers[0].busy(began, ended)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(out: dict[str, Any], players: int) -> list[str]:
    """The table: per target, what was measured, against what, met or missed."""
    lines = [f"{'target':<44} {'measured':<38} {'same run':<36} verdict"]
    ceil = out["ceiling"].get("zadd_per_s")
    peer = out["peer"].get("members_per_s")
    beside = f"ceiling {ceil:,.0f}/s, peer {peer:,.0f}/s" if ceil and peer else "not measured"
    if "cost" in out:
        ratios = out["cost"]["ratios"]
        lines.append(
            f"{'1. Redis CPU/update <= 1.5x plain ZADD':<44} "
            f"{' / '.join(f'{r:.2f}x' for r in ratios):<38} "
            f"{'ZADD ' + ' / '.join(f'{z:.1f}' for z in out['cost']['zadd_us']) + ' us':<36} "
            f"{verdict(max(ratios) <= write_cost.TARGET)}"
        )
    big = players >= 10_000_000
    for name in ("write", "lean-write"):
        if name not in out:
            continue
        rate = out[name]["updates_per_s"]
        goal = 0.75 * peer if big and peer else 100_000
        what = f"2. batch updates/s >= {goal:,.0f} ({name})"
        lines.append(f"{what:<44} {rate:<38,.0f} {beside:<36} {verdict(rate >= goal)}")
    if "cluster" in out:
        lines.append(cluster_row(out))
    for name in ("reads", "reads-apart"):
        if name in out:
            lines.append(reads_row(name, out[name], out["args"]["write_rate"]))
    if "lean-single" in out:
        single = out["lean-single"]
        ok = single["posts_per_s"] >= 15_000 and single["p99_ms"] < 10 and not single["failed"]
        measured = f"{single['posts_per_s']:,.0f}/s, p99 {single['p99_ms']:.1f} ms"
        measured += f", {single['failed']} failed" if single["failed"] else ""
        lines.append(f"{'4. single posts >= 15,000/s, p99 < 10 ms':<44} {measured:<38} "
                     f"{'':<36} {verdict(ok)}")  # fmt: skip
    lines.append(f"Redis memory: {out['bytes_per_player']} B/player (at most 150 at 10M)")
    return lines


def cluster_row(out: dict[str, Any]) -> str:
    """A figure beside target 2, no target of its own: updates/s per master and per core
    of Redis, against one Redis's per core in lean-write."""
    masters = out["cluster"]["masters"]
    shown = " + ".join(f"{m['updates_per_s']:,}" for m in masters)
    per_core = " / ".join(f"{m['updates_per_core_s'] or 0:,}" for m in masters)
    alone = out.get("lean-write", {})
    busy = alone.get("cpu", {}).get("redis")
    beside = f"one Redis: {alone['updates_per_s'] / busy * 100:,.0f}/core" if busy else ""
    what = f"{shown}/s ({per_core}/core)"
    return f"{'2. the same on 2 masters (per master)':<44} {what:<38} {beside:<36} figure"


def reads_row(name: str, reads: dict[str, Any], asked: float) -> str:
    """Met only with every probe read answered and the writes held at the rate asked."""
    probes = [e for e in reads["endpoints"] if e["name"].startswith("probe: ")]
    worst = max((p["p99"] for p in probes), default=float("inf"))
    short = {"GET /top global": "top", "GET /players/{id}": "rank"}
    names = [short.get(p["name"][7:], "around") for p in probes]
    shown = ", ".join(f"{n} {p['p99']:.1f}" for n, p in zip(names, probes, strict=True))
    held = reads["updates_per_s"]
    failed = sum(p["failures"] for p in probes)
    shown += f", {failed} failed" if failed else ""
    ok = probes and worst < 10 and not failed and held >= 0.95 * asked
    return (
        f"{f'3. global reads p99 < 10 ms ({name}, ms)':<44} {shown:<38} "
        f"{f'writes held {held:,.0f} of {asked:,.0f}/s':<36} {verdict(bool(ok))}"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    runner.RESULTS.mkdir(exist_ok=True)
    out: dict[str, Any] = {"started": stamp, "machine": runner.machine(), "args": vars(args)}
    path = runner.RESULTS / f"targets-{stamp}.json"

    def save() -> None:
        """After every phase: a run cut short keeps what it measured."""
        path.write_text(json.dumps(out, indent=2, default=str) + "\n")

    phases = args.phases.split(",")
    if "cost" in phases:
        print(f"== cost: {args.players:,} players (loadtests.write_cost, its own Redis)")
        cost = asyncio.run(write_cost.measure(args.players, args.cost_updates, 2))
        out["cost"] = {**asdict(cost), "ratios": cost.ratios}
        save()
    ns = argparse.Namespace(
        redis_url=None, service_url=None, replica=False, read_url="", read_host="",
        read_workers=0, probe_kinds=3, workers=args.workers, seconds=args.seconds, batch=1000,
        write_rate=args.write_rate, read_rate=0, probe_rate=args.read_rate, locust_processes=2,
    )  # fmt: skip
    os.environ["LEADERBOARD_BENCH_BOARD"] = BOARD
    scenarios = {
        "write": runner.SCENARIOS["write"],
        "reads": runner.Scenario(
            "reads", ("GameServer",), 8, "global reads timed by the probe beside writes",
            servers=8, write_rate=args.write_rate, probed=True,
        ),
    }  # fmt: skip
    with runner.stack(ns) as pids:
        args.service_url = ns.service_url
        create_board(ns.service_url)
        rate = asyncio.run(runner.preload(ns.redis_url, 0, args.players, board=BOARD))
        print(f"== board {BOARD!r} (set mode): {args.players:,} players at {rate:,.0f}/s")
        for name in (p for p in ON_THE_STACK if p in phases):
            before = changes(ns.redis_url)
            print(f"\n== {name}")
            if name in scenarios:
                prefix = runner.RESULTS / f"targets-{stamp}-{name}"
                scraped = server_side.scrape(ns.service_url)
                result = runner.run_locust(scenarios[name], ns, args.players, prefix, pids)
                runner.print_result(result)
                out[name] = asdict(result)
                parts = server_side.decompose(scraped, server_side.scrape(ns.service_url))
                out[name]["server_side"] = {k: v and asdict(v) for k, v in parts.items()}
                print("  inside the server (its /metrics):")
                for part, spread in parts.items():
                    if spread:
                        print(f"    {part:<16} {spread}")
                updates = result.updates_per_s * args.seconds
            else:
                batch, connections = (1000, 4) if name == "lean-write" else (0, 64)
                figure, cpu = lean(args, pids, batch, connections)
                print(f"  {figure}\n  CPU (% of one core): {cpu}")
                out[name] = {**asdict(figure), "cpu": cpu}
                updates = figure.updates_per_s * args.seconds
            changed = (changes(ns.redis_url) - before) / max(updates, 1) - 1
            out[name]["score_changes_per_update"] = round(changed, 3)
            save()
            print(
                f"  score changes per update: {changed:.2f} (Redis's changes less each"
                " update's activity; an unchanged score makes none, events a few more)"
            )
        memory = redis.Redis.from_url(ns.redis_url).info("memory")
        out["bytes_per_player"] = round(int(memory["used_memory"]) / args.players, 1)
        out["ceiling"] = runner.ceiling(ns.redis_url, 1_000_000) if args.ceilings else {}
        out["peer"] = runner.peer(ns.redis_url, 5.0, args.players) if args.ceilings else {}
    if "reads-apart" in phases:
        print("\n== reads-apart")
        out["reads-apart"] = reads_apart(args, ns, scenarios["reads"], stamp)
        save()
    if "cluster" in phases:
        print("\n== cluster")
        out["cluster"] = cluster_phase(args)
        save()
    out["report"] = report(out, args.players)
    print("\n" + "\n".join(out["report"]))
    print(f"ceiling: {out['ceiling'].get('command', out['ceiling'].get('error'))}")
    print(f"peer: {runner.PEER} rank_members, 1,000 per call into {args.players:,} members")
    save()
    print(f"wrote {path}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.targets", description=__doc__)
    parser.add_argument("--players", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=60, help="each HTTP phase (60)")
    parser.add_argument("--workers", type=int, default=2, help="server processes (2)")
    parser.add_argument("--cost-updates", type=int, default=200_000)
    parser.add_argument("--write-rate", type=float, default=50_000, help="updates/s of `reads`")
    parser.add_argument("--read-rate", type=float, default=500, help="probe reads/s of `reads`")
    parser.add_argument("--phases", default=",".join(PHASES), help=",".join(PHASES))
    parser.add_argument("--no-ceilings", dest="ceilings", action="store_false",
                        help="skip redis-benchmark and the peer library")  # fmt: skip
    args = parser.parse_args()
    if set(args.phases.split(",")) - set(PHASES):
        parser.error(f"--phases: some of {','.join(PHASES)}")
    run(args)


if __name__ == "__main__":
    main()
