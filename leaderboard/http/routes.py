"""The route table: the whole HTTP surface in one place (it matches openapi.json)."""

from aiohttp import web

from leaderboard.http import events
from leaderboard.http import handlers as h

ROUTES = [
    web.get("/healthz", h.healthz),
    web.get("/readyz", h.readyz),
    web.get("/metrics", h.metrics),
    web.get("/openapi.json", h.openapi),
    web.get("/", h.home),
    web.get("/boards/{board}", h.board_page),
    web.get("/v1/boards", h.list_boards),
    web.put("/v1/boards/{board}", h.put_board),
    web.get("/v1/boards/{board}", h.get_board),
    web.delete("/v1/boards/{board}", h.delete_board),
    web.post("/v1/boards/{board}/reset", h.reset_board),
    web.get("/v1/boards/{board}/periods", h.periods),
    web.post("/v1/boards/{board}/scores", h.post_score),
    web.post("/v1/boards/{board}/scores/batch", h.post_batch),
    web.get("/v1/boards/{board}/top", h.top),
    web.get("/v1/boards/{board}/players", h.lookup),
    web.get("/v1/boards/{board}/players/{player_id}", h.get_player),
    web.delete("/v1/boards/{board}/players/{player_id}", h.delete_player),
    web.get("/v1/boards/{board}/players/{player_id}/around", h.around),
    web.get("/v1/boards/{board}/events", events.page),
    web.get("/v1/boards/{board}/events/stream", events.stream),
    web.post("/v1/admin/cleanup", h.cleanup),
]

# Requests that take as long as they need: a stream stays open, a cleanup walks whole
# boards, a board's deletion unlinks every bucket key of every region.
UNBOUNDED = frozenset(
    {
        ("GET", "/v1/boards/{board}/events/stream"),
        ("POST", "/v1/admin/cleanup"),
        ("DELETE", "/v1/boards/{board}"),
    }
)
