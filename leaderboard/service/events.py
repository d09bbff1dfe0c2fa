"""Top-N events as the contract shows them: pages of a scope's stream, and waiting for more.

The scripts write the events (store/lua/_lib.lua); this only reads and reshapes them.
"""

from __future__ import annotations

import asyncio

from leaderboard.domain import GLOBAL, MAX_PAGE
from leaderboard.errors import BoardNotFound
from leaderboard.service.boards import Boards, scope_regions

INT_FIELDS = ("rank", "previous_rank", "score", "ts", "period")
POLL_SECONDS = 0.1  # how often an idle event stream looks for new events


def public(event_id: str, fields: dict[str, str]) -> dict:
    out: dict = {"id": event_id}
    for name, value in fields.items():
        if name in INT_FIELDS:
            out[name] = int(value) if value != "" else None
        else:
            out[name] = value
    return out


class Events:
    def __init__(self, boards: Boards) -> None:
        self.boards = boards
        self.store = boards.store

    async def page(self, board: str, scope: str, after: str, limit: int) -> dict:
        """Read with a fresh config: no script stands between a cached one and the answer."""
        record = await self.boards.record(board, fresh=True)
        scope_regions(record.config, scope)
        rows = await self.store.events(record, scope, after, limit)
        return {
            "events": [public(i, f) for i, f in rows],
            "last_id": rows[-1][0] if rows else after,
        }

    async def start(self, board: str, scope: str, after: str | None) -> str:
        """Checks the scope and answers where a stream starts: after ``after``, else now."""
        record = await self.boards.record(board, fresh=True)
        scope_regions(record.config, scope)
        return after or await self.store.last_event_id(record, scope)

    async def wait(self, board: str, scope: str, after: str) -> list[dict]:
        """Events after ``after``, polled: a stream never holds a pooled connection.

        A board or region removed meanwhile leaves the stream idle, as an empty one would.
        """
        try:
            record = await self.boards.record(board)
        except BoardNotFound:
            record = None
        rows = []
        if record is not None and scope in (GLOBAL, *record.config.regions):
            rows = await self.store.events(record, scope, after, MAX_PAGE)
        if not rows:
            await asyncio.sleep(POLL_SECONDS)
        return [public(i, f) for i, f in rows]
