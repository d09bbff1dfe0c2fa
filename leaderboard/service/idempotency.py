"""Idempotent retries: a request sent again with its Idempotency-Key applies nothing twice.

The key remembers the digest of the first request and, once it has one, its answer: the
same request again gets that answer back; another request with the key is refused. A
request cut off before it had an answer (Redis failing over, a timeout, a dropped
connection) runs again: each of its chunks was marked where it was applied, in the same
script call (see write.lua), so the retry applies exactly what the first attempt did not.
Two attempts running at once meet at those marks too, so neither waits for the other.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson

from leaderboard.domain import Once
from leaderboard.errors import (
    BoardNotFound,
    InvalidRequest,
    KeyReused,
    RedisUnavailable,
    UnknownRegion,
)
from leaderboard.store import Claimed, Store

log = logging.getLogger(__name__)
Work = Callable[[Once], Awaitable[dict]]
# Refusals that come before anything is written: the key is let go again, so that a
# refused request leaves nothing behind.
BEFORE_ANY_WRITE = (InvalidRequest, UnknownRegion, BoardNotFound)


class Idempotency:
    def __init__(self, store: Store, ttl: int, chunk: int) -> None:
        self.store = store
        self.ttl = ttl
        self.chunk = chunk

    async def run(self, board: str, key: str, digest: str, work: Work) -> tuple[dict, bool]:
        """The answer, and whether it is the first attempt's answer given again."""
        earlier = await self.store.claim(board, key, digest, self.chunk, self.ttl)
        if earlier is not None:
            if earlier.digest != digest:
                raise KeyReused()
            if earlier.answer is not None:
                return orjson.loads(earlier.answer), True
        claimed = earlier or Claimed(digest, self.chunk, None)
        once = Once(key, digest, self.ttl * 1000, claimed.chunk, retry=earlier is not None)
        try:
            answer = await work(once)
        except BEFORE_ANY_WRITE:
            if earlier is None:
                await self.store.release(board, key, claimed)
            raise
        try:
            await self.store.remember(board, key, claimed, orjson.dumps(answer).decode())
        except RedisUnavailable as exc:  # the marks still make a retry apply nothing again
            log.warning(
                "board %r: the answer of an idempotent request was not kept: %s", board, exc
            )
        return answer, False
