"""Single score posts that arrive together share script calls.

While one flush is at Redis, new posts for the board queue up; the next flush sends them
all, one script call per region per chunk, pipelined. At low load a post goes out at once;
under load a few hundred posts cost a handful of calls instead of one round trip each.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from leaderboard.domain import Update
from leaderboard.errors import (
    RedisUnavailable,
    ScoreOutOfRange,
    StaleBoard,
    UnknownRegion,
)
from leaderboard.service.boards import RETRIES, Boards
from leaderboard.service.chunks import chunk_items, plan

Written = tuple[int, bool, int]  # stored score, updated, players strictly better in region


@dataclass
class Pending:
    updates: list[Update] = field(default_factory=list)
    futures: list[asyncio.Future[Written]] = field(default_factory=list)


def fail(future: asyncio.Future[Written], exc: BaseException) -> None:
    if not future.done():  # its request may have gone (client closed, shutdown timeout)
        future.set_exception(exc)


class Coalescer:
    def __init__(self, boards: Boards, chunk: int) -> None:
        self.boards = boards
        self.chunk = chunk
        self._queues: dict[str, Pending] = {}
        self._flushing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def write(self, board: str, update: Update) -> Written:
        future: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        pending = self._queues.setdefault(board, Pending())
        pending.updates.append(update)
        pending.futures.append(future)
        if board not in self._flushing:
            self._flushing.add(board)
            task = asyncio.create_task(self._drain(board))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self, board: str) -> None:
        try:
            while pending := self._queues.pop(board, None):
                try:
                    await self._flush(board, pending)
                except Exception as exc:
                    for f in pending.futures:
                        fail(f, exc)
        finally:
            self._flushing.discard(board)

    async def _flush(self, board: str, pending: Pending) -> None:
        """Sends the posts again after a refusal: without the refused post (out of range,
        which costs no retry: each one leaves) or with a reloaded config (stale, which
        does)."""
        todo = list(range(len(pending.updates)))
        record = await self.boards.record(board)
        reloads = 0
        while todo:
            gone = [i for i in todo if pending.updates[i].region not in record.config.regions]
            for i in gone:  # the region was removed since the post was checked
                fail(pending.futures[i], UnknownRegion(f"{pending.updates[i].region!r} is gone"))
            todo = [i for i in todo if i not in gone]
            if not todo:
                return
            updates = [pending.updates[i] for i in todo]
            chunks = [(region, [todo[i] for i in idx]) for region, idx in plan(updates, self.chunk)]
            results = await self.boards.store.write(
                record,
                [(region, chunk_items(pending.updates, idx)) for region, idx in chunks],
                self.boards.clock(),
                True,
            )
            todo = []
            for (_, idx), result in zip(chunks, results, strict=True):
                if isinstance(result, StaleBoard):
                    todo += idx
                elif isinstance(result, ScoreOutOfRange):
                    bad = idx[result.index]
                    fail(pending.futures[bad], result)
                    todo += [i for i in idx if i != bad]
                elif isinstance(result, Exception):
                    raise result
                else:
                    for i, written in zip(idx, result, strict=True):
                        if not pending.futures[i].done():  # its request may have gone
                            pending.futures[i].set_result(written)
            if any(isinstance(r, StaleBoard) for r in results):
                reloads += 1
                if reloads > RETRIES:
                    raise RedisUnavailable(f"board {board!r} kept changing during the write; retry")
                record = await self.boards.refresh(record)
            todo.sort()
