"""Key names: the one table of every key the service writes (the README links here).

Every key of one (board, region) shares the hash tag ``{B:R}``, the board's own keys share
``{B}``: on Redis Cluster a region lives in one slot and the board's keys in another, and
every script call touches one slot (on one Redis, player.lua reads all of a board's regions
in one call). ``R`` is the region's tag: its name and a number, ``na#3``, chosen when the
region is added so that a board's regions sit on slots spread evenly over 0..16383 (see
place), hence on different masters of an evenly split cluster. ``lb:{B}:top:<R>`` and
``lb:{B}:seq`` use the plain name. Boards created before tags existed use the bare name.
``<n>`` is a player's bucket: a hash of its id (the board's own, see buckets.py) modulo
the board's bucket count; small buckets keep Redis's compact listpack encoding.

lb:boards                 set     ids of all boards (its own slot)
                                  by PUT and DELETE; read by the board list
lb:{B}:cfg                hash    regions, order, mode, inactive_after_days, top_events,
                                  buckets, hash, version, tags, reset_every, keep_periods,
                                  anchors (periods.py); by put_board.lua; read by every
                                  request (cached for LEADERBOARD_CONFIG_TTL)
lb:{B:R}:m                hash    the board's version, mode, buckets, hash, top, sign, and R's
                                  seq (top-N snapshots), mv (move steps), the period
                                  anchor (p0, t0, every) and cur (period entered); by
                                  region_meta.lua and the region scripts, which refuse a
                                  caller with another version
Keys marked * belong to a period: period 1's are as shown, a later period N's have
"pN:" after the tag (lb:{B:R}:p2:z), so that a reset moves writes to new, empty keys and
the old ones are that period's archive, in the same slot (see leaderboard/periods.py).

lb:{B:R}:z              * zset    player -> internal score (-score on desc boards: lower is
                                  always better); by write, pull, restore, delete_player,
                                  cleanup; read by page, player, around
lb:{B:R}:a:<n>          * hash    player -> last accepted score time (unix s); by write.lua;
                                  read by cleanup.lua
lb:{B:R}:n:<n>          * hash    player -> display name, and metadata once it has some (one
                                  value, see shown.py); by write.lua; read by the reads
lb:{B:R}:named          * string  present once a player of R has a name (reads skip name
                                  look-ups otherwise)
lb:{B:R}:described      * string  present once a player of R has metadata (a name update
                                  reads the stored value only then)
lb:{B:R}:ev               stream  top-N events of region R; by the region scripts; read by
                                  /events and other services (XREAD, XREADGROUP)
lb:{B:R}:out            * hash    player -> move record (token, destination, score, name)
                                  while it leaves R; by pull.lua; read by global reads and
                                  write.lua
lb:{B:R}:in             * hash    player -> move token once it arrived in R, until the move
                                  is settled; by write.lua; read by global reads
lb:{B:R}:periods          zset    the region's archived periods that hold players (score
                                  and member: the number); by enter_period in _lib.lua
lb:{B:R}:hold             set     tokens of batches whose later chunks of R wait for their
                                  locked path (expires 10 s after the last); write.lua
lb:{B:R}:once:<K>         hash    chunk mark -> what the chunk answered, for the request
                                  with Idempotency-Key K; written by write.lua with the
                                  chunk; expires after LEADERBOARD_IDEMPOTENCY_TTL
lb:{B:R}:cleanup-lock     string  token of the cleanup running on B (expires unless
                                  extended); SET NX, cleanup.lua, lock.lua
lb:{B}:z                  zset    global mirror: the players inside their region's top N
                                  (its first N are the global top N); sync.lua
lb:{B}:top:<R>            zset    the mirror's copy of region R's top N; sync.lua
lb:{B}:seq                hash    region -> newest top-N snapshot applied, and '#period':
                                  the period the mirror holds; sync.lua
lb:{B}:ev                 stream  top-N events of the global scope; by sync.lua; read by
                                  /events and other services
lb:{B}:locks              hash    player -> token and expiry of a write that may move it
                                  between regions; player_locks.lua
lb:{B}:dropping           set     archived periods being deleted (reads of them are 404;
                                  the next cleanup finishes one cut short); archives.py
lb:{B}:deleting           hash    regions, tags and buckets of a deletion under way; by
                                  DELETE; read by PUT and DELETE
lb:idem:{B:K}             string  request digest, then its answer once it has one, for
                                  Idempotency-Key K on board B (its own slot per key);
                                  expires after LEADERBOARD_IDEMPOTENCY_TTL
lb:rate:{<subject>}       string  a rate limit's next allowed time (rate.lua); subject is
                                  c:<client address> or s:<digest of a server key>
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

REGISTRY = "lb:boards"


def rate(subject: str) -> str:
    """A rate limit's state: one slot per subject, so a check is one call on a cluster."""
    return f"lb:rate:{{{subject}}}"


def answer(board: str, key: str) -> str:
    """An idempotent request's digest and answer: a slot per key spreads them out."""
    return f"lb:idem:{{{board}:{key}}}"


def once(board: str, region: str, key: str) -> str:
    """The chunks of an idempotent request applied in a region, in that region's slot."""
    return region_base(board, region) + f"once:{key}"


def config(board: str) -> str:
    return f"lb:{{{board}}}:cfg"


def region_base(board: str, region: str) -> str:
    return f"lb:{{{board}:{region}}}:"


def period_base(board: str, region: str, period: int) -> str:
    """Where a period's keys of a region start (_lib.lua's period_base)."""
    base = region_base(board, region)
    return base if period == 1 else f"{base}p{period}:"


def archives(board: str, region: str) -> str:
    return region_base(board, region) + "periods"


def board_base(board: str) -> str:
    return f"lb:{{{board}}}:"


def global_mirror(board: str) -> str:
    return board_base(board) + "z"


def top_copy(board: str, region: str) -> str:
    return board_base(board) + f"top:{region}"


def sequences(board: str) -> str:
    return board_base(board) + "seq"


def player_locks(board: str) -> str:
    return board_base(board) + "locks"


def outs(board: str, region: str, period: int = 1) -> str:
    """Players on their way out of the region, to another one (see pull.lua)."""
    return period_base(board, region, period) + "out"


def ins(board: str, region: str, period: int = 1) -> str:
    """Players that arrived from another region, until their move is settled."""
    return period_base(board, region, period) + "in"


def cleanup_lock(board: str, region: str) -> str:
    """Held in every region of a board by the one cleanup running on it."""
    return region_base(board, region) + "cleanup-lock"


def dropping(board: str) -> str:
    """Archived periods whose keys are being deleted."""
    return board_base(board) + "dropping"


def deleting(board: str) -> str:
    """Regions and bucket count of a deletion still under way."""
    return board_base(board) + "deleting"


def stream(board: str, scope: str) -> str:
    """The event stream of a scope: a region's, or ``global``."""
    if scope == "global":
        return board_base(board) + "ev"
    return region_base(board, scope) + "ev"


def zset(board: str, region: str, period: int = 1) -> str:
    return period_base(board, region, period) + "z"


def meta(board: str, region: str) -> str:
    return region_base(board, region) + "m"


def period_keys(board: str, region: str, buckets: int, period: int) -> list[str]:
    """Every key of a region's period, its zset first (an archive is gone once it is)."""
    base = period_base(board, region, period)
    fixed = [base + s for s in ("z", "out", "in", "named", "described")]
    return fixed + [f"{base}{kind}:{n}" for kind in ("a", "n") for n in range(buckets)]


def region_keys(board: str, region: str, buckets: int, periods: Iterable[int] = (1,)) -> list[str]:
    """Every key a region may hold, for deleting a board without a keyspace scan."""
    base = region_base(board, region)
    fixed = [base + s for s in ("m", "ev", "hold", "cleanup-lock", "periods")]
    return fixed + [k for p in periods for k in period_keys(board, region, buckets, p)]


def board_keys(board: str, regions: list[str]) -> list[str]:
    """The board's own keys (one slot), but the config and the deletion marker."""
    fixed = [global_mirror(board), stream(board, "global"), sequences(board), player_locks(board)]
    fixed.append(dropping(board))
    return fixed + [top_copy(board, r) for r in regions]


def slot(key: str) -> int:
    return key_slot(key.encode())


def place(board: str, regions: Sequence[str], kept: Mapping[str, str]) -> tuple[str, ...]:
    """Tags for a board's regions: ``kept`` ones stay (their keys hold data), each new one
    gets the first ``name#k`` whose slot falls in the emptiest of len(regions) equal slices
    of the slot range, so that regions spread over the masters however many there are."""
    width = REDIS_CLUSTER_HASH_SLOTS / len(regions)

    def part(tag: str) -> int:
        return int(key_slot(f"{{{board}:{tag}}}".encode()) // width)

    used = [0] * len(regions)
    for tag in kept.values():
        used[part(tag)] += 1
    tags = []
    for region in regions:
        if region in kept:
            tags.append(kept[region])
            continue
        target = used.index(min(used))
        used[target] += 1
        k = 0
        while part(f"{region}#{k}") != target:
            k += 1
        tags.append(f"{region}#{k}")
    return tuple(tags)
