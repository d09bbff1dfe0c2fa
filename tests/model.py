"""A plain Python leaderboard: what every view of the service must equal."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX = 2**53 - 1


@dataclass
class ModelBoard:
    regions: list[str]
    order: str = "desc"
    mode: str = "best"
    # player -> region, score, what is shown ({"name"?, "metadata"?}, as entries carry it)
    players: dict[str, tuple[str, int, dict]] = field(default_factory=dict)
    period: int = 1
    archives: dict[int, ModelBoard] = field(default_factory=dict)  # period -> its standings
    seen: bool = False  # an archive whose every view was compared once

    def reset(self) -> None:
        """A period that ends with players is archived, as it stands."""
        if self.players:
            self.archives[self.period] = ModelBoard(
                self.regions, self.order, self.mode, dict(self.players)
            )
        self.period += 1
        self.players = {}

    def key(self, pid: str) -> tuple[int, str]:
        score = self.players[pid][1]
        return (-score if self.order == "desc" else score, pid)

    def combine(self, pid: str, score: int) -> int:
        if pid not in self.players or self.mode == "set":
            return score
        old = self.players[pid][1]
        if self.mode == "incr":
            return old + score
        better = max if self.order == "desc" else min
        return better(old, score)

    def apply(
        self, pid: str, region: str, score: int, name: str | None, metadata: dict | None = None
    ) -> tuple[int, bool]:
        old = self.players.get(pid)
        new = self.combine(pid, score)
        shown = dict(old[2]) if old is not None else {}
        if name is not None:
            shown["name"] = name
        if metadata is not None:
            shown["metadata"] = metadata
        self.players[pid] = (region, new, shown)
        return new, old is None or old[1] != new

    def members(self, scope: str) -> list[str]:
        ids = [p for p, (r, _, _) in self.players.items() if scope == "global" or r == scope]
        return sorted(ids, key=self.key)

    def rank(self, pid: str, scope: str) -> int:
        mine = self.key(pid)[0]
        return 1 + sum(1 for p in self.members(scope) if self.key(p)[0] < mine)

    def entry(self, pid: str, scope: str) -> dict:
        region, score, shown = self.players[pid]
        out = {"rank": self.rank(pid, scope), "player_id": pid, "score": score, "region": region}
        return out | shown

    def listing(self, scope: str) -> list[dict]:
        return [self.entry(p, scope) for p in self.members(scope)]

    def lookup(self, ids: list[str], scope: str) -> tuple[list[dict], list[str]]:
        members = self.members(scope)
        found = [p for p in members if p in ids]
        return [self.entry(p, scope) for p in found], [p for p in ids if p not in found]

    def around(self, pid: str, scope: str, radius: int) -> list[dict]:
        ids = self.members(scope)
        i = ids.index(pid)
        return [self.entry(p, scope) for p in ids[max(0, i - radius) : i + radius + 1]]

    def config(self, board: str) -> dict:
        return {
            "board": board,
            "regions": self.regions,
            "order": self.order,
            "mode": self.mode,
            "inactive_after_days": 30,
            "top_events": 100,
            "reset_every": "never",
            "keep_periods": 4,
            "period": self.period,
        }
