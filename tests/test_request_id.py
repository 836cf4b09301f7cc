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
