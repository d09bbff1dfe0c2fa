"""The board's global mirror: each region's newest top N carried into the board's slot,
where sync.lua writes the global events (see _lib.lua)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from leaderboard.store import keys
from leaderboard.store.records import BoardRecord
from leaderboard.store.runner import FAILURES, Runner

log = logging.getLogger(__name__)


@dataclass
class Snapshots:
    """The newest top-N snapshot each region answered (see top_snapshot in _lib.lua), to
    hand to sync.lua once, and the events the region scripts wrote meanwhile."""

    newest: dict[str, tuple[int, list[str], int]] = field(default_factory=dict)
    events: int = 0

    def add(self, region: str, snapshot: list[Any]) -> None:
        if snapshot:
            self.events += int(snapshot[2])
            seq = int(snapshot[0])
            if seq > self.newest.get(region, (0, [], 0))[0]:
                self.newest[region] = (seq, snapshot[1], int(snapshot[3]))


class Mirror:
    def __init__(self, runner: Runner, events_cap: int) -> None:
        self.runner = runner
        self.events_cap = events_cap

    async def sync(self, record: BoardRecord, snapshots: Snapshots, now: int) -> None:
        """Carries the regions' new top N into the global mirror.

        A failure here leaves the mirror behind until the region's next top-N change
        (the scores themselves are written): it is logged, not answered as an error.
        Every write ends here, so here the events written are counted.
        """
        events = snapshots.events
        board, regions = record.config.board, record.config.regions
        calls = []
        for region, (seq, flat, period) in snapshots.newest.items():
            ks = [keys.config(board), keys.global_mirror(board), keys.sequences(board)]
            ks += [keys.top_copy(board, region)]
            ks += [keys.top_copy(board, r) for r in regions if r != region]
            calls.append(("sync", ks, [region, seq, self.events_cap, now, period, *flat]))
        try:
            for reply in await self.runner.eval(calls):
                if isinstance(reply, Exception):
                    raise reply
                events += int(reply)
        except FAILURES as exc:
            log.warning("the global top-N mirror of board %r is behind: %s", board, exc)
        finally:
            self.runner.wrote_events(events)
