"""What can go wrong, as plain domain errors: every layer raises these, and the HTTP layer
alone gives each its status, code and body (http/errors.py)."""

from __future__ import annotations

from typing import Any


class LeaderboardError(Exception):
    """A failure with a message for the client; ``details`` lists the bad input it names."""

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(LeaderboardError):
    pass


class InvalidJson(LeaderboardError):
    pass


class UnknownRegion(LeaderboardError):
    pass


class BoardNotFound(LeaderboardError):
    pass


class PlayerNotFound(LeaderboardError):
    pass


class RegionInUse(LeaderboardError):
    def __init__(self, region: str, where: str = "") -> None:
        super().__init__(
            f"region {region!r} still holds players{where}; delete them before removing the region"
        )
        self.region = region


class BoardNotEmpty(LeaderboardError):
    pass


class ScoreOutOfRange(LeaderboardError):
    """An incr would leave the exact range; ``index`` is the refused item of the request
    (of the chunk, where the store raises it)."""

    def __init__(
        self,
        index: int,
        message: str = "an incr would leave the exact score range ±(2^53-1); nothing was applied",
    ) -> None:
        super().__init__(message)
        self.index = index


class KeyReused(LeaderboardError):
    """An Idempotency-Key sent again with another request than the one it first came with."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key came with another request; nothing was applied: "
            "use a new key for a new request"
        )


class RedisUnavailable(LeaderboardError):
    pass


class KeptMoving(RedisUnavailable):
    """A global read met a move between regions at every attempt: the board is busy, the
    Redis that answered is fine."""

    def __init__(self) -> None:
        super().__init__("players kept moving between regions during the read; retry")


class StaleBoard(LeaderboardError):
    """The board's configuration changed (or the board, or a region, is gone) after this
    process read it: reload it and retry. One that escapes every retry is a 503."""


class PeriodEnded(StaleBoard):
    """A move between regions met a region already in a later period (``period``): the
    move runs again in that one. Nothing to reload: the board itself did not change."""

    def __init__(self, message: str, period: int) -> None:
        super().__init__(message)
        self.period = period


class PeriodNotFound(LeaderboardError):
    """A read asked for a period that is neither current nor a kept archive."""
