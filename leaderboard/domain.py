"""Boards, modes, orders and ranks: the plain types and rules of the contract, no I/O."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NamedTuple

import orjson

from leaderboard.periods import Schedule

MAX_SCORE = 2**53 - 1
BOARD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
REGION_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
PLAYER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
GLOBAL = "global"
MAX_REGIONS = 64
MAX_BATCH = 10_000
MAX_BODY = 8 * 1024 * 1024  # bytes of a request body
MAX_PAGE = 1000  # entries of a top page or an events page, and the most top_events
MAX_NAME = 64
MAX_METADATA = 1024  # bytes of a player's metadata, compact JSON
MAX_WINDOW = 10_000  # offset + limit of a top page
MAX_RADIUS = 100
MAX_LOOKUP = 100  # player ids of one lookup
MAX_STREAM_PART = 2**64 - 1  # each part of a stream id, <ms>-<seq>
LAST_STREAM_ID = f"{MAX_STREAM_PART}-{MAX_STREAM_PART}"


def now_ms() -> int:
    """Unix milliseconds: the one clock of activity, events and moves."""
    return int(time.time() * 1000)


def crossing(placed: Iterable[tuple[str, str]]) -> bool:
    """Whether one player of these (player, region) pairs is written in two regions: its
    updates must then be applied in list order, not grouped by region."""
    home: dict[str, str] = {}
    return any(home.setdefault(player_id, region) != region for player_id, region in placed)


def incr_overflow(items: Iterable[tuple[str, int]], current: Mapping[str, int]) -> int | None:
    """The index of the first increment whose running total leaves ±MAX_SCORE, starting
    from ``current`` (absent players start at 0), or None when every total stays exact."""
    running = dict(current)
    for i, (player_id, delta) in enumerate(items):
        value = running.get(player_id, 0) + delta
        if abs(value) > MAX_SCORE:
            return i
        running[player_id] = value
    return None


class Order(StrEnum):
    DESC = "desc"
    ASC = "asc"


class Mode(StrEnum):
    BEST = "best"
    SET = "set"
    INCR = "incr"


@dataclass(frozen=True)
class BoardConfig:
    board: str
    regions: tuple[str, ...]
    order: Order = Order.DESC
    mode: Mode = Mode.BEST
    inactive_after_days: int = 30
    top_events: int = 100
    reset_every: Schedule = Schedule.NEVER
    keep_periods: int = 4

    def public(self) -> dict:
        return {
            "board": self.board,
            "regions": list(self.regions),
            "order": self.order.value,
            "mode": self.mode.value,
            "inactive_after_days": self.inactive_after_days,
            "top_events": self.top_events,
            "reset_every": self.reset_every.value,
            "keep_periods": self.keep_periods,
        }

    @property
    def sign(self) -> int:
        """Redis stores ``sign * score`` so that ascending order is always best-first."""
        return -1 if self.order is Order.DESC else 1


class Shown(NamedTuple):
    """What a game shows beside a player's score: its display name and its metadata (a
    JSON object, kept as its compact text); None where none was ever posted."""

    name: str | None = None
    metadata: str | None = None

    def public(self) -> dict:
        out: dict = {}
        if self.name is not None:
            out["name"] = self.name
        if self.metadata is not None:
            out["metadata"] = orjson.Fragment(self.metadata)
        return out


NOTHING_SHOWN = Shown()


class Update(NamedTuple):
    """A tuple, not a dataclass: batches build ten thousand of them per request."""

    player_id: str
    region: str
    score: int
    name: str | None = None
    metadata: str | None = None  # compact JSON text of an object

    @property
    def shown(self) -> Shown | None:
        """What the update sets of what is shown (None: nothing, both are kept)."""
        if self.name is None and self.metadata is None:
            return None
        return Shown(self.name, self.metadata)


@dataclass(frozen=True)
class Once:
    """A request sent with an Idempotency-Key: each of its chunks is marked where it is
    applied, so that a retry skips it. A mark names the request (its digest: another
    request with the key never matches it) and the chunk (the index of its first update);
    every attempt cuts the chunks as the first one did (``chunk`` updates at most)."""

    key: str
    digest: str
    ttl_ms: int
    chunk: int
    retry: bool = False  # an earlier attempt holds the key: it may have applied chunks
    marks: tuple[int, ...] = ()

    def marking(self, marks: Iterable[int]) -> Once:
        return replace(self, marks=tuple(marks))

    def mark(self, i: int) -> str:
        return f"{self.digest[:16]}:{self.marks[i]}"


@dataclass(frozen=True)
class Entry:
    rank: int
    player_id: str
    score: int
    region: str
    shown: Shown = NOTHING_SHOWN

    def public(self) -> dict:
        out = {
            "rank": self.rank,
            "player_id": self.player_id,
            "score": self.score,
            "region": self.region,
        }
        return out | self.shown.public()


def regions_problem(regions: object) -> str | None:
    """Why ``regions`` cannot be a board's list of regions, or None: one rule for a `PUT`
    body and for LEADERBOARD_DEFAULT_REGIONS (the names end up in Redis key hash tags)."""
    if (
        not isinstance(regions, list | tuple)
        or not 1 <= len(regions) <= MAX_REGIONS
        or not all(isinstance(r, str) and REGION_NAME.fullmatch(r) for r in regions)
    ):
        return f"must be a list of 1 to {MAX_REGIONS} names matching ^{REGION_NAME.pattern}$"
    if len(set(regions)) != len(regions):
        return "region names must be unique"
    if GLOBAL in regions:
        return "'global' is the merged scope, not a region"
    return None


def is_score(value: object) -> bool:
    return type(value) is int and -MAX_SCORE <= value <= MAX_SCORE


@dataclass(frozen=True)
class RegionSlice:
    """Consecutive entries of one region's list, with what ranks are computed from.

    ``start`` is the list position of the first entry, ``better`` the number of the
    region's players strictly better than the first entry (or than the player whose
    window this is, when there are no entries).
    """

    region: str
    start: int
    better: int
    total: int
    entries: list[tuple[str, int, Shown]]
    nameless: bool = False  # names were left out, and the region holds some


class Ranked(NamedTuple):
    """A player found by a lookup: its region, score and name, and how many players of
    the scope are strictly better."""

    player_id: str
    region: str
    score: int
    shown: Shown
    better: int


@dataclass(frozen=True)
class Standing:
    """A player's place on a board, as one store call reads it."""

    region: str
    score: int
    shown: Shown
    better_in_region: int
    better_overall: int
    total_in_region: int
    total_overall: int
