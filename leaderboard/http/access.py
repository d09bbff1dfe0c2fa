"""Who may make which request: the contract's roles by bearer key (client < server < admin).

With no key configured the service is open, as in the quick start. Keys are compared in
constant time, against every configured key, and never written anywhere.
"""

from __future__ import annotations

import hmac
import logging
from enum import IntEnum
from typing import NamedTuple

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


class Caller(NamedTuple):
    """Who made a /v1 request: the role and key it presented (None when none)."""

    role: Role | None
    key: str | None


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

    def caller(self, header: str | None) -> Caller:
        """The role of the presented key; every configured key is compared, so the time
        taken says nothing of which one (or how much of one) matched."""
        scheme, _, presented = (header or "").partition(" ")
        token = presented.strip()
        if scheme.lower() != "bearer" or not token:
            return Caller(None, None)
        found = None
        for key, role in self.keys:
            if hmac.compare_digest(token.encode(), key):
                found = role
        return Caller(found, token if found else None)

    def check(self, request: web.Request, route: str) -> Caller | None:
        """Who makes this /v1 request (None outside /v1); raises Unauthorized or Forbidden
        unless it may be made."""
        role = needed(request.method, route)
        if role is None:
            return None
        caller = self.caller(request.headers.get("Authorization"))
        if self.open or (role is Role.CLIENT and self.public_reads):
            return caller
        if caller.role is None:
            raise Unauthorized("send a valid key as Authorization: Bearer <key>")
        if caller.role < role:
            name = caller.role.name.lower()
            raise Forbidden(f"this key's role ({name}) may not {request.method} here")
        return caller
