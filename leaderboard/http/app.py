"""The app factory: routes, middlewares, and the Redis-backed service for its lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator

from aiohttp import web

from leaderboard.domain import MAX_BODY, now_ms
from leaderboard.errors import RedisUnavailable
from leaderboard.http.access import Access
from leaderboard.http.errors import make_middleware
from leaderboard.http.keys import CLOCK, METRICS, SERVICE, SETTINGS, STREAMS
from leaderboard.http.limits import Limits
from leaderboard.http.metrics import Metrics
from leaderboard.http.routes import ROUTES, UNBOUNDED
from leaderboard.service import Service
from leaderboard.service.boards import Clock
from leaderboard.settings import Settings
from leaderboard.store import Store

log = logging.getLogger(__name__)
LAG_SAMPLES = 50


async def _default_board(service: Service, settings: Settings) -> None:
    """Creates the `default` board, waiting for Redis if it is not up yet."""
    while True:
        try:
            if await service.ensure_default_board(settings.default_regions):
                log.info(
                    "created board 'default' with regions %s", ",".join(settings.default_regions)
                )
            return
        except RedisUnavailable:
            log.warning("Redis is not answering yet; will create board 'default' when it does")
            await asyncio.sleep(1.0)


async def _service_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = Store.connect(
        settings.redis_url,
        settings.redis_pool_size,
        settings.redis_timeout,
        settings.events_maxlen,
        cluster=settings.redis_cluster,
        read_url=settings.redis_read_url,
    )
    metrics = app[METRICS]
    store.runner.observe, store.runner.wrote_events = metrics.script, metrics.events.inc
    store.runner.waited = metrics.pool_wait.observe
    service = Service.build(store, settings, app[CLOCK])
    app[SERVICE] = service
    task = asyncio.create_task(_default_board(service, settings))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), timeout=settings.redis_timeout * 2)
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await service.close()


async def _watch_loop(app: web.Application) -> AsyncIterator[None]:
    """Samples the event loop's lateness LAG_SAMPLES times a second, for the metrics: a
    request's time split into waiting for the loop and the rest."""
    loop, lag = asyncio.get_running_loop(), app[METRICS].loop_lag

    async def watch() -> None:
        while True:
            due = loop.time() + 1 / LAG_SAMPLES
            await asyncio.sleep(1 / LAG_SAMPLES)
            lag.observe(max(0.0, loop.time() - due))

    task = asyncio.create_task(watch())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _close_streams(app: web.Application) -> None:
    """Event streams never end by themselves: end them so shutdown does not wait."""
    for task in list(app[STREAMS]):
        task.cancel()


def create_app(settings: Settings, clock: Clock = now_ms) -> web.Application:
    """``clock`` (unix ms) decides periods, activity and event times: tests move it."""
    app = web.Application(client_max_size=MAX_BODY)
    app[CLOCK] = clock
    metrics = Metrics()
    access, limits = Access(settings), Limits(settings)
    app.middlewares.append(
        make_middleware(metrics.observe, access, limits, settings.redis_timeout, UNBOUNDED)
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[STREAMS] = weakref.WeakSet()
    app.on_shutdown.append(_close_streams)
    app.add_routes(ROUTES)
    app.cleanup_ctx.append(_service_ctx)
    app.cleanup_ctx.append(_watch_loop)
    return app
