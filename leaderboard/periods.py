"""Periods (seasons): which period an instant belongs to, and when each one started.

A board keeps a short history of anchors: each says that period ``period`` began at
``start`` (unix ms) and that boundaries then follow ``every``. A board starts with one;
a manual reset or a change of ``reset_every`` adds one. The number of an instant's period
is the anchor's plus the boundaries of its schedule passed since the anchor's start.
The region scripts compute the same number from the same anchor (``period_at`` in
store/lua/_lib.lua), so that a boundary is exact whichever process writes across it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
MAX_KEPT = 100  # archived periods a board may keep
MAX_ANCHORS = 128  # anchors a board keeps (each manual reset or schedule change adds one)


class Schedule(StrEnum):
    NEVER = "never"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def boundary_index(t_ms: int, every: Schedule) -> int:
    """How many boundaries of ``every`` lie between the epoch and ``t_ms`` (UTC)."""
    if every is Schedule.NEVER:
        return 0
    if every is Schedule.HOURLY:
        return t_ms // HOUR_MS
    day = t_ms // DAY_MS
    if every is Schedule.DAILY:
        return day
    if every is Schedule.WEEKLY:
        return (day + 3) // 7  # 1970-01-01 was a Thursday: weeks start on Mondays
    when = dt.datetime.fromtimestamp(t_ms / 1000, dt.UTC)
    return when.year * 12 + when.month - 1


def boundary_start(index: int, every: Schedule) -> int:
    """The instant (unix ms) boundary ``index`` of ``every`` falls on."""
    if every is Schedule.HOURLY:
        return index * HOUR_MS
    if every is Schedule.DAILY:
        return index * DAY_MS
    if every is Schedule.WEEKLY:
        return (index * 7 - 3) * DAY_MS
    if every is Schedule.MONTHLY:
        year, month = divmod(index, 12)
        return calendar.timegm((year, month + 1, 1, 0, 0, 0)) * 1000
    raise ValueError("a board that never resets has no boundaries")


class Anchor(NamedTuple):
    period: int
    start: int  # unix ms
    every: Schedule
    origin: int  # unix ms: boundaries are counted from here

    def encode(self) -> str:
        return f"{self.period}:{self.start}:{self.every.value}:{self.origin}"

    @classmethod
    def decode(cls, text: str) -> Anchor:
        period, start, every, origin = text.split(":")
        return cls(int(period), int(start), Schedule(every), int(origin))

    def period_at(self, t_ms: int) -> int:
        if t_ms <= self.origin:
            return self.period
        passed = boundary_index(t_ms, self.every) - boundary_index(self.origin, self.every)
        return self.period + passed

    def start_of(self, period: int) -> int:
        """When ``period`` (at or after this anchor's) began under this anchor (a later one
        under ``never`` is one a clock running ahead entered: its anchor's start)."""
        if period == self.period or self.every is Schedule.NEVER:
            return self.start
        index = boundary_index(self.origin, self.every) + period - self.period
        return boundary_start(index, self.every)


FIRST = Anchor(1, 0, Schedule.NEVER, 0)  # boards from before periods: period 1 for ever


def encode_anchors(anchors: Sequence[Anchor]) -> str:
    return ",".join(a.encode() for a in anchors[-MAX_ANCHORS:])


def decode_anchors(text: str | None) -> tuple[Anchor, ...]:
    return tuple(Anchor.decode(a) for a in text.split(",")) if text else (FIRST,)


def anchor_of(anchors: Sequence[Anchor], period: int) -> Anchor:
    """The anchor ``period`` began under: the newest one not after it."""
    return next((a for a in reversed(anchors) if a.period <= period), anchors[0])


def started_at(anchors: Sequence[Anchor], period: int) -> int:
    return anchor_of(anchors, period).start_of(period)


def ends_at(anchors: Sequence[Anchor], period: int) -> int | None:
    """When ``period`` ends (or ended): the next one's start; None for a current period
    that never ends on its own."""
    anchor = anchor_of(anchors, period + 1)
    if anchor.period <= period and anchor.every is Schedule.NEVER:
        return None
    return anchor.start_of(period + 1)


def rebased(
    anchors: Sequence[Anchor], now: int, every: Schedule, period: int
) -> tuple[Anchor, ...]:
    """The anchors after ``reset_every`` became ``every`` at ``now``, in ``period``: the
    current period keeps its start and ends at the new schedule's next boundary."""
    if anchors[-1].every is every:
        return tuple(anchors)
    return (*anchors, Anchor(period, started_at(anchors, period), every, now))


def reset(anchors: Sequence[Anchor], now: int, period: int) -> tuple[Anchor, ...]:
    """The anchors after a manual reset at ``now`` that starts ``period``."""
    return (*anchors, Anchor(period, now, anchors[-1].every, now))


def rfc3339(t_ms: int | None) -> str | None:
    if t_ms is None:
        return None
    when = dt.datetime.fromtimestamp(t_ms / 1000, dt.UTC)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if t_ms % 1000:
        text += f".{t_ms % 1000:03d}"
    return text + "Z"
