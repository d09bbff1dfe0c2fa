"""Key names. Every key of one (board, region) shares the hash tag ``{board:region}``.

| key                              | type   | holds                                        |
|----------------------------------|--------|----------------------------------------------|
| lb:boards                        | set    | ids of all boards                            |
| lb:{B}:cfg                       | hash   | board config, activity bucket count, version |
| lb:{B:R}:m                       | hash   | version, mode, buckets (checked by scripts)  |
| lb:{B:R}:z                       | zset   | player -> internal score (lower is better)   |
| lb:{B:R}:a:<n>                   | hash   | player -> last activity, unix seconds        |
| lb:{B:R}:n:<n>                   | hash   | player -> display name                       |
| lb:{B:R}:named                   | string | present once any player of R has a name      |
| lb:{B:R}:ev                      | stream | top-N events of region R                     |
| lb:{B}:z                         | zset   | global mirror: players inside their region's |
|                                  |        | top N; its first N are the global top N      |
| lb:{B}:ev                        | stream | top-N events of the global scope             |
| lb:{B}:deleting                  | hash   | regions, buckets of a deletion under way     |
| lb:{B:R}:cleanup-lock            | string | token of the cleanup running on B (expires)  |
"""

from __future__ import annotations

REGISTRY = "lb:boards"


def config(board: str) -> str:
    return f"lb:{{{board}}}:cfg"


def region_base(board: str, region: str) -> str:
    return f"lb:{{{board}:{region}}}:"


def global_mirror(board: str) -> str:
    return f"lb:{{{board}}}:z"


def cleanup_lock(board: str, region: str) -> str:
    """Held in every region of a board by the one cleanup running on it."""
    return region_base(board, region) + "cleanup-lock"


def deleting(board: str) -> str:
    """Regions and bucket count of a deletion still under way."""
    return f"lb:{{{board}}}:deleting"


def stream(board: str, scope: str) -> str:
    """The event stream of a scope: a region's, or ``global``."""
    if scope == "global":
        return f"lb:{{{board}}}:ev"
    return region_base(board, scope) + "ev"


def zset(board: str, region: str) -> str:
    return region_base(board, region) + "z"


def meta(board: str, region: str) -> str:
    return region_base(board, region) + "m"


def region_keys(board: str, region: str, buckets: int) -> list[str]:
    """Every key a region may hold, for deleting a board without a keyspace scan."""
    base = region_base(board, region)
    fixed = [base + "z", base + "m", base + "named", base + "ev", base + "cleanup-lock"]
    return fixed + [f"{base}{kind}:{n}" for kind in ("a", "n") for n in range(buckets)]
