"""Access keys by role (contract v1.2, "Access and limits"): every route against every
role, and what a refused request leaves (nothing)."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from leaderboard.http.access import Role, needed
from leaderboard.http.app import create_app
from leaderboard.http.routes import ROUTES
from leaderboard.settings import Settings, SettingsError

KEYS = {Role.ADMIN: "admin-key-0123456789", Role.SERVER: "server-key-0123456789"}
KEYS[Role.CLIENT] = "client-key-0123456789"
SCORE = {"player_id": "p1", "region": "na", "score": 5}

# One request per route: (method, the route, a concrete path, a body).
CALLS = [
    ("GET", "/healthz", "/healthz", None),
    ("GET", "/readyz", "/readyz", None),
    ("GET", "/metrics", "/metrics", None),
    ("GET", "/openapi.json", "/openapi.json", None),
    ("GET", "/", "/", None),
    ("GET", "/boards/{board}", "/boards/default", None),
    ("GET", "/v1/boards", "/v1/boards", None),
    ("PUT", "/v1/boards/{board}", "/v1/boards/new", {"regions": ["na"]}),
    ("GET", "/v1/boards/{board}", "/v1/boards/default", None),
    ("DELETE", "/v1/boards/{board}", "/v1/boards/absent", None),
    ("POST", "/v1/boards/{board}/reset", "/v1/boards/absent/reset", None),
    ("GET", "/v1/boards/{board}/periods", "/v1/boards/default/periods", None),
    ("POST", "/v1/boards/{board}/scores", "/v1/boards/default/scores", SCORE),
    (
        "POST",
        "/v1/boards/{board}/scores/batch",
        "/v1/boards/default/scores/batch",
        {"updates": [SCORE]},
    ),
    ("GET", "/v1/boards/{board}/top", "/v1/boards/default/top", None),
    ("GET", "/v1/boards/{board}/players", "/v1/boards/default/players?ids=p1,p2", None),
    ("GET", "/v1/boards/{board}/players/{player_id}", "/v1/boards/default/players/p1", None),
    ("DELETE", "/v1/boards/{board}/players/{player_id}", "/v1/boards/default/players/x", None),
    (
        "GET",
        "/v1/boards/{board}/players/{player_id}/around",
        "/v1/boards/default/players/p1/around",
        None,
    ),
    ("GET", "/v1/boards/{board}/events", "/v1/boards/default/events", None),
    ("GET", "/v1/boards/{board}/events/stream", "/v1/boards/default/events/stream", None),
    ("POST", "/v1/admin/cleanup", "/v1/admin/cleanup", {"board": "absent"}),
]


def keyed(settings: Settings, public_reads: bool = False) -> Settings:
    return replace(
        settings,
        admin_keys=(KEYS[Role.ADMIN],),
        server_keys=(KEYS[Role.SERVER],),
        client_keys=(KEYS[Role.CLIENT],),
        public_reads=public_reads,
    )


def test_the_calls_cover_every_route() -> None:
    assert {(m, route) for m, route, _, _ in CALLS} == {(r.method, r.path) for r in ROUTES}


async def test_every_route_answers_each_role_as_the_contract_says(
    aiohttp_client, settings: Settings, clean_redis
) -> None:
    client = await aiohttp_client(create_app(keyed(settings)))
    presented = [None, "Bearer not-a-key-of-this-server", "Basic " + KEYS[Role.ADMIN]]
    presented += [f"Bearer {KEYS[role]}" for role in Role]
    for method, route, path, body in CALLS:
        least = needed(method, route)
        for header in presented:
            role = next((r for r in Role if header == f"Bearer {KEYS[r]}"), None)
            allowed = least is None or (role is not None and role >= least)
            if allowed and route.endswith("/stream"):
                continue  # an allowed stream stays open: its refusals are what is checked
            before = clean_redis.dump()
            headers = {"Authorization": header} if header else {}
            answer = await client.request(method, path, json=body, headers=headers)
            case = (method, path, header)
            if allowed:
                assert answer.status not in (401, 403), case
                continue
            error = (await answer.json())["error"]
            if role is None:
                assert (answer.status, error["code"]) == (401, "unauthorized"), case
                assert answer.headers["WWW-Authenticate"] == "Bearer"
            else:
                assert (answer.status, error["code"]) == (403, "forbidden"), case
            assert clean_redis.dump() == before, case


async def test_public_reads_open_the_gets_only(aiohttp_client, settings: Settings) -> None:
    client = await aiohttp_client(create_app(keyed(settings, public_reads=True)))
    assert (await client.get("/v1/boards/default/top")).status == 200
    assert (await client.post("/v1/boards/default/scores", json=SCORE)).status == 401
    server = {"Authorization": f"Bearer {KEYS[Role.SERVER]}"}
    assert (
        await client.post("/v1/boards/default/scores", json=SCORE, headers=server)
    ).status == 200


async def test_keys_are_never_logged(
    aiohttp_client, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = keyed(settings)
    client = await aiohttp_client(create_app(config))
    for role in Role:
        headers = {"Authorization": f"Bearer {KEYS[role]}"}
        await client.put("/v1/boards/b", json={"regions": ["na"]}, headers=headers)
        await client.post("/v1/boards/b/scores", json=SCORE, headers=headers)
    text = caplog.text + repr(config) + str(config)
    assert not any(key in text for key in KEYS.values())


@pytest.mark.parametrize(
    "variables",
    [
        {"LEADERBOARD_ADMIN_KEYS": "short"},
        {"LEADERBOARD_CLIENT_KEYS": "x" * 129},
        {"LEADERBOARD_SERVER_KEYS": "with a space inside it"},
        {"LEADERBOARD_ADMIN_KEYS": "k" * 20, "LEADERBOARD_CLIENT_KEYS": "k" * 20},
    ],
)
def test_keys_that_cannot_be_used_stop_the_start(variables: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="KEYS"):
        Settings.from_env(variables)


def test_keys_are_read_as_comma_separated_lists() -> None:
    found = Settings.from_env({"LEADERBOARD_SERVER_KEYS": f"{'a' * 16}, {'b' * 16}"})
    assert found.server_keys == ("a" * 16, "b" * 16)
