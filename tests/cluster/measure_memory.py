"""Redis Cluster sizing: keys and bytes per client and rate, and how they spread.

Run from the project root::

    .venv/bin/python -m tests.cluster.measure_memory            # 20,000 clients
    .venv/bin/python -m tests.cluster.measure_memory --clients 5000

Starts a private cluster (three masters, one replica each), then for each algorithm
checks ``--clients`` clients once each through ``RedisClusterStore`` at one rate, and
prints: keys per client (GCRA keys expire once a client's theoretical arrival time has
passed, so they count only clients seen recently), the growth of ``used_memory`` summed
over the masters divided by the keys (replication and client buffers left out),
``MEMORY USAGE`` of a sample of keys, and each master's share of the keys.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any


def data_memory(client: Any) -> int:
    """``used_memory`` without the replication buffers and the clients' buffers, which
    grow with the traffic (up to ``repl-backlog-size``), not with the keys."""
    info = client.info("memory")
    return (
        int(info["used_memory"])
        - int(info.get("mem_total_replication_buffers", 0))
        - int(info.get("mem_clients_normal", 0))
    )


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from apierrors.ratelimit import StoreUnavailable, plan_for
    from apierrors.ratelimit.cluster import RedisClusterStore
    from tests.cluster.servers import start_cluster

    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--rate", default="100/minute")
    options = parser.parse_args()
    cluster = start_cluster()
    try:
        masters = sorted(cluster.masters())
        for algorithm in ("fixed_window", "gcra"):
            clients = {port: cluster.client(port) for port in masters}
            for client in clients.values():
                client.flushall()
            before = sum(data_memory(c) for c in clients.values())
            store = RedisClusterStore.from_uri(cluster.uri)
            plan = plan_for((options.rate,), algorithm, None, "apierrors:rl")
            for number in range(options.clients):
                for _ in range(5):  # a busy machine may time a check out: once more
                    try:
                        store.check(f"user:{number}", plan)
                        break
                    except StoreUnavailable:
                        time.sleep(0.1)
            after = sum(data_memory(c) for c in clients.values())
            keys = {port: int(client.dbsize()) for port, client in clients.items()}
            sample = []
            for client in clients.values():
                for key in client.scan_iter(count=100):
                    sample.append(int(client.memory_usage(key, samples=0)))
                    if len(sample) % 200 == 0:
                        break
            total = sum(keys.values())
            print(
                f"{algorithm} at {options.rate}: {options.clients} clients, "
                f"{total / options.clients:.2f} keys per client, "
                f"{(after - before) / total:.0f} bytes per key (used_memory), "
                f"MEMORY USAGE median {statistics.median(sample):.0f} bytes per key; "
                "keys per master: "
                + ", ".join(f"{100 * count / total:.1f}%" for count in keys.values())
            )
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
