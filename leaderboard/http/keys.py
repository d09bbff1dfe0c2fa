"""Typed keys under which the app keeps its per-process resources."""

import asyncio
import weakref
from collections.abc import Callable

from aiohttp import web

from leaderboard.http.metrics import Metrics
from leaderboard.service import Service
from leaderboard.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", Service)
METRICS = web.AppKey("metrics", Metrics)
STREAMS = web.AppKey("streams", weakref.WeakSet[asyncio.Task])
CLOCK = web.AppKey("clock", Callable[[], int])
