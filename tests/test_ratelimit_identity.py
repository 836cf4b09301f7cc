"""Client identity: REMOTE_ADDR, X-Forwarded-For only as far as proxies are trusted, IPv6 /64."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from apierrors.ratelimit.identity import client_ident, normalize_address


def ident(settings, remote="203.0.113.9", forwarded=None, **apierrors):
    settings.APIERRORS = {**settings.APIERRORS, **apierrors}
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return client_ident(RequestFactory().get("/", REMOTE_ADDR=remote, **headers))


def test_remote_addr_by_default(settings):
    assert ident(settings) == "203.0.113.9"


@pytest.mark.parametrize("forwarded", ["1.1.1.1", "1.1.1.1, 2.2.2.2", "anything at all", ""])
def test_forwarded_for_is_ignored_unless_proxies_are_trusted(settings, forwarded):
    assert ident(settings, forwarded=forwarded) == "203.0.113.9"
    assert ident(settings, forwarded=forwarded, NUM_PROXIES=0) == "203.0.113.9"


@pytest.mark.parametrize(
    ("num_proxies", "forwarded", "expected"),
    [
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the left entry is the client's own
        (1, "6.6.6.6,198.51.100.7 ", "198.51.100.7"),
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (2, "198.51.100.7, 10.0.0.2", "198.51.100.7"),
        # Fewer entries than proxies: the request did not come through all of them.
        (2, "198.51.100.7", "203.0.113.9"),
        # An entry that is not an address: the proxy is not trusted with it either.
        (1, "6.6.6.6, not-an-ip", "203.0.113.9"),
        (1, "198.51.100.7:4711", "198.51.100.7"),
        (1, "[2001:db8::1]:443", "2001:db8::/64"),
    ],
)
def test_forwarded_for_entry_written_by_the_trusted_proxy(
    settings, num_proxies, forwarded, expected
):
    assert ident(settings, forwarded=forwarded, NUM_PROXIES=num_proxies) == expected


def test_a_new_forwarded_value_per_request_gives_no_new_identity(settings):
    idents = {ident(settings, forwarded=f"10.0.{i}.1, 192.0.2.1", NUM_PROXIES=1) for i in range(5)}
    assert idents == {"192.0.2.1"}


def test_ipv6_is_grouped_by_64_by_default(settings):
    a = ident(settings, remote="2001:db8:1:2:aaaa::1")
    b = ident(settings, remote="2001:db8:1:2:bbbb:cccc:dddd:eeee")
    assert a == b == "2001:db8:1:2::/64"
    assert ident(settings, remote="2001:db8:1:3::1") != a


def test_ipv6_prefix_is_a_setting(settings):
    assert ident(settings, remote="2001:db8:1:2::1", IPV6_PREFIX=48) == "2001:db8:1::/48"
    assert ident(settings, remote="2001:db8:1:2::1", IPV6_PREFIX=128) == "2001:db8:1:2::1"


def test_ipv4_mapped_ipv6_is_the_ipv4_address(settings):
    assert ident(settings, remote="::ffff:192.0.2.5") == "192.0.2.5"


def test_unknown_remote_addr(settings):
    assert ident(settings, remote="") == "unknown"
    assert ident(settings, remote="unix-socket") == "unknown"


def test_normalize_address():
    assert normalize_address(" 192.0.2.1 ", 64) == "192.0.2.1"
    assert normalize_address("192.0.2.1:80", 64) == "192.0.2.1"
    assert normalize_address("[::1]", 64) == "::/64"
    assert normalize_address("fe80::1%eth0", 128) == "fe80::1%eth0"
    assert normalize_address("999.1.1.1", 64) is None


def drf_num_proxies(settings, value):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": value}


def test_drf_num_proxies_when_apierrors_has_no_key(settings):
    settings.APIERRORS = {k: v for k, v in settings.APIERRORS.items() if k != "NUM_PROXIES"}
    drf_num_proxies(settings, 1)
    assert ident(settings, forwarded="6.6.6.6, 198.51.100.7") == "198.51.100.7"
    drf_num_proxies(settings, 2)
    assert ident(settings, forwarded="6.6.6.6, 198.51.100.7, 10.0.0.2") == "198.51.100.7"
    # apierrors' rules, not DRF's: too few entries means REMOTE_ADDR (DRF takes the leftmost).
    assert ident(settings, forwarded="198.51.100.7") == "203.0.113.9"
    drf_num_proxies(settings, 0)
    assert ident(settings, forwarded="198.51.100.7") == "203.0.113.9"


@pytest.mark.parametrize("ours", [None, 0, 2])
def test_apierrors_num_proxies_wins_over_drfs(settings, ours):
    drf_num_proxies(settings, 1)
    expected = {None: "203.0.113.9", 0: "203.0.113.9", 2: "6.6.6.6"}[ours]
    assert ident(settings, forwarded="6.6.6.6, 198.51.100.7", NUM_PROXIES=ours) == expected
