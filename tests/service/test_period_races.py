"""Periods across several server processes (each a Service with its own store and clock):
a writer whose clock lags cannot write into a period another one ended, and a manual reset
racing writes loses and doubles nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from leaderboard.domain import BoardConfig, Mode, Update, now_ms
from leaderboard.errors import PeriodNotFound
from leaderboard.periods import HOUR_MS, Schedule
from leaderboard.service import Service
from leaderboard.settings import Settings
from leaderboard.store import Store

REGIONS = ("na", "eu")


@pytest.fixture
async def processes(settings: Settings) -> AsyncIterator[Callable[..., Service]]:
    stores: list[Store] = []

    def process(clock: Callable[[], int] = now_ms) -> Service:
        store = Store.connect(settings.redis_url, 8, 5.0, cluster=settings.redis_cluster)
        stores.append(store)
        return Service.build(store, settings, clock)

    yield process
    for store in stores:
        await store.close()


async def scores(service: Service, board: str, period: int | None = None) -> dict[str, int]:
    page = await service.views.top(board, "global", 0, 1000, period)
    return {e["player_id"]: e["score"] for e in page["entries"]}


async def test_a_lagging_clock_cannot_write_into_an_ended_period(processes) -> None:
    ahead = processes(lambda: now_ms() + HOUR_MS)  # already in the next hour's period
    lagging = processes()
    await lagging.boards.put(BoardConfig("h", REGIONS, reset_every=Schedule.HOURLY))
    await lagging.scores.submit("h", Update("c", "eu", 3))
    await ahead.scores.submit("h", Update("a", "na", 1))  # na enters period 2
    await lagging.scores.submit("h", Update("b", "na", 2))  # so there it writes period 2
    await lagging.scores.submit("h", Update("c", "eu", 4))  # eu did not: period 1 still
    assert await scores(ahead, "h") == {"a": 1, "b": 2}
    assert await scores(ahead, "h", 1) == {"c": 4}
    assert await scores(lagging, "h") == {"c": 4}  # what its clock calls current
    # A new player's first write pulls it from every region: na is in period 2, so is it.
    await lagging.scores.submit("h", Update("d", "eu", 5))
    assert await scores(ahead, "h") == {"a": 1, "b": 2, "d": 5}


async def test_a_manual_reset_racing_writes_of_two_processes_loses_nothing(processes) -> None:
    first, second = processes(), processes()
    await first.boards.put(BoardConfig("r", REGIONS, mode=Mode.INCR, top_events=10))
    players = [(f"p{i}", REGIONS[i % 2]) for i in range(40)]
    sent: dict[str, int] = {}

    async def writer(service: Service, rounds: int) -> None:
        for n in range(rounds):
            batch = [Update(pid, region, n + 1) for pid, region in players]
            await service.scores.submit_batch("r", batch)
            for pid, _ in players:
                sent[pid] = sent.get(pid, 0) + n + 1
            await service.scores.submit("r", Update("solo", "eu", 1))
            sent["solo"] = sent.get("solo", 0) + 1

    async def resetter() -> dict:
        await asyncio.sleep(0.01)
        return await second.periods.reset("r")

    *_, answer = await asyncio.gather(writer(first, 30), writer(second, 30), resetter())
    assert answer["period"] == 2
    archived, current = await scores(first, "r", 1), await scores(first, "r")
    assert archived and current, "the reset did not land between the writes"
    assert {p: archived.get(p, 0) + current.get(p, 0) for p in sent} == sent
    await second.scores.submit("r", Update("late", "na", 5))
    assert "late" in await scores(first, "r")
    with pytest.raises(PeriodNotFound):
        await scores(first, "r", 3)
