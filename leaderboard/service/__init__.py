"""Board rules, global merges and ranking, between the HTTP layer and the store."""

from __future__ import annotations

from dataclasses import dataclass

from leaderboard.domain import BoardConfig, now_ms
from leaderboard.service.boards import Boards, Clock
from leaderboard.service.cleanup import Cleanup
from leaderboard.service.events import Events
from leaderboard.service.idempotency import Idempotency
from leaderboard.service.periods import Periods
from leaderboard.service.scores import Scores
from leaderboard.service.views import Views
from leaderboard.settings import Settings
from leaderboard.store import Store


@dataclass
class Service:
    """What the HTTP layer and the CLI use: one object per server process."""

    store: Store
    boards: Boards
    scores: Scores
    views: Views
    events: Events
    cleanup: Cleanup
    idempotency: Idempotency
    periods: Periods

    @classmethod
    def build(cls, store: Store, settings: Settings, clock: Clock = now_ms) -> Service:
        boards = Boards(store, settings, clock)
        return cls(
            store,
            boards,
            Scores(boards),
            Views(boards),
            Events(boards),
            Cleanup(boards),
            Idempotency(store, settings.idempotency_ttl, settings.batch_chunk),
            Periods(boards),
        )

    async def ensure_default_board(self, regions: tuple[str, ...]) -> bool:
        return await self.boards.ensure(BoardConfig(board="default", regions=regions))

    async def close(self) -> None:
        await self.store.close()
