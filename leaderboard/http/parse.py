"""Request bodies and query strings to domain values; anything off is a 400 with details."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson
from aiohttp import web

from leaderboard.domain import (
    BOARD_ID,
    GLOBAL,
    MAX_BATCH,
    MAX_LOOKUP,
    MAX_METADATA,
    MAX_NAME,
    MAX_PAGE,
    PLAYER_ID,
    BoardConfig,
    Mode,
    Order,
    Update,
    is_score,
    regions_problem,
)
from leaderboard.errors import BoardNotFound, InvalidJson, InvalidRequest, PlayerNotFound
from leaderboard.http.errors import UnsupportedMediaType
from leaderboard.periods import MAX_KEPT, Schedule

Problem = dict[str, Any]
INTEGER = re.compile(r"-?[0-9]{1,18}")
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


async def json_body(request: web.Request, optional: bool = False) -> Any:
    """An optional body that is absent reads as `{}`; a body of `null` is still `null`."""
    if optional and not request.body_exists:
        return {}
    if request.content_type != "application/json":
        raise UnsupportedMediaType()
    raw = await request.read()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJson(f"the body is not valid JSON: {exc}") from None


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidRequest(
            "Idempotency-Key is 1-128 chars of [A-Za-z0-9_.:-]",
            [{"field": "Idempotency-Key", "reason": f"must match ^{IDEMPOTENCY_KEY.pattern}$"}],
        )
    return key


def board_id(request: web.Request) -> str:
    board = request.match_info["board"]
    if not BOARD_ID.fullmatch(board):
        raise BoardNotFound(f"{board!r} is not a valid board id, so no such board exists")
    return board


def new_board_id(request: web.Request) -> str:
    """A board id to create: breaking the id rules is bad input, not a missing board."""
    board = request.match_info["board"]
    if not BOARD_ID.fullmatch(board):
        raise InvalidRequest(
            "a board id is 1-64 chars of [A-Za-z0-9_.-], starting with a letter or digit",
            [{"field": "board", "reason": "must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"}],
        )
    return board


def player_id(request: web.Request) -> str:
    pid = request.match_info["player_id"]
    if not PLAYER_ID.fullmatch(pid):
        raise PlayerNotFound(f"{pid!r} is not a valid player id, so no such player exists")
    return pid


def _object(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest(f"{what} must be a JSON object")
    return body


def _int_field(
    body: Mapping[str, Any], field: str, default: int, low: int, high: int, problems: list
) -> int:
    value = body.get(field, default)
    if type(value) is not int or not low <= value <= high:
        problems.append({"field": field, "reason": f"must be an integer from {low} to {high}"})
        return default
    return value


def _choice(body: Mapping[str, Any], field: str, enum: type, default: Any, problems: list) -> Any:
    value = body.get(field, default.value)
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        problems.append({"field": field, "reason": f"must be one of {allowed}"})
        return default


def board_config(board: str, body: Any) -> BoardConfig:
    body = _object(body, "the board configuration")
    problems: list[Problem] = []
    regions = body.get("regions")
    problem = regions_problem(regions)
    if problem:
        problems.append({"field": "regions", "reason": problem})
    order = _choice(body, "order", Order, Order.DESC, problems)
    mode = _choice(body, "mode", Mode, Mode.BEST, problems)
    days = _int_field(body, "inactive_after_days", 30, 0, 3650, problems)
    top = _int_field(body, "top_events", 100, 0, MAX_PAGE, problems)
    every = _choice(body, "reset_every", Schedule, Schedule.NEVER, problems)
    keep = _int_field(body, "keep_periods", BoardConfig.keep_periods, 0, MAX_KEPT, problems)
    if problems:
        raise InvalidRequest("the board configuration is not valid", problems)
    return BoardConfig(board, tuple(regions), order, mode, days, top, every, keep)


def _update_problems(item: Any) -> list[Problem]:
    if not isinstance(item, dict):
        return [{"field": "", "reason": "must be an object"}]
    problems = []
    pid = item.get("player_id")
    if not isinstance(pid, str) or not PLAYER_ID.fullmatch(pid):
        problems.append({"field": "player_id", "reason": "must be 1-64 chars of [A-Za-z0-9_.:@-]"})
    if not isinstance(item.get("region"), str):
        problems.append({"field": "region", "reason": "must be a string naming a board's region"})
    if not is_score(item.get("score")):
        problems.append(
            {"field": "score", "reason": "must be a JSON integer with |score| <= 2^53 - 1"}
        )
    if "name" in item:
        name = item["name"]
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
            problems.append({"field": "name", "reason": f"must be 1 to {MAX_NAME} characters"})
    if "metadata" in item and not _small_object(item["metadata"]):
        reason = f"must be a JSON object of at most {MAX_METADATA} bytes, compact"
        problems.append({"field": "metadata", "reason": reason})
    return problems


def _small_object(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    try:
        return len(orjson.dumps(value)) <= MAX_METADATA
    except orjson.JSONEncodeError:  # nested deeper than orjson writes
        return False


def _update(item: dict) -> Update:
    metadata = orjson.dumps(item["metadata"]).decode() if "metadata" in item else None
    return Update(item["player_id"], item["region"], item["score"], item.get("name"), metadata)


def score_update(body: Any) -> Update:
    body = _object(body, "a score update")
    problems = _update_problems(body)
    if problems:
        raise InvalidRequest("the score update is not valid", problems)
    return _update(body)


class Batch(NamedTuple):
    """A batch checked for all but its regions, which only the board knows: ``updates`` when
    no item is malformed, else ``problems`` and each item's region name (None when it has
    none), so that the service can name every bad item in one answer."""

    updates: list[Update]
    problems: list[Problem]
    regions: list[str | None]


def _region(item: Any) -> str | None:
    region = item.get("region") if isinstance(item, dict) else None
    return region if isinstance(region, str) else None


async def batch(body: Any, step: int = 200) -> Batch:
    """Checks every item before any is used, and yields to the loop every ``step`` items:
    a read that arrives on this worker meanwhile waits for one step, not the whole body."""
    body = _object(body, "a batch")
    items = body.get("updates")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise InvalidRequest(
            f"updates must be a list of 1 to {MAX_BATCH} items",
            [{"field": "updates", "reason": f"must hold 1 to {MAX_BATCH} items"}],
        )
    problems: list[Problem] = []
    updates: list[Update] = []
    for start in range(0, len(items), step):
        await asyncio.sleep(0)
        for i in range(start, min(start + step, len(items))):
            found = _update_problems(items[i])
            if found:
                problems += ({"index": i, **problem} for problem in found)
            elif not problems:
                updates.append(_update(items[i]))
    if problems:
        return Batch([], problems, [_region(item) for item in items])
    return Batch(updates, [], [])


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidRequest(
            f"{name} must be an integer from {low} to {high}",
            [{"field": name, "reason": f"must be an integer from {low} to {high}"}],
        )
    return int(raw)


def player_ids(request: web.Request) -> list[str]:
    """The ``ids`` of a lookup: 1 to MAX_LOOKUP distinct player ids, comma-separated."""
    ids = request.query.get("ids", "").split(",")
    bad = [pid for pid in ids if not PLAYER_ID.fullmatch(pid)]
    reason = None
    if not 1 <= len(ids) <= MAX_LOOKUP:
        reason = f"must hold 1 to {MAX_LOOKUP} player ids"
    elif bad:
        reason = f"{bad[0]!r} is not a player id (^{PLAYER_ID.pattern}$)"
    elif len(set(ids)) != len(ids):
        reason = "each player id at most once"
    if reason is not None:
        raise InvalidRequest(f"ids: {reason}", [{"field": "ids", "reason": reason}])
    return ids


def period(request: web.Request) -> int | None:
    """The ``period`` of a read: any integer (one neither current nor archived is a 404)."""
    raw = request.query.get("period")
    if raw is None:
        return None
    if not INTEGER.fullmatch(raw):
        reason = "must be a period number (GET /v1/boards/{board}/periods lists them)"
        raise InvalidRequest(f"period {reason}", [{"field": "period", "reason": reason}])
    return int(raw)


def scope(request: web.Request) -> str:
    return request.query.get("scope", GLOBAL)


def cleanup_request(body: Any) -> tuple[str | None, int | None]:
    body = _object(body, "the cleanup request")
    problems: list[Problem] = []
    board = body.get("board")
    if board is not None and not (isinstance(board, str) and BOARD_ID.fullmatch(board)):
        problems.append({"field": "board", "reason": "must be a board id"})
    older = body.get("older_than_seconds")
    if older is not None and (type(older) is not int or older < 0):
        problems.append({"field": "older_than_seconds", "reason": "must be an integer >= 0"})
    if problems:
        raise InvalidRequest("the cleanup request is not valid", problems)
    return board, older
