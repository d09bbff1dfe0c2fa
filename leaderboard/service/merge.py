"""Global views from regional slices: k-way merge and competition ranks.

Every region keeps its players ordered by (internal score, player id), so the merged
list is a plain k-way merge, and a player's rank is 1 + the number of players, summed
over regions, with a strictly better score.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from itertools import islice

from leaderboard.domain import Entry, RegionSlice, Shown

Row = tuple[int, str, Shown, str]  # internal score, player id, what is shown, region


def merged(slices: Sequence[RegionSlice], sign: int) -> Iterator[Row]:
    """The entries of the slices in list order (ties by player id, byte-wise), lazily."""
    lists = [
        [(sign * score, pid, name, s.region) for pid, score, name in s.entries] for s in slices
    ]
    # Rows compare by (score, id) first, and ids are unique: plain tuple order is list order.
    return heapq.merge(*lists)


class RankCounter:
    """Counts players strictly better than a score from what the slices know.

    A slice holds consecutive entries of its region from list position ``start``; the
    ones before it are all at least as good as its first entry, and ``better`` of them
    are strictly better. For a score above the first entry, every earlier entry counts;
    otherwise exactly ``better`` do. Only scores of the slices' own entries (or of the
    player a window is centred on) are asked for, which is what makes this exact.
    """

    def __init__(self, slices: Sequence[RegionSlice], sign: int) -> None:
        self._parts = [
            (s.start, s.better, [sign * score for _, score, _ in s.entries]) for s in slices
        ]

    def better_than(self, internal: int) -> int:
        count = 0
        for start, better, scores in self._parts:
            if scores and scores[0] < internal:
                count += start + bisect_left(scores, internal)
            else:
                count += better
        return count


def ranked(rows: Sequence[Row], counter: RankCounter, sign: int) -> list[Entry]:
    out: list[Entry] = []
    last, rank = None, 0
    for internal, pid, name, region in rows:
        if internal != last:
            last, rank = internal, 1 + counter.better_than(internal)
        out.append(Entry(rank, pid, sign * internal, region, name))
    return out


def top_page(slices: Sequence[RegionSlice], sign: int, offset: int, limit: int) -> list[Entry]:
    """The page [offset, offset + limit) of the merged list.

    Regional slices start at ``offset`` already: their ranks are counted. Global ones
    hold each region's top ``offset + limit`` (and every player between regions), so
    their merge is the list itself from its first entry, and a rank is 1 + the position
    of the first entry with that score: no counting.
    """
    skip = offset - min(s.start for s in slices)
    if any(s.start for s in slices):
        rows = list(islice(merged(slices, sign), skip, skip + limit))
        return ranked(rows, RankCounter(slices, sign), sign)
    out: list[Entry] = []
    last, rank = None, 0
    for position, (internal, pid, name, region) in enumerate(
        islice(merged(slices, sign), skip + limit)
    ):
        if internal != last:
            last, rank = internal, position + 1
        if position >= skip:
            out.append(Entry(rank, pid, sign * internal, region, name))
    return out


def window(slices: Sequence[RegionSlice], sign: int, player_id: str, radius: int) -> list[Entry]:
    """The player's entry with up to ``radius`` entries on each side, in list order."""
    rows = list(merged(slices, sign))
    here = next(i for i, row in enumerate(rows) if row[1] == player_id)
    chosen = rows[max(0, here - radius) : here + radius + 1]
    return ranked(chosen, RankCounter(slices, sign), sign)
