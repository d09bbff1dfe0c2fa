"""Key names. Every key of one (board, region) shares the hash tag ``{board:region}``.

| key                              | type   | holds                                        |
|----------------------------------|--------|----------------------------------------------|
| lb:boards                        | set    | ids of all boards                            |
| lb:{B}:cfg                       | hash   | board config, activity bucket count, version |
| lb:{B:R}:m                       | hash   | version, mode, buckets (checked by scripts)  |
| lb:{B:R}:z                       | zset   | player -> internal score (lower is better)   |
| lb:{B:R}:a:<n>                   | hash   | player -> last activity, unix seconds        |
| lb:{B:R}:n:<n>                   | hash   | player -> display name                       |
| lb:{B:R}:named                   | string | present once any player of R has a name      |
| lb:{B:R}:ev                      | stream | top-N events of region R                     |
| lb:{B:R}:out                     | hash   | player -> move record, while it leaves R     |
| lb:{B:R}:in                      | hash   | player -> move token, once it arrived in R   |
| lb:{B:R}:hold                    | string | batch whose later chunks wait (expires)      |
| lb:{B:R}:cleanup-lock            | string | token of the cleanup running on B (expires)  |
| lb:{B}:z                         | zset   | global mirror: players inside their region's |
|                                  |        | top N; its first N are the global top N      |
| lb:{B}:top:<R>                   | zset   | the mirror's copy of region R's top N        |
| lb:{B}:seq                       | hash   | region -> last top-N snapshot applied        |
| lb:{B}:ev                        | stream | top-N events of the global scope             |
| lb:{B}:locks                     | hash   | player -> lock of a write that may move it   |
| lb:{B}:deleting                  | hash   | regions, buckets of a deletion under way     |

On a Redis Cluster a slot is a hash tag: each region's keys live together, and the board's
own keys together in another slot. ``R`` in ``{B:R}`` is the region's tag: its name and a
number, ``na#3``, chosen when the region is added so that a board's regions sit on slots
spread evenly over 0..16383 (see place), hence on different masters of an evenly split
cluster; ``lb:{B}:top:<R>`` and ``lb:{B}:seq`` use the plain name. Boards created before
tags existed use the bare name as the tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

REGISTRY = "lb:boards"


def config(board: str) -> str:
    return f"lb:{{{board}}}:cfg"


def region_base(board: str, region: str) -> str:
    return f"lb:{{{board}:{region}}}:"


def board_base(board: str) -> str:
    return f"lb:{{{board}}}:"


def global_mirror(board: str) -> str:
    return board_base(board) + "z"


def top_copy(board: str, region: str) -> str:
    return board_base(board) + f"top:{region}"


def sequences(board: str) -> str:
    return board_base(board) + "seq"


def player_locks(board: str) -> str:
    return board_base(board) + "locks"


def outs(board: str, region: str) -> str:
    """Players on their way out of the region, to another one (see pull.lua)."""
    return region_base(board, region) + "out"


def ins(board: str, region: str) -> str:
    """Players that arrived from another region, until their move is settled."""
    return region_base(board, region) + "in"


def cleanup_lock(board: str, region: str) -> str:
    """Held in every region of a board by the one cleanup running on it."""
    return region_base(board, region) + "cleanup-lock"


def deleting(board: str) -> str:
    """Regions and bucket count of a deletion still under way."""
    return board_base(board) + "deleting"


def stream(board: str, scope: str) -> str:
    """The event stream of a scope: a region's, or ``global``."""
    if scope == "global":
        return board_base(board) + "ev"
    return region_base(board, scope) + "ev"


def zset(board: str, region: str) -> str:
    return region_base(board, region) + "z"


def meta(board: str, region: str) -> str:
    return region_base(board, region) + "m"


def region_keys(board: str, region: str, buckets: int) -> list[str]:
    """Every key a region may hold, for deleting a board without a keyspace scan."""
    base = region_base(board, region)
    fixed = [base + s for s in ("z", "m", "named", "ev", "out", "in", "hold", "cleanup-lock")]
    return fixed + [f"{base}{kind}:{n}" for kind in ("a", "n") for n in range(buckets)]


def board_keys(board: str, regions: list[str]) -> list[str]:
    """The board's own keys (one slot), but the config and the deletion marker."""
    fixed = [global_mirror(board), stream(board, "global"), sequences(board), player_locks(board)]
    return fixed + [top_copy(board, r) for r in regions]


def place(board: str, regions: Sequence[str], kept: Mapping[str, str]) -> tuple[str, ...]:
    """Tags for a board's regions: ``kept`` ones stay (their keys hold data), each new one
    gets the first ``name#k`` whose slot falls in the emptiest of len(regions) equal slices
    of the slot range, so that regions spread over the masters however many there are."""
    width = REDIS_CLUSTER_HASH_SLOTS / len(regions)

    def part(tag: str) -> int:
        return int(key_slot(f"{{{board}:{tag}}}".encode()) // width)

    used = [0] * len(regions)
    for tag in kept.values():
        used[part(tag)] += 1
    tags = []
    for region in regions:
        if region in kept:
            tags.append(kept[region])
            continue
        target = used.index(min(used))
        used[target] += 1
        k = 0
        while part(f"{region}#{k}") != target:
            k += 1
        tags.append(f"{region}#{k}")
    return tuple(tags)
