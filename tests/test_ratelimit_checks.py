"""The throttling system checks, one test per id."""

from __future__ import annotations

import sys

import pytest
from django.core import checks as django_checks
from django.urls import clear_url_caches, include, path
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from apierrors import ratelimit
from apierrors.checks import check_settings
from apierrors.ratelimit import Store, checks, in_use
from apierrors.throttling import ScopedRateLimitThrottle, UserRateLimitThrottle
from tests.throttle_app.helpers import use_cache

# This module doubles as a URLconf without views, for "no throttles in use".
urlpatterns: list[object] = []

THIS = "tests.test_ratelimit_checks"


class AnyUser(UserRateLimitThrottle):
    """Rate: DEFAULT_THROTTLE_RATES["user"]."""


class BadRate(UserRateLimitThrottle):
    rate = "100/fortnight"


class BadRates(UserRateLimitThrottle):
    rates = ("10/second", "ten/hour")


class BadAlgorithm(UserRateLimitThrottle):
    rate = "10/second"
    algorithm = "leaky_bucket"


class BadBurst(UserRateLimitThrottle):
    rate = "10/second"
    algorithm = "gcra"
    burst = 0


class MissingScope(UserRateLimitThrottle):
    scope = "nowhere"


class OwnCache(UserRateLimitThrottle):
    rate = "10/second"
    cache_alias = "throttles-elsewhere"


class ScopedView(APIView):
    throttle_classes = [ScopedRateLimitThrottle]
    throttle_scope = "uploads"


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def use_throttles(settings, *names: str, rates: dict[str, object] | None = None) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_CLASSES": [f"{THIS}.{name}" for name in names],
        "DEFAULT_THROTTLE_RATES": rates if rates is not None else {"user": "10/second"},
    }
    settings.ROOT_URLCONF = THIS


def test_checks_are_registered_with_django():
    registered: list[object] = list(django_checks.registry.registry.get_checks())
    for check in (
        checks.check_throttle_rates,
        checks.check_throttle_caches,
        checks.check_rate_limit_headers,
    ):
        assert check in registered


def test_configured_project_passes(settings):
    settings.DEBUG = True  # the tests' LocMemCache is the sandbox's embedded default
    assert checks.check_throttle_rates() == []
    assert checks.check_throttle_caches() == []
    assert checks.check_rate_limit_headers() == []


def test_throttles_are_found_in_the_urlconf():
    found = {cls.__name__ for cls, _view in checks.throttles_in_use()}
    assert {"UserThrottle", "BurstThrottle", "SustainedThrottle"} <= found


def test_nothing_to_check_without_throttles(settings):
    use_throttles(settings, rates={"user": "100/fortnight"})
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.DEBUG = False
    assert checks.check_throttle_rates() == []
    assert checks.check_throttle_caches() == []


def test_e101_setting_rate_does_not_parse(settings):
    use_throttles(settings, "AnyUser", rates={"user": "10/s", "uploads": "100/fortnight"})
    messages = checks.check_throttle_rates()
    assert ids(messages) == ["apierrors.E101"]
    assert 'DEFAULT_THROTTLE_RATES["uploads"]' in messages[0].msg
    assert "unknown unit 'fortnight'" in messages[0].msg


def test_e101_list_of_rates_in_a_setting(settings):
    use_throttles(settings, "AnyUser", rates={"user": ["10/s", None]})
    assert ids(checks.check_throttle_rates()) == ["apierrors.E101"]


@pytest.mark.parametrize("throttle", ["BadRate", "BadRates"])
def test_e101_class_rate_does_not_parse(settings, throttle):
    use_throttles(settings, throttle)
    messages = checks.check_throttle_rates()
    assert ids(messages) == ["apierrors.E101"]
    assert f"{throttle}.rate" in messages[0].msg


def test_e102_cache_alias_missing(settings):
    use_throttles(settings, "AnyUser")
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_CACHE": "throttles"}
    assert ids(checks.check_throttle_caches()) == ["apierrors.E102"]


def test_e102_class_cache_alias_missing(settings):
    use_throttles(settings, "OwnCache")
    messages = checks.check_throttle_caches()
    assert ids(messages) == ["apierrors.E102"]
    assert "throttles-elsewhere" in messages[0].msg


@pytest.mark.parametrize("throttle", ["BadAlgorithm", "BadBurst"])
def test_e103_algorithm_or_burst(settings, throttle):
    use_throttles(settings, throttle)
    assert ids(checks.check_throttle_rates()) == ["apierrors.E103"]


def test_e104_scope_without_rate(settings):
    use_throttles(settings, "MissingScope")
    messages = checks.check_throttle_rates()
    assert ids(messages) == ["apierrors.E104"]
    assert "'nowhere'" in messages[0].msg


class UploadThrottle(UserRateLimitThrottle):
    scope = "uploads"


class CampaignViewSet(viewsets.ViewSet):
    def list(self, request):
        return Response([])

    @action(detail=False, methods=["post"], throttle_classes=[UploadThrottle])
    def upload(self, request):
        return Response({})


def routes(settings, monkeypatch, patterns: list[object]) -> None:
    """Serve ``patterns`` from this module, the URLconf the checks read."""
    monkeypatch.setattr(sys.modules[__name__], "urlpatterns", patterns)
    settings.ROOT_URLCONF = THIS
    clear_url_caches()


def test_e104_throttles_and_scopes_a_route_gives_its_view(settings, monkeypatch):
    # DRF's @action(throttle_classes=...) and as_view(throttle_scope=...) set them on the
    # view of one route only.
    router = SimpleRouter()
    router.register("campaigns", CampaignViewSet, basename="campaign")
    use_throttles(settings, rates={"uploads": "5/minute", "exports": "1/hour"})
    routes(settings, monkeypatch, [*router.urls, path("exports", exports)])
    assert checks.check_throttle_rates() == []
    use_throttles(settings, rates={})
    routes(settings, monkeypatch, [*router.urls, path("exports", exports)])
    messages = checks.check_throttle_rates()
    assert sorted(message.msg for message in messages) == [
        "Throttle ScopedRateLimitThrottle on ScopedView uses the scope 'exports', which has "
        "no rate.",
        "Throttle UploadThrottle on CampaignViewSet.upload uses the scope 'uploads', which "
        "has no rate.",
    ]
    assert ids(messages) == ["apierrors.E104", "apierrors.E104"]


def test_a_route_served_twice_is_checked_once(settings, monkeypatch):
    routers = [SimpleRouter(), SimpleRouter()]
    for router in routers:
        router.register("campaigns", CampaignViewSet, basename="campaign")
    use_throttles(settings, rates={})
    routes(settings, monkeypatch, [*routers[0].urls, path("v2/", include(routers[1].urls))])
    messages = checks.check_throttle_rates()
    assert [message.msg for message in messages] == [
        "Throttle UploadThrottle on CampaignViewSet.upload uses the scope 'uploads', which "
        "has no rate."
    ]


exports = ScopedView.as_view(throttle_scope="exports")


class OneClassNotAList(APIView):
    # A tuple without its comma: DRF fails on it at the view's first request.
    throttle_classes = UserRateLimitThrottle  # type: ignore[assignment]


def test_throttle_classes_that_are_not_a_list_do_not_break_the_checks(settings, monkeypatch):
    use_throttles(settings)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_CLASSES": f"{THIS}.MissingScope",  # one path, not a list
    }
    routes(settings, monkeypatch, [path("one", OneClassNotAList.as_view())])
    registered: list[object] = list(django_checks.registry.registry.get_checks())
    for check in (
        checks.check_throttle_rates,
        checks.check_throttle_caches,
        checks.check_throttle_key_prefix,
        checks.check_rate_limit_headers,
    ):
        assert check in registered
        assert check() == []
    assert checks.throttles_in_use() == []


class ListedScope(UserRateLimitThrottle):
    scope = ["user"]  # type: ignore[assignment]  # a typo the checks must report, not raise on


class NoRatesAtAll(UserRateLimitThrottle):
    THROTTLE_RATES = None  # type: ignore[assignment]


class NumberedCache(UserRateLimitThrottle):
    cache_alias = 5  # type: ignore[assignment]


class NumberedStore(UserRateLimitThrottle):
    store = 5  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("throttle", "rates", "expected"),
    [
        ("AnyUser", None, ["apierrors.E101", "apierrors.E104"]),
        ("AnyUser", ["user"], ["apierrors.E101", "apierrors.E104"]),
        ("ListedScope", {"user": "1/second"}, ["apierrors.E104"]),
        ("NoRatesAtAll", {"user": "1/second"}, ["apierrors.E101", "apierrors.E104"]),
        ("NumberedCache", {"user": "1/second"}, ["apierrors.E102"]),
        ("NumberedStore", {"user": "1/second"}, ["apierrors.E102"]),
    ],
)
def test_a_misconfiguration_is_reported_never_raised(settings, throttle, rates, expected):
    use_throttles(settings, throttle)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    settings.DEBUG = True  # no W101 for the tests' LocMemCache
    messages = [*checks.check_throttle_rates(), *checks.check_throttle_caches()]
    assert sorted(ids(messages)) == expected
    assert all(message.level >= django_checks.ERROR for message in messages)


def test_e104_scoped_throttle_reads_the_views_scope(settings, monkeypatch):
    use_throttles(settings)
    monkeypatch.setattr(in_use, "_view_classes", lambda patterns: [ScopedView])
    assert ids(checks.check_throttle_rates()) == ["apierrors.E104"]
    use_throttles(settings, rates={"uploads": "5/minute"})
    assert checks.check_throttle_rates() == []


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    ],
)
def test_w101_cache_private_to_a_process_outside_debug(settings, backend):
    use_throttles(settings, "AnyUser")
    use_cache(settings, {"BACKEND": backend})
    settings.DEBUG = False
    messages = checks.check_throttle_caches()
    assert ids(messages) == ["apierrors.W101"]
    settings.DEBUG = True
    assert checks.check_throttle_caches() == []


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.filebased.FileBasedCache",
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.memcached.PyMemcacheCache",
        "django.core.cache.backends.memcached.PyLibMCCache",
    ],
)
def test_e105_shared_backend_without_atomic_checks_is_an_error(settings, tmp_path, backend):
    use_throttles(settings, "AnyUser")
    location = str(tmp_path) if "filebased" in backend else "127.0.0.1:11211"
    if "db." in backend:
        location = "throttles"
    use_cache(settings, {"BACKEND": backend, "LOCATION": location})
    messages = checks.check_throttle_caches()
    assert ids(messages) == ["apierrors.E105"]
    assert messages[0].level == django_checks.ERROR
    assert "not exact" in messages[0].msg


@pytest.mark.parametrize(
    "config",
    [
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://h:1/0"},
        {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://h:1/0"},
    ],
)
def test_redis_caches_pass_even_without_socket_timeouts(settings, config):
    # The store's own connections carry THROTTLE_STORE_TIMEOUT whatever the cache sets.
    use_throttles(settings, "AnyUser")
    use_cache(settings, config)
    settings.DEBUG = False
    assert checks.check_throttle_caches() == []


def test_w103_headers_without_middleware(settings):
    use_throttles(settings, "AnyUser")
    settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
    assert ids(checks.check_rate_limit_headers()) == ["apierrors.W103"]
    settings.APIERRORS = {**settings.APIERRORS, "RATELIMIT_HEADERS": False}
    assert checks.check_rate_limit_headers() == []


def test_e106_store_uri_with_a_scheme_no_store_serves(settings):
    use_throttles(settings, "AnyUser")
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE": "mongodb://u:s3cret@h/db"}
    messages = checks.check_throttle_caches()
    assert ids(messages) == ["apierrors.E106"]
    assert "'mongodb'" in messages[0].msg
    assert "s3cret" not in messages[0].msg
    assert messages[0].hint is not None
    assert "redis+sentinel" in messages[0].hint
    for uri in ("redis://:s3cret@h:6379/0", "rediss://h/0", "redis+sentinel://h:26379/svc"):
        settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE": uri}
        assert checks.check_throttle_caches() == []


def test_e106_accepts_any_registered_scheme(settings, own_store_classes):
    use_throttles(settings, "AnyUser")
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE": "valkey+cluster://h:7000"}
    assert ids(checks.check_throttle_caches()) == ["apierrors.E106"]
    ratelimit.register_store(f"{THIS}.ClusterLikeStore")
    assert checks.check_throttle_caches() == []


def test_a_store_uri_wins_over_the_cache(settings, tmp_path):
    use_throttles(settings, "AnyUser")
    use_cache(
        settings,
        {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": tmp_path},
    )
    assert ids(checks.check_throttle_caches()) == ["apierrors.E105"]
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE": "redis://h:6379/0"}
    assert checks.check_throttle_caches() == []


def test_e005_unknown_algorithm_setting(settings):
    settings.APIERRORS = {"THROTTLE_ALGORITHM": "sliding_log"}
    messages = check_settings()
    assert ids(messages) == ["apierrors.E005"]
    assert "'fixed_window'" in messages[0].msg


def test_throttle_with_a_valid_rate_is_not_flagged(settings):
    use_throttles(settings, "AnyUser")
    assert checks.check_throttle_rates() == []


class SharedFileStore(Store):
    """A store that keeps its state in a file cache and checks atomically (say, with locks)."""

    shared = True
    atomic = True
    backends = ("django.core.cache.backends.filebased.FileBasedCache",)


class SharedLocMemStore(Store):
    """A store that serves LocMemCache but shares its state by other means, not atomically."""

    shared = True
    atomic = False
    backends = ("django.core.cache.backends.locmem.LocMemCache",)


class ClusterLikeStore(Store):
    """A store another package registers for a scheme of its own."""

    shared = True
    atomic = True
    schemes = ("valkey+cluster",)


@pytest.fixture
def own_store_classes(monkeypatch):
    monkeypatch.setattr(ratelimit, "STORE_CLASSES", list(ratelimit.STORE_CLASSES))


def test_e105_asks_the_store_class_not_the_backend(settings, tmp_path, own_store_classes):
    use_throttles(settings, "AnyUser")
    use_cache(
        settings,
        {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": tmp_path},
    )
    ratelimit.register_store(f"{THIS}.SharedFileStore")
    assert checks.check_throttle_caches() == []


def test_w101_not_for_a_shared_store_over_locmem(settings, own_store_classes):
    use_throttles(settings, "AnyUser")
    use_cache(settings, {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"})
    settings.DEBUG = False
    ratelimit.register_store(f"{THIS}.SharedLocMemStore")
    assert ids(checks.check_throttle_caches()) == ["apierrors.E105"]
