"""Client identity for anonymous throttling: the client's address, and nothing it can forge.

``REMOTE_ADDR`` is the address of whoever opened the connection. Behind proxies that is the
last proxy; the client is then found in ``X-Forwarded-For``, where each proxy appends the
address it received the request from. Only entries the project's own proxies wrote can be
trusted, so with ``NUM_PROXIES = n`` the client is the n-th entry from the right, and the
header is ignored entirely while ``NUM_PROXIES`` is unset. A header with fewer than ``n``
entries did not pass through every proxy (or is forged by a client that reached the app
directly), so ``REMOTE_ADDR`` is used. DRF, by contrast, keys on the whole header string
when ``NUM_PROXIES`` is unset, which hands a client a fresh bucket for every value it sends.

Which setting says ``n``: ``APIERRORS["NUM_PROXIES"]`` when ``APIERRORS`` has the key (even
as ``None``), else DRF's ``REST_FRAMEWORK["NUM_PROXIES"]``, so a project that moves from DRF's
throttles keeps its proxy setting. Either is read with apierrors' rules above (DRF uses the
leftmost entry of a header shorter than ``n``; apierrors uses ``REMOTE_ADDR``).

IPv6 addresses are grouped by ``IPV6_PREFIX`` bits (64 by default): one subscriber
usually holds a whole /64 and can rotate through its addresses at will.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.http import HttpRequest
from rest_framework.settings import api_settings

from apierrors.conf import conf
from apierrors.ratelimit import config
from apierrors.ratelimit.config import ThrottleSettings, current

UNKNOWN = "unknown"


def client_ident(request: HttpRequest) -> str:
    """The address to throttle an anonymous request by (normalised, IPv6 as its network)."""
    meta = request.META
    remote = meta.get("REMOTE_ADDR") or ""
    address = remote
    settings = config._current or current()
    num_proxies = settings.num_proxies if _sets_num_proxies(settings) else api_settings.NUM_PROXIES
    if num_proxies:
        forwarded = meta.get("HTTP_X_FORWARDED_FOR")
        if forwarded:
            entries = forwarded.split(",")
            if len(entries) >= num_proxies:
                address = entries[-num_proxies]
    prefix = settings.ipv6_prefix
    return normalize_address(address, prefix) or normalize_address(remote, prefix) or UNKNOWN


# (the settings snapshot, whether APIERRORS has a NUM_PROXIES key): a new snapshot is made
# whenever APIERRORS changes, so the answer is looked up again only then.
_sets: tuple[ThrottleSettings, bool] | None = None


def _sets_num_proxies(snapshot: ThrottleSettings) -> bool:
    global _sets
    known = _sets
    if known is None or known[0] is not snapshot:
        known = _sets = (snapshot, "NUM_PROXIES" in conf.user_settings())
    return known[1]


@lru_cache(maxsize=4096)
def normalize_address(value: str, ipv6_prefix: int) -> str | None:
    """``"203.0.113.7"`` as is, ``"[2001:db8::1]:443"`` as ``"2001:db8::/64"``; ``None`` if
    ``value`` is not an IP address (a port after an IPv4 address is dropped)."""
    text = value.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if ipv6_prefix < 128:
            network = ipaddress.IPv6Network((int(address), ipv6_prefix), strict=False)
            return str(network)
    return str(address)
