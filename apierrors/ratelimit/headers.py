"""The rate-limit header contract: names, request attributes and rounding, in one place.

Throttles decide, the handler answers a refusal, the middleware copies the decision onto
every response and the schema documents it; all four read the names and rules below.
"""

from __future__ import annotations

import math

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


def retry_after_seconds(wait: float | None) -> int:
    """Whole seconds, rounded up, at least 1 (DRF's ``wait()`` may be ``None`` or 0.2)."""
    if wait is None or math.isnan(wait):
        return 1
    return max(1, math.ceil(wait))
