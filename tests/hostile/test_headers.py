"""Hostile headers and methods: request ids that must not be echoed, forged and malformed
JWTs, spoofed X-Forwarded-For chains, unknown methods."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from sandbox.accounts import scopes
from sandbox.throttles import TokenThrottle
from tests.hostile.support import REQUEST_ID, assert_answered, assert_refused, unchanged

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/campaigns/"
TOKEN = "/api/v1/auth/token/"

# Request ids --------------------------------------------------------------------------------

BAD_REQUEST_IDS = [
    "abc\r\nSet-Cookie: session=stolen",
    "abc\nX-Injected: 1",
    "abc\r",
    "\x00",
    "id\x00tail",
    "\x07\x08\x1b[2J",
    "id\x7f",
    "with space",
    'quote"d',
    "<script>alert(1)</script>",
    "caf\u00e9",
    "\u202eevil",
    "x" * 129,
    "x" * 10_240,
    "a,b",
    "a;b",
    "../../etc/passwd",
    "%0d%0a",
]
GOOD_REQUEST_IDS = ["x" * 128, "a", "A.b_c:d-e", "123e4567-e89b-12d3-a456-426614174000"]
TARGETS = [
    ("get", CAMPAIGNS),  # a DRF success
    ("get", "/api/v1/campaigns/999999/"),  # a DRF error
    ("get", "/no/such/url/"),  # a Django 404, rewritten by the middleware
    ("post", TOKEN),  # a throttled, unauthenticated view
]


@pytest.mark.parametrize("value", BAD_REQUEST_IDS)
def test_bad_request_ids_are_replaced_never_echoed(as_demo, value):
    for method, url in TARGETS:
        response = getattr(as_demo, method)(url, HTTP_X_REQUEST_ID=value)
        assert_answered(response)
        header = response["X-Request-ID"]
        assert REQUEST_ID.fullmatch(header), header
        assert value not in response.content.decode("utf-8", "replace")
        for name, sent in response.items():
            assert value not in sent, name
        if response.status_code >= 400:
            assert response.json()["error"]["requestId"] == header


@pytest.mark.parametrize("value", GOOD_REQUEST_IDS)
def test_valid_request_ids_are_kept_on_answers_and_errors(as_demo, value):
    for method, url in TARGETS:
        response = getattr(as_demo, method)(url, HTTP_X_REQUEST_ID=value)
        assert response["X-Request-ID"] == value
        if response.status_code >= 400:
            assert_refused(response, sent_request_id=value)


# Methods ------------------------------------------------------------------------------------

METHODS = ["FOO", "PROPFIND", "MKCOL", "TRACE", "CONNECT", "PUT", "M-SEARCH", "X" * 200, "G\u00c9T"]


@pytest.mark.parametrize("method", METHODS)
def test_unknown_methods_are_405_with_allow_and_not_quoted(as_demo, demo, method):
    campaign = demo.campaigns.first()
    for url in (CAMPAIGNS, f"{CAMPAIGNS}{campaign.pk}/", f"{CAMPAIGNS}{campaign.pk}/pause/", TOKEN):
        with unchanged():
            response = as_demo.generic(method, url, "{}", content_type="application/json")
        error = assert_refused(response, 405, "METHOD_NOT_ALLOWED")
        assert method not in error["message"]
        assert response["Allow"]
        assert method not in response["Allow"]


def test_unknown_method_on_an_unknown_url_is_404(as_demo):
    response = as_demo.generic("PROPFIND", "/no/such/url/")
    assert_refused(response, 404, "RESOURCE_NOT_FOUND")


def test_lowercase_method_names_are_the_same_method(as_demo):
    assert as_demo.generic("get", CAMPAIGNS).status_code == 200


# JWTs ---------------------------------------------------------------------------------------

KEY = django_settings.SECRET_KEY


def payload(user: Any, **changes: Any) -> dict[str, Any]:
    token = AccessToken.for_user(user)
    token["scope"] = " ".join(scopes.ALL)
    claims = {**token.payload, **changes}
    return {name: value for name, value in claims.items() if value is not DROP}


DROP = object()


def sign(claims: dict[str, Any], key: str = KEY, algorithm: str = "HS256", **headers: Any) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers or None)


def bearer(raw: str) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


# A valid, unexpired payload whose signature or header is forged (the sandbox's own tests
# forge expired payloads): each is refused as a bad token, never accepted.
FORGERIES = {
    "alg-none": lambda p: jwt.encode(p, "", algorithm="none"),
    "alg-none-capitalised": lambda p: _with_header(jwt.encode(p, "", algorithm="none"), "None"),
    "wrong-key": lambda p: sign(p, "another-key-0123456789abcdef0123456789"),
    "one-byte-key": lambda p: sign(p, "x"),
    "hs512": lambda p: sign(p, KEY * 2, "HS512"),
    "hs384": lambda p: sign(p, KEY * 2, "HS384"),
    "signature-stripped": lambda p: sign(p).rsplit(".", 1)[0] + ".",
    "signature-of-another-token": lambda p: _swap_signature(p),
    "kid-path": lambda p: sign(p, "another-key-0123456789abcdef0123", kid="../../dev/null"),
    "jku": lambda p: sign(p, "another-key-0123456789abcdef0123456789", jku="http://evil/"),
    "crit": lambda p: sign(p, crit=["exp"]),
    "rs256-header": lambda p: _with_header(sign(p), "RS256"),
}


def _with_header(raw: str, alg: str) -> str:
    header = jwt.utils.base64url_encode(f'{{"alg":"{alg}","typ":"JWT"}}'.encode()).decode()
    return header + raw[raw.index(".") :]


def _swap_signature(claims: dict[str, Any]) -> str:
    other = sign({**claims, "user_id": "999"})
    return sign(claims).rsplit(".", 1)[0] + "." + other.rsplit(".", 1)[1]


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_tokens_are_unauthorized(demo, name):
    raw = FORGERIES[name](payload(demo))
    for method in ("get", "post"):
        with unchanged():
            if method == "get":
                response = bearer(raw).get(CAMPAIGNS)
            else:
                response = bearer(raw).post(
                    CAMPAIGNS, '{"name": "Forged"}', content_type="application/json"
                )
        error = assert_refused(response, 401, "UNAUTHORIZED")
        assert error["message"] == "The access token is not valid."
        assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


# Correctly signed tokens whose claims are hostile: the signature is good, so these reach
# the user lookup, the expiry arithmetic and the scope check.
CLAIMS: dict[str, dict[str, Any]] = {
    "user-id-huge": {"user_id": 10**400},
    "user-id-huge-text": {"user_id": "1" + "0" * 400},
    "user-id-sql": {"user_id": "1 OR 1=1"},
    "user-id-nul": {"user_id": "\x00"},
    "user-id-list": {"user_id": [1]},
    "user-id-object": {"user_id": {"$gt": 0}},
    "user-id-negative": {"user_id": -1},
    "user-id-float": {"user_id": 1.5},
    "user-id-bool": {"user_id": True},
    "user-id-null": {"user_id": None},
    "user-id-missing": {"user_id": DROP},
    "exp-huge": {"exp": 10**400},
    "exp-float-huge": {"exp": 1e300},
    "exp-text": {"exp": "tomorrow"},
    "exp-negative": {"exp": -(10**20)},
    "exp-missing": {"exp": DROP},
    "nbf-future": {"nbf": int(time.time()) + 3600},
    "iat-huge": {"iat": 10**400},
    "token-type-missing": {"token_type": DROP},
    "token-type-other": {"token_type": "\x00"},
    "jti-huge": {"jti": "j" * 100_000},
    "scope-list": {"scope": ["campaigns:read"]},
    "scope-number": {"scope": 123},
    "scope-null": {"scope": None},
    "scope-nul": {"scope": "campaigns:read\x00campaigns:write"},
    "scope-huge": {"scope": "campaigns:read " * 20_000},
    "scope-object": {"scope": {"campaigns:read": True}},
}


# simplejwt itself lets some of these escape as exceptions: ``datetime_from_epoch``
# overflows on a huge ``exp`` and ``get_user`` passes a non-numeric ``user_id`` to the ORM;
# apierrors' JWTAuthentication answers them 401.
@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_signed_tokens_with_hostile_claims_are_answered(demo, name):
    raw = sign(payload(demo, **CLAIMS[name]))
    with unchanged():
        response = bearer(raw).post(CAMPAIGNS, "{}", content_type="application/json")
    # {} is not a campaign: a token that is let through meets a 422 and writes nothing.
    assert_refused(response)
    assert response.status_code in {401, 403, 422}
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Bearer error=")
    response = bearer(raw).get(CAMPAIGNS)
    assert_answered(response)


def test_expired_token_with_a_hostile_user_id_is_not_merely_expired(demo):
    raw = sign(payload(demo, user_id="1 OR 1=1", exp=int(time.time()) - 60))
    response = bearer(raw).get(CAMPAIGNS)
    assert_refused(response, 401)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer " + "A" * 100_000,
        "Bearer a.b.c.d.e",
        "Bearer ..",
        "Bearer " + jwt.utils.base64url_encode(b"{" * 5000).decode() + ".e30.x",
        "Bearer eyJhbGciOiJIUzI1NiJ9." + jwt.utils.base64url_encode(b"[1]").decode() + ".x",
        "Bearer\x00token",
        "Bearer  " + "x.y.z",
        "bearer x.y.z",
        "Basic ZGVtbzpkZW1vLXBhc3N3b3Jk",
        "Bearer \r\n x.y.z",
    ],
)
def test_malformed_bearer_values_are_answered(seeded, header):
    client = APIClient(raise_request_exception=False)
    response = client.get(CAMPAIGNS, HTTP_AUTHORIZATION=header)
    assert_refused(response, 401)
    assert header not in response.content.decode()


def test_expired_token_stays_token_expired_after_its_user_is_gone(other, token):
    raw = token(other, expires_in=-1)
    other.delete()
    response = bearer(raw).get(CAMPAIGNS)
    assert_refused(response, 401)


def test_token_lifetime_far_in_the_future_is_still_a_token(demo):
    raw = sign(payload(demo, exp=int(time.time() + timedelta(days=365 * 100).total_seconds())))
    assert bearer(raw).get(CAMPAIGNS).status_code == 200


# X-Forwarded-For ----------------------------------------------------------------------------


@pytest.fixture
def token_quota(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The token endpoint at 1000 per hour per address, on a clock that stands still."""
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rates["token"] = "1000/hour"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(TokenThrottle, "timer", staticmethod(lambda: 1_700_000_020.0))


def remaining(client: APIClient, forwarded: str | None, remote: str = "127.0.0.1") -> int:
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    response = client.post(
        TOKEN, '{"username": "demo", "password": "wrong"}', content_type="application/json", **extra
    )
    assert_refused(response, 401)
    return int(response["X-RateLimit-Remaining"])


SPOOFS = [
    "198.51.100.1",
    "198.51.100.2, 10.0.0.1",
    "not-an-address",
    "",
    ",,,,",
    "1.1.1.1\r\nX-Evil: 1",
    "2001:db8::1",
    "[2001:db8::2]:443",
    "1.1.1.1, " * 2000,
    "\x00",
    "unknown",
]


def test_without_trusted_proxies_every_spoof_counts_in_one_bucket(anonymous, token_quota):
    counts = [remaining(anonymous, spoof) for spoof in [None, *SPOOFS]]
    assert counts == list(range(999, 999 - len(counts), -1))


def test_with_one_trusted_proxy_the_client_is_the_entry_the_proxy_wrote(
    anonymous, token_quota, settings
):
    settings.APIERRORS = {**settings.APIERRORS, "NUM_PROXIES": 1}
    proxy = "10.0.0.1"
    # Whatever the client prepends, the entry our proxy appended names it.
    client_counts = [
        remaining(anonymous, f"{spoof}, 203.0.113.9" if spoof else "203.0.113.9", proxy)
        for spoof in ["", "198.51.100.1", "198.51.100.2, 198.51.100.3", "evil", "1.1.1.1, " * 50]
    ]
    assert client_counts == [999, 998, 997, 996, 995]
    # Another client behind the same proxy has its own quota.
    assert remaining(anonymous, "203.0.113.10", proxy) == 999
    # The proxy's own requests, and entries that are not addresses, count as the proxy.
    proxy_counts = [remaining(anonymous, spoof, proxy) for spoof in [None, "evil", "", "\x00"]]
    assert proxy_counts == [999, 998, 997, 996]


def test_with_two_trusted_proxies_a_short_chain_counts_as_the_proxy(
    anonymous, token_quota, settings
):
    settings.APIERRORS = {**settings.APIERRORS, "NUM_PROXIES": 2}
    proxy = "10.0.0.2"
    assert remaining(anonymous, "203.0.113.9", proxy) == 999  # one entry: not via both
    assert remaining(anonymous, "198.51.100.7", proxy) == 998
    assert remaining(anonymous, "spoof, 203.0.113.9, 10.0.0.1", proxy) == 999
    assert remaining(anonymous, "other, 203.0.113.9, 10.0.0.1", proxy) == 998


def test_ipv6_clients_rotating_inside_their_64_share_a_bucket(anonymous, token_quota, settings):
    settings.APIERRORS = {**settings.APIERRORS, "NUM_PROXIES": 1}
    counts = [
        remaining(anonymous, f"2001:db8:1:2::{suffix:x}", "10.0.0.1") for suffix in range(1, 6)
    ]
    assert counts == [999, 998, 997, 996, 995]
    assert remaining(anonymous, "2001:db8:1:3::1", "10.0.0.1") == 999
    # An IPv4-mapped address is the IPv4 client.
    assert remaining(anonymous, "::ffff:203.0.113.50", "10.0.0.1") == 999
    assert remaining(anonymous, "203.0.113.50", "10.0.0.1") == 998
