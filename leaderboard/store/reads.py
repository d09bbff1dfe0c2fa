"""Consistent reads of a board's regions: top pages, a player's standing, around-me
windows. A global read must show every region at one instant, while moves between regions
(other slots) go on: on one Redis the region scripts run in one MULTI/EXEC (or one call),
on a cluster each read checks the regions' move counts (see moved in _lib.lua) and tries
again when a move ran in between."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from leaderboard.domain import RegionSlice, Shown, Standing
from leaderboard.errors import KeptMoving
from leaderboard.store.records import BoardRecord
from leaderboard.store.replies import Page, Presence, Records, Window
from leaderboard.store.runner import Client, Runner
from leaderboard.store.shown import shown_from

T = TypeVar("T")
READ_ATTEMPTS = 8  # global reads that met a move in progress, before answering 503


async def read_attempts() -> AsyncIterator[int]:
    """Attempt numbers, with a random pause before each retry that doubles each time (up
    to 128 ms, about 0.25 s in all): a move takes a few round trips, so a read that met
    one usually finds the regions quiet again on the next try."""
    for attempt in range(READ_ATTEMPTS):
        if attempt:
            await asyncio.sleep(random.uniform(0, 0.001 * 2**attempt))
        yield attempt


async def scores_of(
    client: Client, record: BoardRecord, player_ids: Sequence[str]
) -> dict[str, int]:
    """Current scores of these players, wherever they are (one ZMSCORE per region)."""
    pipe = client.pipeline(transaction=False)
    for zkey in record.zsets():
        pipe.zmscore(zkey, list(player_ids))
    found: dict[str, int] = {}
    for scores in await pipe.execute():
        for pid, score in zip(player_ids, scores, strict=True):
            if score is not None:
                found[pid] = record.config.sign * int(score)
    return found


class Moved:
    """What one try of a read answers when a move ran between its round trips."""


MOVED = Moved()


async def counts_elsewhere(
    client: Client,
    record: BoardRecord,
    asked: Sequence[tuple[str, int]],
    regions: Sequence[str],
    moves: Sequence[int],
) -> list[int] | Moved:
    """The entries strictly better than each (region, internal score) asked, in one round
    trip (per node), or MOVED when the move count of a region is no longer what the first
    round trip saw (``moves``, per region): the counts then show another instant."""
    if not asked:
        return []
    pipe = client.pipeline(transaction=False)  # per node in this order: the counts, then
    for region, internal in asked:  # the move counts that must not have changed since
        pipe.zcount(record.zset(region), "-inf", f"({internal}")
    for region in regions:
        pipe.hget(record.meta(region), "mv")
    replies = await pipe.execute()
    if [int(n or 0) for n in replies[len(asked) :]] != list(moves):
        return MOVED
    return [int(n) for n in replies[: len(asked)]]


async def one_instant(attempt: Callable[[], Awaitable[T | Moved]]) -> T:
    """The first answer of ``attempt`` that saw the regions at one instant; after
    READ_ATTEMPTS tries that each met a move, KeptMoving (a 503 to retry)."""
    async for _ in read_attempts():
        found = await attempt()
        if not isinstance(found, Moved):
            return found
    raise KeptMoving()


class Reads:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    async def shown(
        self, client: Client, record: BoardRecord, players: Sequence[tuple[str, str]]
    ) -> dict[str, Shown]:
        """What is shown of these (region, player) pairs that their region's zset holds
        (one names.lua call per region); a player between regions is left out."""
        by_region: dict[str, list[str]] = {}
        for region, pid in players:
            by_region.setdefault(region, []).append(pid)
        calls = [
            ("names", [record.meta(r), record.zset(r)], [record.version, *pids])
            for r, pids in by_region.items()
        ]
        replies = await self.runner.raising(calls, client=client)
        return {
            pid: shown_from(raw)
            for pids, reply in zip(by_region.values(), replies, strict=True)
            for pid, raw in zip(pids, reply, strict=True)
            if raw
        }

    async def _moves(
        self, client: Client, record: BoardRecord, regions: Sequence[str]
    ) -> list[int]:
        pipe = client.pipeline(transaction=False)
        for r in regions:
            pipe.hget(record.meta(r), "mv")
        return [int(n or 0) for n in await pipe.execute()]

    async def pages(
        self,
        client: Client,
        record: BoardRecord,
        ranges: Sequence[tuple[str, int, int]],
        moving: bool,
        names: bool = True,
    ) -> list[RegionSlice]:
        """Entries at list positions [start, stop] of each named region, with what is
        shown of them unless not ``names``; with ``moving`` (a global view) the players
        between two regions come as slices of their own, and the slices show one
        instant."""
        sign = record.config.sign
        calls = [
            (
                "page",
                record.script_keys(r),
                [record.version, start, stop, int(moving), int(not names)],
            )
            for r, start, stop in ranges
        ]
        atomic = moving and not self.runner.cluster

        async def attempt() -> list[RegionSlice] | Moved:
            replies = await self.runner.raising(calls, atomic, client)
            pages = [
                Page.decode(region, reply, sign)
                for (region, _, _), reply in zip(ranges, replies, strict=True)
            ]
            if moving and not atomic:
                moves = await self._moves(client, record, [r for r, _, _ in ranges])
                if [p.moves for p in pages] != moves:
                    return MOVED
            out = [
                RegionSlice(region, start, p.better, p.total, p.entries, p.nameless)
                for (region, start, _), p in zip(ranges, pages, strict=True)
            ]
            return out + moving_slices([p.records for p in pages], record.config.regions, sign)

        return await one_instant(attempt)

    async def _per_region(
        self,
        client: Client,
        name: str,
        regions: Sequence[str],
        keys_of: Callable[[str], list[str]],
        args: list[Any],
    ) -> list[list[Any]]:
        """A script that takes any number of regions, answered per region: one call per
        region on a cluster (one slot each), one call for them all on one Redis."""
        if self.runner.cluster:
            calls = [(name, keys_of(r), args) for r in regions]
            return [reply[0] for reply in await self.runner.raising(calls, client=client)]
        ks = [k for r in regions for k in keys_of(r)]
        return (await self.runner.raising([(name, ks, args)], client=client))[0]

    async def _players(
        self, client: Client, record: BoardRecord, regions: Sequence[str], player_id: str
    ) -> list[Presence]:
        """player.lua's answer per region; on one Redis one instant, and counts against
        the score it found."""
        args = [record.version, player_id]
        replies = await self._per_region(client, "player", regions, record.script_keys, args)
        return [Presence.decode(r, reply) for r, reply in zip(regions, replies, strict=True)]

    async def standing(
        self, client: Client, record: BoardRecord, player_id: str
    ) -> Standing | None:
        """Where the player is and its score, then (on a cluster, or when the player is
        between two regions) the counts elsewhere in a second round trip."""
        return await one_instant(lambda: self._standing(client, record, player_id))

    async def _standing(
        self, client: Client, record: BoardRecord, player_id: str
    ) -> Standing | Moved | None:
        """The standing, or MOVED when a move ran between the two round trips."""
        regions, sign = record.config.regions, record.config.sign
        found = await self._players(client, record, regions, player_id)
        moving = moving_slices([p.records for p in found], regions, sign)
        passing = {pid: (s.region, score, name) for s in moving for pid, score, name in s.entries}
        home = next((p for p in found if p.score is not None), None)
        better = {}
        if home is not None and home.score is not None:
            region, internal, name = home.records.region, home.score, home.shown
            better = {
                p.records.region: p.better
                for p in found
                if p is home or not self.runner.cluster  # one Redis counted them all
            }
        elif player_id in passing:
            region, score, name = passing[player_id]
            internal = sign * score
        else:
            return None
        others = [r for r in regions if r not in better]
        asked = [(r, internal) for r in others]
        counts = await counts_elsewhere(client, record, asked, regions, [p.moves for p in found])
        if isinstance(counts, Moved):
            return MOVED
        better.update(zip(others, counts, strict=True))
        ahead = sum(
            1
            for pid, (_, score, _) in passing.items()
            if pid != player_id and sign * score < internal
        )
        totals = {p.records.region: p.total for p in found}
        return Standing(
            region=region,
            score=sign * internal,
            shown=name,
            better_in_region=better[region],
            better_overall=sum(better.values()) + ahead,
            total_in_region=totals[region] + (home is None),
            total_overall=sum(totals.values()) + len(passing),
        )

    async def around(
        self,
        client: Client,
        record: BoardRecord,
        regions: Sequence[str],
        player_id: str,
        radius: int,
        names: bool = True,
    ) -> list[RegionSlice] | None:
        """The player's score, then each region's window around it (what is shown of
        its entries unless not ``names``): on one Redis both in one MULTI/EXEC; on a
        cluster, or for a player between two regions, in two round trips checked
        against the regions' move counts."""
        sign = record.config.sign
        glob = tuple(regions) == record.config.regions
        nameless = int(not names)

        # On one Redis: player.lua and around.lua over every region in one MULTI/EXEC; the
        # windows are empty when no zset holds the player (absent, or between regions).
        players = [k for r in regions for k in record.script_keys(r)]
        zsets = [k for r in regions for k in record.window_keys(r)]
        together = [
            ("player", players, [record.version, player_id]),
            ("around", zsets, [record.version, player_id, "", radius, nameless]),
        ]

        async def attempt() -> list[RegionSlice] | Moved | None:
            if self.runner.cluster:
                found, windows = await self._players(client, record, regions, player_id), []
            else:
                replies, flat = await self.runner.raising(together, True, client)
                found = [Presence.decode(r, p) for r, p in zip(regions, replies, strict=True)]
                windows = [Window.decode(w, sign) for w in flat]
            moving = moving_slices([p.records for p in found], regions, sign) if glob else []
            if not windows:
                scores = [p.score for p in found if p.score is not None]
                scores += [
                    sign * sc for s in moving for pid, sc, _ in s.entries if pid == player_id
                ]
                if not scores:
                    return None
                windows = await self._windows(
                    client, record, regions, player_id, scores[0], radius, nameless
                )
                if [w.moves for w in windows] != [p.moves for p in found]:
                    return MOVED
            out = [
                RegionSlice(region, w.start, w.better, 0, w.entries, w.nameless)
                for region, w in zip(regions, windows, strict=True)
            ]
            out += moving
            if any(pid == player_id for s in out for pid, _, _ in s.entries):
                return out
            return None  # deleted between the two round trips

        return await one_instant(attempt)

    async def _windows(
        self,
        client: Client,
        record: BoardRecord,
        regions: Sequence[str],
        player_id: str,
        score: int,
        radius: int,
        nameless: int,
    ) -> list[Window]:
        """around.lua's window per region, around a known score."""
        args = [record.version, player_id, score, radius, nameless]
        replies = await self._per_region(client, "around", regions, record.window_keys, args)
        return [Window.decode(reply, record.config.sign) for reply in replies]


def moving_slices(
    records: Sequence[Records], regions: Sequence[str], sign: int
) -> list[RegionSlice]:
    """Players between two regions, from every region's move records, as complete slices.

    ``records`` holds (region, its out records, its in records) as HGETALL gives them. A
    player pulled out of a region (out record) whose destination does not hold the same
    token (in record) is in no zset: it is counted here once, in its destination region
    (or the region it left, when the destination was removed from the board meanwhile).
    """
    arrived = {(ins[i], ins[i + 1]) for _, _, ins in records for i in range(0, len(ins), 2)}
    rows: dict[str, tuple[str, int, str]] = {}
    for region, outs, _ in records:
        for i in range(0, len(outs), 2):
            pid, (token, dst, score, name) = outs[i], outs[i + 1].split("\t", 3)
            if (pid, token) not in arrived and pid not in rows:
                rows[pid] = (dst if dst in regions else region, int(score), name)
    by_region: dict[str, list[tuple[int, str, str | None]]] = {}
    for pid, (region, score, name) in rows.items():
        by_region.setdefault(region, []).append((score, pid, shown_from(name)))
    return [
        RegionSlice(
            region, 0, 0, len(found), [(pid, sign * s, name) for s, pid, name in sorted(found)]
        )
        for region, found in by_region.items()
    ]
