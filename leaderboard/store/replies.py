"""Each script's answer, decoded once into a named value. The order of the fields is the
one the script's header comment gives; nothing else in the store reads a reply by index."""

from __future__ import annotations

from typing import Any, NamedTuple

from leaderboard.domain import Shown
from leaderboard.store.shown import shown_from

Entry = tuple[str, int, Shown]  # player id, public score, what is shown


def entries(flat: list[Any], sign: int) -> list[Entry]:
    """Flat id, internal score, name triples as (id, public score, what is shown)."""
    return [
        (flat[i], sign * int(flat[i + 1]), shown_from(flat[i + 2])) for i in range(0, len(flat), 3)
    ]


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
    nameless: bool

    @classmethod
    def decode(cls, region: str, reply: list[Any], sign: int) -> Page:
        total, better, flat, outs, ins, moves, nameless = reply
        records = Records(region, outs, ins)
        return cls(int(total), int(better), entries(flat, sign), records, int(moves), nameless == 1)


class Presence(NamedTuple):
    """player.lua, per region: the player's internal score and what is shown of it there
    (None and nothing when the region does not hold it), the entries better than its
    score, and the region's size."""

    score: int | None
    shown: Shown
    better: int
    total: int
    records: Records
    moves: int

    @classmethod
    def decode(cls, region: str, reply: list[Any]) -> Presence:
        score, name, better, total, outs, ins, moves = reply
        return cls(
            None if score is None else int(score),
            shown_from(name),
            int(better),
            int(total),
            Records(region, outs, ins),
            int(moves),
        )


class Looked(NamedTuple):
    """lookup.lua: the players a zset of the call holds, as (id, region's place in the
    call (0-based), internal score, what is shown, entries strictly better in the call's
    regions),
    and per region its size, move records and move count."""

    found: list[tuple[str, int, int, Shown, int]]
    totals: list[int]
    records: list[Records]
    moves: list[int]

    @classmethod
    def decode(cls, regions: list[str], reply: list[Any]) -> Looked:
        flat, per_region = reply
        found = [
            (
                flat[j],
                int(flat[j + 1]) - 1,
                int(flat[j + 2]),
                shown_from(flat[j + 3]),
                int(flat[j + 4]),
            )
            for j in range(0, len(flat), 5)
        ]
        return cls(
            found,
            [int(total) for total, _, _, _ in per_region],
            [
                Records(r, outs, ins)
                for r, (_, outs, ins, _) in zip(regions, per_region, strict=True)
            ],
            [int(moves) for _, _, _, moves in per_region],
        )


class Window(NamedTuple):
    """around.lua, per region: the window's first list position, the entries better than
    its first entry, the entries, and whether their names were left out."""

    start: int
    better: int
    entries: list[Entry]
    moves: int
    nameless: bool

    @classmethod
    def decode(cls, reply: list[Any], sign: int) -> Window:
        start, better, flat, moves, nameless = reply
        return cls(int(start), int(better), entries(flat, sign), int(moves), nameless == 1)


class Written(NamedTuple):
    """write.lua: the players it did not hold (then nothing was applied), (score, updated,
    better) per update when asked, its top-N snapshot and the period it wrote (or would)."""

    absent: list[str]
    ranks: list[tuple[int, bool, int]]
    snapshot: list[Any]
    period: int

    @classmethod
    def decode(cls, reply: list[Any], sign: int) -> Written:
        absent, flat, snapshot, period = reply
        ranks = [
            (sign * int(flat[j]), bool(flat[j + 1]), int(flat[j + 2]))
            for j in range(0, len(flat), 3)
        ]
        return cls(absent, ranks, snapshot, int(period))


class Claimed(NamedTuple):
    """What an Idempotency-Key holds: the digest of its first request and the chunk size
    it was cut with, then that request's answer once there is one ("<digest> <chunk>",
    a newline, the answer)."""

    digest: str
    chunk: int
    answer: str | None

    @classmethod
    def decode(cls, raw: str) -> Claimed:
        holder, _, answer = raw.partition("\n")
        digest, _, chunk = holder.partition(" ")
        return cls(digest, int(chunk), answer or None)


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
    """put_board.lua: whether the board is new, its version, buckets and bucket hash, and
    whether the global mirror was emptied and must be rebuilt."""

    created: bool
    version: int
    buckets: int
    rebuild: bool
    hashing: str

    @classmethod
    def decode(cls, reply: list[Any]) -> BoardPut:
        created, version, buckets, rebuild, hashing = reply
        return cls(bool(int(created)), int(version), int(buckets), bool(int(rebuild)), hashing)


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
