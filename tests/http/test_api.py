"""The contract's happy paths, end to end through the real app."""

from __future__ import annotations

import re

from tests.redis_process import RedisTarget


async def test_the_default_board_exists_at_start(client) -> None:
    response = await client.get("/v1/boards/default")
    assert response.status == 200
    assert await response.json() == {
        "board": "default",
        "regions": ["na", "eu", "apac"],
        "order": "desc",
        "mode": "best",
        "inactive_after_days": 30,
        "top_events": 100,
        "reset_every": "never",
        "keep_periods": 4,
        "period": 1,
        "players": {"global": 0, "na": 0, "eu": 0, "apac": 0},
    }


async def test_board_lifecycle(client, clean_redis: RedisTarget) -> None:
    config = {"regions": ["a", "b"], "order": "asc", "mode": "set", "inactive_after_days": 0}
    created = await client.put("/v1/boards/race.1", json=config)
    assert created.status == 201
    assert (await created.json())["top_events"] == 100
    assert (await client.put("/v1/boards/race.1", json=config)).status == 200
    grown = await client.put("/v1/boards/race.1", json={**config, "regions": ["a", "b", "c"]})
    assert (await grown.json())["regions"] == ["a", "b", "c"]
    listed = await (await client.get("/v1/boards")).json()
    assert [b["board"] for b in listed["boards"]] == ["default", "race.1"]

    update = {"player_id": "p", "region": "c", "score": 90, "name": "Pat"}
    assert (await client.post("/v1/boards/race.1/scores", json=update)).status == 200
    # A region may go once it is empty; the player left it by moving.
    moved = await client.post("/v1/boards/race.1/scores", json={**update, "region": "a"})
    assert (await moved.json())["region"] == "a"
    shrunk = await client.put("/v1/boards/race.1", json={**config, "regions": ["a"]})
    assert shrunk.status == 200

    assert (await client.delete("/v1/boards/race.1")).status == 204
    assert (await client.get("/v1/boards/race.1")).status == 404
    names = clean_redis.keys()
    assert not [k for k in names if "race.1" in k]


async def test_writes_answer_the_stored_score_and_regional_rank(client) -> None:
    post = lambda body: client.post("/v1/boards/default/scores", json=body)  # noqa: E731
    first = await post({"player_id": "x", "region": "na", "score": 10, "name": "Xi"})
    assert await first.json() == {
        "player_id": "x",
        "region": "na",
        "score": 10,
        "rank": 1,
        "updated": True,
    }
    await post({"player_id": "y", "region": "na", "score": 20})
    lower = await post({"player_id": "x", "region": "na", "score": 5})
    assert await lower.json() == {
        "player_id": "x",
        "region": "na",
        "score": 10,
        "rank": 2,
        "updated": False,
    }
    moved = await post({"player_id": "x", "region": "eu", "score": 1})
    assert (await moved.json())["rank"] == 1
    player = await (await client.get("/v1/boards/default/players/x")).json()
    assert player == {
        "player_id": "x",
        "region": "eu",
        "score": 10,
        "name": "Xi",
        "rank": {"global": 2, "region": 1},
        "total": {"global": 2, "region": 1},
    }


async def test_around_is_clipped_at_the_ends_of_the_list(client) -> None:
    updates = [{"player_id": f"p{i}", "region": "apac", "score": i} for i in range(5)]
    await client.post("/v1/boards/default/scores/batch", json={"updates": updates})
    best = await (await client.get("/v1/boards/default/players/p4/around?radius=2")).json()
    assert [e["player_id"] for e in best["entries"]] == ["p4", "p3", "p2"]
    worst = await client.get("/v1/boards/default/players/p0/around?scope=apac&radius=3")
    assert [e["rank"] for e in (await worst.json())["entries"]] == [2, 3, 4, 5]


async def test_delete_player_removes_it_everywhere(client) -> None:
    body = {"player_id": "gone", "region": "eu", "score": 3, "name": "G"}
    await client.post("/v1/boards/default/scores", json=body)
    assert (await client.delete("/v1/boards/default/players/gone")).status == 204
    assert (await client.get("/v1/boards/default/players/gone")).status == 404
    top = await (await client.get("/v1/boards/default/top")).json()
    assert top["total"] == 0
    again = await client.post("/v1/boards/default/scores", json={**body, "name": None} | {})
    assert again.status == 400  # name null is not a name
    fresh = {"player_id": "gone", "region": "eu", "score": 1}
    await client.post("/v1/boards/default/scores", json=fresh)
    player = await (await client.get("/v1/boards/default/players/gone")).json()
    assert "name" not in player
    assert player["score"] == 1


async def test_a_deleted_incr_board_is_404_for_a_batch(client) -> None:
    put = await client.put("/v1/boards/inc", json={"regions": ["na"], "mode": "incr"})
    assert put.status == 201
    assert (await client.delete("/v1/boards/inc")).status == 204
    updates = [{"player_id": "A", "region": "na", "score": 1}] * 150  # several chunks
    updates.append({"player_id": "A", "region": "na", "score": 2**53 - 1})  # would overflow
    response = await client.post("/v1/boards/inc/scores/batch", json={"updates": updates})
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "board_not_found"


async def test_the_home_page_leads_to_the_board_page_which_needs_nothing_outside(client) -> None:
    home = await client.get("/", allow_redirects=False)
    assert (home.status, home.headers["Location"]) == (302, "/boards/default")
    page = await client.get("/boards/default")
    assert (page.status, page.content_type) == (200, "text/html")
    text = await page.text()
    assert "/*JS*/" not in text and "/*CSS*/" not in text  # inlined
    assert not re.search(r"""(src|href|url)\s*[=(]\s*["']?(https?:)?//""", text)
    assert (await client.get("/boards/bad%20id")).status == 404
