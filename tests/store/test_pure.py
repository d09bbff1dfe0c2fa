"""Pure logic of the store, no Redis: the retry of consistent reads, region placement,
script replies decoded by name, write calls cut into round trips."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from leaderboard.domain import Shown
from leaderboard.errors import KeptMoving
from leaderboard.store import keys
from leaderboard.store.reads import MOVED, READ_ATTEMPTS, Moved, one_instant
from leaderboard.store.replies import Page, Presence, Written
from leaderboard.store.runner import TRIP_UPDATES, trips


async def test_a_read_is_tried_again_until_it_saw_one_instant() -> None:
    answers: list[str | Moved] = [MOVED, MOVED, "page"]
    assert await one_instant(lambda: _next(answers)) == "page"
    assert answers == []


async def test_a_read_that_always_meets_a_move_gives_up_with_kept_moving() -> None:
    tries = 0

    async def moving() -> Moved:
        nonlocal tries
        tries += 1
        return MOVED

    with pytest.raises(KeptMoving):
        await one_instant(moving)
    assert tries == READ_ATTEMPTS


async def test_none_is_an_answer_not_a_move() -> None:
    async def absent() -> None:
        return None

    assert await one_instant(absent) is None


async def _next(answers: list[str | Moved]) -> str | Moved:
    return answers.pop(0)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_regions_are_placed_in_equal_parts_of_the_slot_range(count: int) -> None:
    regions = [f"r{i}" for i in range(count)]
    tags = keys.place("b", regions, {})
    parts = sorted(key_slot(f"{{b:{t}}}".encode()) * count // 16384 for t in tags)
    assert parts == list(range(count))
    assert all(t.startswith(f"{r}#") for r, t in zip(regions, tags, strict=True))


def test_a_region_that_holds_data_keeps_its_tag_and_a_new_one_fills_the_emptiest_part() -> None:
    first = keys.place("b", ["na", "eu"], {})
    grown = keys.place("b", ["na", "eu", "sa"], {"na": first[0], "eu": first[1]})
    assert grown[:2] == first
    parts = {key_slot(f"{{b:{t}}}".encode()) * 3 // 16384 for t in grown}
    assert len(parts) >= 2


def test_replies_are_decoded_by_name_and_scores_made_public() -> None:
    page = Page.decode("na", [3, 1, ["a", "-10", "Ann", "b", "-5", None], [], [], 7, 0], -1)
    assert (page.total, page.better, page.moves) == (3, 1, 7)
    assert page.entries == [("a", 10, Shown("Ann")), ("b", 5, Shown())]
    here = Presence.decode("eu", ["-10", False, 2, 9, ["p", "rec"], [], 4])
    assert (here.score, here.shown, here.records.region, here.records.outs) == (
        -10,
        Shown(),
        "eu",
        ["p", "rec"],
    )
    assert Presence.decode("eu", [None, None, 0, 0, [], [], 0]).score is None
    written = Written.decode([[], ["-10", 1, 0, "-4", 0, 2], [], 1], -1)
    assert written.ranks == [(10, True, 0), (4, False, 2)]


def test_write_calls_go_in_trips_of_a_bounded_number_of_updates() -> None:
    assert TRIP_UPDATES == 150  # the figures below
    assert trips([50] * 7) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert trips([100, 40, 10, 1]) == [slice(0, 3), slice(3, 4)]
    assert trips([500, 5, 500]) == [slice(0, 1), slice(1, 2), slice(2, 3)]  # one call alone
    assert trips([]) == []
