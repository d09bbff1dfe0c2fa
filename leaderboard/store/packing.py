"""Commands packed by hiredis, in C: redis-py's asyncio connections pack them in Python.

redis-py's synchronous client packs with hiredis when it is installed, its asyncio client
never does; for a 1,000-update batch that packing was more than half of the server's
Python time (loadtests/HISTORY.md). hiredis comes with the ``redis[hiredis]`` dependency.
"""

from __future__ import annotations

from typing import Any

import hiredis
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
