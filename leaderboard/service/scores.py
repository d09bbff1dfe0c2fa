"""Score writes: single posts (coalesced) and batches, cut into chunks of one region each."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from leaderboard.domain import MAX_BATCH, Mode, Once, Update, incr_overflow
from leaderboard.errors import (
    BoardNotFound,
    InvalidRequest,
    RedisUnavailable,
    ScoreOutOfRange,
    StaleBoard,
    UnknownRegion,
)
from leaderboard.service.boards import Boards
from leaderboard.service.chunks import chunk_items, plan
from leaderboard.service.coalesce import Coalescer
from leaderboard.store import BoardRecord

Problem = dict[str, Any]


def _unknown_regions(
    record: BoardRecord, regions: Iterable[tuple[int, str | None]]
) -> list[Problem]:
    known = set(record.config.regions)
    return [
        {"index": i, "field": "region", "reason": f"{region!r} is not a region of this board"}
        for i, region in regions
        if region is not None and region not in known
    ]


def check_regions(record: BoardRecord, updates: Sequence[Update]) -> None:
    bad = _unknown_regions(record, enumerate(u.region for u in updates))
    if bad:
        raise UnknownRegion(
            f"unknown region; this board's regions are {', '.join(record.config.regions)}",
            bad,
        )


def check_incr_range(updates: Sequence[Update], current: dict[str, int]) -> None:
    """All-or-nothing for a multi-chunk incr batch: refuse it before any chunk runs."""
    bad = incr_overflow(((u.player_id, u.score) for u in updates), current)
    if bad is not None:
        raise ScoreOutOfRange(
            bad,
            f"item {bad} would take {updates[bad].player_id!r} beyond ±(2^53-1); "
            "nothing was applied",
        )


def moved_meanwhile(refused: ScoreOutOfRange, index: int, applied: int, total: int) -> Exception:
    """A chunk refused out of range after the batch's own check passed (another write moved
    a score in between): the answer says what was applied, since other chunks were."""
    if not applied:
        return ScoreOutOfRange(index)
    return ScoreOutOfRange(
        index,
        f"item {index} would leave the exact score range ±(2^53-1) after another write "
        f"changed that score during this batch: {applied} of {total} items were applied "
        "(the other regions' chunks and the earlier ones), none of the refused item's chunk",
    )


class Scores:
    def __init__(self, boards: Boards) -> None:
        self.boards = boards
        self.store = boards.store
        self.chunk = boards.settings.batch_chunk
        # Redis serves a pipeline of write scripts one socket read at a time per
        # connection: fewer batch pipelines at once, shorter waits for the reads between
        # them. Single posts (the coalescer) do not wait here.
        self.batches = asyncio.Semaphore(boards.settings.batches_in_flight)
        self.coalescer = Coalescer(boards, self.chunk)

    async def submit(self, board: str, update: Update, once: Once | None = None) -> dict:
        """One post; concurrent posts share script calls (see coalesce.py), but for an
        idempotent one, whose chunk is its own."""
        if once is None:
            record = await self.boards.record(board)
            if update.region not in record.config.regions:
                check_regions(await self.boards.record(board, fresh=True), [update])
            score, updated, better = await self.coalescer.write(board, update)
        else:
            score, updated, better = await self._submit_once(board, update, once)
        return {
            "player_id": update.player_id,
            "region": update.region,
            "score": score,
            "rank": better + 1,
            "updated": updated,
        }

    async def _submit_once(self, board: str, update: Update, once: Once) -> tuple[int, bool, int]:
        async def write(record: BoardRecord) -> tuple[int, bool, int]:
            check_regions(record, [update])
            chunk = (update.region, chunk_items([update], [0]))
            [result] = await self.store.write(
                record, [chunk], self.boards.clock(), True, once.marking([0])
            )
            if isinstance(result, Exception):
                raise result
            return result[0]

        return await self.boards.using(board, write)

    async def refusal(
        self, board: str, problems: list[Problem], regions: Sequence[str | None]
    ) -> InvalidRequest:
        """The 400 of a batch with malformed items names its items with an unknown region
        too, read fresh so that a region added a moment ago is known. An unknown board
        leaves the malformed items: bad input is a 400 whichever board it was sent to."""
        try:
            record = await self.boards.record(board, fresh=True)
        except BoardNotFound:
            bad = problems
        else:
            bad = problems + _unknown_regions(record, enumerate(regions))
            bad.sort(key=lambda problem: problem["index"])
        return InvalidRequest(f"{len({p['index'] for p in bad})} bad items; nothing applied", bad)

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """A batch's turn to write; a 503 when the batches ahead take too long, so that a
        client that gave up is not applied behind its back much later."""
        try:
            async with asyncio.timeout(self.boards.settings.redis_timeout):
                await self.batches.acquire()
        except TimeoutError:
            raise RedisUnavailable("too many batches waiting on this server; retry") from None
        try:
            yield
        finally:
            self.batches.release()

    async def submit_batch(
        self, board: str, updates: Sequence[Update], once: Once | None = None
    ) -> int:
        """Chunks refused for a stale config are sent again after a reload, and only they:
        regions take a config change one by one, so other chunks may have been applied.
        With ``once``, each chunk is marked by its first update's index in the batch."""
        planned = plan(updates, once.chunk if once else self.chunk)
        chunks = [(region, chunk_items(updates, idx)) for region, idx in planned]
        await asyncio.sleep(0)  # a read waiting on this worker goes first (see post_batch)
        pending = list(range(len(chunks)))
        applied = 0

        async def write(record: BoardRecord) -> int:
            nonlocal pending, applied
            check_regions(record, updates)
            async with self._turn():
                # On a retry, chunks may be applied already: each chunk checks its own.
                whole = len(pending) == len(chunks) > 1 and not (once and once.retry)
                if whole and record.config.mode is Mode.INCR:
                    # Raw reads, no script to notice a stale config: check it first.
                    fresh = await self.boards.record(board, fresh=True)
                    if fresh.version != record.version:
                        raise StaleBoard("board changed")
                    ids = list(dict.fromkeys(u.player_id for u in updates))
                    check_incr_range(updates, await self.store.scores_of(record, ids))
                marks = once and once.marking(planned[i][1][0] for i in pending)
                results = await self.store.write(
                    record, [chunks[i] for i in pending], self.boards.clock(), False, marks
                )
            stale, refused, left, got = None, None, [], 0
            for i, result in zip(pending, results, strict=True):
                if isinstance(result, StaleBoard):
                    stale = result
                    left.append(i)
                elif isinstance(result, ScoreOutOfRange):
                    refused = refused or (i, result)
                elif isinstance(result, Exception):
                    raise result
                else:
                    got += int(result)
            applied += got
            pending = left
            if refused is not None:
                i, result = refused
                raise moved_meanwhile(result, planned[i][1][result.index], applied, len(updates))
            if stale is not None:
                raise stale
            return len(updates)

        if not updates:
            raise InvalidRequest(f"updates must hold 1 to {MAX_BATCH} items")
        return await self.boards.using(board, write)
