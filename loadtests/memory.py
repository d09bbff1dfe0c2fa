"""Redis memory per player of one board, split by structure, and the store's bulk load rate.

    python -m loadtests.memory --players 1000000 [--regions na,eu,apac] [--names] [--metadata]

Sizing Redis for N players needs bytes per player, and knowing which structure holds
them (the region zsets, or the activity/name hash buckets the cleanup walks) tells
what a change of bucket count or encoding would save. The players are written through
``Store.write`` exactly as the service writes batches (chunks of 100 updates of one
region, many chunks pipelined per call), so the load rate is the store's ceiling for
new players on one Redis, without HTTP in the way.

It starts its own redis-server on a free port and stops it by PID at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from leaderboard.domain import BoardConfig, Shown
from leaderboard.settings import Settings
from leaderboard.store import BoardRecord, Store, keys
from loadtests._support import cpu_seconds
from tests.redis_process import RedisProcess

BOARD = "mem"
CHUNK = 100  # updates per script call (the service default is LEADERBOARD_BATCH_CHUNK=50)
CHUNKS_PER_CALL = 50  # script calls pipelined in one store.write round trip
FIRST_ID = 1_000_000  # ids player-1000000, player-1000001, ...: 7 digits up to 9M players
Chunk = tuple[str, list[tuple[str, int, Shown | None]]]  # region, (player, score, shown)...


@dataclass(frozen=True)
class Plan:
    """Which players go where: block k of CHUNK consecutive ids goes to region k mod R."""

    players: int
    regions: tuple[str, ...]
    names: bool
    seed: int
    metadata: str | None = None  # every player's, compact JSON
    offset: int = 0  # ids start at FIRST_ID + offset

    @property
    def blocks(self) -> int:
        return -(-self.players // CHUNK)

    def chunk(self, block: int, rng: random.Random) -> Chunk:
        region = self.regions[block % len(self.regions)]
        start = block * CHUNK
        items = []
        first = FIRST_ID + self.offset
        for i in range(first + start, first + min(start + CHUNK, self.players)):
            shown = None
            if self.names or self.metadata:
                shown = Shown(f"Player {i}" if self.names else None, self.metadata)
            items.append((f"player-{i}", rng.randrange(1, 1_000_000_000), shown))
        return region, items


async def load(
    store: Store, record: BoardRecord, plan: Plan, inflight: int, now_ms: int | None = None
) -> float:
    """Writes every player once, active at ``now_ms`` (default now); answers the seconds.

    ``inflight`` writers share one block counter, so that while Redis runs one
    pipeline the client encodes the next (the client is Python, Redis one thread).
    """
    next_block = 0
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms

    async def writer(seed: int) -> None:
        nonlocal next_block
        rng = random.Random(seed)
        while next_block < plan.blocks:
            first, next_block = next_block, min(next_block + CHUNKS_PER_CALL, plan.blocks)
            chunks = [plan.chunk(b, rng) for b in range(first, next_block)]
            for result in await store.write(record, chunks, now_ms, False):
                if isinstance(result, Exception):
                    raise result

    started = time.perf_counter()
    await asyncio.gather(*(writer(plan.seed + n) for n in range(inflight)))
    return time.perf_counter() - started


async def memory_info(store: Store) -> dict[str, str]:
    return {k: str(v) for k, v in (await store.redis.info("memory")).items()}


async def usage(store: Store, names: Sequence[str], exact: bool = False) -> list[int]:
    """MEMORY USAGE of each key (0 when absent); ``exact`` walks every element."""
    pipe = store.redis.pipeline(transaction=False)
    for name in names:
        if exact:
            pipe.execute_command("MEMORY", "USAGE", name, "SAMPLES", "0")
        else:
            pipe.execute_command("MEMORY", "USAGE", name)
    return [int(n or 0) for n in await pipe.execute()]


async def bucket_estimate(
    store: Store, record: BoardRecord, kind: str, sample: int, rng: random.Random
) -> tuple[int, int, list[str]]:
    """Extrapolated bytes and key count of one kind of bucket hash (``a`` or ``n``).

    A sample of bucket numbers per region is measured and scaled up to the board's
    bucket count; answers (bytes, keys, a few sampled key names).
    """
    board, buckets = record.config.board, record.buckets
    total, count, shown = 0.0, 0.0, []
    for region in record.config.regions:
        base = keys.region_base(board, record.tag(region))
        picked = [f"{base}{kind}:{n}" for n in rng.sample(range(buckets), min(sample, buckets))]
        sizes = await usage(store, picked)
        scale = buckets / len(picked)
        total += sum(sizes) * scale
        count += sum(1 for s in sizes if s) * scale
        shown += [k for k, s in zip(picked, sizes, strict=True) if s][:2]
    return round(total), round(count), shown


async def report_split(store: Store, record: BoardRecord, grown: int, sample: int) -> None:
    """Where the growth went: zsets (exact), buckets (sampled), the rest."""
    board = record.config.board
    rng = random.Random(1)
    zkeys = record.zsets()
    pipe = store.redis.pipeline(transaction=False)
    for z in zkeys:
        pipe.zcard(z)
    players = sum(await pipe.execute())
    zsets = sum(await usage(store, zkeys, exact=True))
    activity, activity_keys, shown = await bucket_estimate(store, record, "a", sample, rng)
    names, names_keys, _ = await bucket_estimate(store, record, "n", sample, rng)
    # The board's own keys (mirror, top-N copies, locks...) and each region's fixed ones but
    # the zset: region_keys with no buckets is exactly those.
    small = [keys.config(board), *keys.board_keys(board, list(record.config.regions))]
    for region in record.config.regions:
        small += keys.region_keys(board, region, 0)[1:]
    other = sum(await usage(store, small, exact=True))
    rest = grown - zsets - activity - names - other
    rows = [
        (f"region zsets ({len(zkeys)}, exact)", zsets, len(zkeys)),
        (f"activity buckets (sampled {sample}/region)", activity, activity_keys),
        (f"name buckets (sampled {sample}/region)", names, names_keys),
        ("mirror, top copies, streams, metas (exact)", other, len(small)),
        ("unattributed (keyspace table, allocator)", rest, 0),
    ]
    print(f"\nsplit of the growth over {players:,} players (MEMORY USAGE):")
    print(f"  {'structure':<44} {'bytes':>13} {'B/player':>9} {'share':>6} {'keys':>8}")
    for label, size, count in rows:
        share = 100 * size / grown if grown else 0.0
        print(f"  {label:<44} {size:>13,} {size / players:>9.1f} {share:>5.1f}% {count or '':>8}")

    encodings = [("zset", zkeys[0])] + [("bucket", k) for k in shown[:4]]
    pipe = store.redis.pipeline(transaction=False)
    for _, k in encodings:
        pipe.object("encoding", k)
    for _, k in encodings:
        pipe.execute_command("MEMORY", "USAGE", k)
    for _, k in encodings[1:]:
        pipe.hlen(k)
    replies = await pipe.execute()
    n = len(encodings)
    enc, sizes, lens = replies[:n], replies[n : 2 * n], [None, *replies[2 * n :]]
    print("\nOBJECT ENCODING:")
    for (what, k), e, size, length in zip(encodings, enc, sizes, lens, strict=True):
        extra = f", {length} fields" if length is not None else ""
        print(f"  {what:<7} {k:<28} {e:<10} {int(size):>10,} bytes{extra}")
    limits = await store.redis.config_get("hash-max-*")
    print("  limits: " + ", ".join(f"{k}={v}" for k, v in sorted(limits.items())))


async def run(args: argparse.Namespace) -> None:
    regions = tuple(r.strip() for r in args.regions.split(",") if r.strip())
    buckets = Settings().activity_buckets
    with tempfile.TemporaryDirectory(prefix="lb-memory-") as tmp:
        server = RedisProcess(Path(tmp), args.redis_server).start()
        try:
            store = Store.connect(server.url, 8, 60.0)
            info = await store.redis.info("server")
            print(f"redis-server {info['redis_version']} ({server.binary}), pid {server.pid}")
            await store.put_board(BoardConfig(board=BOARD, regions=regions), None, buckets)
            record = await store.load_board(BOARD)
            assert record is not None
            before = await memory_info(store)  # after the board and its scripts exist
            plan = Plan(args.players, regions, args.names, args.seed, metadata=args.metadata)
            print(
                f"loading {args.players:,} players into {len(regions)} region(s) "
                f"{','.join(regions)}, names {'on' if args.names else 'off'}, "
                f"metadata {args.metadata or 'off'}, "
                f"{buckets:,} activity buckets per region, top_events "
                f"{record.config.top_events}, {CHUNK} updates/chunk, "
                f"{CHUNKS_PER_CALL} chunks/call, {args.inflight} call(s) in flight"
            )
            cpu = time.process_time(), cpu_seconds([server.pid])
            took = await load(store, record, plan, args.inflight)
            client_cpu = time.process_time() - cpu[0]
            redis_cpu = cpu_seconds([server.pid]) - cpu[1]
            after = await memory_info(store)
            grown = int(after["used_memory"]) - int(before["used_memory"])
            print(
                f"load: {args.players / took:,.0f} updates/s ({took:.1f} s; CPU busy: "
                f"client {100 * client_cpu / took:.0f}%, redis {100 * redis_cpu / took:.0f}%)"
            )
            print(f"\nINFO memory ({after['mem_allocator']}):")
            shown = ("used_memory", "used_memory_rss", "used_memory_dataset")
            for field in (*shown, "used_memory_overhead", "mem_clients_normal"):
                b, a = int(before[field]), int(after[field])
                print(f"  {field:<22} before {b:>13,}  after {a:>13,}  grew {a - b:>13,}")
            print(f"  mem_fragmentation_ratio after: {after['mem_fragmentation_ratio']}")
            print(f"bytes per player (used_memory growth / players): {grown / args.players:.1f}")
            await report_split(store, record, grown, args.sample)
            await store.close()
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Redis memory per player and bulk load rate of one board."
    )
    parser.add_argument("--players", type=int, default=1_000_000)
    parser.add_argument("--regions", default="na,eu,apac", help="comma-separated (na,eu,apac)")
    parser.add_argument("--names", action="store_true", help="give every player a display name")
    parser.add_argument(
        "--metadata",
        nargs="?",
        const='{"car":"Mk II","country":"SE","skin":3}',
        help="give every player this metadata (compact JSON; default: a 39-byte object)",
    )
    parser.add_argument("--inflight", type=int, default=4, help="store.write calls at once (4)")
    parser.add_argument("--sample", type=int, default=512, help="buckets measured per region")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--redis-server", metavar="PATH", help="binary to measure (default: redis-server on PATH)"
    )
    args = parser.parse_args()
    if not 1 <= args.players <= 9_000_000:
        parser.error("--players must be within 1..9000000 (ids have 7 digits)")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
