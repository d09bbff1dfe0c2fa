"""One Settings object, read once from ``LEADERBOARD_*`` variables and passed everywhere."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from leaderboard.domain import regions_problem

# Each entry: variable suffix, default, help text. The CLI prints this table in --help.
VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("REDIS_URL", "", "redis:// or unix:// URL of Redis; unset: start an embedded redis-server"),
    ("REDIS_CLUSTER", "0", "1: LEADERBOARD_REDIS_URL names a seed node of a Redis Cluster"),
    ("REDIS_READ_URL", "", "a replica of that Redis for top, rank and around-me; unset: none"),
    ("DEFAULT_REGIONS", "na,eu,apac", "regions of the `default` board created at start-up"),
    ("DATA_DIR", "./.leaderboard-data", "where the embedded Redis keeps its AOF files"),
    ("REDIS_POOL_SIZE", "64", "connections per server process (a blocking pool)"),
    ("REDIS_TIMEOUT", "2.0", "seconds to wait for Redis (connect, reply, a free connection)"),
    ("BATCH_CHUNK", "50", "updates per Lua call: bounds how long one call blocks Redis"),
    ("BATCHES_IN_FLIGHT", "2", "batch posts a server process sends to Redis at once (more wait)"),
    ("ACTIVITY_BUCKETS", "32768", "activity/name hash buckets per region (fixed per board)"),
    ("EVENTS_MAXLEN", "100000", "top-N events kept per (board, scope) stream, about"),
    ("SSE_HEARTBEAT", "15", "seconds between heartbeat comments on an idle event stream"),
    ("CONFIG_TTL", "1.0", "seconds a server process caches a board's configuration"),
    ("LOG_LEVEL", "INFO", "log level: DEBUG, INFO, WARNING, ERROR"),
)


class SettingsError(ValueError):
    """A LEADERBOARD_* variable holds a value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    redis_url: str = ""
    redis_cluster: bool = False
    redis_read_url: str = ""
    default_regions: tuple[str, ...] = ("na", "eu", "apac")
    data_dir: Path = field(default_factory=lambda: Path("./.leaderboard-data"))
    redis_pool_size: int = 64
    redis_timeout: float = 2.0
    batch_chunk: int = 50
    batches_in_flight: int = 2
    activity_buckets: int = 32768
    events_maxlen: int = 100_000
    sse_heartbeat: float = 15.0
    config_ttl: float = 1.0
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        raw = {name: env.get(f"LEADERBOARD_{name}", default) for name, default, _ in VARIABLES}
        try:
            settings = cls(
                redis_url=raw["REDIS_URL"].strip(),
                redis_cluster=_flag(raw["REDIS_CLUSTER"]),
                redis_read_url=raw["REDIS_READ_URL"].strip(),
                default_regions=tuple(
                    r.strip() for r in raw["DEFAULT_REGIONS"].split(",") if r.strip()
                ),
                data_dir=Path(raw["DATA_DIR"]),
                redis_pool_size=int(raw["REDIS_POOL_SIZE"]),
                redis_timeout=float(raw["REDIS_TIMEOUT"]),
                batch_chunk=int(raw["BATCH_CHUNK"]),
                batches_in_flight=int(raw["BATCHES_IN_FLIGHT"]),
                activity_buckets=int(raw["ACTIVITY_BUCKETS"]),
                events_maxlen=int(raw["EVENTS_MAXLEN"]),
                sse_heartbeat=float(raw["SSE_HEARTBEAT"]),
                config_ttl=float(raw["CONFIG_TTL"]),
                log_level=raw["LOG_LEVEL"].upper(),
            )
        except ValueError as exc:
            raise SettingsError(f"bad LEADERBOARD_* value: {exc}") from exc
        settings.check()
        return settings

    def check(self) -> None:
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("LEADERBOARD_REDIS_URL must start redis://, rediss:// or unix://")
        if self.redis_cluster and not self.redis_url.startswith(("redis://", "rediss://")):
            raise SettingsError("LEADERBOARD_REDIS_CLUSTER=1 needs a redis:// or rediss:// URL")
        if self.redis_read_url:
            if not self.redis_url or self.redis_cluster:
                raise SettingsError(
                    "LEADERBOARD_REDIS_READ_URL needs LEADERBOARD_REDIS_URL, and no cluster "
                    "(a replica of one Redis; a cluster's regions already spread the reads)"
                )
            if not self.redis_read_url.startswith(("redis://", "rediss://", "unix://")):
                raise SettingsError(
                    "LEADERBOARD_REDIS_READ_URL must start redis://, rediss:// or unix://"
                )
        problem = regions_problem(self.default_regions)
        if problem:
            raise SettingsError(
                f"LEADERBOARD_DEFAULT_REGIONS={','.join(self.default_regions)!r}: {problem}"
            )
        b = self.activity_buckets
        if b < 1 or b & (b - 1):
            raise SettingsError("LEADERBOARD_ACTIVITY_BUCKETS must be a power of two")
        if not 1 <= self.batch_chunk <= 5000:
            raise SettingsError("LEADERBOARD_BATCH_CHUNK must be within 1..5000")
        if self.batches_in_flight < 1:
            raise SettingsError("LEADERBOARD_BATCHES_IN_FLIGHT must be at least 1")
        if self.redis_pool_size < 1 or self.redis_timeout <= 0:
            raise SettingsError("LEADERBOARD_REDIS_POOL_SIZE and _TIMEOUT must be positive")


def _flag(value: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"not a yes/no value: {value!r}")
