"""Rate limits of the contract: per client address (requests with a client key or none) and
per server key, shared by every process and server on the same Redis (store.take_rate)."""

from __future__ import annotations

import hashlib
import math

from aiohttp import web

from leaderboard.errors import LeaderboardError
from leaderboard.http.access import Caller, Role
from leaderboard.settings import Settings
from leaderboard.store import Store


class RateLimited(LeaderboardError):
    def __init__(self, wait: float) -> None:
        self.retry_after = max(1, math.ceil(wait))
        super().__init__(f"too many requests; retry in {self.retry_after} s")


class Limits:
    def __init__(self, settings: Settings) -> None:
        self.client_rate = settings.client_rate
        self.server_rate = settings.server_rate
        self.trust_proxy = settings.trust_proxy

    def subject(self, request: web.Request, caller: Caller) -> tuple[str, float]:
        """Who the request counts against, and at what rate (0: not limited). A server key
        is named by a digest, never by itself."""
        if caller.role is Role.SERVER and caller.key is not None:
            digest = hashlib.sha256(caller.key.encode()).hexdigest()[:32]
            return "s:" + digest, self.server_rate
        if caller.role is None or caller.role is Role.CLIENT:
            return "c:" + self.address(request), self.client_rate
        return "", 0.0

    def address(self, request: web.Request) -> str:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if self.trust_proxy and forwarded.strip():
            return forwarded.rsplit(",", 1)[-1].strip()
        return request.remote or "unknown"

    async def check(self, store: Store, request: web.Request, caller: Caller) -> None:
        """Raises RateLimited when the request is over its limit; it is then not applied."""
        subject, rate = self.subject(request, caller)
        if rate > 0:
            wait = await store.take_rate(subject, rate)
            if wait > 0:
                raise RateLimited(wait)
