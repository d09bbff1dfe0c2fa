from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from leaderboard.http.app import create_app
from leaderboard.service import Service
from leaderboard.settings import Settings
from leaderboard.store import Store
from tests.redis_process import RedisClusterProcess, RedisProcess, RedisTarget

REDIS_KINDS = ("standalone", "cluster")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--redis",
        choices=(*REDIS_KINDS, "both"),
        default="both",
        help="run the Redis tests on a standalone server, a 3-master cluster, or both",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "redis_cluster: starts a Redis Cluster of its own (skipped by --redis=standalone)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--redis=standalone` (or `cluster`) keeps the tests on that kind of Redis and every test
    that needs no Redis fixture, so that one kind can be run alone without a fragile -k."""
    wanted = config.getoption("--redis")
    if wanted == "both":
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        kind = callspec.params.get("redis_server") if callspec is not None else None
        if kind is None and item.get_closest_marker("redis_cluster") is not None:
            kind = "cluster"
        (drop if kind not in (None, wanted) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", params=REDIS_KINDS, ids=REDIS_KINDS)
def redis_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisTarget]:
    """One Redis per kind and session: every test using it runs on both, the app unaware."""
    workdir = tmp_path_factory.mktemp(f"redis-{request.param}")
    server: RedisTarget = (
        RedisProcess(workdir).start()
        if request.param == "standalone"
        else RedisClusterProcess(workdir).start()
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clean_redis(redis_server: RedisTarget) -> RedisTarget:
    """The tests' own Redis, emptied: never a Redis the tests did not start."""
    redis_server.flush()
    return redis_server


@pytest.fixture
def settings(clean_redis: RedisTarget) -> Settings:
    return Settings(
        redis_url=clean_redis.url,
        redis_cluster=clean_redis.cluster,
        activity_buckets=64,
        redis_timeout=1.0,
        data_dir=Path("/nonexistent"),
    )


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    s = Store.connect(settings.redis_url, 8, settings.redis_timeout, cluster=settings.redis_cluster)
    yield s
    await s.close()


@pytest.fixture
async def service(store: Store, settings: Settings) -> Service:
    return Service.build(store, settings)


@pytest.fixture
async def client(aiohttp_client, settings: Settings):
    return await aiohttp_client(create_app(settings))
