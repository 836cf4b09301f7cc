"""Store URIs: telling one from a cache alias, its scheme, and printing it without secrets.

A throttle's store is named by a cache alias (``"default"``) or by a URI
(``"redis://host:6379/0"``): anything that contains ``"://"``. The URI's scheme picks the
store class (each declares the ``schemes`` it serves). Messages and logs show a URI only
through ``redact``, which hides the password.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote


def is_uri(name: str) -> bool:
    """Whether ``name`` is a store URI rather than a cache alias."""
    return "://" in name


def scheme(uri: str) -> str:
    """The URI's scheme, lower-cased (``"redis+sentinel"``)."""
    return uri.split("://", 1)[0].lower()


def _password_span(uri: str) -> tuple[int, int] | None:
    """Where the password is in ``uri``: from the first ``:`` of the user information to
    its end, the last ``@``. The last one, as urllib (and so redis-py) reads a password
    holding an unquoted ``@``; in the whole URI, so that a password holding an unquoted
    ``/`` or ``?`` is hidden too (at worst more than the password is)."""
    start = uri.find("://") + 3
    at = uri.rfind("@")
    if start < 3 or at < start:
        return None
    colon = uri.find(":", start, at)
    if colon < 0 or colon + 1 == at:
        return None
    return colon + 1, at


def password(uri: str) -> str | None:
    """The password in the URI's user information, if any."""
    span = _password_span(uri)
    return None if span is None else uri[span[0] : span[1]]


def redact(uri: str) -> str:
    """The URI with its password replaced by ``***`` (safe to log)."""
    span = _password_span(uri)
    return uri if span is None else f"{uri[: span[0]]}***{uri[span[1] :]}"


def scrub(text: str, uri: str) -> str:
    """``text`` (an error message about ``uri``) with the URI's password hidden."""
    secret = password(uri)
    text = text.replace(uri, redact(uri))
    return text.replace(secret, "***") if secret else text


def host_port(text: str, default: int, no_host: str, bad_port: str) -> tuple[str, int]:
    """``host:port``, ``host`` (then ``default``) or ``[IPv6]:port`` as ``(host, port)``;
    ``ValueError`` with ``no_host`` or ``bad_port`` (then the text) when it does not parse."""
    if text.startswith("["):  # [IPv6]:port
        host, _, tail = text[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    else:
        host, colon, port = text.rpartition(":")
        if not colon:
            host, port = text, ""
    if not host:
        raise ValueError(f"{no_host}: {text!r}")
    if port and not port.isdigit():
        raise ValueError(f"{bad_port}: {text!r}")
    return host, int(port) if port else default


def split_credentials(netloc: str) -> tuple[dict[str, Any], str]:
    """``user:password@hosts`` as (``username``/``password`` options, ``hosts``), each part
    of the credentials unquoted, and an empty one left out."""
    options: dict[str, Any] = {}
    userinfo, at, hosts = netloc.rpartition("@")
    if at:
        user, colon, secret = userinfo.partition(":")
        if user:
            options["username"] = unquote(user)
        if colon and secret:
            options["password"] = unquote(secret)
    return options, hosts
