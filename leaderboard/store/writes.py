"""Score writes, where a player may move between regions that live in different slots.

A write script touches one region only. It applies a chunk in one step when every
player of the chunk is already in that region (the fast path, nearly every write).
Otherwise nothing is applied and the chunk takes the locked path:

1. lock the chunk's players (per-board locks, all or none, so no two movers meet);
2. pull them out of every other region (pull.lua): each leaves its zset and leaves a
   record with the move's token, which global reads count in its place;
3. write the chunk with the scores they carried (write.lua, locked mode), marking each
   arrival with the token: global reads then ignore the record in the old region;
4. drop the records (old region first), unlock, and carry the regions' new top N into
   the board's global mirror (sync.lua).

At every point a global read counts the player exactly once, and a crash between steps
leaves a record that the next locked write of that player takes over.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leaderboard.errors import RedisUnavailable
from leaderboard.store import keys

if TYPE_CHECKING:
    from leaderboard.store.redis_store import BoardRecord, Store

log = logging.getLogger(__name__)
Item = tuple[str, int, str | None]
Chunk = tuple[str, Sequence[Item]]
LOCK_TTL_MS = 10_000
LOCKED_ATTEMPTS = 3


@dataclass
class Snapshots:
    """The newest top-N snapshot each region answered, to hand to sync.lua once."""

    newest: dict[str, tuple[int, list[str]]] = field(default_factory=dict)

    def add(self, region: str, snapshot: list[Any]) -> None:
        if snapshot:
            seq = int(snapshot[0])
            if seq > self.newest.get(region, (0, []))[0]:
                self.newest[region] = (seq, snapshot[1])


def _crossing(chunks: Sequence[Chunk]) -> bool:
    """Whether a player has chunks in two regions: then they run one after the other."""
    home: dict[str, str] = {}
    return any(
        home.setdefault(pid, region) != region for region, items in chunks for pid, _, _ in items
    )


class Writes:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def write(
        self, record: BoardRecord, chunks: Sequence[Chunk], now: int, ranks: bool
    ) -> list[Any]:
        snapshots = Snapshots()
        if _crossing(chunks):
            results = []
            for chunk in chunks:
                results += await self._write(record, [chunk], now, ranks, snapshots)
        else:
            results = await self._write(record, chunks, now, ranks, snapshots)
        await self.sync(record, snapshots, now)
        return results

    async def _write(
        self,
        record: BoardRecord,
        chunks: Sequence[Chunk],
        now: int,
        ranks: bool,
        snapshots: Snapshots,
    ) -> list[Any]:
        free = len(record.config.regions) == 1
        batch = secrets.token_hex(8)
        calls = [self._call(record, chunk, now, ranks, free, batch, {}) for chunk in chunks]
        results: list[Any] = [None] * len(chunks)
        todo = list(range(len(chunks)))
        absent = await self._apply(record, chunks, todo, calls, ranks, results, snapshots)
        if absent:
            await self._locked(record, chunks, absent, now, ranks, results, snapshots)
        return results

    async def _apply(
        self,
        record: BoardRecord,
        chunks: Sequence[Chunk],
        todo: list[int],
        calls: list[tuple[str, list[str], list[Any]]],
        ranks: bool,
        results: list[Any],
        snapshots: Snapshots,
    ) -> dict[int, list[str]]:
        """Runs write calls for chunks ``todo``; answers the absent players of those held back."""
        absent: dict[int, list[str]] = {}
        for i, reply in zip(todo, await self.store._eval(calls), strict=True):
            if isinstance(reply, Exception):
                results[i] = reply
            elif reply[0]:
                absent[i] = reply[0]
            else:
                snapshots.add(chunks[i][0], reply[2])
                results[i] = self._written(record, chunks[i], reply[1], ranks)
        return absent

    def _call(
        self,
        record: BoardRecord,
        chunk: Chunk,
        now: int,
        ranks: bool,
        free: bool,
        token: str,
        carried: dict[str, tuple[int | None, str]],
    ) -> tuple[str, list[str], list[Any]]:
        region, items = chunk
        ks = [record.meta(region), record.zset(region)]
        ks += [record.outs(region), record.ins(region)]
        mine = {pid for pid, _, _ in items if pid in carried}
        args: list[Any] = [record.version, now, int(ranks), self.store.events_cap, int(free)]
        args += [token, len(mine)]
        for pid in mine:
            score, name = carried[pid]
            args += (pid, "" if score is None else score, name)
        sign = record.config.sign
        for pid, score, name in items:
            args += (pid, sign * score, name or "")
        return ("write", ks, args)

    def _written(self, record: BoardRecord, chunk: Chunk, flat: list[Any], ranks: bool) -> Any:
        if not ranks:
            return len(chunk[1])
        sign = record.config.sign
        return [
            (sign * int(flat[j]), bool(flat[j + 1]), int(flat[j + 2]))
            for j in range(0, len(flat), 3)
        ]

    async def _locked(
        self,
        record: BoardRecord,
        chunks: Sequence[Chunk],
        absent: dict[int, list[str]],
        now: int,
        ranks: bool,
        results: list[Any],
        snapshots: Snapshots,
    ) -> None:
        """Steps 1 to 4 of the module's docstring for the chunks that found players absent."""
        token = secrets.token_hex(8)
        carried: dict[str, tuple[int | None, str]] = {}
        sources: dict[str, set[str]] = {}  # region -> players pulled out of it
        try:
            for _ in range(LOCKED_ATTEMPTS):
                # Every player of these chunks: one that was here may leave meanwhile.
                targets = {pid: chunks[i][0] for i in absent for pid, _, _ in chunks[i][1]}
                new = {pid: region for pid, region in targets.items() if pid not in carried}
                try:
                    await self.lock(record, token, list(new))
                except RedisUnavailable as exc:
                    for i in absent:
                        results[i] = exc
                    absent = {}
                    break
                await self._pull(record, token, new, now, carried, sources, snapshots)
                todo = sorted(absent)
                calls = [
                    self._call(record, chunks[i], now, ranks, False, token, carried) for i in todo
                ]
                absent = await self._apply(record, chunks, todo, calls, ranks, results, snapshots)
                if not absent:
                    break
            for i in absent:
                results[i] = RedisUnavailable("players kept moving during the write; retry")
            await self._settle(record, chunks, results, token, carried, sources, now, snapshots)
        finally:
            await self.unlock(record, token, list(carried))

    async def _pull(
        self,
        record: BoardRecord,
        token: str,
        targets: dict[str, str],
        now: int,
        carried: dict[str, tuple[int | None, str]],
        sources: dict[str, set[str]],
        snapshots: Snapshots,
    ) -> None:
        calls, regions = [], []
        for region in record.config.regions:
            for dst in sorted(set(targets.values()) - {region}):
                pids = [pid for pid, r in targets.items() if r == dst]
                ks = [record.meta(region), record.zset(region), record.outs(region)]
                args = [record.version, now, self.store.events_cap, token, dst, *pids]
                calls.append(("pull", ks, args))
                regions.append(region)
        for pid in targets:
            carried[pid] = (None, "")
        for region, reply in zip(regions, await self.store._eval(calls), strict=True):
            if isinstance(reply, Exception):
                raise reply
            found, snapshot = reply
            snapshots.add(region, snapshot)
            for j in range(0, len(found), 3):
                carried[found[j]] = (int(found[j + 1]), found[j + 2])
                sources.setdefault(region, set()).add(found[j])

    async def _settle(
        self,
        record: BoardRecord,
        chunks: Sequence[Chunk],
        results: list[Any],
        token: str,
        carried: dict[str, tuple[int | None, str]],
        sources: dict[str, set[str]],
        now: int,
        snapshots: Snapshots,
    ) -> None:
        """Drops the records of completed moves, and puts back players whose write failed."""
        arrived: dict[str, set[str]] = {}
        for (region, items), result in zip(chunks, results, strict=True):
            if not isinstance(result, Exception):
                for pid, _, _ in items:
                    if pid in carried:
                        arrived.setdefault(region, set()).add(pid)
        landed = set().union(*arrived.values()) if arrived else set()
        calls: list[tuple[str, list[str], list[Any]]] = []
        back: list[str] = []
        for region, pids in sources.items():
            done, failed = sorted(pids & landed), sorted(pids - landed)
            if done:
                ks = [record.outs(region), record.meta(region)]
                calls.append(("settle", ks, [token, *done]))
            if failed:
                ks = [record.meta(region), record.zset(region), record.outs(region)]
                calls.append(("restore", ks, [now, self.store.events_cap, token, *failed]))
                back.append(region)
        replies = await self.store._eval(calls)
        restores = (r for (name, _, _), r in zip(calls, replies, strict=True) if name == "restore")
        for region, reply in zip(back, restores, strict=True):
            if not isinstance(reply, Exception):
                snapshots.add(region, reply[0])
        moved = {pid for pids in sources.values() for pid in pids}
        calls = [
            (
                "settle",
                [record.ins(region), record.meta(region)],
                [token, *sorted(pids & moved)],
            )
            for region, pids in arrived.items()
            if pids & moved
        ]
        await self.store._eval(calls)

    async def lock(self, record: BoardRecord, token: str, players: list[str]) -> None:
        """Takes these players' locks, waiting while another write holds any of them."""
        if not players:
            return
        key = keys.player_locks(record.config.board)
        deadline = time.monotonic() + self.store.timeout
        while True:
            taken = await self.store._eval_one(
                "player_locks", [key], [token, "take", LOCK_TTL_MS, *players]
            )
            if taken:
                return
            if time.monotonic() > deadline:
                raise RedisUnavailable("a player is being moved by another write; retry")
            await asyncio.sleep(0.002 + secrets.randbelow(5) / 1000)

    async def unlock(self, record: BoardRecord, token: str, players: list[str]) -> None:
        if players:
            key = keys.player_locks(record.config.board)
            await self.store._eval_one("player_locks", [key], [token, "release", 0, *players])

    async def sync(self, record: BoardRecord, snapshots: Snapshots, now: int) -> None:
        """Carries the regions' new top N into the global mirror.

        A failure here leaves the mirror behind until the region's next top-N change
        (the scores themselves are written): it is logged, not answered as an error.
        """
        board, regions = record.config.board, record.config.regions
        calls = []
        for region, (seq, flat) in snapshots.newest.items():
            ks = [keys.config(board), keys.global_mirror(board), keys.sequences(board)]
            ks += [keys.top_copy(board, region)]
            ks += [keys.top_copy(board, r) for r in regions if r != region]
            calls.append(("sync", ks, [region, seq, self.store.events_cap, now, *flat]))
        try:
            for reply in await self.store._eval(calls):
                if isinstance(reply, Exception):
                    raise reply
        except Exception:
            log.exception("the global top-N mirror of board %r is behind", board)
