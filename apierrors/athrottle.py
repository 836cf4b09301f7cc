"""Async throttling: ``athrottle`` for Django ``async def`` views, and the test deciding
whether a throttle's ``aallow_request`` must run its sync ``allow_request`` instead.

``athrottle`` is also importable from ``apierrors.throttling``, its first home.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase

    from apierrors.throttling import RateLimitThrottle

__all__ = ["athrottle"]

_sync_overrides: dict[type, bool] = {}


def _sync_override(klass: type) -> bool:
    """Whether ``klass`` overrides ``allow_request`` below its last ``aallow_request`` with a
    sync one (an ``async def allow_request``, adrf's form of an async throttle, is not run
    in a thread: it may await ``aallow_request``)."""
    known = _sync_overrides.get(klass)
    if known is None:
        mro = klass.__mro__
        sync_owner = next(base for base in mro if "allow_request" in base.__dict__)
        async_owner = next(base for base in mro if "aallow_request" in base.__dict__)
        below = mro.index(sync_owner) < mro.index(async_owner)
        is_async = iscoroutinefunction(sync_owner.__dict__["allow_request"])
        known = _sync_overrides[klass] = below and not is_async
    return known


def athrottle(
    *classes: type[RateLimitThrottle],
) -> Callable[[Callable[..., Awaitable[HttpResponseBase]]], Callable[..., Awaitable[Any]]]:
    """Throttle a Django ``async def`` view (outside DRF) with these throttle classes.

    ``@athrottle(UserRateLimitThrottle)`` resolves ``request.user`` (``request.auser()``),
    awaits every throttle's ``aallow_request`` as DRF runs every throttle, and answers a
    refusal with the 429 envelope (``Retry-After``: the longest wait), and a store outage
    with ``FAIL_OPEN`` off with the 503 one, without calling the view.
    ``APIErrorsMiddleware`` adds the rate-limit headers, as for DRF views.
    """

    def decorate(
        view: Callable[..., Awaitable[HttpResponseBase]],
    ) -> Callable[..., Awaitable[Any]]:
        if not iscoroutinefunction(view):
            raise TypeError(f"athrottle decorates async def views; {view!r} is not one.")

        @wraps(view)
        async def throttled(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            auser = getattr(request, "auser", None)
            if auser is not None:
                request.user = await auser()
            from rest_framework.exceptions import APIException, Throttled

            from apierrors.handler import get_handler
            from apierrors.ratelimit.batch import acheck_together

            waits = []
            throttles = [klass() for klass in classes]
            try:
                # One store call for all of them, all or none (apierrors.ratelimit.batch).
                await acheck_together(throttles, request, view)
                for throttle in throttles:
                    if not await throttle.aallow_request(request, view):
                        waits.append(throttle.wait())
            except APIException as exc:  # the store is down and FAIL_OPEN is off: 503
                return get_handler().django_response(exc, request)
            if waits:
                wait = max((one for one in waits if one is not None), default=None)
                return get_handler().django_response(Throttled(wait), request)
            return await view(request, *args, **kwargs)

        return throttled

    return decorate
