"""Each script's answer, decoded once into a named value. The order of the fields is the
one the script's header comment gives; nothing else in the store reads a reply by index."""

from __future__ import annotations

from typing import Any, NamedTuple

Entry = tuple[str, int, str | None]  # player id, public score, name


def entries(flat: list[Any], sign: int) -> list[Entry]:
    """Flat id, internal score, name triples as (id, public score, name)."""
    return [(flat[i], sign * int(flat[i + 1]), flat[i + 2] or None) for i in range(0, len(flat), 3)]


class Records(NamedTuple):
    """A region's move records as HGETALL gives them (see moving_slices)."""

    region: str
    outs: list[str]
    ins: list[str]


class Page(NamedTuple):
    """page.lua: one region's slice of a top page."""

    total: int
    better: int
    entries: list[Entry]
    records: Records
    moves: int

    @classmethod
    def decode(cls, region: str, reply: list[Any], sign: int) -> Page:
        total, better, flat, outs, ins, moves = reply
        return cls(
            int(total), int(better), entries(flat, sign), Records(region, outs, ins), int(moves)
        )


class Presence(NamedTuple):
    """player.lua, per region: the player's internal score and name there (None when the
    region does not hold it), the entries better than its score, and the region's size."""

    score: int | None
    name: str | None
    better: int
    total: int
    records: Records
    moves: int

    @classmethod
    def decode(cls, region: str, reply: list[Any]) -> Presence:
        score, name, better, total, outs, ins, moves = reply
        return cls(
            None if score is None else int(score),
            name or None,
            int(better),
            int(total),
            Records(region, outs, ins),
            int(moves),
        )


class Window(NamedTuple):
    """around.lua, per region: the window's first list position, the entries better than
    its first entry, the entries."""

    start: int
    better: int
    entries: list[Entry]
    moves: int

    @classmethod
    def decode(cls, reply: list[Any], sign: int) -> Window:
        start, better, flat, moves = reply
        return cls(int(start), int(better), entries(flat, sign), int(moves))


class Written(NamedTuple):
    """write.lua: the players it did not hold (then nothing was applied), (score, updated,
    better) per update when asked, and its top-N snapshot."""

    absent: list[str]
    ranks: list[tuple[int, bool, int]]
    snapshot: list[Any]

    @classmethod
    def decode(cls, reply: list[Any], sign: int) -> Written:
        absent, flat, snapshot = reply
        ranks = [
            (sign * int(flat[j]), bool(flat[j + 1]), int(flat[j + 2]))
            for j in range(0, len(flat), 3)
        ]
        return cls(absent, ranks, snapshot)


class Claimed(NamedTuple):
    """What an Idempotency-Key holds: the digest of its first request, and that request's
    answer once there is one (the two joined by a newline)."""

    digest: str
    answer: str | None

    @classmethod
    def decode(cls, raw: str) -> Claimed:
        digest, _, answer = raw.partition("\n")
        return cls(digest, answer or None)


class Pulled(NamedTuple):
    """pull.lua: what it took out of its region, and its top-N snapshot."""

    found: list[tuple[str, int, str, str]]  # player, internal score, name, record origin
    snapshot: list[Any]

    @classmethod
    def decode(cls, reply: list[Any]) -> Pulled:
        flat, snapshot = reply
        found = [
            (flat[j], int(flat[j + 1]), flat[j + 2], flat[j + 3]) for j in range(0, len(flat), 4)
        ]
        return cls(found, snapshot)


class BoardPut(NamedTuple):
    """put_board.lua: whether the board is new, its version and buckets, and whether the
    global mirror was emptied and must be rebuilt."""

    created: bool
    version: int
    buckets: int
    rebuild: bool

    @classmethod
    def decode(cls, reply: list[Any]) -> BoardPut:
        created, version, buckets, rebuild = reply
        return cls(bool(int(created)), int(version), int(buckets), bool(int(rebuild)))


class Swept(NamedTuple):
    """cleanup.lua: the next bucket to read (-1 when the region is done), the players it
    removed and examined, and its top-N snapshot."""

    next: int
    removed: int
    examined: int
    snapshot: list[Any]

    @classmethod
    def decode(cls, reply: list[Any]) -> Swept:
        next_bucket, removed, examined, snapshot = reply
        return cls(int(next_bucket), int(removed), int(examined), snapshot)
