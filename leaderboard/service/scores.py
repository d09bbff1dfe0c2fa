"""Score writes: single posts and batches, cut into chunks of one region each."""

from __future__ import annotations

import time
from collections.abc import Sequence

from leaderboard.domain import MAX_SCORE, Mode, Update
from leaderboard.errors import InvalidRequest, ScoreOutOfRange, UnknownRegion
from leaderboard.service.boards import Boards
from leaderboard.store import BoardRecord

Chunk = tuple[str, list[tuple[str, int, str | None]]]


def plan_chunks(updates: Sequence[Update], size: int) -> list[Chunk]:
    """Chunks of at most ``size`` updates of one region each, applied in list order.

    Grouping by region keeps one script call per region per chunk. When one player
    appears in two regions of the same batch, grouping would reorder its updates, so
    the batch is cut into consecutive runs instead.
    """
    home: dict[str, str] = {}
    crossing = False
    for u in updates:
        if home.setdefault(u.player_id, u.region) != u.region:
            crossing = True
            break
    runs: list[tuple[str, list[Update]]] = []
    if crossing:
        for u in updates:
            if not runs or runs[-1][0] != u.region:
                runs.append((u.region, []))
            runs[-1][1].append(u)
    else:
        groups: dict[str, list[Update]] = {}
        for u in updates:
            groups.setdefault(u.region, []).append(u)
        runs = list(groups.items())
    return [
        (region, [(u.player_id, u.score, u.name) for u in run[i : i + size]])
        for region, run in runs
        for i in range(0, len(run), size)
    ]


def check_regions(record: BoardRecord, updates: Sequence[Update]) -> None:
    known = set(record.config.regions)
    bad = [
        {"index": i, "field": "region", "reason": f"{u.region!r} is not a region of this board"}
        for i, u in enumerate(updates)
        if u.region not in known
    ]
    if bad:
        raise UnknownRegion(
            f"unknown region; this board's regions are {', '.join(record.config.regions)}",
            bad,
        )


def check_incr_range(updates: Sequence[Update], current: dict[str, int]) -> None:
    """All-or-nothing for a multi-chunk incr batch: refuse it before any chunk runs."""
    running = dict(current)
    for i, u in enumerate(updates):
        value = running.get(u.player_id, 0) + u.score
        if abs(value) > MAX_SCORE:
            raise ScoreOutOfRange(
                f"item {i} would take {u.player_id!r} beyond ±(2^53-1); nothing was applied",
                [{"index": i, "field": "score", "reason": "incr result out of range"}],
            )
        running[u.player_id] = value


class Scores:
    def __init__(self, boards: Boards) -> None:
        self.boards = boards
        self.store = boards.store
        self.chunk = boards.settings.batch_chunk
        self.applied = 0  # score updates applied by this process, for /metrics

    async def submit(self, board: str, update: Update) -> dict:
        async def write(record: BoardRecord) -> dict:
            check_regions(record, [update])
            items = [(update.player_id, update.score, update.name)]
            (result,) = await self.store.write(record, [(update.region, items)], now_ms(), True)
            if isinstance(result, Exception):
                raise result
            score, updated, better = result[0]
            self.applied += 1
            return {
                "player_id": update.player_id,
                "region": update.region,
                "score": score,
                "rank": better + 1,
                "updated": updated,
            }

        return await self.boards.using(board, write)

    async def submit_batch(self, board: str, updates: Sequence[Update]) -> int:
        chunks = plan_chunks(updates, self.chunk)
        done = 0

        async def write(record: BoardRecord) -> int:
            nonlocal done
            check_regions(record, updates)
            if done == 0 and len(chunks) > 1 and record.config.mode is Mode.INCR:
                ids = list(dict.fromkeys(u.player_id for u in updates))
                check_incr_range(updates, await self.store.scores_of(record, ids))
            results = await self.store.write(record, chunks[done:], now_ms(), False)
            for result in results:
                if isinstance(result, Exception):
                    raise result
                done += 1
                self.applied += int(result)
            return len(updates)

        if not updates:
            raise InvalidRequest("updates must hold 1 to 10000 items")
        return await self.boards.using(board, write)


def now_ms() -> int:
    return int(time.time() * 1000)
