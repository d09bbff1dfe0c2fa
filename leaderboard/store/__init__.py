"""Redis access: the only package that imports redis."""

from leaderboard.store.redis_store import BoardRecord, Store
from leaderboard.store.replies import Claimed

__all__ = ["BoardRecord", "Claimed", "Store"]
