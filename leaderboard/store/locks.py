"""Per-player locks of a board, taken by the writes that may move a player between
regions (player_locks.lua): all of a chunk's players or none."""

from __future__ import annotations

import asyncio
import secrets
import time

from leaderboard.errors import RedisUnavailable
from leaderboard.store import keys
from leaderboard.store.records import BoardRecord
from leaderboard.store.runner import Runner


class PlayerLocks:
    def __init__(self, runner: Runner, timeout: float) -> None:
        self.runner = runner
        self.timeout = timeout
        # A mover renews its locks before it writes; a lock taken by a request that gave
        # up (or whose command ran late, after Redis froze) lapses soon after it.
        self.ttl_ms = max(100, int(timeout * 2000))

    async def take(
        self, record: BoardRecord, token: str, players: list[str], wait: bool = True
    ) -> bool:
        """Takes (or renews) these players' locks, waiting while another write holds any.

        Without ``wait``, answers whether they could be taken at once: a mover renews its
        locks right before it writes, and gives up if one expired and was taken meanwhile.
        """
        if not players:
            return True
        key = keys.player_locks(record.config.board)
        deadline = time.monotonic() + self.timeout
        while True:
            taken = await self.runner.eval_one(
                "player_locks", [key], [token, "take", self.ttl_ms, *players]
            )
            if taken or not wait:
                return bool(taken)
            if time.monotonic() > deadline:
                raise RedisUnavailable("a player is being moved by another write; retry")
            await asyncio.sleep(0.002 + secrets.randbelow(5) / 1000)

    async def release(self, record: BoardRecord, token: str, players: list[str]) -> None:
        if players:
            key = keys.player_locks(record.config.board)
            await self.runner.eval_one("player_locks", [key], [token, "release", 0, *players])
