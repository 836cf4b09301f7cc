from __future__ import annotations

import re

import pytest

from apierrors import request_id


def test_generate_is_req_and_24_lowercase_hex():
    for _ in range(100):
        assert re.fullmatch(r"req_[0-9a-f]{24}", request_id.generate())


def test_generated_ids_do_not_repeat():
    assert len({request_id.generate() for _ in range(10_000)}) == 10_000


@pytest.mark.parametrize("value", ["a", "A-Z.a_z:0-9", "x" * 128])
def test_valid(value):
    assert request_id.is_valid(value)
    assert request_id.accept_or_generate(value) == value


@pytest.mark.parametrize(
    "value", ["", "x" * 129, "a b", "a\r\nb", "a\n", "caf\u00e9", "a/b", "a;b", "\t"]
)
def test_invalid_is_replaced(value):
    assert not request_id.is_valid(value)
    replaced = request_id.accept_or_generate(value)
    assert replaced != value
    assert replaced.startswith("req_")


def test_none_is_replaced():
    assert request_id.accept_or_generate(None).startswith("req_")


def test_context_variable():
    assert request_id.get_request_id() is None
    token = request_id.current_request_id.set("req_x")
    try:
        assert request_id.get_request_id() == "req_x"
    finally:
        request_id.current_request_id.reset(token)


def test_each_thread_draws_its_own_ids():
    import threading

    drawn: list[str] = []

    def draw() -> None:
        drawn.extend(request_id.generate() for _ in range(request_id.IDS_PER_READ + 5))

    workers = [threading.Thread(target=draw) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(set(drawn)) == len(drawn) == 4 * (request_id.IDS_PER_READ + 5)


def test_a_forked_child_does_not_reuse_its_parents_ids():
    import os

    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    request_id.generate()  # the parent's buffer holds ids still to hand out
    parent_next = list(request_id._ids.ready)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write its first id and leave at once
        os.close(read)
        os.write(write, request_id.generate().encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_id = pipe.read()
    os.waitpid(pid, 0)
    assert child_id.startswith("req_")
    assert child_id not in parent_next
