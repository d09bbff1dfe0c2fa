"""POST /v1/admin/cleanup as the contract describes it."""

from __future__ import annotations

import time

import pytest

from leaderboard.http.keys import SERVICE
from tests.contract import check_answer


async def call(client, body: object = None, raw: bytes | None = None) -> tuple[int, dict]:
    if raw is not None:
        response = await client.post(
            "/v1/admin/cleanup", data=raw, headers={"Content-Type": "application/json"}
        )
    elif body is None:
        response = await client.post("/v1/admin/cleanup")
    else:
        response = await client.post("/v1/admin/cleanup", json=body)
    answer = await response.json()
    check_answer("POST", "/v1/admin/cleanup", response.status, answer)
    return response.status, answer


async def test_cleanup_removes_players_older_than_asked(client) -> None:
    service = client.app[SERVICE]
    record = await service.boards.record("default")
    old = int(time.time() * 1000) - 3_600_000
    await service.store.write(record, [("na", [("old1", 1, None), ("old2", 2, None)])], old, False)
    body = {"player_id": "new", "region": "eu", "score": 3}
    assert (await client.post("/v1/boards/default/scores", json=body)).status == 200
    removed = {"removed": {"default": 2}, "skipped": []}
    assert await call(client, {"older_than_seconds": 600}) == (200, removed)
    assert await call(client) == (200, {"removed": {"default": 0}, "skipped": []})
    top = await (await client.get("/v1/boards/default/top")).json()
    assert [e["player_id"] for e in top["entries"]] == ["new"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"older_than_seconds": -1}, 400, "invalid_request"),
        ({"older_than_seconds": 1.5}, 400, "invalid_request"),
        ({"board": "-x"}, 400, "invalid_request"),
        ({"board": "nope"}, 404, "board_not_found"),
        ([1], 400, "invalid_request"),
    ],
)
async def test_cleanup_bad_input(client, body, status, code) -> None:
    got, answer = await call(client, body)
    assert (got, answer["error"]["code"]) == (status, code)


async def test_cleanup_malformed_json(client) -> None:
    got, answer = await call(client, raw=b"{")
    assert (got, answer["error"]["code"]) == (400, "invalid_json")


async def test_cleanup_with_a_null_body_is_400_and_removes_nothing(client, clean_redis) -> None:
    """Only an absent body stands for `{}`; `null` is a body that is not an object."""
    service = client.app[SERVICE]
    record = await service.boards.record("default")
    old = int(time.time() * 1000) - 100 * 86_400_000
    await service.store.write(record, [("na", [("old", 1, None)])], old, False)
    before = clean_redis.dump()
    got, answer = await call(client, raw=b"null")
    assert (got, answer["error"]["code"]) == (400, "invalid_request")
    assert clean_redis.dump() == before


async def test_a_board_cleaned_elsewhere_is_answered_skipped(client) -> None:
    service = client.app[SERVICE]
    record = await service.boards.record("default")
    assert await service.store.take_locks(record, "elsewhere", 60_000)
    assert await call(client, {"board": "default"}) == (
        200,
        {"removed": {}, "skipped": ["default"]},
    )
    await service.store.release_locks(record, "elsewhere")
    assert await call(client) == (200, {"removed": {"default": 0}, "skipped": []})
