"""A small threaded load generator for the outage tests: every answer with its time."""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Sample:
    started: float
    latency: float
    status: int
    limit: str | None
    code: str | None


@dataclass
class Load:
    """``threads`` clients sending ``GET path`` to the server until ``stop()``."""

    port: int
    path: str
    headers: dict[str, str]
    threads: int = 4
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [
            threading.Thread(target=self._run, daemon=True) for _ in range(self.threads)
        ]

    def start(self) -> Load:
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request("GET", self.path, headers=self.headers)
                response = connection.getresponse()
                body = response.read()
                status = response.status
                limit = response.getheader("X-RateLimit-Limit")
            except OSError:
                status, limit, body = 0, None, b""
            finally:
                connection.close()
            latency = time.monotonic() - started
            code = None
            if status >= 400 and b'"code":"' in body:
                code = body.split(b'"code":"', 1)[1].split(b'"', 1)[0].decode()
            with self._lock:
                self.samples.append(Sample(started, latency, status, limit, code))

    def between(self, start: float, end: float) -> list[Sample]:
        with self._lock:
            return [s for s in self.samples if start <= s.started < end]

    def wait_for(self, predicate: object, timeout: float) -> float | None:
        """Seconds until a sample started after now satisfies ``predicate``, else ``None``."""
        since = time.monotonic()
        deadline = since + timeout
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if any(predicate(s) for s in self.between(since, deadline)):  # type: ignore[operator]
                return time.monotonic() - since
        return None


def quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]
