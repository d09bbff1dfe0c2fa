"""Every failure becomes the contract's JSON error body; nothing leaks a traceback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from leaderboard.domain import MAX_BODY
from leaderboard.errors import (
    BoardNotEmpty,
    BoardNotFound,
    InvalidJson,
    KeyReused,
    LeaderboardError,
    PeriodNotFound,
    PlayerNotFound,
    RedisUnavailable,
    RegionInUse,
    ScoreOutOfRange,
    StaleBoard,
    UnknownRegion,
)
from leaderboard.http.access import Access, Forbidden, Unauthorized
from leaderboard.http.keys import SERVICE
from leaderboard.http.limits import Limits, RateLimited

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class UnsupportedMediaType(LeaderboardError):
    def __init__(self) -> None:
        super().__init__("send the body as JSON with Content-Type: application/json")


# Status and code of each domain error; a class not listed answers as its nearest parent.
ERRORS: dict[type[LeaderboardError], tuple[int, str]] = {
    LeaderboardError: (400, "invalid_request"),
    InvalidJson: (400, "invalid_json"),
    UnsupportedMediaType: (415, "unsupported_media_type"),
    Unauthorized: (401, "unauthorized"),
    Forbidden: (403, "forbidden"),
    RateLimited: (429, "rate_limited"),
    UnknownRegion: (400, "unknown_region"),
    BoardNotFound: (404, "board_not_found"),
    PlayerNotFound: (404, "player_not_found"),
    PeriodNotFound: (404, "period_not_found"),
    RegionInUse: (409, "region_in_use"),
    BoardNotEmpty: (409, "board_not_empty"),
    ScoreOutOfRange: (409, "score_out_of_range"),
    KeyReused: (409, "idempotency_key_reused"),
    RedisUnavailable: (503, "redis_unavailable"),
    StaleBoard: (503, "redis_unavailable"),
}

HTTP_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def error_response(status: int, code: str, message: str, details: Any = None) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return json_response({"error": error}, status)


def error_for(exc: LeaderboardError) -> web.Response:
    status, code = next(ERRORS[c] for c in type(exc).__mro__ if c in ERRORS)
    details = exc.details
    if isinstance(exc, ScoreOutOfRange):
        details = [{"index": exc.index, "field": "score", "reason": "incr result out of range"}]
    elif isinstance(exc, RegionInUse):
        details = {"region": exc.region}
    response = error_response(status, code, exc.message, details)
    if isinstance(exc, Unauthorized):
        response.headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


async def within(deadline: float, handler: Handler, request: web.Request) -> web.StreamResponse:
    """The handler's answer, or a 503 once ``deadline`` has passed: a Redis that froze
    would otherwise hold a request for one timeout per step it takes."""
    try:
        async with asyncio.timeout(deadline):
            return await handler(request)
    except TimeoutError:
        raise RedisUnavailable(
            f"Redis did not answer within {deadline:g} s; retry (a write may have been applied)"
        ) from None


def make_middleware(
    observe: Callable[[str, str, int, float], None],
    access: Access,
    limits: Limits,
    deadline: float,
    unbounded: frozenset[tuple[str, str]],
) -> Any:
    """Errors as JSON, metrics, access by key and rate limits, and a deadline for every
    route but the ``unbounded`` ones."""

    @web.middleware
    async def errors_and_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        route = route_name(request)
        try:
            caller = access.check(request, route)
            if caller is not None:
                await limits.check(request.app[SERVICE].store, request, caller)
            if (request.method, route) in unbounded:
                response = await handler(request)
            else:
                response = await within(deadline, handler, request)
        except LeaderboardError as exc:
            response = error_for(exc)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code = HTTP_CODES.get(exc.status, "http_error")
            message = exc.reason
            if exc.status == 413:
                message = f"the body is larger than {MAX_BODY // 2**20} MiB; send smaller batches"
            elif exc.status == 405:
                message = f"{request.method} is not allowed on {request.path}"
            elif exc.status == 404:
                message = f"no route for {request.path}"
            response = error_response(exc.status, code, message)
            if isinstance(exc, web.HTTPMethodNotAllowed):
                response.headers["Allow"] = exc.headers["Allow"]
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.path)
            response = error_response(500, "internal_error", "unexpected server error")
        observe(request.method, route, response.status, time.perf_counter() - started)
        return response

    return errors_and_metrics
