"""What the benchmarks share: percentiles and CPU time (a private redis-server comes from
tests.redis_process, the same one the tests start).

Each benchmark starts its own redis-server so that it never reads or flushes data it
does not own (the Redis on 6379 belongs to someone else), and stops it by PID.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc; gone ones count 0)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    return total


def _cpu_line() -> list[int]:
    """The first line of /proc/stat: all cores' ticks by kind since boot."""
    return [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]


def busy_seconds() -> float:
    """CPU time all cores have spent busy since boot (Linux /proc/stat), to see other load."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = _cpu_line()
    return (user + nice + system + irq + softirq + steal) / _TICK


def steal_seconds() -> float:
    """The part of busy_seconds the hypervisor gave to other machines (steal)."""
    return _cpu_line()[7] / _TICK


def children(pid: int) -> list[int]:
    """Direct children of a process, found by scanning /proc (the server's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found
