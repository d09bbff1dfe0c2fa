"""Region-sharded gaming leaderboards over Redis sorted sets."""

__version__ = "0.1.0"
