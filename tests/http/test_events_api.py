"""The events endpoints: pages of a scope's stream and the server-sent event stream."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from leaderboard.http.app import create_app
from leaderboard.http.keys import STREAMS
from tests.contract import check_answer


async def post(client, pid: str, score: int, region: str = "na") -> None:
    body = {"player_id": pid, "region": region, "score": score}
    assert (await client.post("/v1/boards/default/scores", json=body)).status == 200


async def get(client, path: str) -> tuple[int, dict]:
    response = await client.get(path)
    body = await response.json()
    check_answer("GET", path, response.status, body)
    return response.status, body


async def test_events_page_in_order_and_after_an_id(client) -> None:
    await post(client, "a", 10)
    await post(client, "b", 20, "eu")
    status, page = await get(client, "/v1/boards/default/events")
    assert status == 200
    assert [(e["type"], e["player_id"], e["rank"]) for e in page["events"]] == [
        ("entered", "a", 1),
        ("entered", "b", 1),
    ]
    first = page["events"][0]
    assert first["scope"] == "global"
    assert first["board"] == "default"
    assert first["previous_rank"] is None
    assert isinstance(first["ts"], int)
    _, rest = await get(client, f"/v1/boards/default/events?after={first['id']}&limit=5")
    assert [e["player_id"] for e in rest["events"]] == ["b"]
    _, none = await get(client, f"/v1/boards/default/events?after={rest['last_id']}")
    assert none == {"events": [], "last_id": rest["last_id"]}
    _, regional = await get(client, "/v1/boards/default/events?scope=eu")
    assert [(e["scope"], e["player_id"]) for e in regional["events"]] == [("eu", "b")]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("scope=mars", 400, "unknown_region"),
        ("after=abc", 400, "invalid_request"),
        ("after=99999999999999999999", 400, "invalid_request"),
        ("after=18446744073709551615-18446744073709551616", 400, "invalid_request"),
        ("after=%D9%A3", 400, "invalid_request"),
        ("after=1-2-3", 400, "invalid_request"),
        ("after=-1", 400, "invalid_request"),
        ("limit=0", 400, "invalid_request"),
        ("limit=1001", 400, "invalid_request"),
    ],
)
async def test_events_page_bad_input(client, query: str, status: int, code: str) -> None:
    got, body = await get(client, f"/v1/boards/default/events?{query}")
    assert (got, body["error"]["code"]) == (status, code)


async def read_event(response) -> dict:
    """The next `data:` event of an SSE response (comments skipped)."""
    event: dict = {}
    while True:
        line = (await asyncio.wait_for(response.content.readline(), 10)).decode().rstrip("\n")
        if line.startswith("id: "):
            event["id"] = line[4:]
        elif line.startswith("data: "):
            event |= orjson.loads(line[6:])
        elif line == "" and "id" in event:
            return event


async def test_event_stream_sends_new_events_and_resumes(client) -> None:
    await post(client, "old", 1)
    response = await client.get("/v1/boards/default/events/stream?scope=na")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    await asyncio.sleep(0.1)
    await post(client, "new", 5)
    event = await read_event(response)
    assert (event["type"], event["player_id"], event["scope"]) == ("entered", "new", "na")
    response.close()

    await post(client, "newer", 9)
    resumed = await client.get(
        "/v1/boards/default/events/stream?scope=na", headers={"Last-Event-ID": event["id"]}
    )
    again = await read_event(resumed)
    assert (again["player_id"], again["rank"]) == ("newer", 1)
    resumed.close()


async def test_event_stream_heartbeat(aiohttp_client, settings) -> None:
    from dataclasses import replace

    client = await aiohttp_client(create_app(replace(settings, sse_heartbeat=0.2)))
    response = await client.get("/v1/boards/default/events/stream")
    line = await asyncio.wait_for(response.content.readline(), 10)
    assert line == b": heartbeat\n"
    response.close()


async def test_event_stream_of_unknown_scope_is_400(client) -> None:
    status, body = await get(client, "/v1/boards/default/events/stream?scope=mars")
    assert (status, body["error"]["code"]) == (400, "unknown_region")


LAST_ID = f"{2**64 - 1}-{2**64 - 1}"


async def test_events_page_after_the_last_possible_id_is_empty(client) -> None:
    await post(client, "a", 10)
    status, page = await get(client, f"/v1/boards/default/events?after={LAST_ID}")
    assert (status, page) == (200, {"events": [], "last_id": LAST_ID})


async def test_events_page_after_a_bare_millisecond_id(client) -> None:
    await post(client, "a", 10)
    _, page = await get(client, "/v1/boards/default/events")
    ms = page["events"][0]["id"].split("-")[0]
    status, before = await get(client, f"/v1/boards/default/events?after={int(ms) - 1}")
    assert (status, [e["player_id"] for e in before["events"]]) == (200, ["a"])


async def test_event_stream_resumed_after_the_last_possible_id_stays_open(
    aiohttp_client, settings
) -> None:
    from dataclasses import replace

    client = await aiohttp_client(create_app(replace(settings, sse_heartbeat=0.2)))
    response = await client.get(
        "/v1/boards/default/events/stream", headers={"Last-Event-ID": LAST_ID}
    )
    assert response.status == 200
    line = await asyncio.wait_for(response.content.readline(), 10)
    assert line == b": heartbeat\n"
    response.close()


@pytest.mark.parametrize("last", ["abc", "1-2-3", "-1", "99999999999999999999", f"1-{2**64}"])
async def test_event_stream_with_a_bad_last_event_id_is_400_before_the_stream(
    client, last: str
) -> None:
    response = await client.get("/v1/boards/default/events/stream", headers={"Last-Event-ID": last})
    assert response.status == 400
    body = await response.json()
    check_answer("GET", "/v1/boards/default/events/stream", 400, body)
    assert body["error"]["code"] == "invalid_request"


async def test_a_cancelled_event_stream_ends_cancelled(client) -> None:
    """Shutdown cancels the open streams: the handler must let the cancellation through,
    wherever it lands (in the poll's sleep or inside a Redis command)."""
    response = await client.get("/v1/boards/default/events/stream")
    assert response.status == 200
    while not client.app[STREAMS]:
        await asyncio.sleep(0.01)
    (task,) = client.app[STREAMS]
    task.cancel()
    await asyncio.wait([task], timeout=30)
    assert task.cancelled()
    response.close()
