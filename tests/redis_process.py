"""Real redis-server processes for the tests, on free ports, stopped by PID.

`RedisProcess` (one standalone server) and `RedisClusterProcess` (a real Redis Cluster) share
one interface, `RedisTarget`, so that a test does not care which one it was given.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import redis
import redis.cluster

from leaderboard.embedded import redis_server_binary

CLUSTER_SLOTS = 16384
# A short node timeout makes a failover take seconds, and replicas sync at once instead of
# 5 s later; the bus port is set per node (`--cluster-port`) because port + 10000, the
# default, may be taken or above 65535.
CLUSTER_FLAGS = (
    *("--cluster-enabled", "yes"),
    *("--cluster-config-file", "nodes.conf"),
    *("--cluster-node-timeout", "1000"),
    *("--repl-diskless-sync-delay", "0"),
)


# A server that has a replica: the replica syncs at once (not 5 s later), and a burst of
# writes (a bulk preload) never cuts it off for a full resync.
PRIMARY_ARGS = (
    *("--repl-diskless-sync-delay", "0"),
    *("--client-output-buffer-limit", "replica 0 0 0"),
)


def replica_of(port: int, workdir: Path) -> RedisProcess:
    """A replica of the server on ``port`` that refuses reads while cut off from it, as
    LEADERBOARD_REDIS_READ_URL wants (README, "Reads from a replica")."""
    args = ["--replicaof", "127.0.0.1", str(port), "--replica-serve-stale-data", "no"]
    return RedisProcess(workdir, extra_args=args).start()


def wait_replicated(primary_url: str, replica_url: str, timeout: float = 120.0) -> None:
    """Until the replica has applied everything the primary had written when called."""
    with redis.Redis.from_url(primary_url) as primary, redis.Redis.from_url(replica_url) as r:
        target = int(primary.info("replication")["master_repl_offset"])
        deadline = time.monotonic() + timeout
        while int(r.info("replication").get("slave_repl_offset", -1)) < target:
            if time.monotonic() > deadline:
                raise RuntimeError("the replica did not catch up with its primary")
            time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisTarget(ABC):
    """What the tests ask of a Redis they started, standalone or a cluster alike."""

    cluster: bool

    @property
    @abstractmethod
    def url(self) -> str:
        """The URL the app is given (a seed node's, for a cluster)."""

    @abstractmethod
    def client(self, decode_responses: bool = False) -> redis.Redis | redis.cluster.RedisCluster:
        """A sync client that routes every key to the node holding it."""

    @abstractmethod
    def masters(self) -> list[RedisProcess]:
        """The servers that own keys now: whole-database commands must go to each of them."""

    @abstractmethod
    def stop(self) -> None:
        """Stop every process started, by PID: the tests leave no redis-server behind."""

    def flush(self) -> None:
        """Empty every master of keys and scripts, so a test starts from nothing."""
        for node in self.masters():
            with node.node_client() as r:
                r.flushall()
                r.script_flush()

    def keys(self) -> set[str]:
        """Every key name, whichever node holds it (KEYS on one node sees only its slots)."""
        names: set[str] = set()
        for node in self.masters():
            with node.node_client(decode_responses=True) as r:
                names.update(r.scan_iter(count=1000))
        return names

    def dump(self) -> dict[str, bytes]:
        """Every key's DUMP, to compare the whole data set before and after a request."""
        out: dict[str, bytes] = {}
        for node in self.masters():
            with node.node_client() as r:
                names = sorted({k.decode() for k in r.scan_iter(count=1000)})
                pipe = r.pipeline(transaction=False)
                for name in names:
                    pipe.dump(name)
                out.update(zip(names, pipe.execute(), strict=True))
        return out

    def command_calls(self, command: str) -> int:
        """How often `command` ran, summed over the masters (commandstats are per node)."""
        total = 0
        for node in self.masters():
            with node.node_client() as r:
                stats = r.info("commandstats").get(f"cmdstat_{command.lower()}", {})
            total += stats.get("calls", 0)
        return total


class RedisProcess(RedisTarget):
    """One redis-server; a cluster is made of these, started with cluster flags."""

    cluster = False

    def __init__(
        self,
        workdir: Path,
        binary: str | None = None,
        port: int | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.workdir = workdir
        self.binary = binary or redis_server_binary()
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        """Start the server and return once it answers PING."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--logfile",
                str(self.workdir / "redis.log"),
                *self.extra_args,
            ],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.answers():
            assert self.process.poll() is None, "redis-server exited at start"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def node_client(self, decode_responses: bool = False) -> redis.Redis:
        """A client to this one server, even when it is a cluster node (no redirections)."""
        return redis.Redis.from_url(self.url, decode_responses=decode_responses)

    def client(self, decode_responses: bool = False) -> redis.Redis:
        return self.node_client(decode_responses)

    def masters(self) -> list[RedisProcess]:
        return [self]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class RedisClusterProcess(RedisTarget):
    """A real Redis Cluster of `masters` masters with `replicas` replicas each, on free ports.

    The app must see the same redirections, cross-slot refusals and per-node state that it
    meets in production; a single server in cluster mode would hide all of them.
    """

    cluster = True

    def __init__(
        self, workdir: Path, masters: int = 3, replicas: int = 0, cuts: Sequence[int] = ()
    ) -> None:
        """Fewer than three masters (`redis-cli --cluster create` refuses them) take no
        replicas and get their slots by hand: master i from cuts[i - 1] (an even split
        when no cuts are given)."""
        assert masters >= 3 or replicas == 0, "replicas need three masters or more"
        self.workdir = workdir
        self.replicas = replicas
        self.cuts = list(cuts) or [CLUSTER_SLOTS * i // masters for i in range(1, masters)]
        assert len(self.cuts) == masters - 1
        count = masters * (1 + replicas)
        ports = distinct_free_ports(2 * count)
        self.nodes = [
            RedisProcess(
                workdir / f"node{i}",
                port=ports[2 * i],
                extra_args=[*CLUSTER_FLAGS, "--cluster-port", str(ports[2 * i + 1])],
            )
            for i in range(count)
        ]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def start(self) -> RedisClusterProcess:
        """Start every node, assign the slots and return once every node says the cluster is ok."""
        try:
            for node in self.nodes:
                node.start()
            if len(self.nodes) < 3:
                self._assign_slots()
                self.wait_ready()
                return self
            cli = Path(self.nodes[0].binary).with_name("redis-cli")
            created = subprocess.run(
                [str(cli) if cli.exists() else shutil.which("redis-cli") or "redis-cli",
                 "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes),
                 "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            assert created.returncode == 0, created.stdout[-3000:] + created.stderr[-3000:]
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _assign_slots(self) -> None:
        starts = [0, *self.cuts]
        ends = [*(c - 1 for c in self.cuts), CLUSTER_SLOTS - 1]
        for node, first, last in zip(self.nodes, starts, ends, strict=True):
            with node.node_client() as r:
                r.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
        with self.nodes[0].node_client() as r:  # the gossip tells the others
            for other in self.nodes[1:]:
                bus = other.extra_args[other.extra_args.index("--cluster-port") + 1]
                r.execute_command("CLUSTER", "MEET", "127.0.0.1", other.port, bus)

    def info(self, node: RedisProcess) -> dict[str, str]:
        """CLUSTER INFO of one node, as a dict: each node has its own view of the cluster."""
        with node.node_client(decode_responses=True) as r:
            text = r.execute_command("CLUSTER", "INFO")
        return dict(line.split(":", 1) for line in text.split() if ":" in line)

    def ready(self) -> bool:
        """Every running node knows every node, serves all slots, says cluster_state:ok, and every
        replica has synced with its master and is listed under it where `owner` looks."""
        replicas = 0
        for node in self.nodes:
            if not node.running:
                continue
            try:
                info = self.info(node)
                with node.node_client(decode_responses=True) as r:
                    replication = r.info("replication")
            except redis.RedisError:
                return False
            if (
                info.get("cluster_state") != "ok"
                or int(info.get("cluster_slots_ok", 0)) != CLUSTER_SLOTS
                or int(info.get("cluster_known_nodes", 0)) != len(self.nodes)
                # a replica that never synced refuses to fail over ("data too old")
                or replication.get("master_link_status", "up") != "up"
            ):
                return False
            replicas += replication.get("role") == "slave"
        try:
            rows = self.cluster_nodes()
        except redis.RedisError:
            return False
        attached = [r for r in rows if "slave" in r[2] and r[3] != "-" and "fail" not in r[2]]
        return len(attached) == replicas

    def wait_ready(self, timeout: float = 30) -> None:
        """Wait until `ready()`: after a create or a failover, the nodes agree only a bit later."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            assert time.monotonic() < deadline, "the cluster did not become ready"
            time.sleep(0.05)

    def cluster_nodes(self) -> list[list[str]]:
        """CLUSTER NODES as seen by a running node, one list of fields per node."""
        seed = next(n for n in self.nodes if n.running)
        with seed.node_client(decode_responses=True) as r:
            text = r.execute_command("CLUSTER", "NODES")
        return [line.split() for line in text.splitlines() if line.strip()]

    def by_address(self, address: str) -> RedisProcess:
        """The node behind `ip:port@cport` as CLUSTER NODES writes it."""
        port = int(address.split("@")[0].rsplit(":", 1)[1])
        return next(n for n in self.nodes if n.port == port)

    def masters(self) -> list[RedisProcess]:
        return [
            self.by_address(fields[1])
            for fields in self.cluster_nodes()
            if "master" in fields[2].split(",") and "fail" not in fields[2].split(",")
        ]

    def owner(self, key: str) -> tuple[RedisProcess, RedisProcess | None]:
        """The master serving `key`'s slot and one of its replicas (None without replicas):
        stop the first, `wait_promoted` the second, and the key's slot has failed over."""
        with self.nodes[0].node_client() as r:
            slot = int(r.execute_command("CLUSTER", "KEYSLOT", key))
        rows = self.cluster_nodes()
        for fields in rows:
            flags = fields[2].split(",")
            # a stopped master may still be listed (flag "fail?") until the gossip agrees
            if "master" not in flags or "fail" in flags or not self.by_address(fields[1]).running:
                continue
            if any(slot_in(slot, spec) for spec in fields[8:]):
                replicas = [r for r in rows if r[3] == fields[0] and "fail" not in r[2]]
                replica = self.by_address(replicas[0][1]) if replicas else None
                return self.by_address(fields[1]), replica
        raise AssertionError(f"no master serves slot {slot}")

    def wait_promoted(self, replica: RedisProcess, timeout: float = 30) -> None:
        """Wait until `replica` took over its stopped master and the cluster is ok again."""
        deadline = time.monotonic() + timeout
        while True:
            with replica.node_client(decode_responses=True) as r:
                if r.execute_command("ROLE")[0] == "master":
                    break
            assert time.monotonic() < deadline, "the replica was not promoted"
            time.sleep(0.05)
        self.wait_ready(max(deadline - time.monotonic(), 1))

    def client(self, decode_responses: bool = False) -> redis.cluster.RedisCluster:
        """Seeded from every running node, so that it still connects once a master is stopped."""
        seeds = [redis.cluster.ClusterNode("127.0.0.1", n.port) for n in self.nodes if n.running]
        return redis.cluster.RedisCluster(startup_nodes=seeds, decode_responses=decode_responses)

    @property
    def pids(self) -> list[int]:
        """The nodes' PIDs, to check after `stop()` that none of them is left running."""
        return [n.pid for n in self.nodes if n.process is not None]

    def stop(self) -> None:
        """Stop every node by its PID, also after a start that failed half way."""
        for node in self.nodes:
            node.stop()


def distinct_free_ports(count: int) -> list[int]:
    """`count` different free ports: the OS may hand the same closed port out twice."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def slot_in(slot: int, spec: str) -> bool:
    """Whether a CLUSTER NODES slot field (`5`, `0-5460`, or `[..]` migrating) holds `slot`."""
    if spec.startswith("["):
        return False
    low, _, high = spec.partition("-")
    return int(low) <= slot <= int(high or low)
