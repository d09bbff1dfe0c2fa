"""Redis access: the only package that imports redis."""

from leaderboard.store.redis_store import BoardRecord, Store

__all__ = ["BoardRecord", "Store"]
