"""A board's configuration as the store keeps it, and the keys of its regions.

A record names one period's keys (``period``): the store reads and writes the period its
caller chose with ``at``, the current one for everything but reads of an archive."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from leaderboard.domain import GLOBAL, BoardConfig, Mode, Order
from leaderboard.periods import FIRST, Anchor, Schedule, decode_anchors
from leaderboard.store import buckets, keys


@dataclass(frozen=True)
class BoardRecord:
    """A board's configuration as stored, with what only the store cares about."""

    config: BoardConfig
    version: int
    buckets: int

    tags: tuple[str, ...] = ()  # per region, see keys.place; () for boards from before tags
    anchors: tuple[Anchor, ...] = (FIRST,)  # see periods.py
    period: int = 1
    reset_mark: str = ""  # of the last idempotent reset (put_board.lua)
    hashing: str = buckets.FNV1A  # of player ids to buckets, see buckets.py

    @property
    def bucket(self) -> Callable[[str], int]:
        """A player id's activity and name bucket."""
        return buckets.hasher(self.hashing, self.buckets)

    def at(self, period: int) -> BoardRecord:
        return self if period == self.period else replace(self, period=period)

    def current(self, now: int) -> int:
        """The period ``now`` (unix ms) belongs to."""
        return self.anchors[-1].period_at(now)

    @functools.cached_property
    def _tags(self) -> dict[str, str]:
        return dict(zip(self.config.regions, self.tags or self.config.regions, strict=True))

    def tag(self, region: str) -> str:
        return self._tags[region]

    def zset(self, region: str) -> str:
        return keys.zset(self.config.board, self.tag(region), self.period)

    def meta(self, region: str) -> str:
        return keys.meta(self.config.board, self.tag(region))

    def outs(self, region: str) -> str:
        return keys.outs(self.config.board, self.tag(region), self.period)

    def ins(self, region: str) -> str:
        return keys.ins(self.config.board, self.tag(region), self.period)

    def archives(self, region: str) -> str:
        return keys.archives(self.config.board, self.tag(region))

    def once(self, region: str, key: str) -> str:
        return keys.once(self.config.board, self.tag(region), key)

    def cleanup_lock(self, region: str) -> str:
        return keys.cleanup_lock(self.config.board, self.tag(region))

    def stream(self, scope: str) -> str:
        tag = scope if scope == GLOBAL else self.tag(scope)
        return keys.stream(self.config.board, tag)

    def script_keys(self, region: str) -> list[str]:
        """What the region scripts that see moves take first: meta, zset, outs, ins."""
        return [self.meta(region), self.zset(region), self.outs(region), self.ins(region)]

    def window_keys(self, region: str) -> list[str]:
        """What around.lua takes per region: meta, zset."""
        return [self.meta(region), self.zset(region)]

    def zsets(self, regions: Sequence[str] | None = None) -> list[str]:
        return [self.zset(r) for r in (regions or self.config.regions)]


def record_from(board: str, raw: dict[str, str]) -> BoardRecord | None:
    if not raw:
        return None
    config = BoardConfig(
        board=board,
        regions=tuple(raw["regions"].split(",")),
        order=Order(raw["order"]),
        mode=Mode(raw["mode"]),
        inactive_after_days=int(raw["inactive_after_days"]),
        top_events=int(raw["top_events"]),
        reset_every=Schedule(raw.get("reset_every", Schedule.NEVER.value)),
        keep_periods=int(raw.get("keep_periods", BoardConfig.keep_periods)),
    )
    tags = tuple(raw["tags"].split(",")) if raw.get("tags") else ()
    anchors = decode_anchors(raw.get("anchors"))
    version, count = int(raw["version"]), int(raw["buckets"])
    hashing = raw.get("hash", buckets.FNV1A)
    return BoardRecord(config, version, count, tags, anchors, 1, raw.get("reset", ""), hashing)
