"""The `leaderboard` command as a user runs it: help, embedded Redis, restarts, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest

from leaderboard.cli import _event_loop
from leaderboard.domain import BoardConfig, Update
from leaderboard.service import Service
from leaderboard.settings import VARIABLES, Settings, SettingsError
from leaderboard.store import Store
from tests.redis_process import RedisTarget, free_port


def test_workers_serve_on_uvloop() -> None:
    loop = _event_loop()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()


def test_help_documents_every_command_option_and_variable() -> None:
    top = subprocess.run(
        [sys.executable, "-m", "leaderboard", "--help"], capture_output=True, text=True, check=True
    ).stdout
    serve = subprocess.run(
        [sys.executable, "-m", "leaderboard", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "serve" in top
    for option in ("--host", "--port", "--workers"):
        assert option in serve
    for name, _, _ in VARIABLES:
        assert f"LEADERBOARD_{name}" in top
        assert f"LEADERBOARD_{name}" in serve


def request(port: int, method: str, path: str, body: object = None) -> tuple[int, object]:
    data = orjson.dumps(body) if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, orjson.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read() or b"null")


class Serve:
    """`leaderboard serve` in a child process with an embedded Redis in ``data_dir``."""

    def __init__(self, data_dir: Path, workers: int = 1) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERBOARD_")}
        env |= {"LEADERBOARD_DATA_DIR": str(data_dir), "LEADERBOARD_ACTIVITY_BUCKETS": "16"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "leaderboard", "serve", "--port", str(self.port),
             "--workers", str(workers)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                if request(self.port, "GET", "/v1/boards/default")[0] == 200:
                    return
            except OSError:
                pass
            assert self.process.poll() is None, self.process.stdout.read()
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.1)

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        return self.process.returncode, out


@pytest.mark.parametrize("workers", [1, 2])
def test_scores_survive_a_restart_with_the_embedded_redis(tmp_path: Path, workers: int) -> None:
    data = tmp_path / "data"
    first = Serve(data, workers)
    update = {"player_id": "keeper", "region": "eu", "score": 4242, "name": "Kay"}
    assert request(first.port, "POST", "/v1/boards/default/scores", update)[0] == 200
    code, out = first.stop()
    assert code == 0, out
    assert f"embedded Redis running, data in {data}" in out
    assert not list(data.glob("*.sock")), "the embedded Redis was not stopped"

    second = Serve(data, workers)
    try:
        status, player = request(second.port, "GET", "/v1/boards/default/players/keeper")
        assert status == 200
        assert player["score"] == 4242
        assert player["name"] == "Kay"
    finally:
        assert second.stop()[0] == 0


def test_sigterm_finishes_the_request_in_flight(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Serve(data)
    updates = [{"player_id": f"p{i}", "region": "na", "score": i} for i in range(10_000)]
    with ThreadPoolExecutor(1) as pool:
        path = "/v1/boards/default/scores/batch"
        post = pool.submit(request, server.port, "POST", path, {"updates": updates})
        time.sleep(0.03)  # the batch takes about 100 ms to apply
        code, out = server.stop()
        answer = post.result()
    assert code == 0, out
    assert answer == (200, {"accepted": 10_000})
    again = Serve(data)
    try:
        board = request(again.port, "GET", "/v1/boards/default")[1]
        assert board["players"]["global"] == 10_000
    finally:
        again.stop()


def test_cleanup_command_once_and_every(tmp_path: Path, clean_redis: RedisTarget) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERBOARD_")}
    env |= {
        "LEADERBOARD_REDIS_URL": clean_redis.url,
        "LEADERBOARD_REDIS_CLUSTER": "1" if clean_redis.cluster else "0",
        "LEADERBOARD_ACTIVITY_BUCKETS": "16",
    }
    command = [sys.executable, "-m", "leaderboard", "cleanup"]
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout.splitlines()[0]) == (0, "no board to clean"), out
    assert clean_redis.keys() == set()  # a cleanup does not create boards

    every = subprocess.Popen(
        [*command, "--every", "1s", "--older-than", "1d"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.5)
    every.send_signal(signal.SIGTERM)
    out, _ = every.communicate(timeout=30)
    assert every.returncode == 0
    assert out.count("batches") >= 2, out
    bad = subprocess.run([*command, "--every", "soon"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2
    assert "not a duration" in bad.stderr


async def test_cleanup_command_deletes_archives_beyond_keep_periods(
    service: Service, clean_redis: RedisTarget
) -> None:
    await service.boards.put(BoardConfig("arch", ("na",), keep_periods=0))
    await service.scores.submit("arch", Update("p", "na", 1))
    await service.periods.reset("arch")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERBOARD_")}
    env |= {
        "LEADERBOARD_REDIS_URL": clean_redis.url,
        "LEADERBOARD_REDIS_CLUSTER": "1" if clean_redis.cluster else "0",
    }
    command = [sys.executable, "-m", "leaderboard", "cleanup", "--board", "arch"]
    out = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out
    assert "arch: deleted archived periods 1" in out.stdout.splitlines(), out.stdout
    assert (await service.periods.periods("arch"))["archived"] == []


@pytest.mark.parametrize(
    "regions",
    ["na,a:b", "na,{eu}", "na,global", "na,na", "NA", ",", ",".join(f"r{i}" for i in range(65))],
)
def test_default_regions_follow_the_api_rule_for_region_names(regions: str) -> None:
    with pytest.raises(SettingsError, match="LEADERBOARD_DEFAULT_REGIONS"):
        Settings.from_env({"LEADERBOARD_DEFAULT_REGIONS": regions})
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERBOARD_")}
    env |= {"LEADERBOARD_DEFAULT_REGIONS": regions, "LEADERBOARD_DATA_DIR": "/nonexistent"}
    out = subprocess.run(
        [sys.executable, "-m", "leaderboard", "serve"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 2
    assert "LEADERBOARD_DEFAULT_REGIONS" in out.stderr


def test_cleanup_says_so_when_the_embedded_redis_does_not_start(tmp_path: Path) -> None:
    """A data dir whose socket path is too long for a unix socket: redis-server exits."""
    data = tmp_path / ("d" * 120)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERBOARD_")}
    env |= {"LEADERBOARD_DATA_DIR": str(data)}
    out = subprocess.run(
        [sys.executable, "-m", "leaderboard", "cleanup"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert "embedded redis-server did not start" in out.stderr
    assert "Traceback" not in out.stderr


async def _board_of_many_buckets(target: RedisTarget) -> None:
    """A cleanup run walks every activity bucket of a region with more players than one
    call examines: with 2^22 buckets such a run lasts a while."""
    settings = Settings(redis_url=target.url, redis_cluster=target.cluster, activity_buckets=2**22)
    store = Store.connect(settings.redis_url, 2, 10.0, cluster=settings.redis_cluster)
    try:
        service = Service.build(store, settings)
        await service.ensure_default_board(("na", "eu", "apac"))
        players = [Update(f"p{i}", "na", i) for i in range(1500)]
        await service.scores.submit_batch("default", players)
    finally:
        await store.close()


@pytest.mark.parametrize("every", [[], ["--every", "1h"]])
def test_a_signal_stops_a_cleanup_run_in_progress(
    clean_redis: RedisTarget, every: list[str]
) -> None:
    asyncio.run(_board_of_many_buckets(clean_redis))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERBOARD_")}
    env |= {
        "LEADERBOARD_REDIS_URL": clean_redis.url,
        "LEADERBOARD_REDIS_CLUSTER": "1" if clean_redis.cluster else "0",
    }
    run = subprocess.Popen(
        [sys.executable, "-m", "leaderboard", "cleanup", "--older-than", "1d", *every],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def under_way() -> bool:  # a run holds its locks
        names = clean_redis.keys()
        return any(k.endswith("cleanup-lock") for k in names)

    deadline = time.monotonic() + 60
    while not under_way():
        if run.poll() is not None or time.monotonic() > deadline:
            run.kill()
            pytest.fail("no cleanup run under way: " + run.communicate()[1])
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "batches" not in out, out  # no run finished
    assert "stopped" in err
    left = clean_redis.keys()
    assert not {k for k in left if k.endswith("cleanup-lock")}


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    assert found, name
    return float(found[1])


def listening(port: int) -> int:
    """Sockets listening on the port (each worker binds its own: SO_REUSEPORT)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1 for row in rows if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A"
    )


def test_every_worker_answers_the_whole_servers_metrics(tmp_path: Path) -> None:
    """Posts land on either of two workers; every scrape, whichever worker answers it,
    gives the totals of both (and promtool accepts the text, where it is installed)."""
    server = Serve(tmp_path / "data", workers=2)
    try:
        deadline = time.monotonic() + 30
        while listening(server.port) < 2:  # the second worker may bind a moment later
            assert time.monotonic() < deadline, "the second worker does not listen"
            time.sleep(0.1)
        for i in range(20):
            body = {"player_id": f"w{i}", "region": "na", "score": i}
            assert request(server.port, "POST", "/v1/boards/default/scores", body)[0] == 200
        scrapes = set()
        for _ in range(10):
            url = f"http://127.0.0.1:{server.port}/metrics"
            with urllib.request.urlopen(url, timeout=10) as response:
                text = response.read().decode()
            scrapes.add(metric(text, "leaderboard_score_updates_total"))
        assert scrapes == {20.0}
        promtool = shutil.which("promtool")
        assert promtool, "make test installs promtool (.ci/packages)"
        check = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        assert server.stop()[0] == 0
