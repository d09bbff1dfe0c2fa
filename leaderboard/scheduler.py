"""`leaderboard cleanup`: one run, or the long-running task that cleans every DURATION."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Awaitable
from typing import TypeVar

from leaderboard.errors import LeaderboardError, RedisUnavailable
from leaderboard.service import Service
from leaderboard.service.cleanup import CleanupReport, Progress
from leaderboard.settings import Settings
from leaderboard.store import Store

log = logging.getLogger("leaderboard.cleanup")
PROGRESS_EVERY = 2.0  # seconds between progress lines on long runs
RETRY_SECONDS = 5.0
T = TypeVar("T")


class ProgressLine:
    def __init__(self) -> None:
        self.last = time.monotonic()

    def __call__(self, p: Progress) -> None:
        if time.monotonic() - self.last >= PROGRESS_EVERY:
            self.last = time.monotonic()
            print(
                f"  {p.board} {p.region}: bucket {p.bucket}/{p.buckets}, removed {p.removed}",
                file=sys.stderr,
                flush=True,
            )


def describe(report: CleanupReport) -> str:
    lines = [f"{board}: removed {n}" for board, n in sorted(report.removed.items())]
    lines += [f"{board}: skipped, another cleanup is running" for board in report.locked]
    lines += [
        f"{board}: deleted archived periods {', '.join(map(str, periods))}"
        for board, periods in sorted(report.archives.items())
    ]
    return "\n".join(lines) or "no board to clean"


class Stopped(Exception):
    """SIGINT or SIGTERM arrived during a run."""


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[T]) -> T:
    """``work``'s result; when ``stop`` is set first, ``work`` is cancelled (its cleanup, such
    as releasing the board's locks, runs) and Stopped is raised."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not stop.is_set():
        return task.result()
    while not task.done():
        task.cancel()  # again: redis-py can lose a cancellation that lands inside a command
        await asyncio.wait([task], timeout=0.1)
    raise Stopped


async def run_cleanup(
    settings: Settings, board: str | None, older_than: int | None, every: int | None
) -> int:
    store = Store.connect(
        settings.redis_url,
        4,
        max(settings.redis_timeout, 10.0),
        settings.events_maxlen,
        cluster=settings.redis_cluster,
    )
    service = Service.build(store, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        while True:
            started = time.monotonic()
            try:
                report = await _unless_stopped(
                    stop, service.cleanup.run(board, older_than, ProgressLine())
                )
            except Stopped:
                print("leaderboard: cleanup stopped by a signal during a run", file=sys.stderr)
                return 0
            except RedisUnavailable as exc:
                if every is None:
                    print(f"leaderboard: {exc.message}", file=sys.stderr)
                    return 1
                log.warning("cleanup failed, Redis is not answering; retrying")
                delay = RETRY_SECONDS
            except LeaderboardError as exc:
                print(f"leaderboard: {exc.message}", file=sys.stderr)
                return 1
            else:
                took = time.monotonic() - started
                print(f"{describe(report)}\n({report.batches} batches, {took:.1f}s)", flush=True)
                if every is None:
                    return 0
                delay = max(0.0, every - took)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                return 0
    finally:
        await service.close()
