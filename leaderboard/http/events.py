"""Top-N event endpoints: a page of a stream, and the same as server-sent events."""

from __future__ import annotations

import asyncio
import re
import time

import orjson
from aiohttp import web

from leaderboard.domain import MAX_PAGE, MAX_STREAM_PART
from leaderboard.errors import InvalidRequest, RedisUnavailable
from leaderboard.http import parse
from leaderboard.http.errors import json_response
from leaderboard.http.keys import SERVICE, SETTINGS, STREAMS

STREAM_ID = re.compile(r"([0-9]{1,20})(?:-([0-9]{1,20}))?")


def _stream_id(value: str, field: str) -> str:
    match = STREAM_ID.fullmatch(value)
    if not match or any(int(part) > MAX_STREAM_PART for part in match.groups() if part):
        raise InvalidRequest(
            f"{field} must be a stream id such as 0 or 1700000000000-0",
            [{"field": field, "reason": f"must be <ms>-<seq> or <ms>, each <= {MAX_STREAM_PART}"}],
        )
    return value


async def page(request: web.Request) -> web.Response:
    board = parse.board_id(request)
    after = _stream_id(request.query.get("after", "0"), "after")
    limit = parse.query_int(request, "limit", 100, 1, MAX_PAGE)
    events = request.app[SERVICE].events
    return json_response(await events.page(board, parse.scope(request), after, limit))


async def stream(request: web.Request) -> web.StreamResponse:
    board, scope = parse.board_id(request), parse.scope(request)
    resume = request.headers.get("Last-Event-ID")
    events = request.app[SERVICE].events
    after = await events.start(board, scope, resume and _stream_id(resume, "Last-Event-ID"))
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    task = asyncio.current_task()
    request.app[STREAMS].add(task)
    heartbeat = request.app[SETTINGS].sse_heartbeat
    last_write = time.monotonic()
    try:
        while True:
            if task.cancelling():
                raise asyncio.CancelledError  # one that redis-py lost inside a command
            try:
                batch = await events.wait(board, scope, after)
            except RedisUnavailable:
                batch = []
                await asyncio.sleep(1.0)
            for event in batch:
                after = event["id"]
                await response.write(
                    f"id: {after}\ndata: ".encode() + orjson.dumps(event) + b"\n\n"
                )
                last_write = time.monotonic()
            if time.monotonic() - last_write >= heartbeat:
                await response.write(b": heartbeat\n\n")
                last_write = time.monotonic()
    except ConnectionResetError:
        pass
    return response
