"""System checks of throttling (``apierrors.E1xx``/``W1xx``); docs/checks.md lists each.

They look at the throttles a project uses, as its routes serve them
(``apierrors.ratelimit.in_use.throttles_in_use``, re-exported here). What a throttle cache
can promise is asked of the store class that serves it
(``apierrors.ratelimit.store_class_for``): whether its state is shared by every process,
and whether one check is atomic across them. A store named by
URI must have a scheme some registered store class serves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from django.conf import settings
from django.core import checks

from apierrors.checks import MIDDLEWARE_PATH, CheckResult, middleware_position
from apierrors.conf import BY_NAME, conf
from apierrors.ratelimit.in_use import RoutedView
from apierrors.ratelimit.in_use import throttles_in_use as throttles_in_use  # re-exported
from apierrors.ratelimit.uri import is_uri, redact, scheme


def _throttle_rates(cls: type, view: type | RoutedView | None) -> tuple[str, list[object]]:
    """Where a throttle's rates come from (for messages) and the rates found there; raises
    ``KeyError`` with the scope when its rate is missing."""

    from apierrors.throttling import ScopedRateLimitThrottle

    own = getattr(cls, "rates", None) or getattr(cls, "rate", None)
    if own:
        return f"{cls.__qualname__}.rate", _as_list(own)
    scope = getattr(cls, "scope", None)
    if issubclass(cls, ScopedRateLimitThrottle):
        scope = getattr(view, cls.scope_attr, None) if view is not None else None
    if not scope:
        return "", []
    configured: object = getattr(cls, "THROTTLE_RATES", {})
    try:
        value = cast(Mapping[str, Any], configured)[scope]
    except (KeyError, TypeError):  # also: no dict of rates (E101), a scope that is a list
        raise KeyError(scope) from None
    if value is None:
        return "", []
    return f'{_rates_name(cls)}["{scope}"]', _as_list(value)


def _declared_rates(cls: type) -> tuple[bool, object]:
    """Whether a throttle class (or one of its bases) declares ``THROTTLE_RATES`` of its
    own, rather than reading ``DEFAULT_THROTTLE_RATES``, and what it declares."""
    from apierrors.ratelimit.drf import SettingsRates

    # RateLimitThrottle declares it (SettingsRates), so some class of the MRO does.
    declared: object = next(
        vars(klass)["THROTTLE_RATES"] for klass in cls.__mro__ if "THROTTLE_RATES" in vars(klass)
    )
    return not isinstance(declared, SettingsRates), declared


def _not_a_dict(where: str, value: object) -> checks.CheckMessage:
    return checks.Error(
        f"{where} is {value!r}; it must be a dict of scopes and their rates.",
        hint='Write it like {"anon": "100/hour", "user": "1000/day"}.',
        id="apierrors.E101",
    )


def _rates_name(cls: Any) -> str:
    """Where a throttle's scopes find their rates, for messages."""
    from rest_framework.settings import api_settings

    if cls.THROTTLE_RATES is api_settings.DEFAULT_THROTTLE_RATES:
        return "DEFAULT_THROTTLE_RATES"
    return f"{cls.__qualname__}.THROTTLE_RATES"


def _rate_parser(cls: Any) -> Callable[[object], object] | None:
    """The throttle's own ``parse_rate`` (on an instance) when it overrides apierrors', else
    ``None``; a rate it cannot read raises."""
    from apierrors.ratelimit.drf import rate_from_drf
    from apierrors.throttling import RateLimitThrottle

    if cls.parse_rate is RateLimitThrottle.parse_rate:
        return None
    throttle = cls()

    def parse(rate: object) -> object:
        return rate_from_drf(throttle.parse_rate(rate), f"{cls.__name__}.parse_rate({rate!r})")

    return parse


def _as_list(value: object) -> list[object]:
    """One rate, or several in a list or tuple, as a list."""
    return list(value) if isinstance(value, list | tuple) else [value]


def _is_burst(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)


def check_throttle_rates(**kwargs: Any) -> CheckResult:
    from rest_framework.settings import api_settings

    from apierrors.ratelimit.rates import RateError, parse_rate

    used = throttles_in_use()
    if not used:
        return []
    messages: CheckResult = []
    # Any scope may be read by a throttle that builds its rates at run time. A rate must
    # parse for each throttle that reads it: with its own parse_rate() if it overrides it,
    # else (and for a rate no throttle is seen reading) with apierrors' parser.
    sources: dict[str, list[object]] = {}
    parsers: dict[str, dict[type | None, Callable[[object], object]]] = {}
    not_dicts: set[type] = set()  # classes whose THROTTLE_RATES is reported not a dict
    defaults: object = api_settings.DEFAULT_THROTTLE_RATES
    if isinstance(defaults, Mapping):
        for scope, value in defaults.items():
            if value is not None:
                where = f'DEFAULT_THROTTLE_RATES["{scope}"]'
                sources[where] = _as_list(value)
    else:
        messages.append(_not_a_dict("REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']", defaults))
    for cls, view in used:
        name = cls.__qualname__ + (f" on {view.__qualname__}" if view is not None else "")
        declares, own_rates = _declared_rates(cls)
        if declares and not isinstance(own_rates, Mapping) and cls not in not_dicts:
            not_dicts.add(cls)
            messages.append(_not_a_dict(f"{cls.__qualname__}.THROTTLE_RATES", own_rates))
        try:
            where, rates = _throttle_rates(cls, view)
        except KeyError as missing:
            messages.append(
                checks.Error(
                    f"Throttle {name} uses the scope {missing}, which has no rate.",
                    hint=f"Add {missing} to "
                    + (
                        f"{cls.__qualname__}.THROTTLE_RATES."
                        if _declared_rates(cls)[0]
                        else "REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']."
                    ),
                    id="apierrors.E104",
                )
            )
            continue
        if where:
            sources.setdefault(where, rates)
            readers = parsers.setdefault(where, {})
            try:
                own = _rate_parser(cls)
            except Exception as error:  # the class cannot be made as DRF makes it
                messages.append(
                    checks.Error(
                        f"Throttle {name} overrides parse_rate() but cannot be instantiated "
                        f"to read its rates: {error}",
                        id="apierrors.E101",
                    )
                )
            else:
                readers.setdefault(None if own is None else cls, own or parse_rate)
        algorithm = getattr(cls, "algorithm", None)
        # A throttle's algorithm must be what THROTTLE_ALGORITHM accepts.
        expected = None if algorithm is None else BY_NAME["THROTTLE_ALGORITHM"].validate(algorithm)
        if expected is not None:
            messages.append(
                checks.Error(
                    f"Throttle {name} names the unknown algorithm {algorithm!r}.",
                    hint=f"Use {expected}.",
                    id="apierrors.E103",
                )
            )
        burst = getattr(cls, "burst", None)
        if not _is_burst(burst):
            messages.append(
                checks.Error(
                    f"Throttle {name} has burst = {burst!r}; it must be an int >= 1 or None.",
                    id="apierrors.E103",
                )
            )
    for where, rates in sources.items():
        for parser in parsers.get(where, {None: parse_rate}).values():
            for rate in rates:
                try:
                    parser(rate)
                except RateError as error:
                    messages.append(checks.Error(f"{where}: {error}", id="apierrors.E101"))
                except Exception as error:  # an overridden parse_rate() that cannot read it
                    messages.append(
                        checks.Error(
                            f"{where}: parse_rate() fails on {rate!r}: {error}",
                            id="apierrors.E101",
                        )
                    )
    return messages


def _cache_alias(cls: type) -> str | None:
    """The cache a throttle class names: its ``cache`` object's alias, else ``cache_alias``."""
    from apierrors.ratelimit.aliases import cache_alias_of

    cache = getattr(cls, "cache", None)
    if cache is not None:
        return cache_alias_of(cache)  # None: apierrors.E109
    return getattr(cls, "cache_alias", None)


def check_throttle_caches(**kwargs: Any) -> CheckResult:
    used = throttles_in_use()
    if not used:
        return []
    caches = getattr(settings, "CACHES", None) or {}
    names: list[object] = []
    for cls, _view in used:
        name = (
            getattr(cls, "store", None)
            or _cache_alias(cls)
            or conf.THROTTLE_STORE
            or conf.THROTTLE_CACHE
        )
        if name not in names:  # a list, not a set: a class's typo may be unhashable
            names.append(name)
    messages: CheckResult = []
    for name in names:
        if isinstance(name, str) and is_uri(name):
            messages += _check_store_uri(name)
            continue
        config = caches.get(name) if isinstance(name, str) else None
        if not isinstance(name, str) or config is None:
            messages.append(
                checks.Error(
                    f"The throttles' cache {name!r} is not in CACHES.",
                    hint="Add it to CACHES, or point APIERRORS['THROTTLE_CACHE'] at one.",
                    id="apierrors.E102",
                )
            )
            continue
        messages += _check_throttle_store(name, config)
    return messages


def _check_store_uri(uri: str) -> CheckResult:
    from apierrors.ratelimit import known_schemes, store_class_for_uri

    try:
        store_class_for_uri(uri)
    except (ImportError, LookupError):
        return [
            checks.Error(
                f"The throttles' store {redact(uri)!r} has the scheme {scheme(uri)!r}, which "
                "no rate-limit store serves.",
                hint="Known schemes: " + ", ".join(known_schemes()) + ".",
                id="apierrors.E106",
            )
        ]
    return []


def _check_throttle_store(alias: str, config: Mapping[str, Any]) -> CheckResult:
    from django.core.cache.backends.dummy import DummyCache
    from django.core.cache.backends.locmem import LocMemCache
    from django.utils.module_loading import import_string

    from apierrors.ratelimit import store_class_for_backend

    backend = str(config.get("BACKEND", ""))
    try:
        # The class, not an instance: a memcached backend without its driver still counts.
        backend_class = import_string(backend)
        store = store_class_for_backend(backend_class, alias)
    except (ImportError, LookupError):
        return []  # a backend that does not load fails loudly on first use
    # A store that is not shared itself keeps its state in the cache, so the state is as
    # shared as the cache: private to the process for these two, shared (if not atomic)
    # for the others (file, database, memcached).
    if not store.shared and issubclass(backend_class, LocMemCache | DummyCache):
        if settings.DEBUG:
            return []
        what = (
            "keeps nothing"
            if issubclass(backend_class, DummyCache)
            else "is private to each process"
        )
        return [
            checks.Warning(
                f"The throttles' cache {alias!r} ({backend.rsplit('.', 1)[-1]}) {what}: "
                "with several worker processes, the limits do not hold.",
                hint=HINT,
                id="apierrors.W101",
            )
        ]
    if not (store.shared and store.atomic):
        return [
            checks.Error(
                f"The throttles' cache {alias!r} ({backend}) cannot run a check atomically "
                "across processes: the limits are not exact there, concurrent requests "
                "exceed them, and short windows may not be counted at all.",
                hint=HINT,
                id="apierrors.E105",
            )
        ]
    return []


HINT = (
    "Use a Redis cache for the throttles (django-redis or Django's RedisCache, "
    "APIERRORS['THROTTLE_CACHE']), or a store URI (APIERRORS['THROTTLE_STORE'])."
)


def check_rate_limit_headers(**kwargs: Any) -> CheckResult:
    if not (conf.RATELIMIT_HEADERS or conf.IETF_RATELIMIT_HEADERS):
        return []
    if middleware_position() is not None or not throttles_in_use():
        return []
    return [
        checks.Warning(
            "Rate-limit headers are on, but APIErrorsMiddleware, which sends them, is not "
            "installed: responses carry no X-RateLimit-* headers.",
            hint=f'Add "{MIDDLEWARE_PATH}" first in MIDDLEWARE.',
            id="apierrors.W103",
        )
    ]


def check_throttle_key_prefix(**kwargs: Any) -> CheckResult:
    """A brace in the key prefix would become the keys' hash tag: every client's keys in
    one Redis Cluster slot (one master), or one check's keys in several."""
    prefix: object = conf.THROTTLE_KEY_PREFIX  # a setting may hold anything
    if not isinstance(prefix, str) or not ("{" in prefix or "}" in prefix):
        return []
    if not throttles_in_use():
        return []
    return [
        checks.Error(
            f"APIERRORS['THROTTLE_KEY_PREFIX'] ({prefix!r}) holds a brace: Redis Cluster "
            "and sharded caches would take the hash tag from the prefix instead of the "
            "client, putting every client on one server (or one check's keys on several).",
            hint="Drop the braces from the prefix; the client part of each key is already "
            "a hash tag.",
            id="apierrors.E107",
        )
    ]


def register() -> None:
    from apierrors.ratelimit.idiom_checks import check_drf_idioms

    for check in (
        check_throttle_rates,
        check_throttle_caches,
        check_throttle_key_prefix,
        check_rate_limit_headers,
        check_drf_idioms,
    ):
        checks.register(check)
