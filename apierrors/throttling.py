"""DRF throttle classes: exact, O(1) per request, and they send rate-limit headers.

Use them as DRF's own, in ``throttle_classes`` or ``DEFAULT_THROTTLE_CLASSES``::

    class CampaignView(APIView):
        throttle_classes = [UserRateLimitThrottle]        # rate: DEFAULT_THROTTLE_RATES["user"]

    class BurstThrottle(UserRateLimitThrottle):
        scope = "burst"
        rates = ("10/second", "1000/hour")                 # both, in one atomic step
        algorithm = "gcra"

Unlike DRF's ``SimpleRateThrottle``, rates are read when a request arrives (so
``override_settings`` reaches them), every check is one atomic store operation (one Lua
call on Redis) whatever the rate, several rates are consumed all or none, and each
response of a throttled view carries ``X-RateLimit-Limit/Remaining/Reset``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from apierrors import signals
from apierrors.athrottle import _sync_override, athrottle
from apierrors.exceptions import ServiceUnavailable
from apierrors.ratelimit import batch, config, get_store, headers
from apierrors.ratelimit.aliases import cache_alias_of
from apierrors.ratelimit.base import (
    Decision,
    Plan,
    Result,
    Store,
    StoreUnavailable,
    micros,
    plan_for,
)
from apierrors.ratelimit.config import current
from apierrors.ratelimit.drf import SettingsRates, cache_alias, rate_from_drf
from apierrors.ratelimit.headers import CHECKED_ATTR, RATE_LIMIT_HEADERS_ATTR, retry_after_seconds
from apierrors.ratelimit.identity import client_ident
from apierrors.ratelimit.rates import MICROS
from apierrors.ratelimit.rates import parse_rate as parse_rate_text

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache
    from django.http import HttpRequest
    from rest_framework.request import Request
    from rest_framework.views import APIView

__all__ = [
    "CHECKED_ATTR",
    "RATE_LIMIT_HEADERS_ATTR",
    "AnonRateLimitThrottle",
    "RateLimitThrottle",
    "ScopedRateLimitThrottle",
    "UserRateLimitThrottle",
    "athrottle",
    "cache_alias_of",
]
# Re-exported for code that imported them from here: CHECKED_ATTR and
# RATE_LIMIT_HEADERS_ATTR (their home is apierrors.ratelimit.headers), athrottle (in
# apierrors.athrottle) and cache_alias_of (in apierrors.ratelimit.aliases).

logger = logging.getLogger("apierrors.throttling")


class RateLimitThrottle(BaseThrottle):
    """The base throttle. Subclass it and override ``get_cache_key``.

    Options (class attributes, as on DRF's throttles):

    - ``scope``: names the rate in ``THROTTLE_RATES``, which is
      ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` read per request unless a subclass sets
      its own dict (as on DRF's throttles); a value may be one rate or a list of rates;
    - ``rate`` or ``rates``: the rate(s) themselves, overriding the setting (``"100/hour"``,
      ``"10/5m"``); several rates are checked together and consumed all or none;
    - ``algorithm``: ``"fixed_window"`` or ``"gcra"`` (default: ``THROTTLE_ALGORITHM``);
    - ``burst``: for GCRA, how many requests may come at once (default: each rate's count);
    - ``store``: a store URI (``"redis://host:6379/0"``) holding the state, ahead of
      everything below (default: ``THROTTLE_STORE``);
    - ``cache_alias``: the cache holding the state (default: ``THROTTLE_STORE`` when set,
      else ``THROTTLE_CACHE``); DRF's ``cache = caches["x"]`` works too, and wins over
      ``cache_alias``;
    - ``cache_format``: how ``scope`` and the client's ident make the key;
    - ``timer``: a clock returning seconds, for tests; ``None`` (the default) uses the
      store's clock (Redis's ``TIME``), so the app servers' clocks do not matter.

    Hooks: ``get_cache_key`` (who is counted; ``None`` skips throttling), ``get_rate``
    (where rates come from), ``parse_rate`` (DRF's: a rate as ``(count, seconds)``),
    ``get_ident`` (the anonymous client's address), ``throttle_success`` and
    ``throttle_failure`` (called after each decision; their result is ``allow_request``'s),
    ``wait`` (the 429's ``Retry-After``). DRF's ``history``, ``now``, ``num_requests`` and
    ``duration`` do not exist: the system check ``apierrors.E108`` reports a subclass that
    uses them.
    """

    scope: str | None = None
    rates: Sequence[str] | None = None
    algorithm: str | None = None
    burst: int | None = None
    store: str | None = None
    cache_alias: str | None = None
    cache: BaseCache | None = None
    cache_format = "throttle_%(scope)s_%(ident)s"
    timer: Callable[[], float] | None = None

    key: str | None = None
    plan: Plan | None = None
    result: Result | None = None
    decision: Decision | None = None

    if TYPE_CHECKING:
        THROTTLE_RATES: Mapping[str, Any]
    else:
        THROTTLE_RATES = SettingsRates()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cache = cls.__dict__.get("cache")
        if cache is not None:
            # Now, in the thread that made the object (see cache_alias_of).
            cache_alias_of(cache)

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        """The key that identifies who is counted, or ``None`` to not throttle this request."""
        raise NotImplementedError(".get_cache_key() must be overridden")

    def get_rate(self) -> str | Sequence[str] | None:
        """This throttle's rate(s): ``rates``, else ``rate``, else the scope's setting.

        The scope's rate is ``THROTTLE_RATES[scope]``: ``DEFAULT_THROTTLE_RATES``, read on
        every request so settings overrides apply, unless the class declares its own dict.
        ``None`` turns throttling off.
        """
        if self.rates:
            return self.rates
        rate: str | Sequence[str] | None = getattr(self, "rate", None)
        if rate:
            return rate
        if not self.scope:
            raise ImproperlyConfigured(
                f"Set .scope or .rate on the '{type(self).__name__}' throttle."
            )
        rates = self.THROTTLE_RATES
        try:
            configured: str | Sequence[str] | None = rates[self.scope]
        except KeyError:
            where = (
                "DEFAULT_THROTTLE_RATES"
                if rates is api_settings.DEFAULT_THROTTLE_RATES
                else f"{type(self).__name__}.THROTTLE_RATES"
            )
            raise ImproperlyConfigured(
                f"No default throttle rate set for the '{self.scope}' scope in {where}."
            ) from None
        return configured

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        """DRF's hook: ``rate`` as ``(num_requests, duration in seconds)``, ``(None, None)``
        for ``None``. Accepts what ``apierrors.ratelimit.rates`` parses.

        Override it to read rates written your own way: the throttle then builds its
        policies from what it returns (a count from 1 to 10**9 and a whole number of seconds
        from 1 to 3650 days).
        """
        if rate is None:
            return (None, None)
        parsed = parse_rate_text(rate)
        return (parsed.limit, parsed.period)

    def get_plan(self) -> Plan | None:
        """The prepared policies of this throttle (``None`` when it has no rate)."""
        rate = self.get_rate()
        if not rate:
            return None
        rates = (rate,) if isinstance(rate, str) else tuple(rate)
        if type(self).parse_rate is not RateLimitThrottle.parse_rate:
            rates = tuple(
                rate_from_drf(self.parse_rate(one), f"{type(self).__name__}.parse_rate({one!r})")
                for one in rates
            )
        settings = config._current or current()  # the snapshot, without a call
        return plan_for(rates, self.algorithm or settings.algorithm, self.burst, settings.prefix)

    def get_store(self) -> Store:
        """The store of ``store``, else ``cache_alias``, else ``THROTTLE_STORE``, else
        ``THROTTLE_CACHE``."""
        settings = config._current or current()  # the snapshot, without a call
        return get_store(self.store or self.cache_alias or settings.store or settings.cache)

    def get_ident(self, request: Request | HttpRequest) -> str:
        """The anonymous client's address (see ``apierrors.ratelimit.identity``)."""
        return client_ident(getattr(request, "_request", request))

    def allow_request(self, request: Request, view: APIView) -> bool:
        # The hot path of every request: each step is one call at most.
        entry = batch.take(self, request, view)
        if entry is not None:
            return self._conclude_batched(request, entry)
        prepared = self._prepare_check(request, view)
        if prepared is None:
            return True
        plan, key, store = prepared
        timer = self.timer
        started = signals.listening()
        try:
            result = store.check(key, plan, None if timer is None else micros(timer()))
        except StoreUnavailable as exc:
            return self._unavailable(request, store, started, exc)
        return self._conclude_check(request, plan, result, store, started)

    def throttle_success(self) -> bool:
        """DRF's hook, called when the check allowed the request (already counted); what it
        returns is what ``allow_request`` returns."""
        return True

    def throttle_failure(self) -> bool:
        """DRF's hook, called when the check refused the request; what it returns is what
        ``allow_request`` returns."""
        return False

    # Async views (adrf, Django ``async def`` views): the same steps around ``Store.acheck``.

    async def aallow_request(self, request: Request | HttpRequest, view: Any) -> bool:
        """``allow_request`` for async code: the store is awaited, never blocking the loop.

        The hooks (``get_rate``, ``get_cache_key``, ``get_ident``) run on the event loop, as
        they are: they must not do blocking I/O (resolve ``request.user`` beforehand, as
        DRF's authentication does and ``athrottle`` does with ``request.auser()``). A
        subclass that overrides ``allow_request`` but not ``aallow_request`` has its
        ``allow_request`` run as Django runs sync code from async code (thread-sensitive,
        as adrf runs it: it may use the ORM), so its own logic is kept.
        """
        if _sync_override(type(self)):
            allow = sync_to_async(self.allow_request, thread_sensitive=True)
            allowed: bool = await allow(request, view)  # type: ignore[arg-type]
            return allowed
        entry = await batch.atake(self, request, view)
        if entry is not None:
            return self._conclude_batched(request, entry)
        prepared = self._prepare_check(request, view)
        if prepared is None:
            return True
        plan, key, store = prepared
        timer = self.timer
        started = signals.listening()
        try:
            result = await store.acheck(key, plan, None if timer is None else micros(timer()))
        except StoreUnavailable as exc:
            return self._unavailable(request, store, started, exc)
        return self._conclude_check(request, plan, result, store, started)

    def _prepare_check(self, request: Any, view: Any) -> tuple[Plan, str, Store] | None:
        """The steps before the store: the plan, the key and the store; ``None`` to pass."""
        django_request = getattr(request, "_request", request)
        django_request.__dict__[CHECKED_ATTR] = True
        plan = self.get_plan()
        key = self.key = None if plan is None else self.get_cache_key(request, view)
        if plan is None or key is None:
            self.plan = self.result = self.decision = None
            return None
        if self.cache is not None:
            self.cache_alias = cache_alias(self.cache, type(self).__name__)
        # DRF hands the key to the cache, which formats whatever it is (``return user.pk``).
        tag: Any = key
        return plan, tag if isinstance(tag, str) else str(tag), self.get_store()

    def _conclude_batched(self, request: Any, entry: batch.Entry) -> bool:
        """Go on from this throttle's part of the view's batch (``apierrors.ratelimit.batch``)
        as from its own check: the state the batch's twin prepared, then the result."""
        # The twin is not used again: its state becomes this throttle's.
        self.__dict__ = entry.throttle.__dict__
        prepared, outcome = entry.prepared, entry.outcome
        if prepared is None or outcome is None:
            # No rate or no key, or not asked (another throttle's remembered refusal).
            self.plan = self.result = self.decision = None
            return True
        plan, _, store = prepared
        if isinstance(outcome, StoreUnavailable):
            return self._unavailable(request, store, entry.started(), outcome)
        return self._conclude_check(request, plan, outcome, store, entry.started())

    def _unavailable(
        self, request: Any, store: Store, started: float, exc: StoreUnavailable
    ) -> bool:
        self.plan = self.result = self.decision = None
        signals.send_throttle_decision(self, request, store, started, fail_open=current().fail_open)
        return self.store_unavailable(store, exc)

    def _conclude_check(
        self, request: Any, plan: Plan, result: Result, store: Store, started: float
    ) -> bool:
        """The steps after the store: read the result, tell listeners, record headers."""
        decision = Decision(result)
        if started:
            signals.send_throttle_decision(self, request, store, started, plan, decision)
        self.plan, self.result, self.decision = plan, result, decision
        settings = config._current or current()  # the snapshot, without a call
        if settings.headers:
            django_request = getattr(request, "_request", request)
            if type(self).record_headers is RateLimitThrottle.record_headers:
                headers.record(
                    django_request,
                    plan,
                    decision,
                    self.policy_label() if settings.ietf_headers else None,
                )
            else:
                self.record_headers(django_request, plan, decision)
        return self.throttle_success() if decision.allowed else self.throttle_failure()

    def wait(self) -> float | None:
        """Seconds until the denying policy with the longest wait admits a request again."""
        decision = self.decision
        if decision is None or decision.allowed:
            return None
        return decision.wait / MICROS

    def store_unavailable(self, store: Store, exc: StoreUnavailable) -> bool:
        """The store failed: let the request through (``FAIL_OPEN``) or answer 503."""
        fail_open = current().fail_open
        count = store.outage_log.due()
        if count is not None:
            logger.warning(
                "Rate-limit store %r is unavailable (%s); %s. Checks affected since the "
                "last warning: %d.",
                store.alias,
                exc,
                "requests pass unthrottled (FAIL_OPEN)"
                if fail_open
                else "requests are refused with 503 (FAIL_OPEN is off)",
                count,
            )
        if fail_open:
            return True
        raise ServiceUnavailable(retry_after=retry_after_seconds(current().breaker_cooldown))

    def policy_label(self) -> str:
        """How the IETF ``RateLimit-Policy`` field names this throttle's policies."""
        return self.scope or type(self).__name__

    def record_headers(self, request: HttpRequest, plan: Plan, result: Decision | Result) -> None:
        """Record the headers of the view's decisive policy for the middleware to send.

        DRF runs every throttle of a view, even after one refused. The headers describe,
        across all of them, the denying policy with the longest wait, or when none denies,
        the policy with the fewest requests remaining (see ``apierrors.ratelimit.headers``).
        ``result`` is the check's ``Decision`` (or the flat result it reads).
        """
        decision = result if isinstance(result, Decision) else Decision(result)
        label = self.policy_label() if current().ietf_headers else None
        headers.record(request, plan, decision, label)


def _user_or_ident(throttle: RateLimitThrottle, request: Request) -> Any:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.pk
    return throttle.get_ident(request)


class UserRateLimitThrottle(RateLimitThrottle):
    """Throttles by user id, or by client address for anonymous requests.

    Rate: ``DEFAULT_THROTTLE_RATES["user"]`` (as DRF's ``UserRateThrottle``).
    """

    scope = "user"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": _user_or_ident(self, request)}


class AnonRateLimitThrottle(RateLimitThrottle):
    """Throttles anonymous requests by client address; authenticated ones pass.

    Rate: ``DEFAULT_THROTTLE_RATES["anon"]`` (as DRF's ``AnonRateThrottle``).
    """

    scope = "anon"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ScopedRateLimitThrottle(RateLimitThrottle):
    """Throttles by the view's ``throttle_scope``, per user (or client address).

    Rate: ``DEFAULT_THROTTLE_RATES[view.throttle_scope]`` (as DRF's ``ScopedRateThrottle``);
    views without the attribute are not throttled.
    """

    scope_attr = "throttle_scope"

    def _prepare_check(self, request: Any, view: Any) -> tuple[Plan, str, Store] | None:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            self.plan = self.result = self.decision = None
            return None
        return super()._prepare_check(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": _user_or_ident(self, request)}
