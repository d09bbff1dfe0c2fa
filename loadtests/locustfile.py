"""Locust users a studio would recognise, against one board of the service.

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8080

Bodies are encoded once up front and users use locust's fast HTTP client, so that the load
generator spends its time sending, not building JSON. Players are `player-<n>` for n in
[0, LEADERBOARD_BENCH_PLAYERS) spread over the board's regions, as the bench's preload
writes them. Environment: LEADERBOARD_BENCH_BOARD (default `default`), LEADERBOARD_BENCH_REGIONS
(default `na,eu,apac`), LEADERBOARD_BENCH_PLAYERS (default 1000000), LEADERBOARD_BENCH_BATCH
(updates per GameServer post, default 1000), LEADERBOARD_BENCH_SERVERS (exactly this many
GameServer users when set, whatever -u says about the others) and LEADERBOARD_BENCH_BATCH_RATE
(batch posts per second per GameServer user; unset: as fast as answers come back), so that a
mixed run holds writes at a fixed rate while clients read; LEADERBOARD_BENCH_CLIENT_RATE
(requests per second per GameClient user; unset: as fast as answers come back, with a
pause of 0-10 ms), LEADERBOARD_BENCH_SINGLE_WEIGHT, which turns on SinglePoster (see
there), and LEADERBOARD_BENCH_READ_HOST (a base URL such as http://127.0.0.1:8081: the reads
go there, to servers that take no writes, as a load balancer routing GETs would send them).
At a set rate, a user's requests start as a Poisson process (see `poisson_throughput`).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

import orjson
from locust import FastHttpUser, User, between, constant, task

BOARD = os.environ.get("LEADERBOARD_BENCH_BOARD", "default")
REGIONS = os.environ.get("LEADERBOARD_BENCH_REGIONS", "na,eu,apac").split(",")
PLAYERS = int(os.environ.get("LEADERBOARD_BENCH_PLAYERS", "1000000"))
BATCH = int(os.environ.get("LEADERBOARD_BENCH_BATCH", "1000"))
HEADERS = {"Content-Type": "application/json"}
BASE = f"/v1/boards/{BOARD}"
READ = os.environ.get("LEADERBOARD_BENCH_READ_HOST", "") + BASE
SERVERS = int(os.environ.get("LEADERBOARD_BENCH_SERVERS", "0"))
BATCH_RATE = float(os.environ.get("LEADERBOARD_BENCH_BATCH_RATE", "0"))
CLIENT_RATE = float(os.environ.get("LEADERBOARD_BENCH_CLIENT_RATE", "0"))


def poisson_throughput(rate: float) -> Callable[[User], float]:
    """A wait_time whose task starts form a Poisson process of `rate` per second.

    Locust's constant_throughput keeps each user on a fixed beat, and users that start
    together stay in step: 16 readers or 8 game servers then arrive in bursts, and the
    queue each burst builds is measured as the service's latency. Independent clients
    do not arrive that way. A user that falls behind sends back to back until it has
    caught up, so the rate holds as long as the service keeps up.
    """

    def wait(user: User) -> float:
        now = time.monotonic()
        user._due = getattr(user, "_due", now) + random.expovariate(rate)
        return max(0.0, user._due - now)

    return wait


def player(n: int) -> tuple[str, str]:
    return f"player-{n}", REGIONS[n % len(REGIONS)]


def _template(players: list[tuple[str, str]]) -> bytes:
    """A body with a %d where each score goes (ids and regions hold no %)."""
    items = [
        orjson.dumps({"player_id": pid, "region": region, "score": 0})[:-2] + b"%d}"
        for pid, region in players
    ]
    return b",".join(items)


def _batches(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [
        b'{"updates":[' + _template([player(rng.randrange(PLAYERS)) for _ in range(BATCH)]) + b"]}"
        for _ in range(count)
    ]


def _singles(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [_template([player(rng.randrange(PLAYERS))]) for _ in range(count)]


def fresh(templates: list[bytes], scores: int) -> bytes:
    """One of the bodies with new random scores: replayed scores would mostly repeat
    what is stored (no change, the cheap path), and a benchmark must post changes."""
    draw = random.getrandbits
    return random.choice(templates) % tuple(draw(30) for _ in range(scores))


# Encoded once per process at import, before any user runs; each request only puts new
# scores in (a C-speed %-format). Encoded in each user's on_start, they held the process's
# loop for ~70 ms per GameServer user while the users started earlier had requests in
# flight, whose clocks counted it: a few % of a 30 s run's requests, enough to be its p99.
BATCH_BODIES = _batches(400, os.getpid())  # 400,000 players per process
SINGLE_BODIES = _singles(1000, os.getpid() + 1)


class GameServer(FastHttpUser):
    """A match server posting its players' scores in batches: the fast path."""

    wait_time = poisson_throughput(BATCH_RATE) if BATCH_RATE > 0 else constant(0)
    weight = 1
    fixed_count = SERVERS

    def on_start(self) -> None:
        if BATCH_RATE > 0:
            self.wait()  # locust runs a first task at once: not every server at one instant

    @task
    def post_batch(self) -> None:
        self.client.post(
            f"{BASE}/scores/batch", data=fresh(BATCH_BODIES, BATCH), headers=HEADERS,
            name="POST /scores/batch",
        )  # fmt: skip


class GameClient(FastHttpUser):
    """A player's game: posts its own score now and then, reads the board and its place."""

    wait_time = poisson_throughput(CLIENT_RATE) if CLIENT_RATE > 0 else between(0.0, 0.01)
    weight = 4

    def on_start(self) -> None:
        if CLIENT_RATE > 0:
            self.wait()  # as GameServer's

    def me(self) -> str:
        return player(random.randrange(PLAYERS))[0]

    @task(2)
    def post_score(self) -> None:
        self.client.post(
            f"{BASE}/scores", data=fresh(SINGLE_BODIES, 1), headers=HEADERS,
            name="POST /scores",
        )  # fmt: skip

    @task(2)
    def global_top(self) -> None:
        self.client.get(f"{READ}/top?limit=100", name="GET /top global")

    @task(1)
    def regional_top(self) -> None:
        self.client.get(
            f"{READ}/top?scope={random.choice(REGIONS)}&limit=100", name="GET /top region"
        )

    @task(3)
    def own_rank(self) -> None:
        self.client.get(f"{READ}/players/{self.me()}", name="GET /players/{id}")

    @task(3)
    def around_me(self) -> None:
        self.client.get(
            f"{READ}/players/{self.me()}/around?radius=10", name="GET /players/{id}/around"
        )


class SinglePoster(FastHttpUser):
    """A client without batching: one score per request, back to back (the coalescing path).

    Its weight is LEADERBOARD_BENCH_SINGLE_WEIGHT, 0 by default: locust drops classes of
    weight 0 even when named, so a plain `locust -f` run keeps the studio mix above, and
    `python -m loadtests` sets 1 for its `single` scenario.
    """

    wait_time = constant(0)
    weight = int(os.environ.get("LEADERBOARD_BENCH_SINGLE_WEIGHT", "0"))

    @task
    def post_score(self) -> None:
        self.client.post(
            f"{BASE}/scores", data=fresh(SINGLE_BODIES, 1), headers=HEADERS,
            name="POST /scores",
        )  # fmt: skip


class Spectator(FastHttpUser):
    """A web page or stream overlay that only reads the top of the board."""

    wait_time = between(0.05, 0.2)
    weight = 1

    @task
    def global_top(self) -> None:
        self.client.get(f"{READ}/top?limit=100", name="GET /top global")
