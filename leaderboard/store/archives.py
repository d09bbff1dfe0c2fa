"""Archived periods: what each region kept when a period ended, whether a period can be
read, and the deletion of archives a board no longer keeps."""

from __future__ import annotations

from dataclasses import dataclass, field

from leaderboard.store import keys
from leaderboard.store.configs import unlink
from leaderboard.store.mirror import Mirror, Snapshots
from leaderboard.store.records import BoardRecord
from leaderboard.store.runner import Client, Runner


@dataclass
class Held:
    """The board's periods as its regions hold them: the current one, the players of each
    archived period per region (a period may hold none any more), and the archives whose
    deletion was cut short."""

    current: int
    players: dict[int, dict[str, int]] = field(default_factory=dict)
    dropping: set[int] = field(default_factory=set)


class Archives:
    def __init__(self, runner: Runner, mirror: Mirror) -> None:
        self.runner = runner
        self.mirror = mirror

    async def held(self, record: BoardRecord, now: int) -> Held:
        """Each region enters the current period first (periods.lua), so that a boundary
        passed with no write is an archive here, and its reset events are written."""
        regions = record.config.regions
        cap = self.mirror.events_cap
        calls = [("periods", [record.meta(r)], [record.version, now, cap]) for r in regions]
        held = Held(record.current(now))
        snapshots = Snapshots()
        for region, (current, flat, snapshot) in zip(
            regions, await self.runner.raising(calls), strict=True
        ):
            held.current = max(held.current, int(current))
            snapshots.add(region, snapshot)
            for i in range(0, len(flat), 2):
                held.players.setdefault(int(flat[i]), {})[region] = int(flat[i + 1])
        await self.mirror.sync(record, snapshots, now)
        dropping = await self.runner.client.smembers(keys.dropping(record.config.board))
        held.dropping = {int(p) for p in dropping}
        return held

    @staticmethod
    async def holds_players(client: Client, record: BoardRecord) -> bool:
        """Whether the record's period holds players (or players between two regions) and
        is not being deleted."""
        pipe = client.pipeline(transaction=False)
        pipe.sismember(keys.dropping(record.config.board), record.period)
        for region in record.config.regions:
            pipe.zcard(record.zset(region))
            pipe.hlen(record.outs(region))
        dropping, *counts = await pipe.execute()
        return not dropping and any(counts)

    async def drop(self, record: BoardRecord, period: int) -> None:
        """Deletes an archived period: marked first (reads of it are then 404, and a
        deletion cut short is finished by the next cleanup), then out of each region's
        archives, then its keys, a bounded number per UNLINK (which frees big values
        outside Redis's main thread), then unmarked."""
        board = record.config.board
        await self.runner.client.sadd(keys.dropping(board), period)
        pipe = self.runner.client.pipeline(transaction=False)
        for region in record.config.regions:
            pipe.zrem(record.archives(region), period)
        await pipe.execute()
        for region in record.config.regions:
            tag = record.tag(region)
            await unlink(self.runner, keys.period_keys(board, tag, record.buckets, period))
        await self.runner.client.srem(keys.dropping(board), period)
