"""How updates are cut into script calls: one region per call, order kept per player."""

from __future__ import annotations

from collections.abc import Sequence

from leaderboard.domain import Update, crossing
from leaderboard.store.writes import Item


def plan(updates: Sequence[Update], size: int) -> list[tuple[str, list[int]]]:
    """Chunks of at most ``size`` update indexes of one region each, applied in list order.

    Grouping by region keeps one script call per region per chunk. When one player
    appears in two regions of the same list, grouping would reorder its updates, so the
    list is cut into consecutive runs instead.
    """
    runs: list[tuple[str, list[int]]] = []
    if crossing((u.player_id, u.region) for u in updates):
        for i, u in enumerate(updates):
            if not runs or runs[-1][0] != u.region:
                runs.append((u.region, []))
            runs[-1][1].append(i)
    else:
        groups: dict[str, list[int]] = {}
        for i, u in enumerate(updates):
            groups.setdefault(u.region, []).append(i)
        runs = list(groups.items())
    return [(region, run[i : i + size]) for region, run in runs for i in range(0, len(run), size)]


def chunk_items(updates: Sequence[Update], indexes: Sequence[int]) -> list[Item]:
    return [(updates[i].player_id, updates[i].score, updates[i].shown) for i in indexes]
