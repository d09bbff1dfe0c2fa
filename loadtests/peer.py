"""The peer: the PyPI `leaderboard` library (agoragames) ranking members.

    PYTHONPATH=<dir of that library> python loadtests/peer.py REDIS_URL SECONDS [PLAYERS [fill]]

Without PLAYERS: `rank_member`, one call at a time. With PLAYERS and `fill`: fills its board
with that many members. With PLAYERS alone: `rank_members` of 1,000 members with fresh
scores per call, which it sends as one pipeline of ZADDs, into that board; the runner
starts two of them at once, so that Redis, not one Python client, sets the rate.

It is what a Python developer would pick instead of this service, so `python -m loadtests`
runs it against the same Redis and prints our rates as multiples of its rate. It must be run
as a file, not with -m from the repository: the library's package is also called
`leaderboard`, and the repository's own package would win on sys.path. It prints one JSON
line: {"ok": true, "calls_per_s": ...} or {"ok": false, "error": ...} when the library
does not import or does not work with the installed redis-py (no figure is made up then).
"""

from __future__ import annotations

import json
import random
import sys
import time
import traceback
from urllib.parse import urlparse

KEY = "lb:peer-agoragames"  # deleted by the runner afterwards, with its member data hash


def measure(url: str, seconds: float) -> dict[str, object]:
    """Calls rank_member back to back for ``seconds``, random members out of 10M."""
    try:
        import redis
        from leaderboard.leaderboard import Leaderboard
    except Exception as exc:  # any import failure is the answer
        return {"ok": False, "error": f"import: {type(exc).__name__}: {exc}"}
    import leaderboard

    parsed = urlparse(url)
    versions = {"redis_py": redis.__version__, "module": leaderboard.__file__}
    board = Leaderboard(KEY, host=parsed.hostname, port=parsed.port, db=0)
    rng = random.Random(7)
    calls = 0
    try:
        board.rank_member("member:0", 1)  # the first call says whether it works at all
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            for _ in range(100):
                board.rank_member(f"member:{rng.randrange(10**7)}", rng.randrange(10**9))
            calls += 100
        took = time.perf_counter() - started
    except Exception as exc:  # the library failing is the answer
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} {last.line}"
        return {"ok": False, "error": f"{type(exc).__name__}: {exc} (at {where})", **versions}
    return {"ok": True, "calls_per_s": round(calls / took, 1), "calls": calls, **versions}


def pipelined(url: str, seconds: float, players: int, fill: bool) -> dict[str, object]:
    """rank_members in calls of 1,000 into a board of ``players`` members (or its fill)."""
    try:
        from leaderboard.leaderboard import Leaderboard
    except Exception as exc:
        return {"ok": False, "error": f"import: {type(exc).__name__}: {exc}"}
    parsed = urlparse(url)
    board = Leaderboard(KEY, host=parsed.hostname, port=parsed.port, db=0)
    rng = random.Random()
    try:
        if fill:
            for first in range(0, players, 10_000):
                flat = []
                for n in range(first, min(first + 10_000, players)):
                    flat += [f"player-{n}", rng.randrange(10**9)]
                board.rank_members(flat)
            return {"ok": True, "filled": players}
        members, started = 0, time.perf_counter()
        while time.perf_counter() < started + seconds:
            flat = []
            for _ in range(1000):
                flat += [f"player-{rng.randrange(players)}", rng.randrange(10**9)]
            board.rank_members(flat)
            members += 1000
        took = time.perf_counter() - started
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "members_per_s": round(members / took, 1), "players": players}


if __name__ == "__main__":
    url, seconds = sys.argv[1], float(sys.argv[2])
    if len(sys.argv) > 3:
        fill = sys.argv[4:] == ["fill"]
        print(json.dumps(pipelined(url, seconds, int(sys.argv[3]), fill)))
    else:
        print(json.dumps(measure(url, seconds)))
