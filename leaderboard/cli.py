"""The `leaderboard` command: thin argument parsing over the library."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import logging
import multiprocessing
import os
import re
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence

from aiohttp import web

from leaderboard.embedded import EmbeddedRedis, EmbeddedRedisError
from leaderboard.http.metrics import SHARED
from leaderboard.scheduler import run_cleanup
from leaderboard.settings import VARIABLES, Settings, SettingsError

log = logging.getLogger("leaderboard")
GC_THRESHOLD = 10_000  # allocations between young collections (Python's default: 700)


def _environment_help() -> str:
    rows = [
        f"  LEADERBOARD_{name:<18} {text} (default: {default or 'unset'})"
        for name, default, text in VARIABLES
    ]
    return "environment variables:\n" + "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leaderboard",
        description="Region-sharded gaming leaderboards over Redis.",
        epilog=_environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the HTTP server",
        description="Run the HTTP API. Without LEADERBOARD_REDIS_URL it starts an embedded "
        "redis-server with its data in LEADERBOARD_DATA_DIR.",
        epilog=_environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    serve.add_argument(
        "--workers", type=int, default=1, help="server processes sharing the port (1)"
    )
    clean = commands.add_parser(
        "cleanup",
        help="remove inactive players (once, or every DURATION)",
        description="Remove players whose last accepted score is older than each board's "
        "inactive_after_days (boards with 0 are skipped), under a per-board lock, in bounded "
        "batches. Prints what it removed per board.",
        epilog=_environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    clean.add_argument("--board", help="clean only this board")
    clean.add_argument(
        "--older-than",
        type=parse_duration,
        metavar="DURATION",
        help="remove players inactive for longer than this (e.g. 90s, 30m, 12h, 7d), "
        "instead of each board's inactive_after_days",
    )
    clean.add_argument(
        "--every",
        type=parse_duration,
        metavar="DURATION",
        help="keep running, cleaning every DURATION (e.g. 1h); retries while Redis is down",
    )
    return parser


def parse_duration(text: str) -> int:
    """Seconds in "90", "90s", "15m", "12h" or "7d"."""
    match = re.fullmatch(r"(\d+)([smhd]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 15m, 1h, 7d")
    return int(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]


async def _settle_heap(app: web.Application) -> None:
    """Once the worker has started, what it made so far lives as long as it does: the
    collector stops walking that (gc.freeze) and runs less often, since most of what a
    request makes dies by reference counting, and every collection pauses the whole
    worker, reads included (loadtests/HISTORY.md has the pauses measured)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 100)


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (a dependency except on Windows): its C loop and
    transports cost a worker about a tenth less CPU per request than asyncio's own
    (loadtests/HISTORY.md)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _run_worker(settings: Settings, host: str, port: int, reuse_port: bool) -> None:
    from leaderboard.http.app import create_app

    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    app = create_app(settings)
    app.on_startup.append(_settle_heap)
    web.run_app(
        app,
        loop=_event_loop(),
        host=host,
        port=port,
        reuse_port=reuse_port,
        print=None,
        access_log=None,
        shutdown_timeout=30.0,
    )


def _run_workers(settings: Settings, host: str, port: int, count: int) -> None:
    """N processes accept on one port (SO_REUSEPORT); SIGTERM is passed on to each. Their
    metrics go to one fresh directory, which /metrics of any of them adds up."""
    with tempfile.TemporaryDirectory(prefix="leaderboard-metrics-") as shared:
        os.environ[SHARED] = shared
        try:
            _spawn(settings, host, port, count)
        finally:
            del os.environ[SHARED]


def _spawn(settings: Settings, host: str, port: int, count: int) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_run_worker, args=(settings, host, port, True), daemon=False)
        for _ in range(count)
    ]
    for w in workers:
        w.start()

    def forward(signum: int, _frame: object) -> None:
        for w in workers:
            if w.pid and w.is_alive():
                w.terminate()

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for w in workers:
        w.join()


@contextlib.contextmanager
def _redis(settings: Settings, share: bool) -> Iterator[Settings]:
    """The settings to run with: without LEADERBOARD_REDIS_URL, an embedded Redis in the
    data dir runs for the block (``share``: one that a `serve` already runs there is used).
    Raises EmbeddedRedisError when it does not start."""
    if settings.redis_url:
        yield settings
        return
    embedded = EmbeddedRedis(settings.data_dir)
    own = not (share and embedded.answers())
    if own:
        embedded.start()
    try:
        yield dataclasses.replace(settings, redis_url=embedded.url)
    finally:
        if own:
            embedded.stop()
            log.info("embedded Redis stopped")


def serve(settings: Settings, host: str, port: int, workers: int) -> int:
    if not (settings.admin_keys or settings.server_keys or settings.client_keys):
        log.warning(
            "no LEADERBOARD_*_KEYS set: every client that reaches the API may use all of it"
        )
    with _redis(settings, share=False) as settings:
        log.info("serving on http://%s:%d with %d worker(s)", host, port, workers)
        if workers == 1:
            _run_worker(settings, host, port, False)
        else:
            _run_workers(settings, host, port, workers)
    return 0


def cleanup(settings: Settings, board: str | None, older: int | None, every: int | None) -> int:
    with _redis(settings, share=True) as settings:
        return asyncio.run(run_cleanup(settings, board, older, every))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"leaderboard: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    if args.command == "serve" and args.workers < 1:
        print("leaderboard: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        if args.command == "cleanup":
            return cleanup(settings, args.board, args.older_than, args.every)
        return serve(settings, args.host, args.port, args.workers)
    except EmbeddedRedisError as exc:
        log.error("%s", exc)
        return 1
