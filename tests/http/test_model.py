"""Random sequences of board changes and writes against the running app and a plain model.

After every step every view is compared: board counts, top pages (whole lists and pages
at random offsets), lookups of random ids, every player's standing, around-me windows in
every scope, with names and metadata.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from leaderboard.settings import Settings
from tests.live_server import LiveServer
from tests.model import MAX, ModelBoard
from tests.redis_process import RedisTarget

REGIONS = ["na", "eu", "apac", "sa"]
BOARDS = ["default", "b2"]
PLAYERS = ["A", "a", "B", "_x", "p-1", "p.2", "p:3", "p@4", "Z9", "0", "aa"]

scores = st.integers(-4, 4) | st.sampled_from([MAX, -MAX, MAX - 1])
names = st.none() | st.sampled_from(["Ann", "Bö", "名前"])
metadata = st.none() | st.sampled_from([{}, {"car": "Mk II"}, {"skin": 3, "t": ["名前"]}])
updates = st.tuples(st.sampled_from(PLAYERS), st.sampled_from(REGIONS), scores, names, metadata)


def body(pid: str, region: str, score: int, name: str | None, metadata: dict | None) -> dict:
    out = {"player_id": pid, "region": region, "score": score}
    if name is not None:
        out["name"] = name
    if metadata is not None:
        out["metadata"] = metadata
    return out


class Leaderboards(RuleBasedStateMachine):
    server: LiveServer
    redis: RedisTarget

    def __init__(self) -> None:
        super().__init__()
        self.redis.flush()
        self.boards: dict[str, ModelBoard] = {}
        self.rng = random.Random(0)

    def call(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        return self.server.call(method, path, body)

    @initialize(seed=st.integers(0, 2**32))
    def start(self, seed: int) -> None:
        self.rng = random.Random(seed)
        status, _ = self.call("PUT", "/v1/boards/default", {"regions": ["na", "eu", "apac"]})
        assert status == 201
        self.boards["default"] = ModelBoard(["na", "eu", "apac"])

    @rule(
        board=st.sampled_from(BOARDS),
        regions=st.lists(st.sampled_from(REGIONS), min_size=1, max_size=4, unique=True),
        order=st.sampled_from(["desc", "asc"]),
        mode=st.sampled_from(["best", "set", "incr"]),
    )
    def put_board(self, board: str, regions: list[str], order: str, mode: str) -> None:
        status, answer = self.call(
            "PUT", f"/v1/boards/{board}", {"regions": regions, "order": order, "mode": mode}
        )
        old = self.boards.get(board)
        if old is None:
            assert status == 201, answer
            self.boards[board] = ModelBoard(regions, order, mode)
            return
        in_use = {r for r, _, _ in old.players.values()} - set(regions)
        not_empty = old.players and (old.order, old.mode) != (order, mode)
        archived = {r for a in old.archives.values() for r, _, _ in a.players.values()}
        if archived - set(regions):  # archives keep their regions and the board's order
            assert (status, answer["error"]["code"]) == (409, "region_in_use")
        elif old.archives and old.order != order:
            assert (status, answer["error"]["code"]) == (409, "board_not_empty")
        elif in_use:
            assert (status, answer["error"]["code"]) == (409, "region_in_use")
        elif not_empty:
            assert (status, answer["error"]["code"]) == (409, "board_not_empty")
        else:
            assert status == 200, answer
            old.regions, old.order, old.mode = regions, order, mode
            for archive in old.archives.values():
                archive.regions = regions
        assert self.call("GET", f"/v1/boards/{board}")[1]["regions"] == old.regions

    def expect_missing_board(self, board: str, status: int, answer: object) -> bool:
        if board in self.boards:
            return False
        assert (status, answer["error"]["code"]) == (404, "board_not_found")
        return True

    @rule(board=st.sampled_from(BOARDS), update=updates)
    def post_score(self, board: str, update: tuple) -> None:
        status, answer = self.call("POST", f"/v1/boards/{board}/scores", body(*update))
        if self.expect_missing_board(board, status, answer):
            return
        model = self.boards[board]
        pid, region, score, name, meta = update
        if region not in model.regions:
            assert (status, answer["error"]["code"]) == (400, "unknown_region")
            return
        if abs(model.combine(pid, score)) > MAX:
            assert (status, answer["error"]["code"]) == (409, "score_out_of_range")
            return
        new, updated = model.apply(pid, region, score, name, meta)
        assert status == 200, answer
        assert answer == {
            "player_id": pid,
            "region": region,
            "score": new,
            "rank": model.rank(pid, region),
            "updated": updated,
        }

    @rule(board=st.sampled_from(BOARDS), items=st.lists(updates, min_size=1, max_size=9))
    def post_batch(self, board: str, items: list[tuple]) -> None:
        payload = {"updates": [body(*u) for u in items]}
        status, answer = self.call("POST", f"/v1/boards/{board}/scores/batch", payload)
        if self.expect_missing_board(board, status, answer):
            return
        model = self.boards[board]
        if any(region not in model.regions for _, region, _, _, _ in items):
            assert (status, answer["error"]["code"]) == (400, "unknown_region")
            return
        trial = ModelBoard(model.regions, model.order, model.mode, dict(model.players))
        for pid, region, score, name, meta in items:
            if abs(trial.combine(pid, score)) > MAX:
                assert (status, answer["error"]["code"]) == (409, "score_out_of_range")
                return
            trial.apply(pid, region, score, name, meta)
        assert (status, answer) == (200, {"accepted": len(items)})
        model.players = trial.players

    @rule(board=st.sampled_from(BOARDS), pid=st.sampled_from(PLAYERS))
    def delete_player(self, board: str, pid: str) -> None:
        status, answer = self.call("DELETE", f"/v1/boards/{board}/players/{pid}")
        if self.expect_missing_board(board, status, answer):
            return
        if pid in self.boards[board].players:
            assert status == 204
            del self.boards[board].players[pid]
        else:
            assert (status, answer["error"]["code"]) == (404, "player_not_found")

    @rule(board=st.sampled_from(BOARDS))
    def reset(self, board: str) -> None:
        status, answer = self.call("POST", f"/v1/boards/{board}/reset")
        if self.expect_missing_board(board, status, answer):
            return
        model = self.boards[board]
        model.reset()
        assert (status, answer["period"]) == (200, model.period)

    @rule(board=st.sampled_from(BOARDS))
    def delete_board(self, board: str) -> None:
        status, answer = self.call("DELETE", f"/v1/boards/{board}")
        if self.expect_missing_board(board, status, answer):
            return
        assert status == 204
        del self.boards[board]

    @invariant()
    def every_view_matches(self) -> None:
        status, listed = self.call("GET", "/v1/boards")
        assert status == 200
        assert listed == {"boards": [self.boards[b].config(b) for b in sorted(self.boards)]}
        for board, model in self.boards.items():
            status, got = self.call("GET", f"/v1/boards/{board}")
            counts = {"global": len(model.players)}
            counts |= {r: len(model.members(r)) for r in model.regions}
            assert (status, got) == (200, model.config(board) | {"players": counts})
            self.check_board(board, model, "")
            self.check_periods(board, model)

    def check_periods(self, board: str, model: ModelBoard) -> None:
        """Every archive answers as it stood (every view once, then its global list at
        each step: archives are read-only); the listing shows the newest kept ones."""
        status, got = self.call("GET", f"/v1/boards/{board}/periods")
        assert status == 200
        assert got["current"]["period"] == model.period
        newest = sorted(model.archives, reverse=True)[:4]
        listed = [(p["period"], p["players"]["global"]) for p in got["archived"]]
        assert listed == [(p, len(model.archives[p].players)) for p in newest]
        for period, archive in model.archives.items():
            if not archive.seen:
                self.check_board(board, archive, f"period={period}")
                archive.seen = True
                continue
            status, page = self.call("GET", f"/v1/boards/{board}/top?limit=1000&period={period}")
            assert (status, page["entries"]) == (200, archive.listing("global"))
        for missing in {0, model.period + 1, *range(1, model.period)} - set(model.archives):
            status, got = self.call("GET", f"/v1/boards/{board}/top?period={missing}")
            assert (status, got["error"]["code"]) == (404, "period_not_found")

    def check_board(self, board: str, model: ModelBoard, period: str) -> None:
        for scope in ["global", *model.regions]:
            whole = model.listing(scope)
            path = f"/v1/boards/{board}/top?scope={scope}&limit=1000&{period}"
            status, page = self.call("GET", path)
            assert status == 200
            assert page == {"board": board, "scope": scope, "total": len(whole), "entries": whole}
            ids = self.rng.sample(PLAYERS, self.rng.randint(1, len(PLAYERS)))
            path = f"/v1/boards/{board}/players?ids={','.join(ids)}&scope={scope}&{period}"
            entries, missing = model.lookup(ids, scope)
            expected = {"board": board, "scope": scope, "entries": entries, "missing": missing}
            assert self.call("GET", path) == (200, expected)
            offset, limit = self.rng.randint(0, len(whole) + 1), self.rng.randint(1, 4)
            path = f"/v1/boards/{board}/top?scope={scope}&offset={offset}&limit={limit}&{period}"
            status, page = self.call("GET", path)
            assert page["entries"] == whole[offset : offset + limit], (offset, limit)
        for pid in PLAYERS:
            status, got = self.call("GET", f"/v1/boards/{board}/players/{pid}?{period}")
            if pid not in model.players:
                assert (status, got["error"]["code"]) == (404, "player_not_found")
                continue
            region, score, shown = model.players[pid]
            expected = {"player_id": pid, "region": region, "score": score} | shown
            expected["rank"] = {
                "global": model.rank(pid, "global"),
                "region": model.rank(pid, region),
            }
            expected["total"] = {"global": len(model.players), "region": len(model.members(region))}
            assert (status, got) == (200, expected)
            for scope in ("global", region):
                radius = self.rng.choice([0, 1, 2, 3, 10])
                path = f"/v1/boards/{board}/players/{pid}/around?scope={scope}&radius={radius}"
                path += f"&{period}"
                status, got = self.call("GET", path)
                assert status == 200
                assert got["entries"] == model.around(pid, scope, radius), (scope, radius)
            elsewhere = [r for r in model.regions if r != region]
            if elsewhere:
                status, got = self.call(
                    "GET",
                    f"/v1/boards/{board}/players/{pid}/around?scope={elsewhere[0]}&{period}",
                )
                assert (status, got["error"]["code"]) == (404, "player_not_found")


@pytest.fixture
def live(clean_redis: RedisTarget) -> Iterator[LiveServer]:
    config = Settings(
        redis_url=clean_redis.url,
        redis_cluster=clean_redis.cluster,
        activity_buckets=16,
        batch_chunk=3,
    )
    with LiveServer(config) as server:
        yield server


def test_service_matches_the_model(live: LiveServer, clean_redis: RedisTarget) -> None:
    Leaderboards.server = live
    Leaderboards.redis = clean_redis
    run = Leaderboards.TestCase
    run.settings = settings(
        max_examples=40,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    run().runTest()
