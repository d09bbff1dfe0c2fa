"""One Settings object, read once from ``LEADERBOARD_*`` variables and passed everywhere."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from leaderboard.domain import regions_problem


class SettingsError(ValueError):
    """A LEADERBOARD_* variable holds a value that cannot be used."""


def _flag(value: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


def _names(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in value.split(",") if name.strip())


DATA_DIR = Path("./.leaderboard-data")
# How a variable's text becomes a field's value, by the field's type.
PARSERS: dict[str, Callable[[str], Any]] = {
    "str": str.strip,
    "bool": _flag,
    "int": int,
    "float": float,
    "Path": Path,
    "tuple[str, ...]": _names,
}


def setting(
    default: Any, text: str, parse: Callable[[str], Any] | None = None, secret: bool = False
) -> Any:
    """A field that is also the variable LEADERBOARD_<NAME>: its default and help text live
    here only (the CLI's --help and from_env read them from the fields). A ``secret`` one
    is left out of the settings' repr, so that it never reaches a log."""
    return field(default=default, repr=not secret, metadata={"help": text, "parse": parse})


@dataclass(frozen=True)
class Settings:
    redis_url: str = setting(
        "", "redis:// or unix:// URL of Redis; unset: start an embedded redis-server"
    )
    redis_cluster: bool = setting(
        False, "1: LEADERBOARD_REDIS_URL names a seed node of a Redis Cluster"
    )
    redis_read_url: str = setting(
        "", "a replica of that Redis for top, rank and around-me; unset: none"
    )
    default_regions: tuple[str, ...] = setting(
        ("na", "eu", "apac"), "regions of the `default` board created at start-up"
    )
    data_dir: Path = setting(DATA_DIR, "where the embedded Redis keeps its AOF files")
    redis_pool_size: int = setting(64, "connections per server process (a blocking pool)")
    redis_timeout: float = setting(
        2.0, "seconds to wait for Redis (connect, reply, a free connection) and for a request"
    )
    batch_chunk: int = setting(50, "updates per Lua call: bounds how long one call blocks Redis")
    batches_in_flight: int = setting(
        2, "batch posts a server process sends to Redis at once (more wait)"
    )
    activity_buckets: int = setting(
        32768, "activity/name hash buckets per region (fixed per board)"
    )
    events_maxlen: int = setting(100_000, "top-N events kept per (board, scope) stream, about")
    sse_heartbeat: float = setting(
        15.0, "seconds between heartbeat comments on an idle event stream"
    )
    config_ttl: float = setting(1.0, "seconds a server process caches a board's configuration")
    log_level: str = setting(
        "INFO", "log level: DEBUG, INFO, WARNING, ERROR", lambda text: text.strip().upper()
    )
    admin_keys: tuple[str, ...] = setting(
        (), "keys (16-128 chars, comma-separated) that may do everything", secret=True
    )
    server_keys: tuple[str, ...] = setting(
        (), "keys that may read and post scores (game servers)", secret=True
    )
    client_keys: tuple[str, ...] = setting((), "keys that may read (game clients)", secret=True)
    public_reads: bool = setting(False, "1: GETs under /v1 need no key even when keys are set")
    client_rate: float = setting(
        0.0, "requests/s per client address (client key or none), bursts of twice; 0: off"
    )
    server_rate: float = setting(0.0, "requests/s per server key, bursts of twice; 0: off")
    trust_proxy: bool = setting(
        False, "1: the client address is the last hop a proxy added to X-Forwarded-For"
    )
    idempotency_ttl: int = setting(
        86_400, "seconds an Idempotency-Key and its answer are kept (retries within it)"
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {}
        try:
            for f in fields(cls):
                raw = env.get(f"LEADERBOARD_{f.name.upper()}")
                if raw is not None:
                    values[f.name] = (f.metadata["parse"] or PARSERS[str(f.type)])(raw)
            settings = cls(**values)
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
        keys = [*self.admin_keys, *self.server_keys, *self.client_keys]
        if any(not 16 <= len(key) <= 128 or any(c.isspace() for c in key) for key in keys):
            raise SettingsError("LEADERBOARD_*_KEYS: each key is 16 to 128 characters, no spaces")
        if len(set(keys)) != len(keys):
            raise SettingsError("LEADERBOARD_*_KEYS: a key is given twice (each has one role)")
        if self.idempotency_ttl < 1:
            raise SettingsError("LEADERBOARD_IDEMPOTENCY_TTL must be at least 1 (seconds)")
        if self.client_rate < 0 or self.server_rate < 0:
            raise SettingsError("LEADERBOARD_CLIENT_RATE and _SERVER_RATE are 0 (off) or more")
        b = self.activity_buckets
        if b < 1 or b & (b - 1):
            raise SettingsError("LEADERBOARD_ACTIVITY_BUCKETS must be a power of two")
        if not 1 <= self.batch_chunk <= 5000:
            raise SettingsError("LEADERBOARD_BATCH_CHUNK must be within 1..5000")
        if self.batches_in_flight < 1:
            raise SettingsError("LEADERBOARD_BATCHES_IN_FLIGHT must be at least 1")
        if self.redis_pool_size < 1 or self.redis_timeout <= 0:
            raise SettingsError("LEADERBOARD_REDIS_POOL_SIZE and _TIMEOUT must be positive")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


# (variable suffix, default as text, help) per setting, for the CLI's --help.
VARIABLES: tuple[tuple[str, str, str], ...] = tuple(
    (f.name.upper(), _shown(f.default), f.metadata["help"]) for f in fields(Settings)
)
