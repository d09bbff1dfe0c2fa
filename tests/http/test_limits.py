"""Rate limits (contract v1.2, "Access and limits"): bursts of twice the rate, shared by every
server on one Redis, per client address or per server key; a refused request applies nothing."""

from __future__ import annotations

from dataclasses import replace

from leaderboard.http.app import create_app
from leaderboard.settings import Settings

SERVER_A, SERVER_B = "server-key-a-0123456789", "server-key-b-0123456789"
ADMIN = "admin-key-0123456789"
SCORE = {"player_id": "p1", "region": "na", "score": 5}


def limited(settings: Settings, **rates: float | bool) -> Settings:
    keys = {"server_keys": (SERVER_A, SERVER_B), "admin_keys": (ADMIN,), "public_reads": True}
    return replace(settings, **keys, **rates)


async def test_two_servers_share_a_client_limit_and_a_refusal_applies_nothing(
    aiohttp_client, settings: Settings, clean_redis
) -> None:
    config = limited(settings, client_rate=1.0)
    one = await aiohttp_client(create_app(config))
    two = await aiohttp_client(create_app(config))
    assert (await one.get("/v1/boards/default/top")).status == 200
    assert (await two.get("/v1/boards/default/top")).status == 200  # a burst of 2 x 1/s
    before = clean_redis.dump()
    refused = await one.put("/v1/boards/other", json={"regions": ["na"]})
    assert refused.status == 401  # no key for an admin route: refused before the limit
    over = await two.get("/v1/boards/default/top")
    assert over.status == 429
    assert (await over.json())["error"]["code"] == "rate_limited"
    assert int(over.headers["Retry-After"]) >= 1
    assert clean_redis.dump() == before


async def test_each_server_key_has_its_own_limit_and_admins_none(
    aiohttp_client, settings: Settings, clean_redis
) -> None:
    client = await aiohttp_client(create_app(limited(settings, server_rate=1.0)))

    def post(key: str):
        return client.post(
            "/v1/boards/default/scores", json=SCORE, headers={"Authorization": f"Bearer {key}"}
        )

    assert [(await post(SERVER_A)).status for _ in range(2)] == [200, 200]
    before = clean_redis.dump()
    assert (await post(SERVER_A)).status == 429
    assert clean_redis.dump() == before  # the refused post wrote nothing
    assert (await post(SERVER_B)).status == 200
    assert {(await post(ADMIN)).status for _ in range(5)} == {200}


async def test_behind_a_proxy_the_last_forwarded_hop_is_the_client(
    aiohttp_client, settings: Settings
) -> None:
    trusted = await aiohttp_client(create_app(limited(settings, client_rate=1.0, trust_proxy=True)))
    for address in ("10.0.0.1", "10.0.0.2"):
        headers = {"X-Forwarded-For": f"203.0.113.9, {address}"}
        statuses = [(await trusted.get("/v1/boards", headers=headers)).status for _ in range(3)]
        assert statuses == [200, 200, 429], address


async def test_without_trust_a_forwarded_header_changes_nothing(
    aiohttp_client, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(limited(settings, client_rate=1.0)))
    statuses = [
        (await client.get("/v1/boards", headers={"X-Forwarded-For": f"10.0.0.{i}"})).status
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]


async def test_a_rate_too_high_to_reach_never_refuses(aiohttp_client, settings: Settings) -> None:
    client = await aiohttp_client(create_app(limited(settings, client_rate=1e9)))
    assert {(await client.get("/v1/boards")).status for _ in range(20)} == {200}
