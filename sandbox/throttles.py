"""The sandbox's throttles, built on apierrors' (rates in ``DEFAULT_THROTTLE_RATES``).

- every view: ``user`` (1000/hour per user, as in the seed's example) and ``anon`` (per
  client address, for the views anyone may call: the schema and its UI);
- campaign writes: ``campaign-writes``, two rates at once (10 per second and 200 per hour);
- the token endpoint: ``token``, 10 per minute per client address, so passwords cannot be
  guessed quickly; the refresh endpoint counts under ``anon``.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.views import APIView

from apierrors.throttling import RateLimitThrottle, UserRateLimitThrottle


class CampaignWriteThrottle(UserRateLimitThrottle):
    """Per user, on the campaign requests that change something."""

    scope = "campaign-writes"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.method in SAFE_METHODS:
            return None
        return super().get_cache_key(request, view)


class TokenThrottle(RateLimitThrottle):
    """Per client address, whoever the credentials name."""

    scope = "token"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
