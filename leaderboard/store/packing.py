"""How the store's connections are made: commands packed by hiredis, in C (redis-py's
asyncio connections pack them in Python), and a pool that times its waits.

redis-py's synchronous client packs with hiredis when it is installed, its asyncio client
never does; for a 1,000-update batch that packing was more than half of the server's
Python time (loadtests/HISTORY.md). hiredis comes with the ``redis[hiredis]`` dependency.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection


class HiredisPacking:
    def pack_command(self, *args: Any) -> list[bytes]:
        if isinstance(args[0], str) and " " in args[0]:
            args = (*args[0].split(), *args[1:])  # "SCRIPT LOAD" is two words to Redis
        return [hiredis.pack_command(args)]


def packed_by_hiredis(cls: type[AbstractConnection]) -> type[AbstractConnection]:
    """``cls`` (TCP, TLS or Unix socket) with its commands packed by hiredis."""
    return type(f"Hiredis{cls.__name__}", (HiredisPacking, cls), {})


def cluster_packed_by_hiredis(client: RedisCluster) -> RedisCluster:
    """The same for a cluster client, which takes no connection class: its seed nodes
    have theirs, and the nodes it discovers take the one in its connection kwargs."""
    fast = packed_by_hiredis(client.connection_kwargs["connection_class"])
    client.connection_kwargs["connection_class"] = fast
    for node in client.nodes_manager.startup_nodes.values():
        node.connection_class = fast
    return client


class TimedPool(aioredis.BlockingConnectionPool):
    """A blocking pool that tells how long each caller waited for a connection (a free
    one, or a new one connecting): a pool too small for the load shows there first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waited: Callable[[float], None] = lambda seconds: None

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        connection = await super().get_connection(*args, **kwargs)
        self.waited(time.perf_counter() - started)
        return connection
