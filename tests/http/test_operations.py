"""Health, readiness, metrics, the OpenAPI document, and behaviour while Redis is down."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis
from openapi_spec_validator import validate

from leaderboard.http.app import create_app
from leaderboard.http.keys import SERVICE
from leaderboard.settings import Settings
from leaderboard.store import BoardRecord
from tests.redis_process import RedisProcess, RedisTarget


async def test_openapi_document_lists_every_route_the_app_serves(client) -> None:
    response = await client.get("/openapi.json")
    assert response.status == 200
    document = await response.json()
    validate(document)
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    }
    served = {
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.method != "HEAD"
    }
    assert served <= documented, served - documented


def metric(text: str, name: str) -> float:
    [value] = [line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")]
    return float(value)


def streamed(redis_target: RedisTarget, record: BoardRecord) -> int:
    """Every event in the board's streams (none is trimmed in a test this small)."""
    with redis_target.client() as r:
        return sum(r.xlen(record.stream(s)) for s in ("global", *record.config.regions))


async def test_metrics_count_requests_and_applied_updates(client, clean_redis: RedisTarget) -> None:
    update = {"player_id": "m1", "region": "na", "score": 3}
    assert (await client.post("/v1/boards/default/scores", json=update)).status == 200
    batch = {"updates": [{**update, "player_id": f"m{i}"} for i in range(4)]}
    assert (await client.post("/v1/boards/default/scores/batch", json=batch)).status == 200
    await client.get("/v1/boards/nope")
    text = await (await client.get("/metrics")).text()
    assert "leaderboard_score_updates_total 5.0" in text
    route = 'route="/v1/boards/{board}/scores",status="200"'
    assert f'leaderboard_requests_total{{method="POST",{route}}} 1.0' in text
    assert 'route="/v1/boards/{board}",status="404"} 1.0' in text
    assert f'leaderboard_request_seconds_bucket{{le="+Inf",method="POST",{route}}} 1.0' in text
    assert "leaderboard_batch_updates_count 1.0" in text
    assert "leaderboard_batch_updates_sum 4.0" in text
    assert 'leaderboard_redis_script_seconds_count{script="write"}' in text
    record = await client.app[SERVICE].boards.record("default")
    assert metric(text, "leaderboard_events_total") == streamed(clean_redis, record) > 0
    if not clean_redis.cluster:  # a cluster client's pools do not wait, they refuse
        assert metric(text, "leaderboard_redis_pool_wait_seconds_count") > 0
    await asyncio.sleep(1.1)  # activity is kept in whole seconds: make it older than now
    cleaned = await client.post("/v1/admin/cleanup", json={"older_than_seconds": 0})
    assert (await cleaned.json())["removed"] == {"default": 4}  # m0 to m3
    text = await (await client.get("/metrics")).text()
    assert "leaderboard_cleanup_removed_total 4.0" in text
    assert metric(text, "leaderboard_events_total") == streamed(clean_redis, record)

    keyed = {"Idempotency-Key": "once"}
    for _ in range(3):
        assert (await client.post("/v1/boards/default/scores", json=update, headers=keyed)).ok
    text = await (await client.get("/metrics")).text()
    assert metric(text, "leaderboard_idempotent_replays_total") == 2


async def test_healthz_and_readyz_when_redis_answers(client) -> None:
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200


@pytest.fixture
def own_redis(tmp_path) -> RedisProcess:
    server = RedisProcess(tmp_path / "redis").start()
    yield server
    server.stop()


async def test_redis_outage_gives_503_then_recovers_without_restart(
    aiohttp_client, own_redis: RedisProcess
) -> None:
    settings = Settings(redis_url=own_redis.url, activity_buckets=16, redis_timeout=0.5)
    client = await aiohttp_client(create_app(settings))
    update = {"player_id": "p1", "region": "na", "score": 7}
    assert (await client.post("/v1/boards/default/scores", json=update)).status == 200

    own_redis.stop()
    requests = [
        ("GET", "/readyz", None),
        ("GET", "/v1/boards", None),
        ("GET", "/v1/boards/default", None),
        ("PUT", "/v1/boards/x", {"regions": ["na"]}),
        ("POST", "/v1/boards/default/scores", update),
        ("POST", "/v1/boards/default/scores/batch", {"updates": [update]}),
        ("GET", "/v1/boards/default/top", None),
        ("GET", "/v1/boards/default/players/p1", None),
        ("GET", "/v1/boards/default/players/p1/around", None),
        ("DELETE", "/v1/boards/default/players/p1", None),
        ("DELETE", "/v1/boards/default", None),
    ]
    for method, path, body in requests:
        response = await client.request(method, path, json=body)
        assert response.status == 503, (method, path)
        assert (await response.json())["error"]["code"] == "redis_unavailable"
    assert (await client.get("/healthz")).status == 200

    own_redis.start()  # same port, empty: the app must notice by itself
    for _ in range(50):
        if (await client.get("/readyz")).status == 200:
            break
        await asyncio.sleep(0.1)
    assert (await client.get("/readyz")).status == 200
    put = await client.put("/v1/boards/default", json={"regions": ["na", "eu", "apac"]})
    assert put.status == 201
    response = await client.post("/v1/boards/default/scores", json=update)
    assert response.status == 200
    assert (await response.json())["rank"] == 1


async def test_redis_out_of_memory_is_503_not_500(aiohttp_client, own_redis: RedisProcess) -> None:
    settings = Settings(redis_url=own_redis.url, activity_buckets=16, redis_timeout=0.5)
    client = await aiohttp_client(create_app(settings))
    assert (await client.get("/v1/boards/default")).status == 200
    with redis.Redis.from_url(own_redis.url) as r:
        r.config_set("maxmemory", "1")
        r.config_set("maxmemory-policy", "noeviction")
    update = {"player_id": "p1", "region": "na", "score": 7}
    for path, body in [
        ("/v1/boards/default/scores", update),
        ("/v1/boards/default/scores/batch", {"updates": [update] * 300}),
        ("/v1/boards/other", {"regions": ["na"]}),
    ]:
        method = "PUT" if path.endswith("other") else "POST"
        response = await client.request(method, path, json=body)
        assert response.status == 503, path
        assert (await response.json())["error"]["code"] == "redis_unavailable"


async def test_metrics_show_how_late_the_event_loop_ran(client) -> None:
    """A handler that holds the loop makes every request behind it wait: the lag histogram
    shows that wait, which the request latencies alone do not tell apart."""
    await asyncio.sleep(0.1)
    time.sleep(0.08)  # the test shares the app's loop: this holds it as CPU-bound work would
    await asyncio.sleep(0.05)
    text = await (await client.get("/metrics")).text()
    samples = metric(text, "leaderboard_event_loop_lag_seconds_count")
    within = metric(text, 'leaderboard_event_loop_lag_seconds_bucket{le="0.05"}')
    assert samples >= 3
    assert within < samples  # the sample that waited behind the sleep is above 50 ms
