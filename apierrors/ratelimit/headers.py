"""The rate-limit header contract: names, request attributes and rounding, in one place.

Throttles decide, the handler answers a refusal, the middleware copies the decision onto
every response and the schema documents it; all four read the names and rules below.

The flow on one request:

1. each throttle of the view calls ``record`` with its decision; across the view's
   throttles the request keeps the headers of the decisive policy (a denying one before
   any allowing one; among denying ones the longest wait, among allowing ones the fewest
   requests remaining) in ``RATE_LIMIT_HEADERS_ATTR``, and every policy in the IETF
   ``RateLimit-Policy`` field;
2. the throttles set ``CHECKED_ATTR``, so that the handler does not run them again to
   answer a refusal raised inside the view;
3. the middleware calls ``send`` to copy the recorded headers onto the response, a success
   or an error alike. ``Retry-After`` is the handler's (``retry_after_seconds``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from apierrors.conf import conf
from apierrors.ratelimit.rates import MICROS

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase

    from apierrors.ratelimit.base import Decision, Plan

RETRY_AFTER = "Retry-After"
LIMIT = "X-RateLimit-Limit"
REMAINING = "X-RateLimit-Remaining"
RESET = "X-RateLimit-Reset"
RATE_LIMIT_HEADERS = (LIMIT, REMAINING, RESET)
"""The headers of the decisive policy, on every response of a throttled view."""
IETF_RATELIMIT = "RateLimit"
IETF_RATELIMIT_POLICY = "RateLimit-Policy"
IETF_RATE_LIMIT_HEADERS = (IETF_RATELIMIT, IETF_RATELIMIT_POLICY)
"""The IETF draft's fields, sent beside the others when ``IETF_RATELIMIT_HEADERS`` is on."""

# The dict of headers the middleware copies onto the response, on the Django request. (The
# throttles must not import the middleware: DRF imports throttle classes named in its
# settings while rest_framework.views, which the middleware's handler imports, is loading.)
RATE_LIMIT_HEADERS_ATTR = "apierrors_rate_limit_headers"
# Set on the Django request once the view's throttles have run (the handler's cue not to run
# them again for a refusal).
CHECKED_ATTR = "apierrors_throttles_checked"
# How decisive the policy behind the recorded headers is, to merge the view's throttles.
RANK_ATTR = "_apierrors_rate_limit_rank"
# The RateLimit-Policy items of the view's throttles so far.
POLICIES_ATTR = "_apierrors_rate_limit_policies"


def retry_after_seconds(wait: float | None) -> int:
    """Whole seconds, rounded up, at least 1 (DRF's ``wait()`` may be ``None`` or 0.2)."""
    if wait is None or math.isnan(wait):
        return 1
    return max(1, math.ceil(wait))


def seconds_up(micros: int) -> int:
    """Microseconds as whole seconds, rounded up (exact on integers, unlike a float ceil)."""
    return -(-micros // MICROS)


def record(request: HttpRequest, plan: Plan, decision: Decision, label: str | None) -> None:
    """Merge one throttle's decision into the headers recorded on ``request``.

    ``label`` names the throttle's policies in the IETF fields; ``None`` leaves them out.
    """
    remaining, reset = decision.remaining, decision.reset
    rank = (0, -remaining, reset) if decision.allowed else (1, decision.wait, reset)
    recorded = request.__dict__
    best: tuple[int, int, int] | None = recorded.get(RANK_ATTR)
    headers: dict[str, str] | None = recorded.get(RATE_LIMIT_HEADERS_ATTR)
    if best is None or headers is None or rank > best:
        headers = {
            LIMIT: plan.limit_texts[decision.index],
            REMAINING: str(remaining),
            RESET: str(-(-reset // MICROS)),
        }
        if label is not None:
            name = policy_name(label, plan, decision.index)
            headers[IETF_RATELIMIT] = f"{name};r={remaining};t={seconds_up(reset - decision.now)}"
        recorded[RANK_ATTR] = rank
        recorded[RATE_LIMIT_HEADERS_ATTR] = headers
    if label is not None:
        policies: list[str] = recorded.get(POLICIES_ATTR) or []
        policies.append(policy_field(label, plan))
        recorded[POLICIES_ATTR] = policies
        headers[IETF_RATELIMIT_POLICY] = ", ".join(policies)


def send(request: HttpRequest, response: HttpResponseBase) -> None:
    """Copy the headers recorded on ``request`` onto ``response`` (``RATELIMIT_HEADERS``)."""
    recorded: Mapping[str, str] | None = getattr(request, RATE_LIMIT_HEADERS_ATTR, None)
    if recorded and conf.RATELIMIT_HEADERS:
        for name, value in recorded.items():
            response[name] = value


def sf_string(text: str) -> str:
    """``text`` as a structured-field string (RFC 8941): printable ASCII, quoted."""
    clean = "".join(c for c in text if " " <= c <= "~")
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


@lru_cache(maxsize=512)
def policy_name(label: str, plan: Plan, index: int) -> str:
    """The IETF name of one policy of ``plan``: the label, the count and the period."""
    rate = plan.policies[index].rate
    return sf_string(f"{label}:{rate.limit}/{rate.period}s")


@lru_cache(maxsize=512)
def policy_field(label: str, plan: Plan) -> str:
    """The ``RateLimit-Policy`` items of ``plan``: each policy's quota and window."""
    return ", ".join(
        f"{policy_name(label, plan, i)};q={policy.limit};w={policy.rate.period}"
        for i, policy in enumerate(plan.policies)
    )
