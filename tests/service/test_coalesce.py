"""Concurrent single posts share script calls and still answer each post on its own."""

from __future__ import annotations

import asyncio

import pytest

from leaderboard.domain import BoardConfig, Mode, Update
from leaderboard.errors import BoardNotFound, ScoreOutOfRange
from leaderboard.service import Service
from tests.redis_process import RedisTarget

REGIONS = ("na", "eu", "apac")


async def test_concurrent_posts_share_calls(service: Service, clean_redis: RedisTarget) -> None:
    await service.boards.put(BoardConfig("co", REGIONS))
    await service.scores.submit("co", Update("warm", "na", 0))
    before = clean_redis.command_calls("evalsha")
    posts = [Update(f"p{i:03d}", REGIONS[i % 3], i) for i in range(300)]
    answers = await asyncio.gather(*(service.scores.submit("co", u) for u in posts))
    assert clean_redis.command_calls("evalsha") - before < 60
    assert [a["score"] for a in answers] == list(range(300))
    assert all(a["updated"] for a in answers)
    for region in REGIONS:
        page = await service.views.top("co", region, 0, 1000)
        ranks = {e["player_id"]: e["rank"] for e in page["entries"]}
        mine = [a for a in answers if a["region"] == region]
        # Each post answered its rank when it was applied; later, better posts only push it down.
        assert all(a["rank"] <= ranks[a["player_id"]] for a in mine)
    assert (await service.boards.describe("co"))["players"]["global"] == 301


async def test_a_refused_post_does_not_fail_its_neighbours(service: Service) -> None:
    await service.boards.put(BoardConfig("co", REGIONS, mode=Mode.INCR))
    await service.scores.submit("co", Update("big", "eu", 2**53 - 2))
    posts = [Update(f"q{i}", "eu", 1) for i in range(20)]
    posts.insert(7, Update("big", "eu", 5))
    results = await asyncio.gather(
        *(service.scores.submit("co", u) for u in posts), return_exceptions=True
    )
    assert isinstance(results[7], ScoreOutOfRange)
    assert all(isinstance(r, dict) and r["score"] == 1 for i, r in enumerate(results) if i != 7)
    assert (await service.views.player("co", "big"))["score"] == 2**53 - 2


async def test_posts_to_a_missing_board_fail_alone(service: Service) -> None:
    with pytest.raises(BoardNotFound):
        await service.scores.submit("nope", Update("a", "na", 1))


async def test_posts_out_of_range_do_not_use_up_the_retries_of_the_others(
    service: Service,
) -> None:
    """Five refused posts flushed with a good one: each refusal is answered on its own and
    the good post is applied, however many refusals come before it."""
    await service.boards.put(BoardConfig("or", REGIONS, mode=Mode.INCR))
    await service.scores.submit("or", Update("x", "na", 2**53 - 2))
    posts = [Update("x", "na", 5)] * 5 + [Update("y", "na", 1)]
    answers = await asyncio.gather(
        *(service.scores.submit("or", u) for u in posts), return_exceptions=True
    )
    assert all(isinstance(a, ScoreOutOfRange) for a in answers[:5])
    assert answers[5]["score"] == 1
