"""The one command of issue 6: stack, preload, locust scenarios, ceilings and the peer.

    python -m loadtests [--players 1000000] [--workers 2] [--seconds 30]
                        [--scenarios write,mixed,single,big] [--redis-url URL --service-url URL]
                        [--replica] [--read-workers N] [--read-rate R] [--probe-rate 50]

Figures only mean something next to what bounds them on the same box, so one run starts its
own redis-server and `leaderboard serve --workers N` (unless URLs are given), preloads the
board straight through the store (HTTP would make the preload as slow as the thing measured),
runs each scenario with locust as a subprocess, and measures in the same run the one-core
ZADD ceiling (redis-benchmark) and the peer library. Every table also says who used the two
cores (locust, the server processes, Redis), since locust runs on the same machine and is
often the first to run out. Figures go to loadtests/results/<timestamp>.json, locust's CSVs
(stats, and throughput/percentiles over time) beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import redis

from leaderboard.store import Store
from loadtests._support import busy_seconds, children, cpu_seconds, steal_seconds
from loadtests.bulk import bulk_load
from loadtests.probe import KINDS as PROBE_KINDS
from loadtests.quick import Server
from tests.redis_process import PRIMARY_ARGS, RedisProcess, replica_of, wait_replicated

HERE = Path(__file__).parent
RESULTS = HERE / "results"
BOARD = "default"
REGIONS = ("na", "eu", "apac")  # the `default` board the server creates, as locustfile.py
PEER = "leaderboard==3.7.3"
# The redis-py of its time: 3.x changed zadd's signature and the library's first call fails.
PEER_REDIS = "redis==2.10.6"
PEER_DIR = Path(sys.prefix) / "peer-agoragames-redis2"
# The probe starts once locust's users run (imports, bodies, spawning) and stops before.
PROBE_START, PROBE_MARGIN = 2.0, 3.0


@dataclass(frozen=True)
class Scenario:
    """One locust run: which user classes, how many, and what it answers."""

    name: str
    classes: tuple[str, ...]
    users: int
    what: str
    servers: int = 0  # GameServer users exactly (0: locust's weights decide)
    write_rate: float = 0.0  # updates/s the GameServer users aim at together (0: flat out)
    big: bool = False  # on the board grown to --players (the others use --base-players)
    probed: bool = False  # loadtests.probe reads beside it even with no GameClient users


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("write", ("GameServer",), 8, "maximum batch updates/s"),
        Scenario(
            "mixed", ("GameServer", "GameClient"), 24, "reads while writes run at a fixed rate",
            servers=8, write_rate=50_000,
        ),
        Scenario("single", ("SinglePoster",), 32, "single-score posts only, back to back"),
        Scenario(
            "big", ("GameServer", "GameClient"), 24, "the mixed run on the full-size board",
            servers=8, write_rate=50_000, big=True,
        ),
    )
}  # fmt: skip


def ids_by_region(first: int, players: int) -> list[tuple[str, range]]:
    """Players n in [first, players) go to region n mod R, as locustfile.player picks them."""
    count = len(REGIONS)
    return [(r, range(first + (k - first) % count, players, count)) for k, r in enumerate(REGIONS)]


async def preload(
    redis_url: str,
    first: int,
    players: int,
    inflight: int = 4,
    board: str = BOARD,
    cluster: bool = False,
) -> float:
    """Writes players [first, players) with the bulk loader (bulk.py); answers players/s."""
    store = Store.connect(redis_url, inflight * 2, 60.0, cluster=cluster)
    try:
        record = await store.load_board(board)
        if record is None:
            raise RuntimeError(f"board {board!r} does not exist")
        took = await bulk_load(store, record, ids_by_region(first, players), seed=7)
    finally:
        await store.close()
    return (players - first) / took


def tree(pid: int) -> list[int]:
    """A process and its descendants (server workers, locust --processes workers)."""
    found = [pid]
    for child in children(pid):
        found += tree(child)
    return found


class CpuSampler:
    """CPU seconds of locust, the server and Redis, sampled twice a second in a thread.

    Each group is a root pid whose process tree is re-read at every sample, so forked
    workers count. Locust spends its first second importing and encoding bodies, so CPU is
    taken over the window its stats history covers (users running), from the nearest samples.
    """

    def __init__(self, roots: dict[str, int | None]) -> None:
        self.roots = roots
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def read(self) -> dict[str, float]:
        now = {k: cpu_seconds(tree(pid)) for k, pid in self.roots.items() if pid is not None}
        now["machine"], now["steal"] = busy_seconds(), steal_seconds()
        return now

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.time(), self.read()))
            self.stop.wait(0.5)

    def busy(self, start: float, end: float) -> dict[str, float | None]:
        """% of one core per group between two unix times; `steal` is what the hypervisor
        gave to other machines, `other` the rest of the box."""
        if len(self.samples) < 2:
            return {}
        a = min(self.samples, key=lambda s: abs(s[0] - start))
        b = min(self.samples, key=lambda s: abs(s[0] - end))
        span = b[0] - a[0]
        if span <= 0:
            return {}
        out: dict[str, float | None] = {k: None for k in self.roots}
        for k in b[1]:
            out[k] = round(100 * (b[1][k] - a[1][k]) / span)
        known = sum(v for k, v in out.items() if k != "machine" and v is not None)
        out["other"] = max(0, (out.pop("machine") or 0) - known)
        return out


@dataclass
class Endpoint:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


@dataclass
class Result:
    """One scenario's figures, as printed and as written to the JSON."""

    scenario: str
    what: str
    users: dict[str, int]
    players: int
    seconds: float
    updates_per_s: float
    endpoints: list[Endpoint]
    cpu: dict[str, float | None]
    used_memory: int
    bytes_per_player: float
    locust_exit: int
    csv_prefix: str
    notes: list[str] = field(default_factory=list)


def read_stats(prefix: Path) -> tuple[list[Endpoint], float, float]:
    """Endpoints from <prefix>_stats.csv, and the first/last time users ran (history CSV)."""
    endpoints = []
    with open(f"{prefix}_stats.csv") as f:
        for row in csv.DictReader(f):
            endpoints.append(
                Endpoint(
                    row["Name"], int(row["Request Count"]), int(row["Failure Count"]),
                    round(float(row["Requests/s"]), 1), float(row["50%"]), float(row["95%"]),
                    float(row["99%"]),
                )
            )  # fmt: skip
    with open(f"{prefix}_stats_history.csv") as f:
        stamps = [
            int(row["Timestamp"])
            for row in csv.DictReader(f)
            if row["Name"] == "Aggregated" and int(row["User Count"]) > 0
        ]
    return endpoints, float(min(stamps, default=0)), float(max(stamps, default=0))


def updates_per_s(endpoints: Sequence[Endpoint], batch: int) -> float:
    """Accepted updates/s: batch posts/s x batch size + single posts/s (failures left out)."""
    per = {"POST /scores/batch": batch, "POST /scores": 1}
    total = 0.0
    for e in endpoints:
        if e.name in per and e.requests:
            total += e.rps * (e.requests - e.failures) / e.requests * per[e.name]
    return round(total)


def run_locust(
    s: Scenario, args: argparse.Namespace, players: int, prefix: Path, pids: dict[str, int | None]
) -> Result:
    """Runs one scenario headless and reads its CSVs back."""
    env = dict(
        os.environ,
        LEADERBOARD_BENCH_PLAYERS=str(players),
        LEADERBOARD_BENCH_BATCH=str(args.batch),
        LEADERBOARD_BENCH_SINGLE_WEIGHT="1",
        LEADERBOARD_BENCH_READ_HOST=args.read_host,
    )
    users = {c: 0 for c in s.classes}
    if s.servers:
        env["LEADERBOARD_BENCH_SERVERS"] = str(s.servers)
        users["GameServer"] = s.servers
        if s.users > s.servers:
            users["GameClient"] = s.users - s.servers
    else:
        users[s.classes[0]] = s.users
    if s.write_rate:
        rate = args.write_rate or s.write_rate
        env["LEADERBOARD_BENCH_BATCH_RATE"] = str(rate / args.batch / s.servers)
        if args.read_rate:
            clients = s.users - s.servers
            env["LEADERBOARD_BENCH_CLIENT_RATE"] = str(args.read_rate / clients)
    cmd = [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless"]
    cmd += ["--host", args.service_url, "-u", str(s.users), "-r", str(s.users)]
    cmd += ["-t", f"{args.seconds}s", "--csv", str(prefix), "--csv-full-history"]
    cmd += ["--only-summary", "--stop-timeout", "5"]
    if args.locust_processes:
        cmd += ["--processes", str(args.locust_processes)]
    cmd += list(s.classes)
    log = prefix.with_name(prefix.name + "_locust.log")
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        probe = start_probe(s, args, players)
        sampler = CpuSampler({**pids, "locust": proc.pid, "probe": probe and probe.pid})
        sampler.thread.start()
        proc.wait()
        probed = read_probe(probe)
        sampler.stop.set()
        sampler.thread.join()
    endpoints, start, end = read_stats(prefix)
    endpoints += probed
    info = redis.Redis.from_url(args.redis_url).info("memory")
    used = int(info["used_memory"])
    result = Result(
        s.name, s.what, users, players, args.seconds, updates_per_s(endpoints, args.batch),
        endpoints, sampler.busy(start, end), used, round(used / players, 1), proc.returncode,
        str(prefix.relative_to(HERE.parent)),
    )  # fmt: skip
    if proc.returncode not in (0, 1):  # 1: some requests failed, which the table shows
        result.notes.append(f"locust exited {proc.returncode}: see {log}")
    result.notes += limits(result.cpu)
    return result


def start_probe(s: Scenario, args: argparse.Namespace, players: int) -> subprocess.Popen | None:
    """loadtests.probe beside locust's readers, over the window their users run."""
    if not args.probe_rate or not (s.probed or "GameClient" in s.classes):
        return None
    cmd = [sys.executable, "-m", "loadtests.probe", "--url", args.read_host or args.service_url]
    cmd += ["--players", str(players), "--rate", str(args.probe_rate)]
    cmd += ["--kinds", str(getattr(args, "probe_kinds", len(PROBE_KINDS)))]
    cmd += ["--seconds", str(max(1, args.seconds - PROBE_MARGIN)), "--delay", str(PROBE_START)]
    return subprocess.Popen(cmd, cwd=HERE.parent, stdout=subprocess.PIPE, text=True)


def read_probe(probe: subprocess.Popen | None) -> list[Endpoint]:
    """The probe's figures as rows named `probe: <endpoint>` (none if it failed: its
    traceback is on stderr)."""
    if probe is None:
        return []
    out, _ = probe.communicate(timeout=60)
    if probe.returncode:
        print(f"loadtests.probe exited {probe.returncode}: no probe figures", file=sys.stderr)
        return []
    rows = []
    for kind, e in json.loads(out).items():
        failed = sum(e["failures"].values())
        rows.append(
            Endpoint(f"probe: {kind}", e["requests"] + failed, failed, e["rps"], e["p50"],
                     e["p95"], e["p99"])
        )  # fmt: skip
    return rows


def limits(cpu: dict[str, float | None]) -> list[str]:
    """What the CPU split says about the figure (% of one core; the box has os.cpu_count()).

    Locust, the server and Redis share the cores: when they fill the box, whoever takes
    the most besides the server is what a second machine would free; one Redis process can
    never pass 100 %; and anything else using the box makes the run worth repeating.
    """
    notes = []
    box = 100 * (os.cpu_count() or 1)
    used = {k: v or 0 for k, v in cpu.items()}
    if used.get("other", 0) > 20:
        notes.append(f"the box was shared (other {used['other']}%): repeat this run")
    if used.get("steal", 0) > 10:
        notes.append(f"the hypervisor took {used['steal']}% (steal): repeat this run")
    if sum(used.values()) >= 0.85 * box:
        notes.append(f"the {box}% box is full")
        if used.get("locust", 0) >= 0.8 * used.get("server", 0):
            notes.append("locust is a bottleneck: it burns about as much CPU as the server")
    if used.get("redis", 0) >= 90:
        notes.append("Redis is at its one core")
    return notes


def print_result(r: Result) -> None:
    users = ", ".join(f"{n} {c}" for c, n in r.users.items())
    print(f"\n== {r.scenario}: {r.what} ({users}; {r.players:,} players, {r.seconds:g} s)")
    head = f"  {'endpoint':<32} {'req/s':>9} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'fail':>6}"
    print(head)
    for e in r.endpoints:
        print(f"  {e.name:<32} {e.rps:>9,.1f} {e.p50:>7g} {e.p95:>7g} {e.p99:>7g} {e.failures:>6}")
    cpu = ", ".join(f"{k} {v}%" for k, v in r.cpu.items() if v is not None)
    print(f"  updates/s {r.updates_per_s:,.0f}; CPU (% of one core; 200 = both): {cpu}")
    print(f"  Redis used_memory {r.used_memory:,} B = {r.bytes_per_player} B/player")
    for note in r.notes:
        print(f"  note: {note}")


def ceiling(redis_url: str, requests: int) -> dict[str, Any]:
    """redis-benchmark pipelined ZADD on the same Redis: what one Redis core can do."""
    url = urlparse(redis_url)
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return {"ok": False, "error": "redis-benchmark is not on PATH"}
    cmd = [binary, "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 6379), "-P", "64"]
    cmd += ["-n", str(requests), "-r", "10000000", "-q"]
    cmd += ["zadd", "lb:bench", "__rand_int__", "member:__rand_int__"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    redis.Redis.from_url(redis_url).unlink("lb:bench")
    found = re.findall(r"([\d.]+) requests per second", out.replace("\r", "\n"))
    if not found:
        return {"ok": False, "error": out[-500:], "command": " ".join(cmd)}
    return {"ok": True, "zadd_per_s": float(found[-1]), "command": " ".join(cmd)}


def peer(redis_url: str, seconds: float, players: int = 0) -> dict[str, Any]:
    """The agoragames library in a subprocess, from its own directory (see peer.py); with
    ``players``, its pipelined rank_members from two processes at once into a board of
    that size (their rates summed)."""
    if not (PEER_DIR / "redis" / "__init__.py").exists():
        # Its own directory with the redis-py it was written for; not into site-packages,
        # where its `leaderboard` package would shadow the service's own.
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target"]
        cmd = [*pip, str(PEER_DIR), PEER, PEER_REDIS]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            return {"ok": False, "error": f"pip install {PEER}: {done.stderr[-500:]}"}
    env = dict(os.environ, PYTHONPATH=str(PEER_DIR))
    cmd = [sys.executable, str(HERE / "peer.py"), redis_url, str(seconds)]
    try:
        if not players:
            return peer_answer(subprocess.run(cmd, env=env, capture_output=True, text=True,
                                              timeout=seconds + 60))  # fmt: skip
        cmd.append(str(players))
        filled = peer_answer(subprocess.run([*cmd, "fill"], env=env, capture_output=True,
                                            text=True, timeout=60 + players / 10_000))  # fmt: skip
        if not filled.get("ok"):
            return filled
        runs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]  # fmt: skip
        answers = [peer_answer(run, seconds + 60) for run in runs]
        failed = [a for a in answers if not a.get("ok")]
        if failed:
            return failed[0]
        return {**answers[0], "members_per_s": sum(a["members_per_s"] for a in answers)}
    except subprocess.TimeoutExpired as exc:
        return {"library": PEER, "ok": False, "error": f"timed out: {exc}"}
    finally:
        redis.Redis.from_url(redis_url).unlink(
            "lb:peer-agoragames", "lb:peer-agoragames:member_data"
        )


def peer_answer(
    run: subprocess.CompletedProcess[str] | subprocess.Popen[str], timeout: float = 0
) -> dict[str, Any]:
    """peer.py's JSON line, or its error output."""
    if isinstance(run, subprocess.Popen):
        stdout, stderr = run.communicate(timeout=timeout)
    else:
        stdout, stderr = run.stdout, run.stderr
    try:
        return {"library": PEER, **json.loads(stdout.strip().splitlines()[-1])}
    except (IndexError, ValueError):
        return {"library": PEER, "ok": False, "error": stderr[-500:]}


def ratios(results: Sequence[Result], ceil: dict[str, Any], peer_: dict[str, Any]) -> list[str]:
    """Each scenario's updates/s as a share of the ZADD ceiling and a multiple of the peer."""
    lines = []
    for r in results:
        if not r.updates_per_s:
            continue
        parts = [f"{r.scenario}: {r.updates_per_s:,.0f} updates/s"]
        if ceil.get("ok"):
            parts.append(f"{100 * r.updates_per_s / ceil['zadd_per_s']:.0f}% of the ZADD ceiling")
        if peer_.get("ok"):
            parts.append(f"{r.updates_per_s / peer_['calls_per_s']:.1f}x the peer")
        lines.append(", ".join(parts))
    if ceil.get("ok"):
        lines.append(f"ceiling: {ceil['zadd_per_s']:,.0f} ZADD/s ({ceil['command']})")
    else:
        lines.append(f"ceiling not measured: {ceil.get('error')}")
    if peer_.get("ok"):
        lines.append(f"peer: {peer_['calls_per_s']:,.0f} rank_member calls/s ({PEER})")
    else:
        lines.append(f"peer {PEER} failed, no figure: {peer_.get('error')}")
    return lines


def redis_pid(redis_url: str) -> int | None:
    """The Redis process when it runs on this machine (INFO process_id), for its CPU."""
    if urlparse(redis_url).hostname not in ("127.0.0.1", "localhost"):
        return None
    return int(redis.Redis.from_url(redis_url).info("server")["process_id"])


def wait_ready(base: str, server: Server | None, timeout: float = 60.0) -> None:
    """Until /readyz answers 200 (the server checks Redis and creates `default` first)."""
    deadline = time.monotonic() + timeout
    while True:
        if server is not None and not server.alive():
            raise RuntimeError(f"the server exited at start:\n{server.tail()}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the service did not get ready")
        time.sleep(0.1)


@contextmanager
def stack(args: argparse.Namespace) -> Iterator[dict[str, int | None]]:
    """Our own Redis (and its replica) and server unless URLs were given; yields the root
    pids to meter.

    All are stopped (server by SIGTERM, Redis by PID) before their directory goes away.
    """
    with tempfile.TemporaryDirectory(prefix="lb-bench-") as tmp, ExitStack() as stop:
        if not args.redis_url:
            extra = PRIMARY_ARGS if args.replica else ()
            own = RedisProcess(Path(tmp) / "redis", extra_args=extra).start()
            stop.callback(own.stop)
            args.redis_url = own.url
        if args.replica:
            replica = replica_of(urlparse(args.redis_url).port or 6379, Path(tmp) / "replica")
            stop.callback(replica.stop)
            args.read_url = replica.url
        server = None
        if not args.service_url:
            log = Path(tmp) / "server.log"
            server = Server(args.redis_url, args.workers, log, read_url=args.read_url).start()
            stop.callback(server.stop)
            args.service_url = server.base
        wait_ready(args.service_url, server)
        assert server is None or server.process is not None
        pids = {"redis": redis_pid(args.redis_url), "server": server and server.process.pid}
        if args.read_workers:
            log = Path(tmp) / "reader.log"
            reader = Server(args.redis_url, args.read_workers, log, read_url=args.read_url)
            stop.callback(reader.start().stop)
            wait_ready(reader.base, reader)
            assert reader.process is not None
            args.read_host, pids["reader"] = reader.base, reader.process.pid
        if args.read_url:
            pids["replica"] = redis_pid(args.read_url)
        yield pids
        if server is not None and ("Traceback" in server.log.read_text(errors="replace")):
            print("the server logged errors; its log ends:\n" + server.tail(30))


def machine() -> dict[str, Any]:
    """What the figures depend on besides the code: cores, versions, and the commit."""

    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=HERE).stdout.strip()
        except OSError:
            return ""

    return {
        "cpus": os.cpu_count(), "python": sys.version.split()[0], "redis_py": redis.__version__,
        "redis_server": out(["redis-server", "--version"]),
        "commit": out(["git", "rev-parse", "--short", "HEAD"]),
        "dirty": bool(out(["git", "status", "--porcelain", "--untracked-files=no"])),
    }  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    results: list[Result] = []
    loads: list[dict[str, Any]] = []
    with stack(args) as pids:
        print(f"service {args.service_url} ({args.workers} worker(s)), redis {args.redis_url}")
        if args.read_url:
            print(f"reads from the replica {args.read_url} (LEADERBOARD_REDIS_READ_URL)")
        if args.read_host:
            print(f"GameClient reads go to {args.read_host} ({args.read_workers} worker(s))")
        loaded = 0
        for name in names:
            s = SCENARIOS[name]
            want = args.players if s.big else min(args.base_players, args.players)
            if want > loaded:
                rate = asyncio.run(preload(args.redis_url, loaded, want))
                print(f"preloaded players {loaded:,}..{want - 1:,} (loadtests.bulk): "
                      f"{rate:,.0f} players/s")  # fmt: skip
                loads.append({"first": loaded, "players": want, "updates_per_s": round(rate)})
                loaded = want
                if args.read_url:
                    wait_replicated(args.redis_url, args.read_url)
            prefix = RESULTS / f"{stamp}-{name}"
            result = run_locust(s, args, loaded, prefix, pids)
            print_result(result)
            results.append(result)
        ceil = ceiling(args.redis_url, args.benchmark_requests) if args.ceilings else {}
        peer_ = peer(args.redis_url, args.peer_seconds) if args.ceilings else {}
    print()
    lines = ratios(results, ceil, peer_) if args.ceilings else []
    for line in lines:
        print(line)
    report = {
        "started": stamp, "machine": machine(), "workers": args.workers,
        "read_url": args.read_url, "read_workers": args.read_workers,
        "seconds": args.seconds, "batch": args.batch, "locust_processes": args.locust_processes,
        "preload": loads, "scenarios": [asdict(r) for r in results],
        "ceiling": ceil, "peer": peer_, "ratios": lines,
    }  # fmt: skip
    out = RESULTS / f"{stamp}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(HERE.parent)} (locust CSVs: {stamp}-<scenario>_*.csv)")
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests", description=__doc__.split("\n")[0])
    parser.add_argument("--players", type=int, default=1_000_000, help="board size of `big`")
    parser.add_argument(
        "--base-players", type=int, default=100_000,
        help="board size of write, mixed and single (100000; at most --players)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="server processes (2)")
    parser.add_argument("--seconds", type=int, default=30, help="length of each scenario (30)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="write,mixed,single,big")
    parser.add_argument("--batch", type=int, default=1000, help="updates per batch post (1000)")
    parser.add_argument(
        "--write-rate", type=float, default=0, help="updates/s of mixed and big (50,000)"
    )
    parser.add_argument(
        "--read-rate", type=float, default=0,
        help="requests/s of the GameClient users of mixed and big together (default: as "
        "fast as answers come back)",
    )  # fmt: skip
    parser.add_argument(
        "--probe-rate", type=float, default=50,
        help="requests/s of loadtests.probe, a lean client timing the three global reads "
        "beside the GameClient users (50; 0: no probe)",
    )  # fmt: skip
    parser.add_argument("--redis-url", help="use this Redis instead of starting one")
    parser.add_argument("--service-url", help="use this service (needs --redis-url)")
    parser.add_argument(
        "--replica", action="store_true",
        help="also start a replica of the bench's Redis and serve the reads from it",
    )  # fmt: skip
    parser.add_argument(
        "--read-workers", type=int, default=0,
        help="serve the GameClient reads from a second server of N workers that takes no "
        "writes, as a load balancer routing GETs would (0: the one server takes all)",
    )  # fmt: skip
    parser.add_argument(
        "--locust-processes", type=int, default=2, help="locust --processes (2; 0: not passed)"
    )
    parser.add_argument("--no-ceilings", dest="ceilings", action="store_false",
                        help="skip redis-benchmark and the peer library")  # fmt: skip
    parser.add_argument("--benchmark-requests", type=int, default=1_000_000)
    parser.add_argument("--peer-seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s) {','.join(sorted(unknown))}")
    if args.service_url and not args.redis_url:
        parser.error("--service-url needs --redis-url (the preload writes through the store)")
    if args.replica and args.service_url:
        parser.error("--replica starts the server that reads from it: leave out --service-url")
    if args.read_workers and args.service_url:
        parser.error("--read-workers starts a server of its own: leave out --service-url")
    args.read_url, args.read_host = "", ""
    run(args)
