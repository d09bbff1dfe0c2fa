"""Periods (seasons): manual resets, and the current period with the kept archives."""

from __future__ import annotations

from leaderboard.domain import GLOBAL, Once
from leaderboard.errors import RedisUnavailable, StaleBoard
from leaderboard.periods import ends_at, rfc3339, started_at
from leaderboard.service.boards import RETRIES, Boards
from leaderboard.store import BoardRecord


class Periods:
    def __init__(self, boards: Boards) -> None:
        self.boards = boards

    async def reset(self, board: str, once: Once | None = None) -> dict:
        """Ends the current period now (a manual reset). With ``once``, a retry whose
        first attempt did reset answers that reset (finishing its spread to the regions)."""
        mark = f"{once.key} {once.digest[:16]}" if once else ""  # resets' bodies are alike
        for _ in range(RETRIES):
            record = await self.boards.record(board, fresh=True)
            try:
                if once and once.retry and record.reset_mark == mark:
                    await self.boards.refresh(record)
                    record = record.at(record.anchors[-1].period)
                else:
                    record = await self.boards.store.reset(record, self.boards.clock(), mark)
            except StaleBoard:
                continue
            self.boards.forget(board)
            started = started_at(record.anchors, record.period)
            return {"board": board, "period": record.period, "started_at": rfc3339(started)}
        raise RedisUnavailable(f"board {board!r} is being changed by others; retry")

    async def periods(self, board: str) -> dict:
        """The current period and the archives the board keeps, newest first."""

        async def read(record: BoardRecord) -> dict:
            held = await self.boards.store.periods_held(record, self.boards.clock())
            anchors, regions = record.anchors, record.config.regions
            archived = []
            for period in sorted(held.players, reverse=True):
                counts = held.players[period]
                if period >= held.current or not any(counts.values()):
                    continue
                if len(archived) == record.config.keep_periods:
                    break
                players = {r: counts.get(r, 0) for r in regions}
                archived.append(
                    {
                        "period": period,
                        "started_at": rfc3339(started_at(anchors, period)),
                        "ended_at": rfc3339(ends_at(anchors, period)),
                        "players": {GLOBAL: sum(players.values()), **players},
                    }
                )
            current = {
                "period": held.current,
                "started_at": rfc3339(started_at(anchors, held.current)),
                "ends_at": rfc3339(ends_at(anchors, held.current)),
            }
            return {"board": board, "current": current, "archived": archived}

        return await self.boards.using(board, read)
