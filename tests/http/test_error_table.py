"""The two error tables: Redis error replies to domain errors (store), domain errors to
statuses and codes (HTTP). Pure logic, no Redis."""

from __future__ import annotations

import inspect

import orjson
import pytest
from redis.exceptions import NoScriptError, ResponseError

from leaderboard import errors
from leaderboard.http.errors import ERRORS, error_for
from leaderboard.store.runner import script_error
from tests.http.test_openapi_document import ERROR_CODES


def body(exc: errors.LeaderboardError) -> tuple[int, dict]:
    response = error_for(exc)
    return response.status, orjson.loads(response.body)["error"]


def test_every_domain_error_answers_a_documented_code() -> None:
    classes = [
        c
        for _, c in inspect.getmembers(errors, inspect.isclass)
        if issubclass(c, errors.LeaderboardError)
    ]
    assert len(classes) >= 10
    for cls in classes:
        status, code = next(ERRORS[c] for c in cls.__mro__ if c in ERRORS)
        assert ERROR_CODES[code] == str(status), cls


def test_a_stale_board_that_escapes_every_retry_is_a_503() -> None:
    assert body(errors.StaleBoard("STALE board configuration changed"))[0] == 503


@pytest.mark.parametrize(
    ("reply", "status", "code", "details"),
    [
        (
            "RANGE 3",
            409,
            "score_out_of_range",
            [{"index": 3, "field": "score", "reason": "incr result out of range"}],
        ),
        ("REGION_IN_USE na", 409, "region_in_use", {"region": "na"}),
        ("NOT_EMPTY board holds players", 409, "board_not_empty", None),
        ("STALE board configuration changed", 503, "redis_unavailable", None),
        ("NOBOARD board is gone", 503, "redis_unavailable", None),
        ("BUSY Redis is busy running a script", 503, "redis_unavailable", None),
        ("LOADING Redis is loading the dataset", 503, "redis_unavailable", None),
        ("TRYAGAIN Multiple keys request during rehashing", 503, "redis_unavailable", None),
        (
            "Command # 1 (EVALSHA) of pipeline caused error: BUSY busy",
            503,
            "redis_unavailable",
            None,
        ),
    ],
)
def test_script_replies_become_the_contract_errors(
    reply: str, status: int, code: str, details: object
) -> None:
    mapped = script_error(ResponseError(reply))
    assert isinstance(mapped, errors.LeaderboardError)
    answered, error = body(mapped)
    assert (answered, error["code"], error.get("details")) == (status, code, details)


def test_noscript_after_a_load_is_a_503_and_other_replies_stay_as_they_are() -> None:
    assert isinstance(script_error(NoScriptError("NOSCRIPT no script")), errors.RedisUnavailable)
    odd = ResponseError("ERR something the service does not expect")
    assert script_error(odd) is odd
