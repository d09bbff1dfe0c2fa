"""The real app served on a free port from a background thread, with a blocking client.

Hypothesis state machines are synchronous; this lets them drive the running app.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
from typing import Any

import orjson
from aiohttp import web

from leaderboard.http.app import create_app
from leaderboard.settings import Settings
from tests.contract import check_answer
from tests.redis_process import free_port


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None
        self.conn: http.client.HTTPConnection | None = None

    def __enter__(self) -> LiveServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return self

    async def _start(self) -> None:
        self.runner = web.AppRunner(create_app(self.settings))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        assert self.conn is not None
        headers = {}
        payload = None
        if body is not None:
            payload = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        answer = orjson.loads(raw) if raw else None
        check_answer(method, path, response.status, answer)
        return response.status, answer
