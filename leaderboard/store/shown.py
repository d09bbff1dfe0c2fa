"""How a player's name and metadata are kept: one value in its region's name bucket
(lb:{B:R}:n:<n>), so that every script that moves, restores or removes a name carries the
metadata with it, and a player without metadata costs nothing more for it.

The value is the name alone, or ``\\0 <metadata JSON> \\0 <name>`` once the player has
metadata (compact JSON never holds a raw NUL, and an object starts with ``{``); a name
that itself starts with NUL is kept as ``\\0\\0 <name>``. Any other value is a name as it
was stored before metadata existed (names starting with NUL were kept as they came).
write.lua reads and writes the same form (shown_parts, shown_of in _lib.lua); a write's
argument uses it too, an empty part meaning "keep the stored one".
"""

from __future__ import annotations

from leaderboard.domain import NOTHING_SHOWN, Shown

NUL = "\0"


def shown_from(raw: str | None) -> Shown:
    if not raw:
        return NOTHING_SHOWN
    if raw[0] != NUL:
        return Shown(raw)
    if raw[1:2] == NUL:
        return Shown(raw[2:])
    metadata, cut, name = raw[1:].partition(NUL)
    if not cut or not metadata.startswith("{"):
        return Shown(raw)
    return Shown(name or None, metadata)


def shown_arg(shown: Shown | None) -> str:
    """write.lua's argument for what an update sets ("" keeps both)."""
    if shown is None:
        return ""
    name = shown.name or ""
    if shown.metadata is not None:
        return NUL + shown.metadata + NUL + name
    return NUL + NUL + name if name.startswith(NUL) else name
