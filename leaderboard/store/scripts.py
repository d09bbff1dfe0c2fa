"""Lua scripts: read from the package once, called by SHA, reloaded after NOSCRIPT."""

from __future__ import annotations

import hashlib
from importlib import resources

NAMES = (
    "write",
    "pull",
    "settle",
    "restore",
    "player_locks",
    "sync",
    "snapshot",
    "page",
    "player",
    "lookup",
    "around",
    "delete_player",
    "put_board",
    "region_meta",
    "cleanup",
    "lock",
    "rate",
    "periods",
    "names",
)


def _source(name: str) -> str:
    folder = resources.files("leaderboard.store") / "lua"
    lib = (folder / "_lib.lua").read_text()
    return lib + "\n" + (folder / f"{name}.lua").read_text()


class Scripts:
    """The scripts' texts and SHAs; the store loads them into Redis when Redis asks."""

    def __init__(self) -> None:
        self.source = {name: _source(name) for name in NAMES}
        self.sha = {name: hashlib.sha1(s.encode()).hexdigest() for name, s in self.source.items()}
