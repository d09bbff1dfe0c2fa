"""Who may make which request: the contract's roles by bearer key (client < server < admin).

With no key configured the service is open, as in the quick start. Keys are compared in
constant time, against every configured key, and never written anywhere.
"""

from __future__ import annotations

import hmac
import logging
from enum import IntEnum

from aiohttp import web

from leaderboard.errors import LeaderboardError
from leaderboard.settings import Settings

log = logging.getLogger(__name__)
# The routes a server key may use beyond the reads; every other non-GET needs an admin key.
SCORE_ROUTES = frozenset({"/v1/boards/{board}/scores", "/v1/boards/{board}/scores/batch"})


class Role(IntEnum):
    CLIENT = 1
    SERVER = 2
    ADMIN = 3


class Unauthorized(LeaderboardError):
    """No key, an unknown key, or a malformed Authorization header."""


class Forbidden(LeaderboardError):
    """A known key whose role may not make this request."""


def needed(method: str, route: str) -> Role | None:
    """The least role that may make the request; None outside /v1 (operations, docs)."""
    if not route.startswith("/v1/"):
        return None
    if method in ("GET", "HEAD"):
        return Role.CLIENT
    if route in SCORE_ROUTES:
        return Role.SERVER
    return Role.ADMIN


class Access:
    def __init__(self, settings: Settings) -> None:
        self.keys = [
            (key.encode(), role)
            for keys, role in (
                (settings.admin_keys, Role.ADMIN),
                (settings.server_keys, Role.SERVER),
                (settings.client_keys, Role.CLIENT),
            )
            for key in keys
        ]
        self.public_reads = settings.public_reads

    @property
    def open(self) -> bool:
        return not self.keys

    def role_of(self, header: str | None) -> Role | None:
        """The role of the presented key; every configured key is compared, so the time
        taken says nothing of which one (or how much of one) matched."""
        scheme, _, presented = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return None
        token = presented.strip().encode()
        found = None
        for key, role in self.keys:
            if hmac.compare_digest(token, key):
                found = role
        return found

    def check(self, request: web.Request, route: str) -> None:
        """Raises Unauthorized or Forbidden unless the request may be made."""
        role = needed(request.method, route)
        if self.open or role is None or (role is Role.CLIENT and self.public_reads):
            return
        have = self.role_of(request.headers.get("Authorization"))
        if have is None:
            raise Unauthorized("send a valid key as Authorization: Bearer <key>")
        if have < role:
            raise Forbidden(f"this key's role ({have.name.lower()}) may not {request.method} here")
