"""The Redis the tests run on: a cluster is ready before the first test, `keys()`, `dump()`
and `flush()` reach every node, a failover can be waited for, and no process is left."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from redis.crc import key_slot

from tests.redis_process import RedisClusterProcess, RedisTarget

# Hash tags on different slots: spread over 3 masters, each master holds some of them.
TAGS = ("a", "b", "c", "d", "e", "f", "g", "h")


def gone(pid: int) -> bool:
    """Whether no process has this PID any more (stop() waits for it, so no zombie is left)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_keys_on_every_node_are_seen_dumped_and_flushed(clean_redis: RedisTarget) -> None:
    names = {f"{{{tag}}}:k" for tag in TAGS}
    with clean_redis.client() as r:
        for name in names:
            r.set(name, name)
    assert clean_redis.keys() == names
    assert set(clean_redis.dump()) == names
    holders = [node for node in clean_redis.masters() if node.keys()]
    assert len(holders) == (3 if clean_redis.cluster else 1)
    clean_redis.flush()
    assert clean_redis.keys() == set()


def test_a_cluster_is_ready_before_the_first_test(redis_server: RedisTarget) -> None:
    """On standalone, only that it answers: it has no cluster state to check."""
    assert len(redis_server.masters()) == (3 if redis_server.cluster else 1)
    if isinstance(redis_server, RedisClusterProcess):
        assert redis_server.ready()
        for node in redis_server.nodes:
            assert redis_server.info(node)["cluster_state"] == "ok"
    with redis_server.client() as r:
        assert r.ping()


@pytest.mark.redis_cluster
def test_a_replica_takes_over_and_every_node_stops(tmp_path: Path) -> None:
    cluster = RedisClusterProcess(tmp_path, replicas=1).start()
    pids = cluster.pids
    try:
        assert len(pids) == 6
        with cluster.client() as r:
            r.set("{x}:k", "kept")
            r.wait(1, 1000)
        master, replica = cluster.owner("{x}:k")
        assert replica is not None
        master.stop()
        cluster.wait_promoted(replica)
        assert cluster.owner("{x}:k")[0] is replica
        with cluster.client() as r:
            assert r.get("{x}:k") == b"kept"
    finally:
        cluster.stop()
    assert all(gone(pid) for pid in pids)


@pytest.mark.redis_cluster
def test_two_masters_take_the_slots_they_are_cut_at(tmp_path: Path) -> None:
    """Below three masters the fixture assigns the slots itself (the benchmarks' 2-master
    cluster): every slot served, each master from its cut on."""
    slots = {tag: key_slot(f"{{{tag}}}:k".encode()) for tag in TAGS}
    cut = sorted(slots.values())[len(TAGS) // 2]
    cluster = RedisClusterProcess(tmp_path, masters=2, cuts=[cut]).start()
    pids = cluster.pids
    try:
        assert len(cluster.masters()) == 2
        with cluster.client() as r:
            for tag in TAGS:
                r.set(f"{{{tag}}}:k", tag)
        low, high = cluster.nodes
        assert low.keys() == {f"{{{t}}}:k" for t, slot in slots.items() if slot < cut}
        assert high.keys() == {f"{{{t}}}:k" for t, slot in slots.items() if slot >= cut}
    finally:
        cluster.stop()
    assert all(gone(pid) for pid in pids)
