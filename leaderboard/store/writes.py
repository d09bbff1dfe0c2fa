"""Score writes, where a player may move between regions that live in different slots.

A write script touches one region only, in its current period. It applies a chunk in one
step when every player of the chunk is already in that region (the fast path, nearly every
write). Otherwise nothing is applied and the chunk takes the locked path, all of it in the
period the fast path met (a script that finds that period ended refuses it, PERIOD):

1. lock the chunk's players (per-board locks, all or none, so no two movers meet);
2. pull them out of every other region (pull.lua): each leaves its zset and leaves a
   record with the move's token, which global reads count in its place;
3. write the chunk with the scores they carried (write.lua, locked mode), marking each
   arrival with the token: global reads then ignore the record in the old region;
4. drop the records (old region first), unlock, and carry the regions' new top N into
   the board's global mirror (sync.lua).

At every point a global read counts the player exactly once: it counts an out record as a
player of its destination unless the destination holds an in record with the same token
(then the player is in that zset). Before step 2 the player is in its old zset, between 2
and 3 only the record counts, from 3 on the new zset counts and the record is ignored,
after 4 nothing is left. Each step is one script in one slot and bumps its region's move
count (see moved in _lib.lua), which global reads check. A crash between steps leaves a
record (and a lock that expires) that the next locked write of that player takes over.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from leaderboard.domain import Mode, Once, Shown, crossing, incr_overflow
from leaderboard.errors import PeriodEnded, RedisUnavailable, ScoreOutOfRange
from leaderboard.store.locks import PlayerLocks
from leaderboard.store.mirror import Mirror, Snapshots
from leaderboard.store.reads import scores_of
from leaderboard.store.records import BoardRecord
from leaderboard.store.replies import Pulled, Written
from leaderboard.store.runner import FAILURES, Call, Runner, unavailable
from leaderboard.store.shown import shown_arg

log = logging.getLogger(__name__)
Item = tuple[str, int, Shown | None]
Chunk = tuple[str, Sequence[Item]]
LOCKED_ATTEMPTS = 3


class Hit(NamedTuple):
    """A player pull.lua found in a region: in its zset (origin "") or as the record of an
    earlier move (origin: that move's token and destination, tab-separated)."""

    region: str
    score: int
    name: str
    origin: str


@dataclass
class Pass:
    """One write call over some chunks: what they are, and what each answers."""

    record: BoardRecord
    chunks: Sequence[Chunk]
    now: int
    ranks: bool
    snapshots: Snapshots
    once: Once | None = None  # marks, one per chunk
    results: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.results = self.results or [None] * len(self.chunks)


@dataclass
class Move:
    """One locked pass: its token, what each player carries, where players were pulled from."""

    token: str
    period: int
    carried: dict[str, tuple[int | None, str]] = field(default_factory=dict)
    sources: dict[str, set[str]] = field(default_factory=dict)  # region -> players
    locked: set[str] = field(default_factory=set)  # players whose lock this pass holds


class Writes:
    def __init__(self, runner: Runner, locks: PlayerLocks, mirror: Mirror, events_cap: int) -> None:
        self.runner = runner
        self.locks = locks
        self.mirror = mirror
        self.events_cap = events_cap
        self._running: set[asyncio.Future[list[Any]]] = set()

    async def write(self, whole: Pass) -> list[Any]:
        """Runs to its end even when the request that asked gives up: a move stopped
        half-way would leave its players pulled until their next write."""
        task = asyncio.ensure_future(self._write_all(whole))
        self._running.add(task)
        task.add_done_callback(self._forget)
        return await asyncio.shield(task)

    def _forget(self, task: asyncio.Future[list[Any]]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("a write whose request had gone failed: %s", task.exception())

    async def _write_all(self, whole: Pass) -> list[Any]:
        placed = ((pid, region) for region, items in whole.chunks for pid, _, _ in items)
        if crossing(placed):  # one chunk at a time, none after a refused one (order)
            results: list[Any] = []
            for i, chunk in enumerate(whole.chunks):
                if results and isinstance(results[-1], Exception):
                    results.append(results[-1])
                else:
                    once = whole.once and whole.once.marking([whole.once.marks[i]])
                    one = Pass(whole.record, [chunk], whole.now, whole.ranks, whole.snapshots, once)
                    results += await self._write(one)
        else:
            results = await self._write(whole)
        await self.mirror.sync(whole.record, whole.snapshots, whole.now)
        return results

    async def _write(self, p: Pass) -> list[Any]:
        free = len(p.record.config.regions) == 1
        batch = secrets.token_hex(8)
        calls = [self._call(p, i, free, batch, None) for i in range(len(p.chunks))]
        if len(p.chunks) > 1:
            await asyncio.sleep(0)  # reads first: packing the calls takes as long again
        absent, periods = await self._apply(p, list(range(len(p.chunks))), calls)
        period = max(periods, default=0)
        for _ in range(LOCKED_ATTEMPTS):
            if not absent:
                break
            await self._locked(p, absent, period)
            # Regions disagree on the period only across a boundary, where a region another
            # write entered first is ahead: the move runs again in its period.
            ended = {i: p.results[i] for i in absent if isinstance(p.results[i], PeriodEnded)}
            absent = {i: absent[i] for i in ended}
            period = max((e.period for e in ended.values()), default=period)
            for i in ended:
                p.results[i] = None
        for i in absent:
            p.results[i] = RedisUnavailable("the period kept changing during the write; retry")
        return p.results

    async def _apply(
        self, p: Pass, todo: list[int], calls: list[Call]
    ) -> tuple[dict[int, list[str]], set[int]]:
        """Runs write calls for chunks ``todo``; answers the absent players of those held
        back, and the periods they met."""
        absent: dict[int, list[str]] = {}
        periods: set[int] = set()
        sizes = [len(p.chunks[i][1]) for i in todo]
        for i, reply in zip(todo, await self.runner.eval_in_trips(calls, sizes), strict=True):
            if isinstance(reply, Exception):
                p.results[i] = reply
                continue
            written = Written.decode(reply, p.record.config.sign)
            if written.absent:
                absent[i] = written.absent
                periods.add(written.period)
            else:
                p.snapshots.add(p.chunks[i][0], written.snapshot)
                p.results[i] = written.ranks if p.ranks else len(p.chunks[i][1])
        return absent, periods

    def _call(self, p: Pass, i: int, free: bool, token: str, move: Move | None) -> Call:
        """write.lua's call for chunk ``i``: the fast path, or a locked ``move``'s, with
        the scores its players carried."""
        record, (region, items) = p.record, p.chunks[i]
        ks = [record.meta(region)]
        carried = move.carried if move else {}
        mine = {pid for pid, _, _ in items if pid in carried}
        args: list[Any] = [record.version, p.now, int(p.ranks), self.events_cap, int(free)]
        if p.once is None:
            args += [token, "", 0]
        else:
            ks.append(record.once(region, p.once.key))
            args += [token, p.once.mark(i), p.once.ttl_ms]
        args += [move.period if move else "", len(mine)]
        for pid in mine:
            score, name = carried[pid]
            args += (pid, "" if score is None else score, name)
        sign, bucket = record.config.sign, record.bucket
        for pid, score, shown in items:
            args += (pid, sign * score, shown_arg(shown), bucket(pid))
        return ("write", ks, args)

    async def _locked(self, p: Pass, absent: dict[int, list[str]], period: int) -> None:
        """Steps 1 to 4 of the module's docstring for the chunks that found players absent.

        Whatever fails once players are pulled becomes the result of the chunks concerned,
        and the players whose chunk did not land are put back.
        """
        move = Move(secrets.token_hex(8), period)
        p = Pass(p.record.at(period), p.chunks, p.now, p.ranks, p.snapshots, p.once, p.results)
        handled = sorted(absent)
        board = p.record.config.board
        players = sorted({pid for i in handled for pid, _, _ in p.chunks[i][1]})
        try:
            try:
                await self._move(p, absent, move)
            except Exception as exc:  # answered as the chunks' result, never dropped
                for i in handled:
                    if p.results[i] is None:
                        p.results[i] = unavailable(exc)
            landed = {
                pid
                for i in handled
                if not isinstance(p.results[i], Exception)
                for pid, _, _ in p.chunks[i][1]
            }
            try:
                await self._settle(p, handled, move, landed)
            except FAILURES as exc:
                log.error("board %r: move %s left records behind: %s", board, move.token, exc)
        finally:
            try:
                await self.locks.release(p.record, move.token, players)
            except FAILURES as exc:
                log.warning("board %r: player locks left to expire: %s", board, exc)

    async def _move(self, p: Pass, absent: dict[int, list[str]], move: Move) -> None:
        """Steps 1 to 3, again for chunks that met a player moving meanwhile."""
        absent = await self._in_range(p, absent, move)
        for _ in range(LOCKED_ATTEMPTS):
            if not absent:
                return
            # Every player of these chunks: one that was here may leave meanwhile.
            targets = {pid: p.chunks[i][0] for i in absent for pid, _, _ in p.chunks[i][1]}
            new = {pid: region for pid, region in targets.items() if pid not in move.carried}
            failure = await self._take(p, move, new)
            if failure is None and not await self.locks.take(
                p.record, move.token, list(move.carried), wait=False
            ):
                failure = RedisUnavailable("a player lock expired during the write; retry")
            if failure is not None:
                raise failure
            todo = sorted(absent)
            calls = [self._call(p, i, False, move.token, move) for i in todo]
            absent, _ = await self._apply(p, todo, calls)
        for i in absent:
            p.results[i] = RedisUnavailable("players kept moving during the write; retry")

    async def _in_range(
        self, p: Pass, absent: dict[int, list[str]], move: Move
    ) -> dict[int, list[str]]:
        """On an incr board, refuses the chunks that would leave the exact range before any
        player is pulled: a pull writes events, and a refused chunk must change nothing.
        Under the players' locks, so no move changes where they are meanwhile."""
        record, chunks = p.record, p.chunks
        if record.config.mode is not Mode.INCR:
            return absent
        pids = sorted({pid for i in absent for pid, _, _ in chunks[i][1]})
        await self.locks.take(record, move.token, pids)
        move.locked.update(pids)
        running = await scores_of(self.runner.client, record, pids)
        kept = {}
        for i, players in sorted(absent.items()):
            deltas = [(pid, score) for pid, score, _ in chunks[i][1]]
            bad = incr_overflow(deltas, running)
            if bad is None:
                kept[i] = players
                for pid, delta in deltas:
                    running[pid] = running.get(pid, 0) + delta
            else:
                p.results[i] = ScoreOutOfRange(bad)
        return kept

    async def _take(self, p: Pass, move: Move, targets: dict[str, str]) -> Exception | None:
        """Steps 1 and 2: locks these players and pulls them out of every other region;
        answers a failure of a pull. A player found in a zset wins over a record, and a
        record whose move did arrive (its destination holds the same token) is stale:
        dropped, not carried."""
        record = p.record
        await self.locks.take(record, move.token, [p for p in targets if p not in move.locked])
        move.locked.update(targets)
        for pid in targets:
            move.carried[pid] = (None, "")
        calls, regions = [], []
        for region in record.config.regions:
            for dst in sorted(set(targets.values()) - {region}):
                pids = [pid for pid, r in targets.items() if r == dst]
                ks = [record.meta(region), record.zset(region), record.outs(region)]
                args = [record.version, p.now, self.events_cap, move.token, dst, move.period]
                args += pids
                calls.append(("pull", ks, args))
                regions.append(region)
        failure = None
        hits: dict[str, list[Hit]] = {}
        for region, reply in zip(regions, await self.runner.eval(calls), strict=True):
            if isinstance(reply, Exception):
                failure = reply
                continue
            pulled = Pulled.decode(reply)
            p.snapshots.add(region, pulled.snapshot)
            for pid, score, name, origin in pulled.found:
                hits.setdefault(pid, []).append(Hit(region, score, name, origin))
                move.sources.setdefault(region, set()).add(pid)
        arrived = await self._arrived(record, hits)
        stale: dict[str, list[str]] = {}
        for pid, found_at in hits.items():
            live = [h for h in found_at if not h.origin] + [
                h for h in found_at if h.origin and (pid, h.origin) not in arrived
            ]
            if live:
                move.carried[pid] = (live[0].score, live[0].name)
            for hit in found_at:
                if not live or hit.region != live[0].region:
                    stale.setdefault(hit.region, []).append(pid)
                    move.sources[hit.region].discard(pid)
        calls = [
            ("settle", [record.outs(r), record.meta(r)], [move.token, *pids])
            for r, pids in stale.items()
        ]
        for reply in await self.runner.eval(calls):
            failure = failure or (reply if isinstance(reply, Exception) else None)
        return failure

    async def _arrived(
        self, record: BoardRecord, hits: dict[str, list[Hit]]
    ) -> set[tuple[str, str]]:
        """The (player, record origin) pairs whose move reached its destination."""
        asked = [
            (pid, hit.origin)
            for pid, found_at in hits.items()
            for hit in found_at
            if hit.origin and hit.origin.split("\t")[1] in record.config.regions
        ]
        if not asked:
            return set()
        pipe = self.runner.client.pipeline(transaction=False)
        for pid, origin in asked:
            pipe.hget(record.ins(origin.split("\t")[1]), pid)
        tokens = await pipe.execute()
        return {
            (pid, origin)
            for (pid, origin), token in zip(asked, tokens, strict=True)
            if token == origin.split("\t")[0]
        }

    async def _settle(self, p: Pass, handled: list[int], move: Move, landed: set[str]) -> None:
        """Drops the records of completed moves (old region first, then the new one's, once
        the first is gone), and puts back players whose write failed."""
        record = p.record
        calls: list[Call] = []
        regions: list[str] = []
        for region, pids in move.sources.items():
            done, failed = sorted(pids & landed), sorted(pids - landed)
            if done:
                ks = [record.outs(region), record.meta(region)]
                calls.append(("settle", ks, [move.token, *done]))
                regions.append(region)
            if failed:
                ks = [record.meta(region), record.zset(region), record.outs(region)]
                args = [p.now, self.events_cap, move.token, move.period, *failed]
                calls.append(("restore", ks, args))
                regions.append(region)
        settled: set[str] = set()
        replies = await self.runner.eval(calls)
        for region, (name, _, args), reply in zip(regions, calls, replies, strict=True):
            if isinstance(reply, Exception):
                board = record.config.board
                log.error(
                    "board %r: %s of %s in %r failed: %s", board, name, move.token, region, reply
                )
                continue
            if name == "settle":
                settled.update(args[1:])
            else:
                p.snapshots.add(region, reply[0])
        arrived: dict[str, set[str]] = {}
        for i in handled:
            region, items = p.chunks[i]
            if not isinstance(p.results[i], Exception):
                arrived.setdefault(region, set()).update(q for q, _, _ in items if q in settled)
        calls = [
            ("settle", [record.ins(region), record.meta(region)], [move.token, *sorted(pids)])
            for region, pids in arrived.items()
            if pids
        ]
        await self.runner.eval(calls)
