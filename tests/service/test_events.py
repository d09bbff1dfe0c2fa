"""Top-N events replayed against a plain model: read back in order, the events of each scope
turn its top N before every step into its top N after it, with the ranks of the model."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leaderboard.domain import BoardConfig, Mode, Order, Update
from leaderboard.errors import PlayerNotFound
from leaderboard.service import Service
from leaderboard.settings import Settings
from leaderboard.store import Store
from tests.model import ModelBoard
from tests.redis_process import RedisTarget

REGIONS = ("na", "eu", "apac")
N = 3
PLAYERS = [f"p{i}" for i in range(9)]

writes = st.tuples(
    st.sampled_from(PLAYERS), st.sampled_from(REGIONS), st.integers(-3, 3), st.none()
)
steps = st.one_of(
    st.tuples(st.just("write"), writes),
    st.tuples(st.just("batch"), st.lists(writes, min_size=1, max_size=6)),
    st.tuples(st.just("delete"), st.sampled_from(PLAYERS)),
)


class Follower:
    """What a consumer of one scope's stream knows: player -> score of its top N."""

    def __init__(self, scope: str, sign: int, board: str = "ev") -> None:
        self.scope, self.sign, self.board, self.after, self.top = scope, sign, board, "0", {}

    def rank(self, pid: str) -> int:
        mine = self.sign * self.top[pid]
        return 1 + sum(1 for s in self.top.values() if self.sign * s < mine)

    def apply(self, events: Sequence[dict]) -> None:
        for e in events:
            assert (e["board"], e["scope"]) == (self.board, self.scope)
            pid = e["player_id"]
            if e["type"] == "left":
                assert e["rank"] is None
                assert e["previous_rank"] == self.rank(pid)
                del self.top[pid]
                continue
            assert (e["type"] == "entered") == (pid not in self.top), e
            previous = self.rank(pid) if pid in self.top else None
            self.top[pid] = e["score"]
            assert e["rank"] == self.rank(pid), e
            assert e["previous_rank"] == previous, e


def model_top(model: ModelBoard, scope: str) -> dict[str, int]:
    return {p: model.players[p][1] for p in model.members(scope)[:N]}


def open_service(url: str, cluster: bool, timeout: float, batch_chunk: int) -> Service:
    """A service of its own (another event loop, another process) on the tests' Redis."""
    store = Store.connect(url, 4, timeout, cluster=cluster)
    config = Settings(
        redis_url=url, redis_cluster=cluster, activity_buckets=8, batch_chunk=batch_chunk
    )
    return Service.build(store, config)


async def replay(url: str, cluster: bool, order: Order, mode: Mode, plan: list) -> None:
    service = open_service(url, cluster, 2.0, batch_chunk=2)
    try:
        config = BoardConfig("ev", REGIONS, order=order, mode=mode, top_events=N)
        await service.boards.put(config)
        model = ModelBoard(list(REGIONS), order.value, mode.value)
        followers = [
            Follower(scope, 1 if order is Order.ASC else -1) for scope in ("global", *REGIONS)
        ]
        for kind, arg in plan:
            if kind == "write":
                await service.scores.submit("ev", Update(*arg))
                model.apply(*arg)
            elif kind == "batch":
                await service.scores.submit_batch("ev", [Update(*w) for w in arg])
                for w in arg:
                    model.apply(*w)
            elif arg in model.players:
                await service.views.delete_player("ev", arg)
                del model.players[arg]
            for f in followers:
                page = await service.events.page("ev", f.scope, f.after, 1000)
                f.apply(page["events"])
                f.after = page["last_id"]
                assert f.top == model_top(model, f.scope), (f.scope, kind, arg)
    finally:
        await service.store.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    order=st.sampled_from(list(Order)),
    mode=st.sampled_from([Mode.BEST, Mode.SET, Mode.INCR]),
    plan=st.lists(steps, min_size=1, max_size=25),
)
def test_events_replay_the_top_n_of_every_scope(
    clean_redis: RedisTarget, order, mode, plan
) -> None:
    clean_redis.flush()
    asyncio.run(replay(clean_redis.url, clean_redis.cluster, order, mode, plan))


async def write_many(url: str, cluster: bool, seed: int) -> None:
    import random

    rng = random.Random(seed)
    service = open_service(url, cluster, 5.0, batch_chunk=3)
    try:
        for _ in range(150):
            ups = [
                Update(rng.choice(PLAYERS), rng.choice(REGIONS), rng.randint(-20, 20))
                for _ in range(rng.randint(1, 5))
            ]
            await service.scores.submit_batch("ev", ups)
            if rng.random() < 0.1:
                with contextlib.suppress(PlayerNotFound):
                    await service.views.delete_player("ev", rng.choice(PLAYERS))
    finally:
        await service.store.close()


def writer_process(url: str, cluster: bool, seed: int) -> None:
    asyncio.run(write_many(url, cluster, seed))


async def test_events_stay_exact_with_several_processes_writing(
    clean_redis: RedisTarget, service
) -> None:
    url, cluster = clean_redis.url, clean_redis.cluster
    await service.boards.put(BoardConfig("ev", REGIONS, top_events=N, mode=Mode.SET))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(3, mp_context=context) as pool:
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(pool, writer_process, url, cluster, s) for s in range(3))
        )
    for scope in ("global", *REGIONS):
        follower = Follower(scope, -1)
        while True:
            page = await service.events.page("ev", scope, follower.after, 1000)
            if not page["events"]:
                break
            follower.apply(page["events"])
            follower.after = page["last_id"]
        top = await service.views.top("ev", scope, 0, N)
        assert follower.top == {e["player_id"]: e["score"] for e in top["entries"]}


async def test_one_write_shows_no_passing_entry_in_the_global_stream(service) -> None:
    await service.boards.put(BoardConfig("ev", REGIONS, mode=Mode.SET, top_events=1))
    await service.scores.submit_batch(
        "ev", [Update("X", "na", 100), Update("Y", "na", 97), Update("Z", "apac", 95)]
    )
    after = (await service.events.page("ev", "global", "0", 1000))["last_id"]
    await service.scores.submit("ev", Update("X", "na", 80))
    events = (await service.events.page("ev", "global", after, 1000))["events"]
    assert [(e["type"], e["player_id"], e["rank"], e["previous_rank"]) for e in events] == [
        ("left", "X", None, 1),
        ("entered", "Y", 1, None),
    ]


@pytest.mark.parametrize("top", [0, N])
async def test_a_chunk_of_the_largest_size_stores_every_score_and_its_events(
    clean_redis: RedisTarget, top: int
) -> None:
    """write.lua sends a chunk's scores far from the top N in shared ZADDs, flushed
    before anything reads the zset and in parts that Lua's stack can unpack."""
    import random

    rng = random.Random(7)
    service = open_service(clean_redis.url, clean_redis.cluster, 10.0, batch_chunk=5000)
    try:
        await service.boards.put(BoardConfig("ev", ("na",), top_events=top, mode=Mode.SET))
        last: dict[str, int] = {}
        for _ in range(2):
            ups = [Update(f"p{n}", "na", rng.randrange(10**6)) for n in range(5000)]
            for u in ups:
                last[u.player_id] = u.score
            assert await service.scores.submit_batch("ev", ups) == 5000
        page = await service.views.top("ev", "na", 0, len(last) + 1)
        assert {e["player_id"]: e["score"] for e in page["entries"]} == last
        follower = Follower("na", -1)
        events = await service.events.page("ev", "na", "0", 10000)
        follower.apply(events["events"])
        assert follower.top == {e["player_id"]: e["score"] for e in page["entries"][:top]}
    finally:
        await service.store.close()
