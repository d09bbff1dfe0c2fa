"""Redis killed in the middle of large incr batches, then back: each batch sent again with
its Idempotency-Key until it succeeds ends applied exactly once.

Redis keeps an append-only file fsynced at every write here, so what it applied before
the kill is still there after the restart (a chunk and its mark, or neither). The service
reaches Redis through a proxy that lets a set number of bytes through and then holds the
rest: Redis has read part of the batches' pipelines when it is killed, wherever the
scheduler of this machine happens to be. One batch at a time goes to Redis, so the bytes
mostly come in one order (see CUTS).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from leaderboard.domain import Update
from leaderboard.http.app import create_app
from leaderboard.http.keys import SERVICE
from leaderboard.service.chunks import plan
from leaderboard.settings import Settings
from tests.redis_process import RedisProcess

REGIONS = ("na", "eu", "apac")
PLAYERS = 3000
BATCHES = 6
ITEMS = 5000
CHUNK = 50


class CutProxy:
    """A TCP proxy to Redis. ``cut(n)``: the next ``n`` bytes towards Redis pass, the rest
    waits (``spent`` is set once some did); ``reset()`` drops every connection and lets
    everything pass again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.budget: int | None = None
        self.spent = asyncio.Event()
        self.links: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            writer.close()
            return
        self.links |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer, towards_redis=True),
            self._pipe(up_reader, writer, towards_redis=False),
            return_exceptions=True,
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, towards_redis: bool
    ) -> None:
        try:
            while data := await reader.read(65536):
                if towards_redis and self.budget is not None:
                    if len(data) > self.budget:
                        self.spent.set()
                    data, self.budget = data[: self.budget], max(self.budget - len(data), 0)
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    def cut(self, after: int) -> None:
        self.budget = after

    def reset(self) -> None:
        self.budget = None
        self.spent.clear()
        for writer in self.links:
            writer.close()
        self.links.clear()

    async def close(self) -> None:
        self.reset()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def proxy(durable: RedisProcess) -> AsyncIterator[CutProxy]:
    cutting = CutProxy(durable.port)
    yield cutting
    await cutting.close()


@pytest.fixture
def durable(tmp_path: Path) -> Iterator[RedisProcess]:
    """A Redis of this test's own (it gets killed) that keeps every acknowledged write."""
    server = RedisProcess(tmp_path, extra_args=["--appendonly", "yes", "--appendfsync", "always"])
    server.start()
    try:
        yield server
    finally:
        server.stop()


def restart(server: RedisProcess) -> None:
    os.kill(server.pid, signal.SIGKILL)
    assert server.process is not None
    server.process.wait()
    server.start()


# Bytes let through before the kill: a fast-path pipeline of a batch is about 350 KB, so
# 150 KB cuts the first one; new players send that pipeline (all held back), their locks
# and pulls, then the locked write, which about 450-650 KB cuts. Where a run's requests
# came in another order, the next size is tried on a new board.
CUTS = {False: (150_000, 100_000, 200_000), True: (550_000, 500_000, 600_000, 450_000)}


@pytest.mark.parametrize("players_new", [False, True], ids=["present", "new"])
async def test_incr_batches_cut_by_a_killed_redis_end_applied_exactly_once(
    aiohttp_client, durable: RedisProcess, proxy: CutProxy, players_new: bool
) -> None:
    """Players already in their region take the fast path; new ones the locked path
    (locks, pulls from the other regions, then the write, see store/writes.py)."""
    settings = Settings(
        redis_url=await proxy.start(),
        redis_timeout=1.0,
        activity_buckets=64,
        batch_chunk=CHUNK,
        batches_in_flight=1,  # one batch at Redis at a time: the cut lands where meant
        data_dir=Path("/nonexistent"),
    )
    client = await aiohttp_client(create_app(settings))
    tried = []
    for k, size in enumerate(CUTS[players_new]):
        marks = await cut_batches(client, durable, proxy, f"counts{k}", size, players_new)
        if marks:
            return
        tried.append(size)
    pytest.fail(f"no batch was cut part-way with any of {tried} bytes")


async def cut_batches(
    client, durable: RedisProcess, proxy: CutProxy, name: str, size: int, players_new: bool
) -> list[int]:
    """Sends the batches through a cut of ``size`` bytes, kills Redis, retries each batch
    with its key until 200, and checks every total; answers the batches cut part-way."""
    board = {"regions": list(REGIONS), "mode": "incr"}
    assert (await client.put(f"/v1/boards/{name}", json=board)).status == 201
    rng = random.Random(11)
    players = [f"p{i}" for i in range(PLAYERS)]
    everyone = [{"player_id": p, "region": REGIONS[int(p[1:]) % 3], "score": 0} for p in players]
    if not players_new:
        everyone = {"updates": everyone}
        assert (await client.post(f"/v1/boards/{name}/scores/batch", json=everyone)).ok
    batches = [
        [
            {"player_id": p, "region": REGIONS[int(p[1:]) % 3], "score": rng.randint(-999, 999)}
            for p in rng.choices(players, k=ITEMS)
        ]
        for _ in range(BATCHES)
    ]
    expected: dict[str, int] = {}
    for batch in batches:
        for u in batch:
            expected[u["player_id"]] = expected.get(u["player_id"], 0) + u["score"]

    record = await client.app[SERVICE].boards.record(name)
    back = asyncio.Event()
    first: dict[int, int | None] = {}
    marked: list[int] = []

    async def send(n: int) -> None:
        while True:
            try:
                answer = await client.post(
                    f"/v1/boards/{name}/scores/batch",
                    json={"updates": batches[n]},
                    headers={"Idempotency-Key": f"batch-{n}"},
                )
                status: int | None = answer.status
            except aiohttp.ClientError:
                status = None
            first.setdefault(n, status)
            if status == 200:
                return
            assert status in (None, 503)
            await back.wait()
            await asyncio.sleep(0.05)

    async def kill() -> None:
        await asyncio.wait_for(proxy.spent.wait(), 30)  # the writes reached the cut
        await asyncio.sleep(0.5)  # Redis has read what the proxy let through
        await asyncio.to_thread(restart, durable)
        proxy.reset()
        with durable.client() as r:
            for n in range(BATCHES):
                marked.append(sum(r.hlen(record.once(reg, f"batch-{n}")) for reg in REGIONS))
        back.set()

    proxy.cut(size)
    await asyncio.gather(kill(), *(send(n) for n in range(BATCHES)))

    chunks = [len(plan([Update(**u) for u in batch], CHUNK)) for batch in batches]
    cut = [n for n in range(BATCHES) if 0 < marked[n] < chunks[n]]
    assert all(first[n] != 200 for n in cut)
    found: dict[str, int] = {}
    for offset in range(0, PLAYERS, 1000):
        page = await client.get(f"/v1/boards/{name}/top?limit=1000&offset={offset}")
        found |= {e["player_id"]: e["score"] for e in (await page.json())["entries"]}
    assert found == expected
    return cut
