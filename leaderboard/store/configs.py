"""Board configurations as stored: load, create or change (put_board.lua, then each
region's copy in its own slot), end a period by hand, finish a change cut short, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from leaderboard.domain import BoardConfig
from leaderboard.periods import Anchor, encode_anchors, rebased, reset
from leaderboard.store import keys
from leaderboard.store.buckets import NEW_BOARDS
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
        self, config: BoardConfig, old: BoardRecord | None, buckets: int, now: int
    ) -> tuple[bool, int]:
        """Writes the config, then each region's copy of it (other slots).

        Raises StaleBoard when the config changed since ``old`` was read. Player counts
        are read before the config changes: a write that slips into a region being
        removed meanwhile is the one race this leaves (see the README).
        """
        if old is None:
            anchors: tuple[Anchor, ...] = (Anchor(1, now, config.reset_every, now),)
            return await self._put(config, old, buckets, anchors, now, 1)
        current = await self._current(old, now)
        anchors = rebased(old.anchors, now, config.reset_every, current)
        return await self._put(config, old, buckets, anchors, now, current)

    async def _current(self, record: BoardRecord, now: int) -> int:
        """The current period: by the clock, or a later one a region entered already."""
        pipe = self.runner.client.pipeline(transaction=False)
        for region in record.config.regions:
            pipe.hget(record.meta(region), "cur")
        entered = [int(cur or 1) for cur in await pipe.execute()]
        return max(record.current(now), *entered)

    @translated
    async def reset(self, old: BoardRecord, now: int, mark: str = "") -> BoardRecord:
        """Ends the current period at ``now``: a new anchor, spread like a config change
        (writes refuse the old version, so none lands in the old period afterwards), and
        the ``mark`` of an idempotent reset. Answers the board as it now is."""
        current = await self._current(old, now)
        period = current + 1
        anchors = reset(old.anchors, now, period)
        _, version = await self._put(old.config, old, old.buckets, anchors, now, current, mark)
        return replace(old, version=version, anchors=anchors, period=period, reset_mark=mark)

    async def _put(
        self,
        config: BoardConfig,
        old: BoardRecord | None,
        buckets: int,
        anchors: tuple[Anchor, ...],
        now: int,
        current: int,
        mark: str = "",
    ) -> tuple[bool, int]:
        """put_board.lua and the spread to the regions; ``current`` is the period whose
        players decide whether a region may go."""
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
            pipe.zcard(keys.zset(board, tag_of[region], current))
            pipe.hlen(keys.outs(board, tag_of[region], current))
        sizes = await pipe.execute()
        counts = [sizes[i] + sizes[i + 1] for i in range(0, len(sizes), 2)]
        ks = [keys.config(board), keys.deleting(board), keys.global_mirror(board)]
        ks += [keys.sequences(board), *(keys.top_copy(board, r) for r in regions)]
        args: list[Any] = [
            old.version if old else "",
            ",".join(config.regions),
            config.order.value,
            config.mode.value,
            config.inactive_after_days,
            config.top_events,
            buckets,
            ",".join(tags),
            config.reset_every.value,
            config.keep_periods,
            encode_anchors(anchors),
            mark,
            NEW_BOARDS,
        ]
        for region, count in zip(regions, counts, strict=True):
            args += (region, count)
        put = BoardPut.decode(await self.runner.eval_one("put_board", ks, args))
        record = BoardRecord(config, put.version, put.buckets, tags, anchors, hashing=put.hashing)
        removed = [tag_of[r] for r in old_regions if r not in config.regions]
        await self._drop_periods(board, removed, put.buckets)
        rebuild = put.rebuild or (old is not None and anchors[-1].period > old.anchors[-1].period)
        await self._spread(record, removed, rebuild, now)
        return put.created, put.version

    async def _spread(
        self, record: BoardRecord, removed: Sequence[str], rebuild: bool, now: int
    ) -> None:
        """put_board.lua's second step: the registry, each region's copy of the config
        (other slots; the tags of ``removed`` regions lose theirs), and the global mirror
        when put_board.lua emptied it or a reset started a new period."""
        config = record.config
        await self.runner.client.sadd(keys.REGISTRY, config.board)
        fields = [record.version, config.mode.value, record.buckets, config.top_events]
        fields.append(config.sign)
        anchor = record.anchors[-1]
        period = [anchor.period, anchor.origin, anchor.every.value, now, self.mirror.events_cap]
        calls = [
            ("region_meta", [record.meta(r), record.zset(r)], [*fields, 1, *period, record.hashing])
            for r in config.regions
        ]
        calls += [
            ("region_meta", [keys.meta(config.board, t), keys.zset(config.board, t)], [*fields, 0])
            for t in removed
        ]
        snapshots = Snapshots()
        replies = await self.runner.raising(calls)
        kept = replies[: len(config.regions)]
        for region, (_, snapshot) in zip(config.regions, kept, strict=True):
            snapshots.add(region, snapshot)
        self.runner.wrote_events(snapshots.events)
        if rebuild:
            await self.resync(record, now)

    async def _drop_periods(self, board: str, tags: Sequence[str], buckets: int) -> None:
        """Deletes every period of removed regions (the current one holds no player, else
        the removal was refused): a region added again later starts with nothing."""
        if not tags:
            return
        pipe = self.runner.client.pipeline(transaction=False)
        for tag in tags:
            pipe.zrange(keys.archives(board, tag), 0, -1)
            pipe.hget(keys.meta(board, tag), "cur")
        replies = await pipe.execute()
        every = []
        for k, tag in enumerate(tags):
            periods = {int(p) for p in replies[2 * k]} | {int(replies[2 * k + 1] or 1)}
            every += [key for p in periods for key in keys.period_keys(board, tag, buckets, p)]
        await unlink(self.runner, every)

    @translated
    async def repair(self, record: BoardRecord, now: int) -> None:
        """Finishes a config change cut short after put_board.lua (Redis went away): until
        every region holds the config's version, each script refuses the board as stale."""
        await self._spread(record, (), True, now)

    async def resync(self, record: BoardRecord, now: int) -> None:
        """Rebuilds the global mirror from every region's top N."""
        snapshots = Snapshots()
        regions = record.config.regions
        calls = [("snapshot", [record.meta(r)], [record.version, now]) for r in regions]
        for region, reply in zip(
            record.config.regions, await self.runner.raising(calls), strict=True
        ):
            snapshots.add(region, reply)
        await self.mirror.sync(record, snapshots, now)

    async def _periods_of(self, record: BoardRecord, now: int) -> list[int]:
        """Every period whose keys a region of the board may hold."""
        pipe = self.runner.client.pipeline(transaction=False)
        pipe.smembers(keys.dropping(record.config.board))
        for region in record.config.regions:
            pipe.zrange(record.archives(region), 0, -1)
            pipe.hget(record.meta(region), "cur")
        dropping, *replies = await pipe.execute()
        held = {1, record.current(now)} | {int(cur or 1) for cur in replies[1::2]}
        held |= {int(p) for p in dropping}
        return sorted(held | {int(p) for archived in replies[::2] for p in archived})

    @translated
    async def delete_board(self, record: BoardRecord, now: int) -> None:
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
                "periods": ",".join(map(str, await self._periods_of(record, now))),
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
        periods = [int(p) for p in marker.get("periods", "1").split(",")]
        every = [k for tag in tags for k in keys.region_keys(board, tag, buckets, periods)]
        await unlink(self.runner, every + keys.board_keys(board, regions))
        await self.runner.client.delete(keys.deleting(board))
        return True


async def unlink(runner: Runner, every: Sequence[str]) -> None:
    """UNLINKs keys, UNLINK_CHUNK at a time, in one pipeline; one command per slot: a
    cluster pipeline's own unlink method splits keys by slot outside the pipeline."""
    by_slot: dict[int, list[str]] = {}
    for key in every:
        by_slot.setdefault(keys.slot(key), []).append(key)
    pipe = runner.client.pipeline(transaction=False)
    for group in by_slot.values():
        for i in range(0, len(group), UNLINK_CHUNK):
            pipe.execute_command("UNLINK", *group[i : i + UNLINK_CHUNK])
    await pipe.execute()
