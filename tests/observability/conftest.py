from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.dispatch import Signal

from apierrors import signals


class Received:
    """The keyword arguments of every signal a receiver got."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        self.calls.append({"sender": sender, **kwargs})


def _connect(signal: Signal) -> Iterator[Received]:
    received = Received()
    signal.connect(received, weak=False)
    yield received
    signal.disconnect(received)


@pytest.fixture
def errors_received() -> Iterator[Received]:
    yield from _connect(signals.error_response)


@pytest.fixture
def decisions_received() -> Iterator[Received]:
    yield from _connect(signals.throttle_decision)
