"""The contract's bad-input table: each case gets its status and error code, and changes
nothing in Redis."""

from __future__ import annotations

import io
import socket

import pytest

from tests.contract import check_answer, document
from tests.live_server import LiveServer

MAX = 2**53 - 1
ok_update = {"player_id": "p1", "region": "na", "score": 10}


CASES = [
    # (method, path, body or raw bytes, content type, status, code)
    ("POST", "/v1/boards/default/scores", b"{not json", "application/json", 400, "invalid_json"),
    ("POST", "/v1/boards/default/scores", b"[1, 2]", "application/json", 400, "invalid_request"),
    ("POST", "/v1/boards/default/scores", ok_update, "text/plain", 415, "unsupported_media_type"),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "score": 1.5},
        None,
        400,
        "invalid_request",
    ),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "score": "10"},
        None,
        400,
        "invalid_request",
    ),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "score": True},
        None,
        400,
        "invalid_request",
    ),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "score": None},
        None,
        400,
        "invalid_request",
    ),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "score": MAX + 1},
        None,
        400,
        "invalid_request",
    ),
    (
        "POST",
        "/v1/boards/default/scores",
        {"player_id": "p1", "region": "na"},
        None,
        400,
        "invalid_request",
    ),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "player_id": "a b"},
        None,
        400,
        "invalid_request",
    ),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "player_id": "x" * 65},
        None,
        400,
        "invalid_request",
    ),
    ("POST", "/v1/boards/default/scores", {**ok_update, "name": ""}, None, 400, "invalid_request"),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "name": "n" * 65},
        None,
        400,
        "invalid_request",
    ),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "region": "mars"},
        None,
        400,
        "unknown_region",
    ),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "region": "global"},
        None,
        400,
        "unknown_region",
    ),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "region": "NA"},
        None,
        400,
        "unknown_region",
    ),
    (
        "POST",
        "/v1/boards/default/scores",
        {**ok_update, "region": ""},
        None,
        400,
        "unknown_region",
    ),
    ("POST", "/v1/boards/default/scores", {**ok_update, "region": 5}, None, 400, "invalid_request"),
    ("POST", "/v1/boards/nope/scores", ok_update, None, 404, "board_not_found"),
    ("POST", "/v1/boards/-bad/scores", ok_update, None, 404, "board_not_found"),
    ("POST", "/v1/boards/default/scores/batch", {"updates": []}, None, 400, "invalid_request"),
    (
        "POST",
        "/v1/boards/default/scores/batch",
        {"updates": [ok_update] * 10001},
        None,
        400,
        "invalid_request",
    ),
    (
        "POST",
        "/v1/boards/default/scores/batch",
        {"updates": [ok_update, {**ok_update, "score": 0.5}]},
        None,
        400,
        "invalid_request",
    ),
    (
        "POST",
        "/v1/boards/default/scores/batch",
        {"updates": [ok_update, {**ok_update, "region": "mars"}]},
        None,
        400,
        "unknown_region",
    ),
    (
        "POST",
        "/v1/boards/default/scores/batch",
        {"updates": [ok_update, {**ok_update, "region": "EU"}]},
        None,
        400,
        "unknown_region",
    ),
    (
        "POST",
        "/v1/boards/default/scores/batch",
        {"items": [ok_update]},
        None,
        400,
        "invalid_request",
    ),
    ("PUT", "/v1/boards/new", {}, None, 400, "invalid_request"),
    ("PUT", "/v1/boards/new", {"regions": []}, None, 400, "invalid_request"),
    ("PUT", "/v1/boards/new", {"regions": ["na", "na"]}, None, 400, "invalid_request"),
    ("PUT", "/v1/boards/new", {"regions": ["global"]}, None, 400, "invalid_request"),
    ("PUT", "/v1/boards/new", {"regions": ["NA"]}, None, 400, "invalid_request"),
    (
        "PUT",
        "/v1/boards/new",
        {"regions": [f"r{i}" for i in range(65)]},
        None,
        400,
        "invalid_request",
    ),
    ("PUT", "/v1/boards/new", {"regions": ["na"], "order": "up"}, None, 400, "invalid_request"),
    ("PUT", "/v1/boards/new", {"regions": ["na"], "mode": "max"}, None, 400, "invalid_request"),
    (
        "PUT",
        "/v1/boards/new",
        {"regions": ["na"], "inactive_after_days": 3651},
        None,
        400,
        "invalid_request",
    ),
    ("PUT", "/v1/boards/new", {"regions": ["na"], "top_events": -1}, None, 400, "invalid_request"),
    ("PUT", "/v1/boards/new", {"regions": ["na"], "top_events": 1.0}, None, 400, "invalid_request"),
    ("PUT", "/v1/boards/default", {"regions": ["eu"]}, None, 409, "region_in_use"),
    (
        "PUT",
        "/v1/boards/default",
        {"regions": ["na", "eu", "apac"], "order": "asc"},
        None,
        409,
        "board_not_empty",
    ),
    (
        "PUT",
        "/v1/boards/default",
        {"regions": ["na", "eu", "apac"], "mode": "set"},
        None,
        409,
        "board_not_empty",
    ),
    ("PUT", "/v1/boards/" + "x" * 65, {"regions": ["na"]}, None, 400, "invalid_request"),
    ("GET", "/v1/boards/default/top?limit=0", None, None, 400, "invalid_request"),
    ("GET", "/v1/boards/default/top?limit=1001", None, None, 400, "invalid_request"),
    ("GET", "/v1/boards/default/top?limit=ten", None, None, 400, "invalid_request"),
    ("GET", "/v1/boards/default/top?limit=%D9%A3", None, None, 400, "invalid_request"),
    ("GET", "/v1/boards/default/top?offset=-1", None, None, 400, "invalid_request"),
    ("GET", "/v1/boards/default/top?offset=9950&limit=100", None, None, 400, "invalid_request"),
    ("GET", "/v1/boards/default/top?scope=mars", None, None, 400, "unknown_region"),
    ("GET", "/v1/boards/default/top?scope=NA", None, None, 400, "unknown_region"),
    ("GET", "/v1/boards/default/players/p0/around?scope=Eu", None, None, 400, "unknown_region"),
    ("GET", "/v1/boards/nope/top", None, None, 404, "board_not_found"),
    ("GET", "/v1/boards/default/players/ghost", None, None, 404, "player_not_found"),
    ("GET", "/v1/boards/default/players/" + "x" * 65, None, None, 404, "player_not_found"),
    ("GET", "/v1/boards/default/players/p0/around?radius=101", None, None, 400, "invalid_request"),
    ("GET", "/v1/boards/default/players/p0/around?radius=-1", None, None, 400, "invalid_request"),
    ("GET", "/v1/boards/default/players/p0/around?scope=mars", None, None, 400, "unknown_region"),
    ("GET", "/v1/boards/default/players/p0/around?scope=na", None, None, 404, "player_not_found"),
    ("GET", "/v1/boards/default/players/ghost/around", None, None, 404, "player_not_found"),
    ("DELETE", "/v1/boards/default/players/ghost", None, None, 404, "player_not_found"),
    ("DELETE", "/v1/boards/nope", None, None, 404, "board_not_found"),
    ("GET", "/v1/boards/nope", None, None, 404, "board_not_found"),
    ("POST", "/v1/boards", {"regions": ["na"]}, None, 405, "method_not_allowed"),
    ("GET", "/v1/nothing", None, None, 404, "not_found"),
]


@pytest.fixture
async def seeded(client):
    """The default board with players in two regions, so conflicts have data to guard."""
    updates = [{"player_id": "p0", "region": "eu", "score": 5, "name": "Zed"}]
    updates += [{"player_id": f"q{i}", "region": "apac", "score": i} for i in range(5)]
    response = await client.post("/v1/boards/default/scores/batch", json={"updates": updates})
    assert response.status == 200
    return client


@pytest.mark.parametrize(("method", "path", "body", "ctype", "status", "code"), CASES)
async def test_bad_input_gets_its_error_and_changes_nothing(
    seeded, clean_redis, method, path, body, ctype, status, code
) -> None:
    before = clean_redis.dump()
    kwargs: dict = {}
    if isinstance(body, bytes):
        kwargs = {"data": body, "headers": {"Content-Type": ctype}}
    elif body is not None and ctype:
        kwargs = {"data": str(body), "headers": {"Content-Type": ctype}}
    elif body is not None:
        kwargs = {"json": body}
    response = await seeded.request(method, path, **kwargs)
    assert response.status == status
    assert response.content_type == "application/json"
    answer = await response.json()
    check_answer(method, path, status, answer)
    error = answer["error"]
    assert error["code"] == code
    assert error["message"]
    assert clean_redis.dump() == before


async def test_a_bad_batch_names_each_bad_item(seeded) -> None:
    updates = [ok_update, {**ok_update, "score": "x"}, ok_update, {"player_id": "", "region": "na"}]
    response = await seeded.post("/v1/boards/default/scores/batch", json={"updates": updates})
    assert response.status == 400
    details = (await response.json())["error"]["details"]
    assert {(d["index"], d["field"]) for d in details} == {
        (1, "score"),
        (3, "player_id"),
        (3, "score"),
    }


async def test_bad_items_anywhere_in_a_long_batch_are_all_named_and_nothing_applies(
    seeded, clean_redis
) -> None:
    """The items are checked in steps (the handler yields between them): every step counts."""
    updates = [{**ok_update, "player_id": f"p{i}"} for i in range(1000)]
    updates[0] = {**ok_update, "score": 1.5}
    updates[999] = {**ok_update, "region": "not a region!"}
    before = clean_redis.dump()
    response = await seeded.post("/v1/boards/default/scores/batch", json={"updates": updates})
    assert response.status == 400
    details = (await response.json())["error"]["details"]
    assert {(d["index"], d["field"]) for d in details} == {(0, "score"), (999, "region")}
    assert clean_redis.dump() == before


async def test_a_body_over_8_mib_is_413(seeded, clean_redis) -> None:
    before = clean_redis.dump()
    big = b'{"updates": [' + b" " * (8 * 1024 * 1024) + b"]}"
    response = await seeded.post(
        "/v1/boards/default/scores/batch",
        data=io.BytesIO(big),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "payload_too_large"
    assert clean_redis.dump() == before


async def test_incr_beyond_the_exact_range_is_409_and_applies_nothing(seeded, clean_redis) -> None:
    put = await seeded.put("/v1/boards/counts", json={"regions": ["na", "eu"], "mode": "incr"})
    assert put.status == 201
    first = {"player_id": "big", "region": "na", "score": MAX - 1}
    assert (await seeded.post("/v1/boards/counts/scores", json=first)).status == 200
    before = clean_redis.dump()
    response = await seeded.post("/v1/boards/counts/scores", json={**first, "score": 2})
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "score_out_of_range"
    batch = [{"player_id": f"s{i}", "region": "eu", "score": 1} for i in range(250)]
    batch.append({"player_id": "big", "region": "eu", "score": 5})
    response = await seeded.post("/v1/boards/counts/scores/batch", json={"updates": batch})
    assert response.status == 409
    assert clean_redis.dump() == before


async def test_a_405_names_the_allowed_methods(client) -> None:
    response = await client.patch("/v1/boards/default")
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(",")) == {"DELETE", "GET", "HEAD", "PUT"}


async def test_a_batch_names_unknown_regions_and_malformed_items_together(
    seeded, clean_redis
) -> None:
    updates = [
        ok_update,
        {**ok_update, "region": "mars"},
        {**ok_update, "score": 0.5},
        {**ok_update, "region": "global", "player_id": "a b"},
        {**ok_update, "region": 7},
    ]
    before = clean_redis.dump()
    response = await seeded.post("/v1/boards/default/scores/batch", json={"updates": updates})
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "invalid_request"
    assert {(d["index"], d["field"]) for d in error["details"]} == {
        (1, "region"),
        (2, "score"),
        (3, "player_id"),
        (3, "region"),
        (4, "region"),
    }
    assert clean_redis.dump() == before


async def test_a_batch_whose_only_faults_are_regions_is_unknown_region(seeded) -> None:
    updates = [{**ok_update, "region": "mars"}, ok_update, {**ok_update, "region": "NA"}]
    response = await seeded.post("/v1/boards/default/scores/batch", json={"updates": updates})
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "unknown_region"
    assert [(d["index"], d["field"]) for d in error["details"]] == [(0, "region"), (2, "region")]


def _raw_exchange(port: int, data: bytes) -> bytes:
    """Sends ``data`` as it is and reads until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(data)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_requests_over_the_http_limits_get_the_documented_plain_answer(settings) -> None:
    """aiohttp answers these before the app sees them: the document says so, with the limits."""
    limits = document()["info"]["x-http-limits"]
    target, field = limits["max_request_target_bytes"], limits["max_header_value_bytes"]
    over = b"/v1/boards/" + b"x" * (target - 10)
    requests = [
        b"GET " + over + b" HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET /v1/boards HTTP/1.1\r\nHost: h\r\nX-Big: " + b"y" * (field + 1) + b"\r\n\r\n",
        b"GET /v1/boards/\xff HTTP/1.1\r\nHost: h\r\n\r\n",
    ]
    with LiveServer(settings) as server:
        for request in requests:
            head, _, body = _raw_exchange(server.port, request).partition(b"\r\n\r\n")
            status_line, *headers = head.decode("latin-1").split("\r\n")
            assert status_line.split(" ")[1] == "400", status_line
            content_type = next(h for h in headers if h.lower().startswith("content-type:"))
            assert limits["answer_content_type"] in content_type
            assert body
        status, _ = server.call("GET", "/v1/boards/" + "x" * (target - 11))
        assert status == 404  # at the limit: the app's own JSON answer
