"""Refused writes change nothing: no score, no activity, no event in any stream."""

from __future__ import annotations

import pytest

from leaderboard.domain import MAX_SCORE, BoardConfig, Mode, Update
from leaderboard.errors import ScoreOutOfRange
from leaderboard.service import Service
from leaderboard.store import Store

REGIONS = ("na", "eu")


async def stream_lengths(store: Store, board: str) -> dict[str, int]:
    record = await store.load_board(board)
    assert record is not None
    return {
        scope: len(await store.events(record, scope, "0", 1000)) for scope in ("global", *REGIONS)
    }


@pytest.mark.parametrize("region", ["na", "eu"], ids=["same-region", "moving"])
async def test_an_incr_refused_out_of_range_writes_no_event(
    service: Service, store: Store, region: str
) -> None:
    """A player at the top of na, pushed beyond the range from na or from eu (a move)."""
    await service.boards.put(BoardConfig("r", REGIONS, mode=Mode.INCR, top_events=10))
    await service.scores.submit("r", Update("p1", "na", MAX_SCORE - 1))
    await service.scores.submit("r", Update("p2", "na", 5))
    before = await stream_lengths(store, "r")
    with pytest.raises(ScoreOutOfRange):
        await service.scores.submit("r", Update("p1", region, 2))
    assert await stream_lengths(store, "r") == before
    assert (await service.views.player("r", "p1"))["score"] == MAX_SCORE - 1


async def test_an_incr_of_a_player_in_another_region_counts_from_its_score_there(
    service: Service,
) -> None:
    """The fast path of eu does not hold p1: it must not judge the range from zero."""
    await service.boards.put(BoardConfig("r", REGIONS, mode=Mode.INCR))
    await service.scores.submit("r", Update("p1", "na", -MAX_SCORE + 4))
    batch = [Update("p1", "eu", 4), Update("p1", "eu", MAX_SCORE - 1)]
    assert await service.scores.submit_batch("r", batch) == 2
    assert (await service.views.player("r", "p1"))["score"] == 7
