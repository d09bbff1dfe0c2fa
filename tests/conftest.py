from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from leaderboard.http.app import create_app
from leaderboard.service import Service
from leaderboard.settings import Settings
from leaderboard.store import Store
from tests.redis_process import RedisProcess


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def clean_redis(redis_server: RedisProcess) -> RedisProcess:
    """The tests' own Redis, emptied: never a Redis the tests did not start."""
    with redis.Redis.from_url(redis_server.url) as r:
        r.flushall()
        r.script_flush()
    return redis_server


@pytest.fixture
def settings(clean_redis: RedisProcess) -> Settings:
    return Settings(
        redis_url=clean_redis.url,
        activity_buckets=64,
        redis_timeout=1.0,
        data_dir=Path("/nonexistent"),
    )


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    s = Store.connect(settings.redis_url, 8, settings.redis_timeout)
    yield s
    await s.close()


@pytest.fixture
async def service(store: Store, settings: Settings) -> Service:
    return Service.build(store, settings)


@pytest.fixture
async def client(aiohttp_client, settings: Settings):
    return await aiohttp_client(create_app(settings))
