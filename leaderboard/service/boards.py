"""Board configurations: create, replace, list, delete, and a short per-process cache, and
which period a request acts on.

The cache only saves a round trip: every script checks the board's version in Redis,
so a stale entry costs a reload and a retry, never a wrong answer. A manual reset
changes the version too; a scheduled boundary needs no reload (the period follows from
the record's anchors and the clock).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from leaderboard.domain import GLOBAL, BoardConfig, now_ms
from leaderboard.errors import (
    BoardNotEmpty,
    BoardNotFound,
    PeriodNotFound,
    RedisUnavailable,
    RegionInUse,
    StaleBoard,
    UnknownRegion,
)
from leaderboard.settings import Settings
from leaderboard.store import BoardRecord, Store

T = TypeVar("T")
RETRIES = 3


Clock = Callable[[], int]


class Boards:
    def __init__(self, store: Store, settings: Settings, clock: Clock = now_ms) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock  # unix ms: the one clock of periods, activity, events and moves
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

    async def using(
        self,
        board: str,
        action: Callable[[BoardRecord], Awaitable[T]],
        period: int | None = None,
    ) -> T:
        """Runs ``action`` on the board's record at the current period (or at ``period``,
        an archive to read), reloading it when it may be out of date.

        Redis says so (a stale version, a deleted board or region; the reload answers
        404 when the board is gone), or a cached record does not know a region that the
        request names.
        """
        record, fresh = await self.record(board), False
        for _ in range(RETRIES):
            try:
                return await action(await self._at(record, period))
            except StaleBoard:
                record = await self.refresh(record)
            except UnknownRegion:
                if fresh:
                    raise
                record = await self.record(board, fresh=True)
            fresh = True
        raise RedisUnavailable(f"board {board!r} kept changing during the request; retry")

    async def _at(self, record: BoardRecord, period: int | None) -> BoardRecord:
        """The record at the current period, or at an archived one that holds players."""
        current = record.current(self.clock())
        if period is None or period == current:
            return record.at(current)
        if 1 <= period < current and await self.store.holds_players(record.at(period)):
            return record.at(period)
        raise PeriodNotFound(
            f"period {period} of board {record.config.board!r} is neither the current one "
            f"({current}) nor a kept archive; GET /v1/boards/{record.config.board}/periods "
            "lists them"
        )

    async def refresh(self, record: BoardRecord) -> BoardRecord:
        """The board as stored, after a script refused ``record`` as stale. When the stored
        config is the very one refused, a change of it was cut short before it reached the
        regions: it is finished here, so that the board does not stay refused."""
        fresh = await self.record(record.config.board, fresh=True)
        if fresh.version == record.version:
            with contextlib.suppress(StaleBoard):  # a region already holds a newer change
                await self.store.repair(fresh, self.clock())
        return fresh

    async def put(self, config: BoardConfig) -> tuple[bool, dict]:
        """Answers whether it created the board, and its config with the current period."""
        for _ in range(RETRIES):
            old = await self.store.load_board(config.board)
            now = self.clock()
            if old is not None:
                await self._archives_allow(old, config, now)
            try:
                created, _ = await self.store.put_board(
                    config, old, self.settings.activity_buckets, now
                )
            except StaleBoard:
                continue
            self._cache.pop(config.board, None)
            return created, config.public() | {"period": old.current(now) if old else 1}
        raise RedisUnavailable(f"board {config.board!r} is being changed by others; retry")

    async def _archives_allow(self, old: BoardRecord, config: BoardConfig, now: int) -> None:
        """Archives answer as they ended: while they hold players, their regions stay on
        the board and so does its order (which their stored scores follow)."""
        removed = set(old.config.regions) - set(config.regions)
        if not removed and old.config.order is config.order:
            return
        held = await self.store.periods_held(old, now)
        archived = [counts for p, counts in held.players.items() if p < held.current]
        for region in sorted(removed):
            if any(counts.get(region) for counts in archived):
                raise RegionInUse(region, " in archived periods (GET /periods lists them)")
        if old.config.order is not config.order and any(any(c.values()) for c in archived):
            raise BoardNotEmpty(
                "order cannot change while archived periods hold players: set keep_periods "
                "to 0 and run the cleanup first, or use a new board"
            )

    async def describe(self, board: str) -> dict:
        """Read fresh: no script stands between a cached config and this answer."""
        record = await self.record(board, fresh=True)
        record = record.at(record.current(self.clock()))
        totals = await self.store.totals(record)
        players = {"players": {GLOBAL: sum(totals.values()), **totals}}
        return record.config.public() | {"period": record.period} | players

    async def list(self) -> list[dict]:
        now = self.clock()
        records = await self.store.load_all_boards()
        return [r.config.public() | {"period": r.current(now)} for r in records]

    def forget(self, board: str) -> None:
        """Drops the cached record of a board this process just changed."""
        self._cache.pop(board, None)

    async def delete(self, board: str) -> None:
        try:
            record = await self.record(board, fresh=True)
        except BoardNotFound:
            if await self.store.finish_delete(board):  # an earlier DELETE was cut short
                return
            raise
        self._cache.pop(board, None)
        await self.store.delete_board(record, self.clock())

    async def ensure(self, config: BoardConfig) -> bool:
        """Creates the board unless it exists; answers whether it created it."""
        if await self.store.load_board(config.board) is not None:
            return False
        try:
            buckets = self.settings.activity_buckets
            created, _ = await self.store.put_board(config, None, buckets, self.clock())
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
