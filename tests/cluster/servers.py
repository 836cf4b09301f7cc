"""A private Redis Cluster for the tests: three masters with one replica each.

Each node is a ``redis-server --cluster-enabled yes`` on a free port under 45000 (a
cluster node also listens on its port + 10000, the cluster bus), joined by
``redis-cli --cluster create ... --cluster-replicas 1``. ``cluster-node-timeout`` is low
(1000 ms) so that a killed master's replica is promoted within a few seconds (a replica
syncs at once, ``repl-diskless-sync-delay 0``: one that has not synced is never promoted),
and
``cluster-require-full-coverage no`` keeps the other masters serving meanwhile.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.fixtures.services import RedisServer, missing_service

T = TypeVar("T")
NODE_TIMEOUT_MS = 1000


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_ports(count: int) -> list[int]:
    """``count`` ports under 45000 whose bus ports (+10000) are free too."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20000, 34999)
        if port not in ports and _bindable(port) and _bindable(port + 10000):
            ports.append(port)
    return ports


def wait_for(condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        time.sleep(interval)


@dataclass
class Cluster:
    nodes: list[RedisServer] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[:2])

    def client(self, port: int) -> Any:
        import redis

        return redis.Redis(port=port, socket_timeout=2)

    def masters(self) -> dict[int, tuple[int, int]]:
        """``{port: (first slot, last slot)}`` of every live master (one range each)."""
        for node in self.alive():
            try:
                slots = self.client(node.port).execute_command("CLUSTER", "SLOTS")
            except Exception:
                continue
            return {int(entry[2][1]): (int(entry[0]), int(entry[1])) for entry in slots}
        raise AssertionError("no cluster node answers")

    def owner_of(self, slot: int) -> int:
        """The port of the live master serving ``slot`` (after a resharding a master serves
        several ranges, which ``masters`` does not list)."""
        for node in self.alive():
            try:
                slots = self.client(node.port).execute_command("CLUSTER", "SLOTS")
            except Exception:
                continue
            for entry in slots:
                if int(entry[0]) <= slot <= int(entry[1]):
                    return int(entry[2][1])
        raise AssertionError(f"no live master serves slot {slot}")

    def alive(self) -> list[RedisServer]:
        return [n for n in self.nodes if n.process is not None and n.process.poll() is None]

    def kill(self, port: int) -> None:
        """SIGKILL the node on ``port``: no goodbye, its peers find out by timeout."""
        node = next(n for n in self.nodes if n.port == port)
        assert node.process is not None
        node.process.kill()
        node.process.wait(timeout=10)
        node.process = None

    def healthy(self) -> bool:
        for node in self.alive():
            info = self.client(node.port).execute_command("CLUSTER", "INFO").decode()
            if "cluster_state:ok" not in info:
                return False
        return True

    def replicas_in_sync(self) -> bool:
        for node in self.alive():
            info = self.client(node.port).info("replication")
            if info["role"] == "slave" and info.get("master_link_status") != "up":
                return False
        return True

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None:
                node.process.kill()
                node.process.wait(timeout=10)
                node.process = None


def start_cluster(masters: int = 3, replicas: int = 1) -> Cluster:
    executable = shutil.which("redis-server")
    cli = shutil.which("redis-cli")
    if executable is None or cli is None:
        missing_service("redis-server and redis-cli are needed for the Redis Cluster tests")
    assert cli is not None
    cluster = Cluster()
    try:
        for port in free_cluster_ports(masters * (1 + replicas)):
            workdir = Path(tempfile.mkdtemp(prefix="apierrors-cluster-"))
            node = RedisServer(
                port=port,
                workdir=workdir,
                extra_args=[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    str(workdir / "nodes.conf"),
                    "--cluster-node-timeout",
                    str(NODE_TIMEOUT_MS),
                    "--cluster-require-full-coverage",
                    "no",
                    "--repl-diskless-sync-delay",
                    "0",
                    "--logfile",
                    str(workdir / "redis.log"),
                ],
            )
            node.start()
            cluster.nodes.append(node)
        subprocess.run(
            [
                cli,
                "--cluster",
                "create",
                *(f"127.0.0.1:{n.port}" for n in cluster.nodes),
                "--cluster-replicas",
                str(replicas),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        wait_for(cluster.healthy, timeout=30)
        wait_for(lambda: len(cluster.masters()) == masters, timeout=30)
        # A replica that has not finished its first sync is never promoted.
        wait_for(cluster.replicas_in_sync, timeout=30)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def key_in_slot_range(low: int, high: int, prefix: str = "client") -> str:
    """A client tag whose hash slot lies in ``[low, high]`` (to pick a master)."""
    from redis.crc import key_slot

    for number in range(1_000_000):
        tag = f"{prefix}-{number}"
        if low <= key_slot(tag.encode()) <= high:
            return tag
    raise AssertionError("no tag found")
