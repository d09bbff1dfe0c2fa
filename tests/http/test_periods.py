"""Periods (contract v1.2, "Periods"): scheduled and manual resets, archived standings,
the periods listing, reset events and the deletion of archives beyond keep_periods. The
app's clock is injected, so boundaries are crossed without waiting."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from leaderboard.http.app import create_app
from leaderboard.periods import Schedule, boundary_index
from leaderboard.settings import Settings
from leaderboard.store.scripts import Scripts


def ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class Clock:
    """The app's clock, moved by hand."""

    def __init__(self, at: str) -> None:
        self.now = ms(at)

    def __call__(self) -> int:
        return self.now

    def set(self, at: str) -> None:
        self.now = ms(at)


@pytest.fixture
def clock() -> Clock:
    return Clock("2030-12-04T10:00:00Z")  # a Wednesday, in the future: scripts never count
    # periods by an instant before Redis's own clock


@pytest.fixture
async def api(aiohttp_client, settings: Settings, clock: Clock):
    return await aiohttp_client(create_app(settings, clock))


async def put(api, board: str, **config) -> dict:
    response = await api.put(f"/v1/boards/{board}", json={"regions": ["na", "eu"], **config})
    assert response.status in (200, 201), await response.text()
    return await response.json()


async def post(api, board: str, pid: str, region: str, score: int, **extra) -> dict:
    body = {"player_id": pid, "region": region, "score": score, **extra}
    response = await api.post(f"/v1/boards/{board}/scores", json=body)
    assert response.status == 200, await response.text()
    return await response.json()


async def get(api, path: str, status: int = 200) -> dict:
    response = await api.get(path)
    assert response.status == status, await response.text()
    return await response.json()


async def ids(api, board: str, query: str = "") -> list[tuple[str, int, int]]:
    page = await get(api, f"/v1/boards/{board}/top?limit=1000{query}")
    return [(e["player_id"], e["score"], e["rank"]) for e in page["entries"]]


async def events(api, board: str, scope: str) -> list[dict]:
    return (await get(api, f"/v1/boards/{board}/events?scope={scope}&limit=1000"))["events"]


async def test_the_config_answers_periods_and_refuses_bad_values(api) -> None:
    answer = await put(api, "w", reset_every="weekly", keep_periods=2)
    assert (answer["reset_every"], answer["keep_periods"], answer["period"]) == ("weekly", 2, 1)
    got = await get(api, "/v1/boards/w")
    assert (got["reset_every"], got["keep_periods"], got["period"]) == ("weekly", 2, 1)
    for field, value in [
        ("reset_every", "fortnightly"),
        ("reset_every", None),
        ("keep_periods", 101),
        ("keep_periods", -1),
        ("keep_periods", "3"),
    ]:
        response = await api.put("/v1/boards/w", json={"regions": ["na"], field: value})
        assert response.status == 400
        error = (await response.json())["error"]
        assert [d["field"] for d in error["details"]] == [field]
    assert (await get(api, "/v1/boards/w"))["regions"] == ["na", "eu"]
    for bad in ["x", "1.5", ""]:
        error = (await get(api, f"/v1/boards/w/top?period={bad}", 400))["error"]
        assert error["details"][0]["field"] == "period"


async def test_a_weekly_boundary_is_exact_and_the_archive_answers_as_it_stood(
    api, clock: Clock
) -> None:
    await put(api, "w", reset_every="weekly")
    await post(api, "w", "a", "na", 30, name="Ann", metadata={"car": "red"})
    await post(api, "w", "b", "eu", 20, name="Bo")
    clock.set("2030-12-08T23:59:59.999Z")
    await post(api, "w", "c", "eu", 10)
    clock.set("2030-12-09T00:00:00Z")
    assert (await post(api, "w", "c", "eu", 5))["rank"] == 1  # a new week: alone
    assert await ids(api, "w") == [("c", 5, 1)]
    assert (await get(api, "/v1/boards/w"))["period"] == 2
    archived = [("a", 30, 1), ("b", 20, 2), ("c", 10, 3)]
    assert await ids(api, "w", "&period=1") == archived
    assert await ids(api, "w", "&period=1&scope=eu") == [("b", 20, 1), ("c", 10, 2)]
    player = await get(api, "/v1/boards/w/players/a?period=1")
    assert player == {
        "player_id": "a",
        "region": "na",
        "score": 30,
        "name": "Ann",
        "metadata": {"car": "red"},
        "rank": {"global": 1, "region": 1},
        "total": {"global": 3, "region": 1},
    }
    await get(api, "/v1/boards/w/players/a", 404)
    around = await get(api, "/v1/boards/w/players/b/around?radius=1&period=1")
    assert [e["player_id"] for e in around["entries"]] == ["a", "b", "c"]
    found = await get(api, "/v1/boards/w/players?ids=c,b,zz&period=1")
    assert [(e["player_id"], e["rank"]) for e in found["entries"]] == [("b", 2), ("c", 3)]
    assert found["missing"] == ["zz"]
    periods = await get(api, "/v1/boards/w/periods")
    assert periods == {
        "board": "w",
        "current": {
            "period": 2,
            "started_at": "2030-12-09T00:00:00Z",
            "ends_at": "2030-12-16T00:00:00Z",
        },
        "archived": [
            {
                "period": 1,
                "started_at": "2030-12-04T10:00:00Z",
                "ended_at": "2030-12-09T00:00:00Z",
                "players": {"global": 3, "na": 1, "eu": 2},
            }
        ],
    }
    for missing in (0, 3, -1, 99):
        error = (await get(api, f"/v1/boards/w/top?period={missing}", 404))["error"]
        assert error["code"] == "period_not_found"


async def test_boundaries_passed_with_no_writes_count_one_period_each(api, clock: Clock) -> None:
    await put(api, "h", reset_every="hourly")
    await post(api, "h", "a", "na", 1)
    clock.set("2030-12-04T15:30:00Z")  # five boundaries later
    assert (await get(api, "/v1/boards/h"))["period"] == 6
    assert await ids(api, "h") == []
    await post(api, "h", "b", "eu", 2)
    periods = await get(api, "/v1/boards/h/periods")
    assert periods["current"] == {
        "period": 6,
        "started_at": "2030-12-04T15:00:00Z",
        "ends_at": "2030-12-04T16:00:00Z",
    }
    assert [(p["period"], p["ended_at"]) for p in periods["archived"]] == [
        (1, "2030-12-04T11:00:00Z")
    ]
    for empty in (2, 5):  # ended with no players: not archived
        await get(api, f"/v1/boards/h/top?period={empty}", 404)
    na = await events(api, "h", "na")
    resets = [e for e in na if e["type"] == "reset"]
    assert [(e["period"], e["scope"]) for e in resets] == [(6, "na")]  # one, naming the newest
    everywhere = await events(api, "h", "global")
    kinds = [(e["type"], e["period"]) for e in everywhere]
    assert kinds == [("entered", 1), ("reset", 6), ("entered", 6)]
    reset = next(e for e in everywhere if e["type"] == "reset")
    assert set(reset) == {"id", "type", "board", "scope", "period", "ts"}


async def test_a_manual_reset_ends_the_period_now(api, clock: Clock) -> None:
    await put(api, "m", top_events=10)
    await post(api, "m", "a", "na", 5)
    clock.set("2030-12-04T10:00:05Z")
    response = await api.post("/v1/boards/m/reset")
    assert response.status == 200
    assert await response.json() == {
        "board": "m",
        "period": 2,
        "started_at": "2030-12-04T10:00:05Z",
    }
    for scope in ("global", "na", "eu"):  # at once, before any write of the new period
        last = (await events(api, "m", scope))[-1]
        assert (last["type"], last["period"]) == ("reset", 2)
    assert await ids(api, "m") == []
    assert await ids(api, "m", "&period=1") == [("a", 5, 1)]
    await post(api, "m", "b", "eu", 7)
    assert (await events(api, "m", "eu"))[-1]["period"] == 2
    clock.set("2030-12-04T10:00:09Z")
    await api.post("/v1/boards/m/reset")  # period 2 ends with b: archived
    await api.post("/v1/boards/m/reset")  # period 3 ends empty: not archived
    periods = await get(api, "/v1/boards/m/periods")
    assert periods["current"] == {
        "period": 4,
        "started_at": "2030-12-04T10:00:09Z",
        "ends_at": None,
    }
    assert [(p["period"], p["started_at"], p["ended_at"]) for p in periods["archived"]] == [
        (2, "2030-12-04T10:00:05Z", "2030-12-04T10:00:09Z"),
        (1, "2030-12-04T10:00:00Z", "2030-12-04T10:00:05Z"),
    ]
    await get(api, "/v1/boards/m/top?period=3", 404)
    flipped = {"regions": ["na", "eu"], "top_events": 10, "order": "asc"}
    response = await api.put("/v1/boards/m", json=flipped)  # archives keep the order
    assert (response.status, (await response.json())["error"]["code"]) == (409, "board_not_empty")
    response = await api.post("/v1/boards/absent/reset")
    assert (response.status, (await response.json())["error"]["code"]) == (404, "board_not_found")


async def test_cleanup_deletes_archives_beyond_keep_periods(api, clean_redis, clock) -> None:
    await put(api, "k", keep_periods=1, inactive_after_days=0)
    for n in range(3):
        await post(api, "k", f"p{n}", "na", n, name="x")
        await api.post("/v1/boards/k/reset")
    listed = (await get(api, "/v1/boards/k/periods"))["archived"]
    assert [p["period"] for p in listed] == [3]  # the listing shows what the board keeps
    assert await ids(api, "k", "&period=1") == [("p0", 0, 1)]  # not yet deleted: answers
    response = await api.post("/v1/admin/cleanup", json={"board": "k"})
    assert response.status == 200
    await get(api, "/v1/boards/k/top?period=1", 404)
    await get(api, "/v1/boards/k/top?period=2", 404)
    assert await ids(api, "k", "&period=3") == [("p2", 2, 1)]
    names = [k for k in sorted(clean_redis.keys()) if k.startswith("lb:{k:")]
    left = [k for k in names if ":p2:" in k or re.search(r"}:[zan](:|$)", k)]
    assert names and left == []  # periods 1 and 2 are gone to the last key


async def test_deleting_a_board_deletes_its_archives(api, clean_redis) -> None:
    await put(api, "d")
    await post(api, "d", "a", "na", 1, name="A")
    await api.post("/v1/boards/d/reset")
    await post(api, "d", "a", "eu", 2, name="A")
    assert (await api.delete("/v1/boards/d")).status == 204
    assert [k for k in sorted(clean_redis.keys()) if k.startswith(("lb:{d:", "lb:{d}"))] == []


def test_the_scripts_count_boundaries_as_the_service_does(clean_redis) -> None:
    """_lib.lua's boundary_index against periods.py at instants around UTC boundaries,
    month ends and leap days included."""
    lib = Scripts().source["snapshot"].split("\n-- A region's top N")[0]
    script = (
        lib
        + "\nlocal out = {}\nfor i = 2, #ARGV do\n"
        + ("out[#out + 1] = boundary_index(tonumber(ARGV[i]), ARGV[1])\nend\nreturn out")
    )
    days = [dt.date(2023, 12, 31) + dt.timedelta(days=d) for d in range(0, 900, 7)]
    days += [dt.date(2024, 2, 29), dt.date(2024, 3, 1), dt.date(2100, 3, 1), dt.date(2000, 2, 29)]
    instants = []
    for day in days:
        midnight = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()) * 1000
        instants += [midnight - 1, midnight, midnight + 3_599_999, midnight + 3_600_000]
    client = clean_redis.client()
    try:
        for every in Schedule:
            got = client.eval(script, 0, every.value, *instants)
            assert got == [boundary_index(t, every) for t in instants], every
    finally:
        client.close()


async def test_archives_keep_their_regions_and_the_boards_order(api) -> None:
    await put(api, "o")
    await post(api, "o", "a", "eu", 1)
    await api.post("/v1/boards/o/reset")
    response = await api.put("/v1/boards/o", json={"regions": ["na"]})
    error = (await response.json())["error"]
    assert (response.status, error["code"]) == (409, "region_in_use")
    assert "archived" in error["message"]
    response = await api.put("/v1/boards/o", json={"regions": ["na", "eu"], "order": "asc"})
    assert (response.status, (await response.json())["error"]["code"]) == (409, "board_not_empty")
    assert await ids(api, "o", "&period=1") == [("a", 1, 1)]
    await put(api, "o", regions=["na", "eu", "sa"], mode="set")  # the rest may change
    assert await ids(api, "o", "&period=1&scope=sa") == []


async def test_a_reset_with_an_idempotency_key_ends_one_period(api, clean_redis) -> None:
    await put(api, "i")
    await post(api, "i", "a", "na", 1)
    headers = {"Idempotency-Key": "season-1-end"}
    first = await api.post("/v1/boards/i/reset", headers=headers)
    again = await api.post("/v1/boards/i/reset", headers=headers)
    assert (first.status, again.status) == (200, 200)
    assert await again.json() == await first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # The first attempt reset, then its answer was lost (the process died): a retry
    # finds the reset's mark and ends no other period.
    client = clean_redis.client(decode_responses=True)
    try:
        key = next(k for k in sorted(clean_redis.keys()) if k.startswith("lb:idem:{i:"))
        client.set(key, client.get(key).split("\n")[0], keepttl=True)
    finally:
        client.close()
    retried = await api.post("/v1/boards/i/reset", headers=headers)
    assert (retried.status, (await retried.json())["period"]) == (200, 2)
    assert "Idempotent-Replayed" not in retried.headers
    assert (await get(api, "/v1/boards/i"))["period"] == 2
    # Another key whose first attempt died before resetting: its retry resets (every
    # reset has the same body, so the mark names the key).
    client = clean_redis.client(decode_responses=True)
    try:
        client.set(key.replace("season-1-end", "season-2-end"), client.get(key).split("\n")[0])
    finally:
        client.close()
    other = await api.post("/v1/boards/i/reset", headers={"Idempotency-Key": "season-2-end"})
    assert (other.status, (await other.json())["period"]) == (200, 3)


async def test_an_archive_deletion_cut_short_is_finished_by_the_next_cleanup(
    api, clean_redis
) -> None:
    await put(api, "x", keep_periods=0, inactive_after_days=0)
    await post(api, "x", "a", "na", 1)
    await post(api, "x", "b", "eu", 2)
    await api.post("/v1/boards/x/reset")
    client = clean_redis.client(decode_responses=True)
    try:
        client.sadd("lb:{x}:dropping", 1)  # as the first step of a deletion leaves it
        await get(api, "/v1/boards/x/top?period=1", 404)
        assert (await api.post("/v1/admin/cleanup", json={"board": "x"})).status == 200
        names = sorted(clean_redis.keys())
        zsets = [k for k in names if k.startswith("lb:{x:") and k.endswith(":z")]
        assert zsets == [] and client.smembers("lb:{x}:dropping") == set()
    finally:
        client.close()
