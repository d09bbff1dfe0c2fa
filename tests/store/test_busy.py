"""A Redis busy with a long script answers BUSY: the one-trip global reads of a standalone
Redis (MULTI/EXEC, which Redis then refuses whole) must still answer 503, not 500.

Standalone only: transactions are that path's, a cluster reads region by region.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from leaderboard.domain import BoardConfig
from leaderboard.errors import RedisUnavailable
from leaderboard.store import Store
from tests.redis_process import RedisProcess

LONG_SCRIPT = """
local t = redis.call('TIME')
local start = t[1] * 1000000 + t[2]
repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 1500000
return 1
"""


async def test_global_reads_meeting_a_busy_redis_answer_unavailable(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path).start()
    store = Store.connect(server.url, 4, 5.0)
    blocker = aioredis.Redis.from_url(server.url)
    try:
        await store.put_board(BoardConfig("b", ("na", "eu")), None, 64)
        record = await store.load_board("b")
        assert record is not None
        await store.write(record, [("na", [("a", 5, None)])], 1, False)
        await blocker.config_set("busy-reply-threshold", 50)
        long = asyncio.ensure_future(blocker.eval(LONG_SCRIPT, 0))
        await asyncio.sleep(0.3)
        assert not long.done()
        with pytest.raises(RedisUnavailable):
            await store.pages(record, [("na", 0, 9), ("eu", 0, 9)], moving=True)
        with pytest.raises(RedisUnavailable):
            await store.around(record, ("na", "eu"), "a", 5)
        assert await long == 1
        pages = await store.pages(record, [("na", 0, 9), ("eu", 0, 9)], moving=True)
        assert [pid for s in pages for pid, _, _ in s.entries] == ["a"]  # usable again
    finally:
        await blocker.aclose()
        await store.close()
        server.stop()
