"""Many players at once, each with its rank in a scope (a friends or party board).

The rule of the other global reads (reads.py): what is counted is the regions at one
instant. On one Redis lookup.lua reads every region of the scope in one call; on a
cluster each region answers for itself, and the counts in the other regions come in a
second round trip (one per master, whatever the number of ids), checked against the
regions' move counts. A player between two regions (see writes.py) counts once, by its
move record, as in the other global reads.
"""

from __future__ import annotations

from collections.abc import Sequence

from leaderboard.domain import Ranked, Shown
from leaderboard.store.reads import MOVED, Moved, counts_elsewhere, moving_slices, one_instant
from leaderboard.store.records import BoardRecord
from leaderboard.store.replies import Looked
from leaderboard.store.runner import Call, Client, Runner


async def lookup(
    runner: Runner, client: Client, record: BoardRecord, regions: Sequence[str], ids: Sequence[str]
) -> list[Ranked]:
    """The players of ``ids`` that the scope of ``regions`` holds, in no particular order."""
    regions = list(regions)
    glob = tuple(regions) == record.config.regions
    sign = record.config.sign
    groups = [[r] for r in regions] if runner.cluster else [regions]  # one call per slot
    calls: list[Call] = [
        ("lookup", [k for r in group for k in record.script_keys(r)], [record.version, *ids])
        for group in groups
    ]

    async def attempt() -> list[Ranked] | Moved:
        replies = await runner.raising(calls, client=client)
        looked = [Looked.decode(g, reply) for g, reply in zip(groups, replies, strict=True)]
        records = [rec for part in looked for rec in part.records]
        moves = [m for part in looked for m in part.moves]
        passing = {
            pid: (s.region, sign * score, name)
            for s in (moving_slices(records, regions, sign) if glob else [])
            for pid, score, name in s.entries
        }
        # player -> (region, internal score, name, better so far, regions left to count)
        found: dict[str, tuple[str, int, Shown, int, list[str]]] = {}
        for group, part in zip(groups, looked, strict=True):
            for pid, place, internal, name, better in part.found:
                others = [r for r in regions if r not in group]
                found[pid] = (group[place], internal, name, better, others)
        for pid in ids:
            if pid in passing and pid not in found:
                region, internal, name = passing[pid]
                found[pid] = (region, internal, name, 0, regions)
        asked = [(pid, r) for pid, (_, _, _, _, left) in found.items() for r in left]
        numbers = await counts_elsewhere(
            client, record, [(r, found[pid][1]) for pid, r in asked], regions, moves
        )
        if isinstance(numbers, Moved):
            return MOVED
        counts = dict(zip(asked, numbers, strict=True))
        out = []
        for pid, (region, internal, name, better, left) in found.items():
            better += sum(counts[pid, r] for r in left)
            better += sum(1 for q, (_, s, _) in passing.items() if q != pid and s < internal)
            out.append(Ranked(pid, region, sign * internal, name, better))
        return out

    return await one_instant(attempt)
