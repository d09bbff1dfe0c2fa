"""Board configurations as stored: load, create or change (put_board.lua, then each
region's copy in its own slot), finish a change cut short, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leaderboard.domain import BoardConfig, now_ms
from leaderboard.store import keys
from leaderboard.store.mirror import Mirror, Snapshots
from leaderboard.store.records import BoardRecord, record_from
from leaderboard.store.replies import BoardPut
from leaderboard.store.runner import Runner, translated

UNLINK_CHUNK = 1000  # keys per UNLINK when a board's keys go


class Configs:
    def __init__(self, runner: Runner, mirror: Mirror) -> None:
        self.runner = runner
        self.mirror = mirror

    @translated
    async def load_board(self, board: str) -> BoardRecord | None:
        return record_from(board, await self.runner.client.hgetall(keys.config(board)))

    @translated
    async def load_all_boards(self) -> list[BoardRecord]:
        ids = sorted(await self.runner.client.smembers(keys.REGISTRY))
        pipe = self.runner.client.pipeline(transaction=False)
        for board in ids:
            pipe.hgetall(keys.config(board))
        raws = await pipe.execute()
        records = (record_from(b, raw) for b, raw in zip(ids, raws, strict=True))
        return [r for r in records if r is not None]

    @translated
    async def put_board(
        self, config: BoardConfig, old: BoardRecord | None, buckets: int
    ) -> tuple[bool, int]:
        """Writes the config, then each region's copy of it (other slots).

        Raises StaleBoard when the config changed since ``old`` was read. Player counts
        are read before the config changes: a write that slips into a region being
        removed meanwhile is the one race this leaves (see the README).
        """
        board = config.board
        if old is None:
            await self.finish_delete(board)
        old_regions = old.config.regions if old else ()
        tag_of = {r: old.tag(r) for r in old_regions} if old else {}
        kept = {r: t for r, t in tag_of.items() if r in config.regions}
        tags = keys.place(board, config.regions, kept)
        tag_of.update(zip(config.regions, tags, strict=True))
        regions = list(old_regions) + [r for r in config.regions if r not in old_regions]
        pipe = self.runner.client.pipeline(transaction=False)
        for region in regions:  # players, and players on their way out (pull.lua)
            pipe.zcard(keys.zset(board, tag_of[region]))
            pipe.hlen(keys.outs(board, tag_of[region]))
        sizes = await pipe.execute()
        counts = [sizes[i] + sizes[i + 1] for i in range(0, len(sizes), 2)]
        ks = [keys.config(board), keys.deleting(board), keys.global_mirror(board)]
        ks += [keys.sequences(board), *(keys.top_copy(board, r) for r in regions)]
        args: list[Any] = [
            ",".join(old_regions),
            ",".join(config.regions),
            config.order.value,
            config.mode.value,
            config.inactive_after_days,
            config.top_events,
            buckets,
            ",".join(tags),
        ]
        for region, count in zip(regions, counts, strict=True):
            args += (region, count)
        put = BoardPut.decode(await self.runner.eval_one("put_board", ks, args))
        record = BoardRecord(config, put.version, put.buckets, tags)
        removed = [tag_of[r] for r in old_regions if r not in config.regions]
        await self._spread(record, removed, put.rebuild)
        return put.created, put.version

    async def _spread(self, record: BoardRecord, removed: Sequence[str], rebuild: bool) -> None:
        """put_board.lua's second step: the registry, each region's copy of the config
        (other slots; the tags of ``removed`` regions lose theirs), and the global mirror
        when put_board.lua emptied it."""
        config = record.config
        await self.runner.client.sadd(keys.REGISTRY, config.board)
        fields = [record.version, config.mode.value, record.buckets, config.top_events]
        fields.append(config.sign)
        calls = [
            ("region_meta", [record.meta(r), record.zset(r)], [*fields, 1]) for r in config.regions
        ]
        calls += [
            ("region_meta", [keys.meta(config.board, t), keys.zset(config.board, t)], [*fields, 0])
            for t in removed
        ]
        await self.runner.raising(calls)
        if rebuild:
            await self.resync(record)

    @translated
    async def repair(self, record: BoardRecord) -> None:
        """Finishes a config change cut short after put_board.lua (Redis went away): until
        every region holds the config's version, each script refuses the board as stale."""
        await self._spread(record, (), rebuild=True)

    async def resync(self, record: BoardRecord) -> None:
        """Rebuilds the global mirror from every region's top N."""
        snapshots = Snapshots()
        calls = [
            ("snapshot", [record.meta(r), record.zset(r)], [record.version])
            for r in record.config.regions
        ]
        for region, reply in zip(
            record.config.regions, await self.runner.raising(calls), strict=True
        ):
            snapshots.add(region, reply)
        await self.mirror.sync(record, snapshots, now_ms())

    @translated
    async def delete_board(self, record: BoardRecord) -> None:
        """Removes the config and metas first, so that writes in flight fail cleanly.

        The region keys go afterwards, in chunks; a marker naming them stays until they
        are gone, so a deletion cut short (Redis down) is finished before the board id is
        used again, and never leaves old players for a new board of the same name.
        """
        board, regions = record.config.board, record.config.regions
        await self.runner.client.hset(
            keys.deleting(board),
            mapping={
                "regions": ",".join(regions),
                "tags": ",".join(record.tag(r) for r in regions),
                "buckets": record.buckets,
            },
        )
        await self.runner.client.delete(keys.config(board), *keys.board_keys(board, list(regions)))
        pipe = self.runner.client.pipeline(transaction=False)
        pipe.srem(keys.REGISTRY, board)
        for region in regions:
            pipe.execute_command("DEL", record.meta(region))
        await pipe.execute()
        await self.finish_delete(board)

    @translated
    async def finish_delete(self, board: str) -> bool:
        """Removes what an earlier deletion of ``board`` left; answers whether there was any."""
        marker = await self.runner.client.hgetall(keys.deleting(board))
        if not marker:
            return False
        buckets, regions = int(marker["buckets"]), marker["regions"].split(",")
        tags = marker.get("tags", marker["regions"]).split(",")
        # One UNLINK per slot (a region's keys, the board's): a cluster pipeline's own
        # unlink method splits keys by slot outside the pipeline, so send the command.
        pipe = self.runner.client.pipeline(transaction=False)
        for tag in tags:
            every = keys.region_keys(board, tag, buckets)
            for i in range(0, len(every), UNLINK_CHUNK):
                pipe.execute_command("UNLINK", *every[i : i + UNLINK_CHUNK])
        pipe.execute_command("UNLINK", *keys.board_keys(board, regions))
        await pipe.execute()
        await self.runner.client.delete(keys.deleting(board))
        return True
