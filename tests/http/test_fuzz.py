"""Schemathesis against the running app, from the project's own OpenAPI document.

A regression net, bounded and seeded (derandomize), with access keys configured (requests
carry the admin key; schemathesis also sends some without one and expects the 401): no
5xx, every status, content type, header and body as the document says, 405s with `Allow`,
and a write that is refused (any 4xx) leaves every key of Redis as it was.
The checks that hold the schema to every rule of the service are left out: the document
cannot say "a region of this board" or "offset + limit <= 10000", so requests it allows
may still be refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from leaderboard.settings import Settings
from tests.live_server import LiveServer
from tests.redis_process import RedisProcess

DOCUMENT = Path(__file__).parents[2] / "leaderboard" / "http" / "openapi.json"
ADMIN = "fuzz-admin-key-0123456789"
schema = schemathesis.openapi.from_path(DOCUMENT).exclude(path_regex=r"/events/stream$")


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path_factory.mktemp("fuzz")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def live(redis: RedisProcess) -> Iterator[LiveServer]:
    config = Settings(
        redis_url=redis.url,
        activity_buckets=64,
        redis_timeout=2.0,
        data_dir=Path("/x"),
        admin_keys=(ADMIN,),
    )
    with LiveServer(config) as server:
        yield server


@schema.parametrize()
@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_app_answers_as_its_document_says(case, live: LiveServer, redis: RedisProcess) -> None:
    before = redis.dump() if case.method != "GET" else None
    response = case.call_and_validate(
        base_url=f"http://127.0.0.1:{live.port}",
        headers={"Authorization": f"Bearer {ADMIN}"},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
    if before is not None and 400 <= response.status_code < 500:
        assert redis.dump() == before, f"a refused {case.method} {case.path} wrote"
