"""Looking up many players at once (contract v1.2, `GET /v1/boards/{board}/players`)."""

from __future__ import annotations

import pytest

from tests.redis_process import RedisTarget

SCORES = {"a": 50, "b": 70, "c": 50, "d": 10, "e": 90, "f": 70}
HOME = {"a": "na", "b": "eu", "c": "eu", "d": "na", "e": "apac", "f": "na"}


@pytest.fixture
async def players(client) -> None:
    updates = [
        {"player_id": p, "region": HOME[p], "score": s, "name": p.upper()}
        for p, s in SCORES.items()
    ]
    assert (await client.post("/v1/boards/default/scores/batch", json={"updates": updates})).ok


async def test_a_lookup_answers_the_players_in_list_order_with_their_own_ranks(
    client, players
) -> None:
    ids = ["d", "zz", "c", "a", "f", "nobody", "e"]
    answer = await client.get(f"/v1/boards/default/players?ids={','.join(ids)}")
    assert answer.status == 200
    got = await answer.json()
    assert got["missing"] == ["zz", "nobody"]
    assert [e["player_id"] for e in got["entries"]] == ["e", "f", "a", "c", "d"]
    for entry in got["entries"]:
        me = await (await client.get(f"/v1/boards/default/players/{entry['player_id']}")).json()
        assert entry == {
            "rank": me["rank"]["global"],
            "player_id": me["player_id"],
            "score": me["score"],
            "region": me["region"],
            "name": me["name"],
        }
    assert [e["rank"] for e in got["entries"]] == [1, 2, 4, 4, 6]


async def test_a_regional_lookup_ranks_in_the_region_and_misses_the_others(client, players) -> None:
    answer = await client.get("/v1/boards/default/players?ids=a,b,c,d,f&scope=na")
    got = await answer.json()
    assert got == {
        "board": "default",
        "scope": "na",
        "entries": [
            {"rank": 1, "player_id": "f", "score": 70, "region": "na", "name": "F"},
            {"rank": 2, "player_id": "a", "score": 50, "region": "na", "name": "A"},
            {"rank": 3, "player_id": "d", "score": 10, "region": "na", "name": "D"},
        ],
        "missing": ["b", "c"],
    }


@pytest.mark.parametrize(
    "query",
    [
        "",
        "ids=",
        "ids=a,,b",
        "ids=a,b,a",
        "ids=a%20b",
        "ids=" + "x" * 65,
        "ids=" + ",".join(f"p{i}" for i in range(101)),
    ],
)
async def test_bad_ids_are_a_400_naming_ids(client, query: str) -> None:
    answer = await client.get(f"/v1/boards/default/players?{query}")
    assert answer.status == 400
    error = (await answer.json())["error"]
    assert (error["code"], error["details"][0]["field"]) == ("invalid_request", "ids")


async def test_a_lookup_of_an_unknown_board_or_scope(client) -> None:
    missing = await client.get("/v1/boards/nope/players?ids=a")
    assert (missing.status, (await missing.json())["error"]["code"]) == (404, "board_not_found")
    scope = await client.get("/v1/boards/default/players?ids=a&scope=mars")
    assert (scope.status, (await scope.json())["error"]["code"]) == (400, "unknown_region")


async def test_a_hundred_ids_cost_one_script_call_per_slot(
    client, players, clean_redis: RedisTarget
) -> None:
    """One call for the whole scope on one Redis; on a cluster one per region, then the
    counts elsewhere in one pipeline (a round trip per master), whatever the ids. Either
    way each player found is counted once per region (inside the calls or in the pipeline)."""
    ids = ",".join([*SCORES, *(f"q{i}" for i in range(94))])
    before = clean_redis.command_calls("evalsha"), clean_redis.command_calls("zcount")
    answer = await client.get(f"/v1/boards/default/players?ids={ids}")
    assert len((await answer.json())["entries"]) == len(SCORES)
    calls = clean_redis.command_calls("evalsha") - before[0]
    counts = clean_redis.command_calls("zcount") - before[1]
    assert (calls, counts) == (3 if clean_redis.cluster else 1, 3 * len(SCORES))
