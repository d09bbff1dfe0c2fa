"""Merged global views from regional slices, held against sorting everything at once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from leaderboard.domain import RegionSlice, Shown
from leaderboard.service import merge

players = st.dictionaries(
    st.text("abAB0_-.", min_size=1, max_size=3),
    st.tuples(st.sampled_from(["na", "eu", "apac"]), st.integers(-3, 3)),
    max_size=30,
)


def ordered(board: dict, sign: int, region: str | None = None) -> list[tuple[str, int]]:
    ids = [p for p, (r, _) in board.items() if region in (None, r)]
    return sorted(((p, board[p][1]) for p in ids), key=lambda e: (sign * e[1], e[0]))


def expected(board: dict, sign: int, rows: list[tuple[str, int]]) -> list[tuple[int, str]]:
    return [
        (1 + sum(1 for _, s in board.values() if sign * s < sign * score), pid)
        for pid, score in rows
    ]


def region_slice(board: dict, sign: int, region: str, start: int, stop: int) -> RegionSlice:
    """What the page script answers for positions [start, stop] of one region."""
    rows = ordered(board, sign, region)
    entries = [(p, s, Shown()) for p, s in rows[start : stop + 1]]
    better = sum(1 for _, s in rows if entries and sign * s < sign * entries[0][1])
    return RegionSlice(region, start, better, len(rows), entries)


@given(players, st.sampled_from([1, -1]), st.integers(0, 12), st.integers(1, 6))
def test_global_top_page_is_the_page_of_the_whole_sorted_list(board, sign, offset, limit) -> None:
    slices = [region_slice(board, sign, r, 0, offset + limit - 1) for r in ("na", "eu", "apac")]
    page = merge.top_page(slices, sign, offset, limit)
    whole = ordered(board, sign)[offset : offset + limit]
    assert [(e.rank, e.player_id) for e in page] == expected(board, sign, whole)


@given(players, st.sampled_from([1, -1]), st.integers(0, 12), st.integers(1, 6))
def test_regional_page_ranks_count_ties_that_began_before_it(board, sign, offset, limit) -> None:
    region_board = {p: v for p, v in board.items() if v[0] == "na"}
    page = merge.top_page(
        [region_slice(board, sign, "na", offset, offset + limit - 1)], sign, offset, limit
    )
    whole = ordered(region_board, sign)[offset : offset + limit]
    assert [(e.rank, e.player_id) for e in page] == expected(region_board, sign, whole)


@given(players, st.sampled_from([1, -1]), st.integers(0, 4), st.data())
def test_window_is_the_neighbourhood_in_the_whole_sorted_list(board, sign, radius, data) -> None:
    if not board:
        return
    pid = data.draw(st.sampled_from(sorted(board)))
    key = (sign * board[pid][1], pid)
    slices = []
    for region in ("na", "eu", "apac"):
        rows = ordered(board, sign, region)
        position = sum(1 for p, s in rows if (sign * s, p) < key)
        here = 1 if board[pid][0] == region else 0
        start = max(0, position - radius)
        cut = region_slice(board, sign, region, start, position + here + radius - 1)
        if not cut.entries:
            better = sum(1 for _, s in rows if sign * s < key[0])
            cut = RegionSlice(region, start, better, cut.total, [])
        slices.append(cut)
    whole = ordered(board, sign)
    i = whole.index((pid, board[pid][1]))
    got = merge.window(slices, sign, pid, radius)
    want = whole[max(0, i - radius) : i + radius + 1]
    assert [(e.rank, e.player_id) for e in got] == expected(board, sign, want)
