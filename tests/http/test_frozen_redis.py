"""Redis stops answering (SIGSTOP): requests answer 503 at their deadline, then work again."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from leaderboard.http.app import create_app
from leaderboard.settings import Settings
from tests.redis_process import RedisProcess

TIMEOUT = 0.5


@pytest.fixture
def redis_alone(tmp_path: Path) -> Iterator[RedisProcess]:
    """A Redis of this test's own, since freezing it would stall every other test."""
    server = RedisProcess(tmp_path).start()
    try:
        yield server
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.stop()


async def test_requests_answer_503_at_their_deadline_while_redis_is_frozen(
    aiohttp_client, redis_alone: RedisProcess
) -> None:
    settings = Settings(
        redis_url=redis_alone.url,
        redis_timeout=TIMEOUT,
        activity_buckets=64,
        redis_pool_size=2,
        data_dir=Path("/nonexistent"),
    )
    client = await aiohttp_client(create_app(settings))
    score = {"player_id": "a", "region": "na", "score": 1}
    assert (await client.post("/v1/boards/default/scores", json=score)).status == 200
    os.kill(redis_alone.pid, signal.SIGSTOP)
    try:
        for path, body in [
            ("/v1/boards/default/scores/batch", {"updates": [score] * 3}),
            ("/v1/boards/default/scores", score),
            ("/v1/boards/default/scores", {**score, "region": "eu"}),  # a move
        ]:
            answer = await client.post(path, json=body)
            error = (await answer.json())["error"]
            assert (answer.status, error["code"]) == (503, "redis_unavailable")
            assert f"within {TIMEOUT:g} s" in error["message"]
    finally:
        os.kill(redis_alone.pid, signal.SIGCONT)
    answer = await client.post("/v1/boards/default/scores", json={**score, "player_id": "b"})
    assert answer.status == 200
    top = await (await client.get("/v1/boards/default/top")).json()
    assert "b" in [e["player_id"] for e in top["entries"]]
