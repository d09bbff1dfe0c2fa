"""Errors of the contract (code, status) and the store's internal signals.

Every layer raises these; the HTTP layer turns the public ones into JSON error bodies.
"""

from __future__ import annotations

from typing import Any


class LeaderboardError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(LeaderboardError):
    pass


class InvalidJson(LeaderboardError):
    code = "invalid_json"


class UnknownRegion(LeaderboardError):
    code = "unknown_region"


class BoardNotFound(LeaderboardError):
    status = 404
    code = "board_not_found"


class PlayerNotFound(LeaderboardError):
    status = 404
    code = "player_not_found"


class RegionInUse(LeaderboardError):
    status = 409
    code = "region_in_use"


class BoardNotEmpty(LeaderboardError):
    status = 409
    code = "board_not_empty"


class ScoreOutOfRange(LeaderboardError):
    status = 409
    code = "score_out_of_range"

    @classmethod
    def at(
        cls,
        index: int,
        message: str = "an incr would leave the exact score range ±(2^53-1); nothing was applied",
    ) -> ScoreOutOfRange:
        """Refuses the item at ``index`` of the request (or of the chunk, in the store)."""
        return cls(
            message, [{"index": index, "field": "score", "reason": "incr result out of range"}]
        )

    @property
    def index(self) -> int:
        return self.details[0]["index"]


class RedisUnavailable(LeaderboardError):
    status = 503
    code = "redis_unavailable"


class KeptMoving(RedisUnavailable):
    """A global read met a move between regions at every attempt: the board is busy, the
    Redis that answered is fine."""

    def __init__(self) -> None:
        super().__init__("players kept moving between regions during the read; retry")


class StaleBoard(Exception):
    """The board's configuration changed (or the board, or a region, is gone) after this
    process read it: reload it and retry."""
