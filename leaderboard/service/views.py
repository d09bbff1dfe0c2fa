"""Reads: top pages, a player's standing and around-me windows, regional or global."""

from __future__ import annotations

from leaderboard.domain import GLOBAL, Entry, RegionSlice
from leaderboard.errors import PlayerNotFound
from leaderboard.service import merge
from leaderboard.service.boards import Boards, scope_regions
from leaderboard.store import BoardRecord


def _not_found(board: str, player_id: str, scope: str = GLOBAL) -> PlayerNotFound:
    where = f"board {board!r}" if scope == GLOBAL else f"region {scope!r} of board {board!r}"
    return PlayerNotFound(f"player {player_id!r} is not on {where}")


class Views:
    def __init__(self, boards: Boards) -> None:
        self.boards = boards
        self.store = boards.store

    async def top(
        self, board: str, scope: str, offset: int, limit: int, period: int | None = None
    ) -> dict:
        async def read(record: BoardRecord) -> dict:
            """A global page merges each region's first offset + limit entries."""
            regions = scope_regions(record.config, scope)
            if scope == GLOBAL:
                ranges = [(r, 0, offset + limit - 1) for r in regions]
            else:
                ranges = [(scope, offset, offset + limit - 1)]
            glob = scope == GLOBAL
            names = len(ranges) == 1
            slices = await self.store.pages(record, ranges, moving=glob, names=names)
            entries = merge.top_page(slices, record.config.sign, offset, limit)
            entries = await self._named(record, slices, entries)
            return {
                "board": board,
                "scope": scope,
                "total": sum(s.total for s in slices),
                "entries": [e.public() for e in entries],
            }

        return await self.boards.using(board, read, period)

    async def player(self, board: str, player_id: str, period: int | None = None) -> dict:
        async def read(record: BoardRecord) -> dict:
            standing = await self.store.standing(record, player_id)
            if standing is None:
                raise _not_found(board, player_id)
            out: dict = {
                "player_id": player_id,
                "region": standing.region,
                "score": standing.score,
            }
            out |= standing.shown.public()
            out["rank"] = {
                "global": standing.better_overall + 1,
                "region": standing.better_in_region + 1,
            }
            out["total"] = {"global": standing.total_overall, "region": standing.total_in_region}
            return out

        return await self.boards.using(board, read, period)

    async def lookup(
        self, board: str, ids: list[str], scope: str, period: int | None = None
    ) -> dict:
        """The players found, in list order (ranks, then ids), and the ids not found."""

        async def read(record: BoardRecord) -> dict:
            regions = scope_regions(record.config, scope)
            found = sorted(
                await self.store.lookup(record, regions, ids), key=lambda r: (r.better, r.player_id)
            )
            entries = [Entry(r.better + 1, r.player_id, r.score, r.region, r.shown) for r in found]
            seen = {r.player_id for r in found}
            return {
                "board": board,
                "scope": scope,
                "entries": [e.public() for e in entries],
                "missing": [pid for pid in ids if pid not in seen],
            }

        return await self.boards.using(board, read, period)

    async def around(
        self, board: str, player_id: str, scope: str, radius: int, period: int | None = None
    ) -> dict:
        async def read(record: BoardRecord) -> dict:
            regions = scope_regions(record.config, scope)
            merged = len(regions) > 1
            slices = await self.store.around(record, regions, player_id, radius, not merged)
            if slices is None:
                raise _not_found(board, player_id, scope)
            entries = merge.window(slices, record.config.sign, player_id, radius)
            entries = await self._named(record, slices, entries)
            return {
                "board": board,
                "scope": scope,
                "player_id": player_id,
                "entries": [e.public() for e in entries],
            }

        return await self.boards.using(board, read, period)

    async def _named(
        self, record: BoardRecord, slices: list[RegionSlice], entries: list[Entry]
    ) -> list[Entry]:
        """A merged view reads its regions' slices without names (a name costs Redis more
        than the rest of an entry), then the names of the entries it shows only."""
        nameless = {s.region for s in slices if s.nameless}
        asked = [(e.region, e.player_id) for e in entries if e.region in nameless]
        if not asked:
            return entries
        shown = await self.store.shown(record, asked)
        return [
            Entry(e.rank, e.player_id, e.score, e.region, shown.get(e.player_id, e.shown))
            for e in entries
        ]

    async def delete_player(self, board: str, player_id: str) -> None:
        async def delete(record: BoardRecord) -> None:
            if not await self.store.delete_player(record, player_id, self.boards.clock()):
                raise _not_found(board, player_id)

        await self.boards.using(board, delete)
