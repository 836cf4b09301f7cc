"""The Redis Cluster store: each check on the master that owns its client's slot.

Named by a URI, ``redis+cluster://[[user]:password@]host:port[,host:port...][/?options]``
(any nodes of the cluster: the rest are discovered), or by a Django cache whose backend is
django-valkey's cluster cache (``django_valkey.cluster_cache.cache.ClusterValkeyCache``):
the store then builds its own cluster client from the cache's ``LOCATION`` (and
``OPTIONS["PASSWORD"]``). Either way the checks run on redis-py's ``RedisCluster``, with
the socket timeouts of ``THROTTLE_STORE_TIMEOUT`` and no retries of its own.

Exact across masters: the keys of one check share the hash tag ``{client}``
(``Plan.keys``), so they are in one slot, on one master, and one ``EVALSHA`` checks and
counts them atomically. ``MOVED`` and ``ASK`` (a resharding, a failover) are followed by
redis-py; ``NOSCRIPT`` (a node that has not seen the script yet: every new or promoted
master, the target of an ``ASK``) loads the script on the node that answered it and runs
the check once more.

One circuit breaker per master (the node that owns the key's slot), so a master that is
down makes ``StoreUnavailable`` for its own clients only (``FAIL_OPEN`` decides for them)
while the clients of the other masters keep being throttled exactly. The store's own
breaker (``Store.breaker``) guards what comes before a node is known: reaching the
cluster to learn its slots. While a master's breaker is open, the store asks the cluster
for the owners of the slots again (at most once a second): once a replica has been
promoted, its clients go to it, behind a breaker of its own, without waiting for the
dead master's cooldown. (redis-py also learns the new owner after a connection error or a
``MOVED``.)

The cluster's own errors are store errors too: redis-py's ``RedisError`` (``ClusterError``,
``ClusterDownError``, ``MaxConnectionsError``...) and ``RedisClusterException`` (not a
``RedisError``: ``SlotNotCoveredError``, a cluster that cannot be reached at all).
redis-py is imported only when a store is made.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.conf import settings

from apierrors.ratelimit.base import Plan, Result, Store, StoreUnavailable
from apierrors.ratelimit.breaker import CircuitBreaker
from apierrors.ratelimit.config import current
from apierrors.ratelimit.redis import LuaScript
from apierrors.ratelimit.uri import host_port, redact, split_credentials

DEFAULT_PORT = 6379
REFRESH_INTERVAL = 1.0
"""While a master's breaker is open, how often (seconds) to ask who owns its slots now."""

_scripts: dict[str, LuaScript] = {}


class RedisClusterStore(Store):
    """Runs the Lua form of each algorithm on the master that owns the client's slot."""

    shared = True
    atomic = True
    schemes = ("redis+cluster",)
    backends = ("django_valkey.cluster_cache.cache.ClusterValkeyCache",)

    def __init__(self, alias: str, uri: str | None = None) -> None:
        from redis.exceptions import NoScriptError, RedisClusterException, RedisError

        if uri is None:
            uri = cluster_uri_for_cache(alias)
            super().__init__(alias)
        else:
            super().__init__(redact(uri))
        self.errors = (RedisError, RedisClusterException, OSError)
        self.noscript_error = NoScriptError
        self.nodes, self.options = parse_cluster_uri(uri)
        self.breakers: dict[str, CircuitBreaker] = {}
        """One circuit breaker per master, by its ``host:port``."""
        self.client: Any = None
        self._lock = threading.Lock()
        self._refreshed_at = float("-inf")

    @classmethod
    def from_uri(cls, uri: str) -> RedisClusterStore:
        return cls(redact(uri), uri)

    def connect(self) -> Any:
        """redis-py's ``RedisCluster`` (made once; it asks a node for the slots)."""
        from redis.backoff import NoBackoff
        from redis.cluster import ClusterNode, RedisCluster
        from redis.retry import Retry

        with self._lock:
            if self.client is None:
                kwargs: dict[str, Any] = dict(self.options)
                timeout = current().store_timeout
                if timeout is not None:
                    kwargs["socket_timeout"] = kwargs["socket_connect_timeout"] = timeout
                self.client = RedisCluster(
                    startup_nodes=[
                        ClusterNode(host, port)  # type: ignore[no-untyped-call]
                        for host, port in self.nodes
                    ],
                    # A check fails once, fast; the breaker of its master decides what next.
                    retry=Retry(NoBackoff(), 0),
                    # Slots whose master is gone must not stop the others being served.
                    require_full_coverage=False,
                    **kwargs,
                )
            return self.client

    def breaker_for(self, node: str) -> CircuitBreaker:
        breaker = self.breakers.get(node)
        if breaker is None:
            breaker = self.breakers.setdefault(node, CircuitBreaker())
        return breaker

    def node_for(self, client: Any, key: str) -> str:
        """The ``host:port`` of the master that owns ``key``'s slot (as the client knows)."""
        try:
            return str(client.get_node_from_key(key).name)
        except self.errors:  # SlotNotCoveredError: no master serves it now
            return f"slot {client.keyslot(key)}"

    def check(self, tag: str, plan: Plan, now: int | None = None) -> Result:
        """``run`` on the master of ``tag``'s slot, behind that master's circuit breaker."""
        keys = plan.keys(tag)
        client = self.client
        if client is None:
            client = self._guarded(self.breaker, self.alias, self.connect)
        node = self.node_for(client, keys[0])
        if self._breaker_open(node) and self._refresh_due():
            # Its master is down: has a replica taken its slots over meanwhile?
            self.refresh(client)
            node = self.node_for(client, keys[0])
        result: Result = self._guarded(
            self.breaker_for(node),
            f"{self.alias}, master {node}",
            lambda: self.run_keys(keys, plan, now),
        )
        return result

    def _breaker_open(self, node: str) -> bool:
        breaker = self.breakers.get(node)
        return breaker is not None and breaker.open_until is not None

    def _refresh_due(self) -> bool:
        now = time.monotonic()
        if now < self._refreshed_at + REFRESH_INTERVAL:
            return False
        self._refreshed_at = now
        return True

    def refresh(self, client: Any) -> None:
        """Ask the cluster which master owns each slot now (after a failover: the
        promoted replica). A cluster that does not answer leaves the slots as they were."""
        with contextlib.suppress(*self.errors):
            client.nodes_manager.initialize()

    def _guarded(self, breaker: CircuitBreaker, name: str, call: Any) -> Any:
        if breaker.open_until is not None and not breaker.allow():
            raise StoreUnavailable(f"circuit breaker open for {name!r}")
        try:
            result = call()
        except self.errors as exc:
            breaker.failure()
            raise StoreUnavailable(f"{name}: {type(exc).__name__}: {exc}") from exc
        if breaker.failures:
            breaker.success()
        return result

    def run(self, tag: str, plan: Plan, now: int | None) -> Result:
        return self.run_keys(plan.keys(tag), plan, now)

    def run_keys(self, keys: list[str], plan: Plan, now: int | None) -> Result:
        client = self.client or self.connect()
        args = plan.args_server_time if now is None else (str(now).encode(), *plan.args)
        script = _script(plan)
        try:
            result: Result = client.evalsha(script.sha, len(keys), *keys, *args)
        except self.noscript_error as exc:
            # A master that has not seen the script (new, promoted, flushed, or the target
            # of an ASK while its slot migrates): load it on the node that answered.
            self.answering_node(client, exc, keys[0]).script_load(script.script)
            result = client.evalsha(script.sha, len(keys), *keys, *args)
        return result

    @staticmethod
    def answering_node(client: Any, exc: BaseException, key: str) -> Any:
        """A client of the node whose answer ``exc`` is (redis-py notes its connection),
        else of the master that owns ``key``'s slot."""
        connection = getattr(exc, "connection", None)
        host, port = getattr(connection, "host", None), getattr(connection, "port", None)
        node = client.get_node(host=host, port=port) if host and port else None
        if node is None:
            node = client.get_node_from_key(key)
        return client.get_redis_connection(node)


def _script(plan: Plan) -> LuaScript:
    source = plan.algorithm.source
    script = _scripts.get(source)
    if script is None:
        script = _scripts.setdefault(source, LuaScript(source))
    return script


def parse_cluster_uri(uri: str) -> tuple[list[tuple[str, int]], dict[str, Any]]:
    """``(startup nodes, connection options)`` of a ``redis+cluster://`` URI; raises
    ``ValueError`` (without the password) for one that does not parse.

    Options: ``ssl=true`` (TLS; with ``ssl_cert_reqs``, ``ssl_ca_certs``...), and redis-py's
    URL options (``health_check_interval``, ``client_name``...).
    """
    rest = uri.split("://", 1)[1]
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    if path.strip("/") not in ("", "0"):
        raise ValueError(f"{redact(uri)}: a cluster has only database 0")
    options, hosts = split_credentials(netloc)
    no_host = f"{redact(uri)}: a cluster node without a host"
    bad_port = f"{redact(uri)}: a node's port must be a number"
    nodes = [host_port(part, DEFAULT_PORT, no_host, bad_port) for part in hosts.split(",") if part]
    if not nodes:
        raise ValueError(f"{redact(uri)}: name at least one cluster node, host:port")
    for name, value in parse_qsl(query):
        options.update(_option(name, value, uri))
    return nodes, options


def _option(name: str, value: str, uri: str) -> dict[str, Any]:
    from redis.connection import URL_QUERY_ARGUMENT_PARSERS

    if name in ("ssl", "tls"):
        return {"ssl": value.lower() in ("1", "true", "yes", "on")}
    if name.startswith("ssl_"):
        return {name: value}
    parser: Any = URL_QUERY_ARGUMENT_PARSERS.get(name)
    if parser is None:
        return {name: value}
    try:
        return {name: parser(value)}
    except (TypeError, ValueError):
        raise ValueError(f"{redact(uri)}: invalid value for the option {name!r}") from None


def cluster_uri_for_cache(alias: str) -> str:
    """The ``redis+cluster://`` URI of a cluster cache's ``LOCATION`` (its URLs, or
    comma-separated ``host:port``s) and ``OPTIONS`` (``PASSWORD``, ``USERNAME``)."""
    config: dict[str, Any] = settings.CACHES[alias]
    location = config.get("LOCATION") or ""
    entries = location.split(",") if isinstance(location, str) else list(location)
    options: dict[str, Any] = dict(config.get("OPTIONS") or {})
    hosts: list[str] = []
    user, secret, tls = options.get("USERNAME"), options.get("PASSWORD"), False
    for entry in (str(item).strip() for item in entries):
        if not entry:
            continue
        if "://" not in entry:
            hosts.append(entry)
            continue
        parts = urlsplit(entry)
        tls = tls or parts.scheme in ("rediss", "valkeys")
        user = user or (unquote(parts.username) if parts.username else None)
        secret = secret or (unquote(parts.password) if parts.password else None)
        hosts.append(parts.netloc.rpartition("@")[2])
    if not hosts:
        raise ValueError(f"The cache {alias!r} names no cluster node in its LOCATION.")
    from urllib.parse import quote

    userinfo = ""
    if user or secret:
        userinfo = quote(user or "", safe="") + (
            ":" + quote(str(secret), safe="") if secret else ""
        )
        userinfo += "@"
    return f"redis+cluster://{userinfo}{','.join(hosts)}/" + ("?ssl=true" if tls else "")
