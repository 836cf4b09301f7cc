"""Hostile bytes over a real socket, against the sandbox under gunicorn: what only a real
server shows. Requests gunicorn itself refuses (a header value with CR, LF, NUL or other
control characters, a header over its 8 KB field limit) are answered by gunicorn with its
own short 400/431 page before Django runs; the rest reach apierrors and get envelopes.
Either way: no 500, no exception text, the bad value never echoed."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.fixtures.sandbox_server import (
    SandboxServer,
    issue_token,
    prepare_database,
    start_sandbox,
)
from tests.hostile.support import REQUEST_ID, assert_no_leak

pytestmark = pytest.mark.slow

TIMEOUT = 10


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes

    def envelope(self) -> dict[str, object]:
        assert self.headers["content-type"].startswith("application/json")
        body = json.loads(self.body)
        assert list(body) == ["error"]
        error: dict[str, object] = body["error"]
        assert error["requestId"] == self.headers["x-request-id"]
        assert REQUEST_ID.fullmatch(str(error["requestId"]))
        return error


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, str]]:
    directory = tmp_path_factory.mktemp("hostile-live")
    template = prepare_database(directory)
    server = start_sandbox(directory, template, None, workers=1)
    try:
        yield server, issue_token(template)
    finally:
        server.stop()


def exchange(port: int, data: bytes, *, close_write: bool = True) -> Raw:
    """Send ``data`` as it is, read the answer until the server closes (bounded)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        try:
            sock.sendall(data)
            if close_write:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before reading everything: read the answer
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return Raw(int(status_line.split()[1]), headers, body)


def dechunk(data: bytes) -> bytes:
    body = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        body, data = body + data[:size], data[size + 2 :]
    return body


def request(
    live: tuple[SandboxServer, str],
    method: bytes,
    path: bytes,
    *,
    headers: bytes = b"",
    body: bytes = b"",
    length: int | None = None,
) -> Raw:
    server, token = live
    data = (
        method + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: "
        + str(len(body) if length is None else length).encode()
        + b"\r\n"
        + headers
        + b"\r\n"
        + body
    )
    return exchange(server.port, data)


def assert_clean(answer: Raw, *never: bytes) -> None:
    assert answer.status < 500, answer
    assert_no_leak(answer.body.decode("utf-8", "replace"))
    for value in never:
        assert value not in answer.body
        assert all(value.decode("latin-1") not in v for v in answer.headers.values())


@pytest.mark.parametrize(
    "value",
    [b"abc\rdef", b"abc\x00def", b"abc\x01def", b"abc\x1bdef", b"abc\x7fdef", b"x" * 10_240],
    ids=["cr", "nul", "ctl-01", "esc", "del", "10kb"],
)
def test_request_ids_gunicorn_refuses_are_not_echoed(live, value):
    answer = request(
        live, b"GET", b"/api/v1/campaigns/", headers=b"X-Request-ID: " + value + b"\r\n"
    )
    assert answer.status in {400, 431}
    assert_clean(answer, value)


def test_a_folded_request_id_is_refused_not_joined(live):
    answer = request(
        live, b"GET", b"/api/v1/campaigns/", headers=b"X-Request-ID: abc\r\n injected\r\n"
    )
    assert answer.status == 400
    assert_clean(answer, b"injected")


@pytest.mark.parametrize(
    "value",
    [b"caf\xe9", b"x" * 8000, b"a b", b"<script>", b"a,b", b"\xff\xfe"],
    ids=["latin-1", "8kb", "space", "markup", "comma", "high-bytes"],
)
def test_request_ids_that_reach_django_are_replaced(live, value):
    for method, path in ((b"GET", b"/api/v1/campaigns/"), (b"GET", b"/api/v1/campaigns/999999/")):
        answer = request(live, method, path, headers=b"X-Request-ID: " + value + b"\r\n")
        assert REQUEST_ID.fullmatch(answer.headers["x-request-id"])
        assert_clean(answer, value)
        if answer.status >= 400:
            assert answer.envelope()["code"] == "RESOURCE_NOT_FOUND"


def test_a_valid_request_id_is_kept_over_the_wire(live):
    answer = request(
        live, b"GET", b"/api/v1/campaigns/999999/", headers=b"X-Request-ID: abc-123\r\n"
    )
    assert answer.headers["x-request-id"] == "abc-123"
    assert json.loads(answer.body)["error"]["requestId"] == "abc-123"


@pytest.mark.parametrize("method", [b"FOO", b"PROPFIND", b"MKCOL", b"TRACE", b"PATCHX"])
def test_unknown_methods_are_405_envelopes(live, method):
    answer = request(live, method, b"/api/v1/segments/", body=b"{}")
    assert answer.status == 405
    assert answer.envelope()["code"] == "METHOD_NOT_ALLOWED"
    assert "allow" in answer.headers
    assert_clean(answer, method)


@pytest.mark.parametrize(
    "body",
    [b'{"name": "\xff"}', b'{"name": "\xed\xa0\x80"}', b'{"\xc0\xaf": 1}', b"\xff\xfe{\x00}\x00"],
)
def test_invalid_utf8_bodies_are_400_envelopes(live, body):
    answer = request(live, b"POST", b"/api/v1/segments/", body=body)
    assert answer.status == 400
    assert answer.envelope()["code"] == "VALIDATION_ERROR"
    assert_clean(answer, body)


CUT = b'{"name": "Cut", "rules": {"field": "age", "operator": "gt", "value": 1}}'


@pytest.mark.parametrize("sent", [0, 1, 17, len(CUT) - 1])
def test_a_body_shorter_than_its_content_length_is_400(live, sent):
    answer = request(live, b"POST", b"/api/v1/segments/", body=CUT[:sent], length=len(CUT) + 20)
    assert answer.status == 400
    assert answer.envelope()["code"] == "VALIDATION_ERROR"


def test_nothing_was_stored_by_the_truncated_bodies(live):
    server, _ = live
    answer = request(live, b"GET", b"/api/v1/segments/")
    names = [item["name"] for item in json.loads(answer.body)["results"]]
    assert "Cut" not in names


def test_a_body_over_the_upload_limit_is_413(live):
    body = b'{"name": "Big", "description": "' + b"d" * 3_000_000 + b'"}'
    answer = request(live, b"POST", b"/api/v1/segments/", body=body)
    assert answer.status == 413
    assert answer.envelope()["code"] == "PAYLOAD_TOO_LARGE"


def test_a_content_length_past_the_limit_is_413_without_sending_the_body(live):
    answer = request(live, b"POST", b"/api/v1/segments/", body=b"{}", length=10**9)
    assert answer.status == 413
    assert answer.envelope()["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    "content_type",
    [b"application/json; charset=\x00", b"application/json; charset=\xff", b"text/\x01"],
    ids=["nul", "high-byte", "ctl"],
)
def test_hostile_content_types_are_answered(live, content_type):
    server, token = live
    data = (
        b"POST /api/v1/segments/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        + token.encode()
        + b"\r\nContent-Type: "
        + content_type
        + b"\r\nContent-Length: 2\r\n\r\n{}"
    )
    answer = exchange(server.port, data)
    assert_clean(answer, content_type)
    assert 400 <= answer.status < 500


@pytest.mark.parametrize("host", [b"evil.example", b"127.0.0.1.nip.io", b"a\xffb"])
def test_a_host_outside_allowed_hosts_is_a_400_envelope(live, host):
    server, _ = live
    answer = exchange(
        server.port, b"GET /api/v1/campaigns/ HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    )
    assert answer.status == 400
    assert answer.envelope()["code"] == "BAD_REQUEST"
    assert_clean(answer, host)


def test_no_request_was_an_internal_server_error(live):
    # Django logs the DisallowedHost tracebacks above to django.security; no request may
    # have reached the 500 path.
    server, _ = live
    assert re.search(r"Internal Server Error|SERVER_ERROR", server.log_text()) is None


def test_a_chunked_body_is_refused_not_dropped(live: tuple[SandboxServer, str]) -> None:
    server, token = live
    body = b'{"subject": "chunked"}'
    data = (
        b"PATCH /api/v1/campaigns/1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(body):x}".encode()
        + b"\r\n"
        + body
        + b"\r\n0\r\n\r\n"
    )
    answer = exchange(server.port, data)
    assert answer.status == 400, answer
    assert answer.envelope()["code"] == "VALIDATION_ERROR"
    campaign = request(live, b"GET", b"/api/v1/campaigns/1/")
    assert json.loads(campaign.body)["subject"] != "chunked"


@pytest.mark.parametrize("version", [b"%00", b"%0d%0a", b"%e2%80%a8", b"%01", b"a%22b", b"%7f"])
def test_a_schema_version_out_of_form_is_an_envelope(
    live: tuple[SandboxServer, str], version: bytes
) -> None:
    answer = request(live, b"GET", b"/api/schema/?version=" + version)
    assert answer.status == 422, answer
    assert answer.envelope()["code"] == "INVALID_FORMAT"
    assert "content-disposition" not in answer.headers
