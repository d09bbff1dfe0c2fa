"""Which activity and name bucket a player id falls in: the hash every region script
computes (``bucket_of`` in _lib.lua), and the store computes for writes and loads.

A board keeps the hash it was created with (field ``hash`` of its config). New boards
take ``radix``: the id's UTF-8 bytes read as one big number modulo a prime, then
multiplied by a constant modulo that prime, which Python computes at C speed
(``int.from_bytes``) and Lua in exact double arithmetic. Boards from before it keep
32-bit FNV-1a, which costs Python about three times as much per id; write.lua takes the
bucket from its caller either way, so a write's Redis time no longer pays for the hash.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

FNV1A = "fnv1a"
RADIX = "radix"
NEW_BOARDS = RADIX
PRIME = 67108859  # below 2**26: a byte shifted in, or the multiplier applied, stays exact
MULTIPLIER = 48271


def fnv1a(data: bytes) -> int:
    h = 2166136261
    for byte in data:
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def radix(data: bytes) -> int:
    return int.from_bytes(data, "big") % PRIME * MULTIPLIER % PRIME


HASHES: dict[str, Callable[[bytes], int]] = {FNV1A: fnv1a, RADIX: radix}


@functools.cache
def hasher(hashing: str, buckets: int) -> Callable[[str], int]:
    """The bucket of a player id, for one board's hash and bucket count."""
    hash_of = HASHES[hashing]

    def bucket_of(player_id: str) -> int:
        return hash_of(player_id.encode()) % buckets

    return bucket_of
