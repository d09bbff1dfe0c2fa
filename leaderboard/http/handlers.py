"""Request handlers: parse, call the service, answer JSON. No Redis in sight."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from importlib import resources

from aiohttp import web

from leaderboard.domain import MAX_PAGE, MAX_RADIUS, MAX_WINDOW, Once
from leaderboard.errors import InvalidRequest, LeaderboardError
from leaderboard.http import parse
from leaderboard.http.errors import error_for, json_response
from leaderboard.http.keys import METRICS, SERVICE
from leaderboard.service import Service


def _service(request: web.Request) -> Service:
    return request.app[SERVICE]


async def put_board(request: web.Request) -> web.Response:
    board = parse.new_board_id(request)
    config = parse.board_config(board, await parse.json_body(request))
    created, stored = await _service(request).boards.put(config)
    return json_response(stored, 201 if created else 200)


async def get_board(request: web.Request) -> web.Response:
    return json_response(await _service(request).boards.describe(parse.board_id(request)))


async def list_boards(request: web.Request) -> web.Response:
    return json_response({"boards": await _service(request).boards.list()})


async def reset_board(request: web.Request) -> web.Response:
    board = parse.board_id(request)
    periods = _service(request).periods
    return await _once(request, board, lambda once: periods.reset(board, once))


async def periods(request: web.Request) -> web.Response:
    return json_response(await _service(request).periods.periods(parse.board_id(request)))


async def delete_board(request: web.Request) -> web.Response:
    await _service(request).boards.delete(parse.board_id(request))
    return web.Response(status=204)


async def _once(
    request: web.Request, board: str, work: Callable[[Once | None], Awaitable[dict]]
) -> web.Response:
    """Runs a write, as an idempotent one when the request carries an Idempotency-Key.
    Its request is the method, path and body (bytes as sent: aiohttp keeps them read)."""
    key = parse.idempotency_key(request)
    if key is None:
        return json_response(await work(None))
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), await request.read()):
        digest.update(len(part).to_bytes(8, "big") + part)
    idempotency = _service(request).idempotency
    answer, replayed = await idempotency.run(board, key, digest.hexdigest(), work)
    response = json_response(answer)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
        request.app[METRICS].replays.inc()
    return response


async def post_score(request: web.Request) -> web.Response:
    board = parse.board_id(request)
    update = parse.score_update(await parse.json_body(request))

    async def work(once: Once | None) -> dict:
        answer = await _service(request).scores.submit(board, update, once)
        request.app[METRICS].updates.inc()
        return answer

    return await _once(request, board, work)


async def post_batch(request: web.Request) -> web.Response:
    """Yields to the loop between decoding, checking and sending a big body, so that reads
    waiting on this worker are not held for the whole of it."""
    board = parse.board_id(request)
    body = await parse.json_body(request)
    batch = await parse.batch(body)
    scores = _service(request).scores
    if batch.problems:
        raise await scores.refusal(board, batch.problems, batch.regions)
    await asyncio.sleep(0)

    async def work(once: Once | None) -> dict:
        accepted = await scores.submit_batch(board, batch.updates, once)
        request.app[METRICS].updates.inc(accepted)
        request.app[METRICS].batch_updates.observe(accepted)
        return {"accepted": accepted}

    return await _once(request, board, work)


async def top(request: web.Request) -> web.Response:
    board = parse.board_id(request)
    limit = parse.query_int(request, "limit", 100, 1, MAX_PAGE)
    offset = parse.query_int(request, "offset", 0, 0, MAX_WINDOW - 1)
    if offset + limit > MAX_WINDOW:
        raise InvalidRequest(
            f"offset + limit must be at most {MAX_WINDOW}",
            [{"field": "offset", "reason": f"offset + limit must be at most {MAX_WINDOW}"}],
        )
    views = _service(request).views
    page = await views.top(board, parse.scope(request), offset, limit, parse.period(request))
    return json_response(page)


async def get_player(request: web.Request) -> web.Response:
    board, pid = parse.board_id(request), parse.player_id(request)
    return json_response(await _service(request).views.player(board, pid, parse.period(request)))


async def lookup(request: web.Request) -> web.Response:
    board, ids = parse.board_id(request), parse.player_ids(request)
    views, scope = _service(request).views, parse.scope(request)
    return json_response(await views.lookup(board, ids, scope, parse.period(request)))


async def around(request: web.Request) -> web.Response:
    board, pid = parse.board_id(request), parse.player_id(request)
    radius = parse.query_int(request, "radius", 10, 0, MAX_RADIUS)
    views, scope = _service(request).views, parse.scope(request)
    window = await views.around(board, pid, scope, radius, parse.period(request))
    return json_response(window)


async def delete_player(request: web.Request) -> web.Response:
    board, pid = parse.board_id(request), parse.player_id(request)
    await _service(request).views.delete_player(board, pid)
    return web.Response(status=204)


async def cleanup(request: web.Request) -> web.Response:
    board, older = parse.cleanup_request(await parse.json_body(request, optional=True))
    report = await _service(request).cleanup.run(board, older)
    request.app[METRICS].cleanup_removed.inc(sum(report.removed.values()))
    return json_response({"removed": report.removed, "skipped": report.locked})


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        await _service(request).store.ping()
    except LeaderboardError as exc:
        return error_for(exc)
    return json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, content_type="text/plain", charset="utf-8")


OPENAPI = resources.files("leaderboard.http") / "openapi.json"
PAGE = resources.files("leaderboard.http") / "page"


def _board_page() -> bytes:
    """The page with its style and script inlined: one response, no outside asset."""
    html = (PAGE / "board.html").read_text(encoding="utf-8")
    html = html.replace("/*CSS*/", (PAGE / "board.css").read_text(encoding="utf-8"))
    return html.replace("/*JS*/", (PAGE / "board.js").read_text(encoding="utf-8")).encode()


BOARD_PAGE = _board_page()


async def board_page(request: web.Request) -> web.Response:
    """The page reads the board through the public API itself (and says when the board
    does not exist); any valid id gets it."""
    parse.board_id(request)
    return web.Response(body=BOARD_PAGE, content_type="text/html", charset="utf-8")


async def home(request: web.Request) -> web.Response:
    return web.Response(status=302, headers={"Location": "/boards/default"})


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=OPENAPI.read_bytes(), content_type="application/json")
