"""Board configurations: create, replace, list, delete, and a short per-process cache.

The cache only saves a round trip: every script checks the board's version in Redis,
so a stale entry costs a reload and a retry, never a wrong answer.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from leaderboard.domain import GLOBAL, BoardConfig
from leaderboard.errors import (
    BoardNotFound,
    RedisUnavailable,
    StaleBoard,
    UnknownRegion,
)
from leaderboard.settings import Settings
from leaderboard.store import BoardRecord, Store

T = TypeVar("T")
RETRIES = 3


class Boards:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._cache: dict[str, tuple[float, BoardRecord]] = {}

    async def record(self, board: str, fresh: bool = False) -> BoardRecord:
        cached = self._cache.get(board)
        if cached and not fresh and time.monotonic() - cached[0] < self.settings.config_ttl:
            return cached[1]
        record = await self.store.load_board(board)
        if record is None:
            self._cache.pop(board, None)
            raise BoardNotFound(f"board {board!r} does not exist; create it with PUT first")
        self._cache[board] = (time.monotonic(), record)
        return record

    async def using(self, board: str, action: Callable[[BoardRecord], Awaitable[T]]) -> T:
        """Runs ``action`` on the board's record, reloading it when it may be out of date.

        Redis says so (a stale version, a deleted board or region; the reload answers
        404 when the board is gone), or a cached record does not know a region that the
        request names.
        """
        record, fresh = await self.record(board), False
        for _ in range(RETRIES):
            try:
                return await action(record)
            except StaleBoard:
                record = await self.refresh(record)
            except UnknownRegion:
                if fresh:
                    raise
                record = await self.record(board, fresh=True)
            fresh = True
        raise RedisUnavailable(f"board {board!r} kept changing during the request; retry")

    async def refresh(self, record: BoardRecord) -> BoardRecord:
        """The board as stored, after a script refused ``record`` as stale. When the stored
        config is the very one refused, a change of it was cut short before it reached the
        regions: it is finished here, so that the board does not stay refused."""
        fresh = await self.record(record.config.board, fresh=True)
        if fresh.version == record.version:
            with contextlib.suppress(StaleBoard):  # a region already holds a newer change
                await self.store.repair(fresh)
        return fresh

    async def put(self, config: BoardConfig) -> tuple[bool, BoardConfig]:
        for _ in range(RETRIES):
            old = await self.store.load_board(config.board)
            try:
                created, _ = await self.store.put_board(config, old, self.settings.activity_buckets)
            except StaleBoard:
                continue
            self._cache.pop(config.board, None)
            return created, config
        raise RedisUnavailable(f"board {config.board!r} is being changed by others; retry")

    async def describe(self, board: str) -> dict:
        """Read fresh: no script stands between a cached config and this answer."""
        record = await self.record(board, fresh=True)
        totals = await self.store.totals(record)
        return record.config.public() | {"players": {GLOBAL: sum(totals.values()), **totals}}

    async def list(self) -> list[dict]:
        return [r.config.public() for r in await self.store.load_all_boards()]

    async def delete(self, board: str) -> None:
        try:
            record = await self.record(board, fresh=True)
        except BoardNotFound:
            if await self.store.finish_delete(board):  # an earlier DELETE was cut short
                return
            raise
        self._cache.pop(board, None)
        await self.store.delete_board(record)

    async def ensure(self, config: BoardConfig) -> bool:
        """Creates the board unless it exists; answers whether it created it."""
        if await self.store.load_board(config.board) is not None:
            return False
        try:
            created, _ = await self.store.put_board(config, None, self.settings.activity_buckets)
        except StaleBoard:
            return False
        return created


def scope_regions(config: BoardConfig, scope: str) -> tuple[str, ...]:
    """The regions a scope covers; a scope that is not the board's is a 400."""
    if scope == GLOBAL:
        return config.regions
    if scope in config.regions:
        return (scope,)
    raise UnknownRegion(
        f"{scope!r} is not a region of board {config.board!r}; "
        f"use global or one of {', '.join(config.regions)}",
        [{"field": "scope", "reason": "not a region of this board"}],
    )
