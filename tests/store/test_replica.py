"""Reads from a replica (LEADERBOARD_REDIS_READ_URL): top pages, standings and around-me
windows come from the replica, writes go to Redis itself, and a replica that cannot
answer (down, cut off from its master, or not holding the board) hands the read back.

Standalone only: a replica of one Redis is what the setting names.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from leaderboard.domain import BoardConfig
from leaderboard.settings import Settings, SettingsError
from leaderboard.store import BoardRecord, Store, redis_store
from tests.redis_process import (
    PRIMARY_ARGS,
    RedisProcess,
    free_port,
    replica_of,
    wait_replicated,
)


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "primary", extra_args=PRIMARY_ARGS).start()
    yield server
    server.stop()


@pytest.fixture
def replica(tmp_path: Path, primary: RedisProcess) -> Iterator[RedisProcess]:
    server = replica_of(primary.port, tmp_path / "replica")
    yield server
    server.stop()


async def board(store: Store) -> BoardRecord:
    """a 10 (na), b 20 (eu), c 30 (na), on a board ordered high to low."""
    await store.put_board(BoardConfig("b", ("na", "eu")), None, 64)
    record = await store.load_board("b")
    assert record is not None
    await store.write(record, [("na", [("a", 10, None), ("c", 30, None)])], 1, False)
    await store.write(record, [("eu", [("b", 20, None)])], 1, False)
    return record


async def views(store: Store, record: BoardRecord) -> tuple[list[str], int, list[str]]:
    """The global top, a's score and rank, and the window around a."""
    pages = await store.pages(record, [("na", 0, 9), ("eu", 0, 9)], moving=True)
    top = [pid for _, pid in sorted((-s, p) for sl in pages for p, s, _ in sl.entries)]
    standing = await store.standing(record, "a")
    assert standing is not None
    window = await store.around(record, ("na", "eu"), "a", 5)
    assert window is not None
    around = [pid for _, pid in sorted((-s, p) for sl in window for p, s, _ in sl.entries)]
    assert standing.better_overall + 1 == top.index("a") + 1
    return top, standing.score, around


@pytest.fixture
async def store(primary: RedisProcess, replica: RedisProcess) -> AsyncIterator[Store]:
    s = Store.connect(primary.url, 4, 1.0, read_url=replica.url)
    yield s
    await s.close()


async def test_reads_come_from_the_replica_and_writes_go_to_redis(
    store: Store, primary: RedisProcess, replica: RedisProcess
) -> None:
    record = await board(store)
    wait_replicated(primary.url, replica.url)
    assert await views(store, record) == (["c", "b", "a"], 10, ["c", "b", "a"])
    with redis.Redis(port=replica.port) as r:  # the replica alone now says a leads
        r.config_set("replica-read-only", "no")
        r.zadd(record.zset("na"), {"a": -100})
    assert await views(store, record) == (["a", "c", "b"], 100, ["a", "c", "b"])
    assert await store.scores_of(record, ["a"]) == {"a": 10}  # Redis itself never changed


async def test_archived_periods_are_read_from_the_replica_too(
    store: Store, primary: RedisProcess, replica: RedisProcess
) -> None:
    record = await board(store)
    now = int(time.time() * 1000)
    fresh = await store.reset(record, now)
    await store.write(fresh, [("eu", [("a", 99, None)])], now, False)  # period 2's alone
    wait_replicated(primary.url, replica.url)
    archive = fresh.at(1)
    assert await store.holds_players(archive)
    assert await views(store, archive) == (["c", "b", "a"], 10, ["c", "b", "a"])
    with redis.Redis(port=replica.port) as r:  # the replica alone now says a leads
        r.config_set("replica-read-only", "no")
        r.zadd(archive.zset("na"), {"a": -100})
    assert await views(store, archive) == (["a", "c", "b"], 100, ["a", "c", "b"])
    assert (await store.standing(fresh.at(2), "a")).score == 99


def cut_off(replica: RedisProcess, record: BoardRecord, primary: RedisProcess) -> None:
    with redis.Redis(port=replica.port) as r:  # then it refuses reads with MASTERDOWN
        r.replicaof("127.0.0.1", free_port())


def refusing_scripts(replica: RedisProcess, record: BoardRecord, primary: RedisProcess) -> None:
    with redis.Redis(port=replica.port) as r:  # an error reply the service has no name for
        r.execute_command("ACL", "SETUSER", "default", "-evalsha")


def behind_a_config_change(
    replica: RedisProcess, record: BoardRecord, primary: RedisProcess
) -> None:
    """The replica keeps the board's old version; its scripts then answer STALE."""
    with redis.Redis(port=replica.port) as r:
        r.replicaof("no", "one")


FAILURES = {
    "stopped": lambda replica, record, primary: replica.stop(),
    "cut off from its master": cut_off,
    "refusing a command": refusing_scripts,
    "behind a config change": behind_a_config_change,
}


@pytest.mark.parametrize("how", FAILURES)
async def test_a_replica_that_cannot_answer_hands_reads_to_redis(
    store: Store, primary: RedisProcess, replica: RedisProcess, how: str
) -> None:
    record = await board(store)
    wait_replicated(primary.url, replica.url)
    FAILURES[how](replica, record, primary)
    if how == "behind a config change":
        await store.put_board(dataclasses.replace(record.config, top_events=10), record, 64)
        newer = await store.load_board("b")
        assert newer is not None and newer.version != record.version
        record = newer
    assert await views(store, record) == (["c", "b", "a"], 10, ["c", "b", "a"])


async def test_reads_go_back_to_a_replica_that_answers_again(
    store: Store, primary: RedisProcess, replica: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_store, "REPLICA_PAUSE", 0.3)
    record = await board(store)
    replica.stop()
    assert await views(store, record) == (["c", "b", "a"], 10, ["c", "b", "a"])
    replica.start()
    wait_replicated(primary.url, replica.url)
    with redis.Redis(port=replica.port) as r:  # the replica alone now says a leads
        r.config_set("replica-read-only", "no")
        r.zadd(record.zset("na"), {"a": -100})
    deadline = time.monotonic() + 10
    while (standing := await store.standing(record, "a")) is None or standing.score != 100:
        assert time.monotonic() < deadline, "reads never went back to the replica"
        await asyncio.sleep(0.05)
    assert await views(store, record) == (["a", "c", "b"], 100, ["a", "c", "b"])


async def test_a_replica_without_the_board_hands_reads_to_redis(
    tmp_path: Path, primary: RedisProcess
) -> None:
    """As a replica that has not yet received a new board or a board's new configuration:
    its scripts answer NOBOARD or STALE, and Redis itself answers instead."""
    empty = RedisProcess(tmp_path / "empty").start()
    store = Store.connect(primary.url, 4, 1.0, read_url=empty.url)
    try:
        record = await board(store)
        assert await views(store, record) == (["c", "b", "a"], 10, ["c", "b", "a"])
    finally:
        await store.close()
        empty.stop()


def test_the_read_url_names_a_replica_of_one_redis() -> None:
    env = {"LEADERBOARD_REDIS_READ_URL": "redis://127.0.0.1:7001"}
    with pytest.raises(SettingsError, match="needs LEADERBOARD_REDIS_URL"):
        Settings.from_env(env)
    with pytest.raises(SettingsError, match="no cluster"):
        Settings.from_env(
            env | {"LEADERBOARD_REDIS_URL": "redis://h:1", "LEADERBOARD_REDIS_CLUSTER": "1"}
        )
    with pytest.raises(SettingsError, match="must start"):
        Settings.from_env(
            {"LEADERBOARD_REDIS_URL": "redis://h:1", "LEADERBOARD_REDIS_READ_URL": "h:2"}
        )
    both = Settings.from_env(env | {"LEADERBOARD_REDIS_URL": "redis://h:1"})
    assert both.redis_read_url == "redis://127.0.0.1:7001"
