"""Distributed services the scale tests and `make bench` start themselves: a 6-node Redis
Cluster (3 masters, 3 replicas) and RabbitMQ, either a vhost of the machine's broker or a
RabbitMQ node of our own on free ports (so it may be restarted without touching anyone else).

Everything binds 127.0.0.1 on ports chosen at run time and lives in a temporary folder;
``stop()`` ends only the processes started here, by their PIDs.

The tests reach this module as ``clusters``, the bench as ``tests.clusters``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import redis
from redis.cluster import ClusterNode, RedisCluster

try:  # as the tests import it, and as the bench (run from the repository root) does
    from services import free_port, wait_for
except ImportError:  # pragma: no cover - the bench's path
    from tests.services import free_port, wait_for

__all__ = ["RedisClusterServers", "RabbitVhost", "RabbitNode", "rabbit_answers"]

#: How long a master may be unreachable before its replica is elected. Redis's default of
#: 15 s is tuned for real networks; on loopback a second keeps a failover test short.
CLUSTER_NODE_TIMEOUT_MS = 1000


class RedisClusterServers:
    """Six ``redis-server --cluster-enabled yes`` processes joined by ``redis-cli --cluster
    create … --cluster-replicas 1``."""

    def __init__(self, nodes: int = 6) -> None:
        self.binary = shutil.which("redis-server")
        self.cli = shutil.which("redis-cli")
        if self.binary is None or self.cli is None:
            raise FileNotFoundError(
                "redis-server and redis-cli are not installed "
                "(Debian: apt-get install redis-server)"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="stage-cluster-"))
        self.ports = [_cluster_port() for _ in range(nodes)]
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        """The ``STAGE_REDIS_URL`` of this cluster: every node as a startup node."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def start(self) -> str:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> str:
        for port in self.ports:
            self._start_node(port)
        for port in self.ports:
            wait_for(lambda port=port: _pings(port), 10, f"cluster node :{port}")
        subprocess.run(
            [
                str(self.cli),
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in self.ports),
                "--cluster-replicas",
                "1",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        wait_for(self._healthy, 30, "the cluster to cover every slot")
        wait_for(self._replicas_synced, 30, "every replica to sync with its master")
        return self.url

    def _start_node(self, port: int) -> None:
        folder = self.dir / str(port)
        folder.mkdir(exist_ok=True)
        self.procs[port] = subprocess.Popen(
            [
                str(self.binary),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                str(CLUSTER_NODE_TIMEOUT_MS),
                # A replica on a loaded machine may lag its master by more than ten node
                # timeouts; Redis would then refuse to elect it and the slots stay down.
                "--cluster-replica-validity-factor",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
                "--logfile",
                str(folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _healthy(self) -> bool:
        healthy = 0
        for port in self.ports:
            try:
                info = redis.Redis(port=port, socket_connect_timeout=0.5).cluster("info")
            except redis.RedisError:
                continue
            if isinstance(info, dict) and info.get("cluster_state") == "ok":
                healthy += 1
        return healthy == len(self.procs)

    def _replicas_synced(self) -> bool:
        """Every replica has finished its first sync: before that it cannot take over."""
        replicas = 0
        for port in self.ports:
            try:
                info = redis.Redis(port=port, socket_connect_timeout=0.5).info("replication")
            except redis.RedisError:
                return False
            if info.get("role") == "slave":
                if info.get("master_link_status") != "up" or info.get("master_sync_in_progress"):
                    return False
                replicas += 1
        return replicas == len(self.ports) // 2

    def client(self) -> RedisCluster:
        return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", p) for p in self.ports])

    def master_of(self, key: str) -> int:
        """The port of the master serving ``key``'s slot now."""
        client = self.client()
        try:
            node = client.get_node_from_key(key)
            if node is None:
                raise RuntimeError(f"no node serves {key!r}")
            return int(node.port)
        finally:
            client.close()

    def kill(self, port: int) -> None:
        """SIGKILL one node: no goodbye to the cluster, as a lost machine."""
        proc = self.procs.pop(port)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def wait_failed_over(self, dead_port: int, key: str, timeout: float = 60) -> int:
        """Wait until every live node agrees a live master serves ``key``'s slot; its port."""

        def views() -> set[int]:
            masters = set()
            for port in self.procs:
                try:
                    node = redis.Redis(port=port, socket_connect_timeout=0.5)
                    slot = int(node.cluster("keyslot", key))
                    if node.cluster("info").get("cluster_state") != "ok":
                        return set()
                    masters |= {
                        int(master[1])
                        for start, end, master, *_ in node.cluster("slots")
                        if start <= slot <= end
                    }
                except redis.RedisError:
                    return set()
            return masters

        try:
            wait_for(
                lambda: len(found := views()) == 1 and dead_port not in found,
                timeout,
                f"a replica to take over from :{dead_port}",
            )
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; the nodes' logs end:\n{self._log_tails()}") from None
        return views().pop()

    def _log_tails(self, lines: int = 15) -> str:
        tails = []
        for port in self.ports:
            log = self.dir / str(port) / "redis.log"
            text = log.read_text(errors="replace").splitlines() if log.exists() else []
            tails.append(f"--- :{port}\n" + "\n".join(text[-lines:]))
        return "\n".join(tails)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self.procs.clear()
        shutil.rmtree(self.dir, ignore_errors=True)


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is a port too, and free."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


def _pings(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def rabbit_answers(port: int = 5672) -> bool:
    """True when an AMQP server accepts a connection on ``port``."""
    import kombu

    try:
        with kombu.Connection(f"amqp://guest:guest@127.0.0.1:{port}//", connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:  # kombu raises several types for "not there"; all mean no
        return False


class RabbitVhost:
    """A vhost of the machine's RabbitMQ for one run, guest allowed; deleted afterwards
    (which deletes its queues, and nobody else's)."""

    def __init__(self, port: int = 5672) -> None:
        self.port = port
        self.name = f"stage-test-{uuid.uuid4().hex[:10]}"
        self.ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/{self.name}"

    def start(self) -> str:
        subprocess.run(
            [self.ctl, "add_vhost", self.name], check=True, capture_output=True, timeout=60
        )
        subprocess.run(
            [self.ctl, "set_permissions", "-p", self.name, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return self.url

    def stop(self) -> None:
        subprocess.run([self.ctl, "delete_vhost", self.name], capture_output=True, timeout=60)


class RabbitNode:
    """A RabbitMQ node of our own: its own node name, ports, cookie, data and log folders.

    Restarting it is a real broker restart (durable quorum queues and persistent messages
    come back from disk) without touching the machine's broker.
    """

    def __init__(self) -> None:
        server = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
        # The packaged wrapper switches to the rabbitmq user; the script under it runs as us.
        direct = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
        self.binary = str(direct if direct.exists() else server)
        if not Path(self.binary).exists():
            raise FileNotFoundError(
                "rabbitmq-server is not installed (Debian: apt-get install rabbitmq-server)"
            )
        self.ctl = str(Path(self.binary).with_name("rabbitmqctl"))
        self.dir = Path(tempfile.mkdtemp(prefix="stage-rabbit-"))
        self.port = free_port()
        self.dist_port = free_port()
        self.name = f"stage-{uuid.uuid4().hex[:8]}@localhost"
        self.proc: subprocess.Popen[bytes] | None = None
        (self.dir / "home").mkdir()
        (self.dir / "enabled_plugins").write_text("[].\n")
        # A config file of our own, so the machine's /etc/rabbitmq settings are not read.
        (self.dir / "rabbitmq.conf").write_text(
            f"loopback_users.guest = true\nlisteners.tcp.default = 127.0.0.1:{self.port}\n"
        )

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.dir / "home"),  # its own Erlang cookie
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.dir / "rabbit.pid"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.dir / "advanced.config"),
            "RABBITMQ_SERVER_START_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self, timeout: float = 90) -> str:
        self._log = (self.dir / "server.out").open("ab")
        self.proc = subprocess.Popen(
            [self.binary],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not rabbit_answers(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"rabbitmq-server exited with {self.proc.returncode}: "
                    f"{(self.dir / 'server.out').read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"rabbitmq-server did not answer in {timeout}s")
            time.sleep(0.2)
        return self.url

    def stop(self) -> None:
        """Stop the node as an operator's restart does (SIGTERM: a clean shutdown)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None
        self._log.close()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
