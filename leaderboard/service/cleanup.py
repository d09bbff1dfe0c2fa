"""Removal of inactive players (one board at a time, under its lock, in bounded batches)
and of the archived periods a board no longer keeps.

The activity index is each region's activity buckets (player -> last accepted score
time). A run walks them in order, a few hundred buckets (about 1,000 players) per Redis
call, so Redis is never blocked long and no keyspace scan is needed; a region that small
takes one call whatever its bucket count (see cleanup.lua).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from leaderboard.errors import BoardNotFound, RedisUnavailable, StaleBoard
from leaderboard.service.boards import Boards
from leaderboard.store import BoardRecord

log = logging.getLogger(__name__)
DAY = 86_400
LOCK_TTL_MS = 60_000
EXTEND_EVERY = LOCK_TTL_MS / 3000  # seconds between two extensions of a run's locks
STALE_ATTEMPTS = 4  # batches refused as stale in a row (each after a reload) before a 503
STALE_PAUSE = 0.05  # seconds before the first reload; each next pause is longer by as much


@dataclass
class Progress:
    board: str
    region: str
    bucket: int
    buckets: int
    removed: int


@dataclass
class CleanupReport:
    removed: dict[str, int] = field(default_factory=dict)
    archives: dict[str, list[int]] = field(default_factory=dict)  # periods deleted
    locked: list[str] = field(default_factory=list)
    batches: int = 0
    largest_batch: int = 0


class Cleanup:
    def __init__(self, boards: Boards) -> None:
        self.boards = boards
        self.store = boards.store

    async def run(
        self,
        board: str | None = None,
        older_than_seconds: int | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> CleanupReport:
        """Cleans one board or all; a board whose cleanup runs elsewhere is reported locked."""
        if board is not None:
            records = [await self.boards.record(board, fresh=True)]
        else:
            records = await self.store.load_all_boards()
        report = CleanupReport()
        for record in records:
            days = record.config.inactive_after_days
            try:
                board_id = record.config.board
                await self.boards.using(board_id, lambda r: self._archives(r, report))
                if older_than_seconds is None and days == 0:
                    continue
                age = older_than_seconds if older_than_seconds is not None else days * DAY
                now = self.boards.clock()
                await self._board(record, now // 1000 - age, report, progress, now)
            except BoardNotFound:
                if board is not None:
                    raise
        return report

    async def _archives(self, record: BoardRecord, report: CleanupReport) -> None:
        """Deletes the archived periods beyond the board's ``keep_periods`` newest ones
        (and forgets the archives whose players are all gone)."""
        held = await self.store.periods_held(record, self.boards.clock())
        archived = sorted((p for p in held.players if p < held.current), reverse=True)
        kept = [p for p in archived if any(held.players[p].values())]
        kept = kept[: record.config.keep_periods]
        dropped = sorted({p for p in archived if p not in kept} | held.dropping, reverse=True)
        for period in dropped:
            await self.store.drop_period(record, period)
        if dropped:
            report.archives[record.config.board] = dropped

    async def _board(
        self,
        held: BoardRecord,
        cutoff: int,
        report: CleanupReport,
        progress: Callable[[Progress], None] | None,
        now: int,
    ) -> None:
        """Walks the regions it locked, with the board as it is now (``current``): a
        change of the board meanwhile never makes the run release or extend locks other
        than the ones it took with ``held``. The locks are extended every third of their
        time to live, not at each batch: a batch per region, each extending every
        region's lock, made a run over many small regions cost their square."""
        name = held.config.board
        token = secrets.token_hex(16)
        if not await self.store.take_locks(held, token, LOCK_TTL_MS):
            log.info("cleanup of board %r is already running elsewhere; skipped", name)
            report.locked.append(name)
            return
        removed, current, extended = 0, held, time.monotonic()
        try:
            for region in held.config.regions:
                bucket, stale = 0, 0
                while bucket >= 0 and _kept(held, current, region):
                    if time.monotonic() - extended >= EXTEND_EVERY:
                        await self.store.extend_locks(held, token, LOCK_TTL_MS)
                        extended = time.monotonic()
                    try:
                        batch = await self.store.cleanup_batch(
                            current, region, cutoff, bucket, token, now
                        )
                    except StaleBoard:
                        stale += 1
                        if stale == STALE_ATTEMPTS:
                            raise RedisUnavailable(
                                f"board {name!r} kept changing during the cleanup; retry"
                            ) from None
                        await asyncio.sleep(STALE_PAUSE * stale)
                        current = await self.boards.refresh(current)
                        continue
                    stale = 0
                    if batch is None:
                        log.warning("cleanup of board %r lost its lock; stopped", name)
                        report.locked.append(name)
                        return
                    bucket, gone, _ = batch
                    removed += gone
                    report.batches += 1
                    report.largest_batch = max(report.largest_batch, gone)
                    if progress is not None:
                        done = current.buckets if bucket < 0 else bucket
                        progress(Progress(name, region, done, current.buckets, removed))
        finally:
            await self.store.release_locks(held, token)
        report.removed[name] = removed


def _kept(held: BoardRecord, current: BoardRecord, region: str) -> bool:
    """Whether a region the run locked is still on the board with the same keys: one
    removed, or removed and added again (a new tag), is not the run's to clean."""
    return region in current.config.regions and current.tag(region) == held.tag(region)
