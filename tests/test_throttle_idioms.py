"""DRF's throttle idioms on apierrors' throttles: each works as in DRF or fails at start-up.

A project that renames ``SimpleRateThrottle``/``UserRateThrottle``/``AnonRateThrottle``/
``ScopedRateThrottle`` to apierrors' classes must lose no limit (docs/throttling.md,
"Coming from DRF's throttles"). Views are called directly, as DRF's own tests do.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache as default_cache
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apierrors.ratelimit import Rate, checks, idiom_checks
from apierrors.throttling import (
    AnonRateLimitThrottle,
    RateLimitThrottle,
    ScopedRateLimitThrottle,
    UserRateLimitThrottle,
    cache_alias_of,
)
from tests.throttle_app.helpers import next_alias, set_rates

pytest_plugins = ["tests.throttle_app.fixtures"]
pytestmark = pytest.mark.django_db

THIS = "tests.test_throttle_idioms"
urlpatterns: list[object] = []  # this module doubles as an empty URLconf for the checks


def view_for(*throttles: type, **attributes: Any) -> Any:
    """A view throttled by ``throttles``, as a callable."""
    view: type[APIView] = type(
        "View",
        (APIView,),
        {
            "throttle_classes": throttles,
            "get": lambda self, request: Response("ok"),
            **attributes,
        },
    )
    return view.as_view()


def get(view: Any, remote: str = "203.0.113.9", forwarded: str | None = None) -> Any:
    headers = {} if forwarded is None else {"x-forwarded-for": forwarded}
    request = APIRequestFactory().get("/", REMOTE_ADDR=remote, headers=headers)
    return view(request)


def statuses(view: Any, count: int, **kwargs: Any) -> list[int]:
    return [get(view, **kwargs).status_code for _ in range(count)]


def use_throttles(settings: Any, *names: str, rates: dict[str, object] | None = None) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_CLASSES": [f"{THIS}.{name}" for name in names],
        "DEFAULT_THROTTLE_RATES": rates if rates is not None else {"anon": "10/minute"},
    }
    settings.ROOT_URLCONF = THIS


# REST_FRAMEWORK["NUM_PROXIES"] ---------------------------------------------------------------


class OnePerDay(AnonRateLimitThrottle):
    rate = "1/day"


def test_drf_num_proxies_applies_when_apierrors_sets_none(settings, store):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    view = view_for(OnePerDay)
    # Two clients behind one proxy (one REMOTE_ADDR) each get their own quota.
    assert get(view, remote="10.0.0.1", forwarded="198.51.100.1").status_code == 200
    assert get(view, remote="10.0.0.1", forwarded="198.51.100.2").status_code == 200
    assert get(view, remote="10.0.0.1", forwarded="198.51.100.1").status_code == 429
    # The entry the proxy wrote counts, not what the client put before it.
    assert get(view, remote="10.0.0.1", forwarded="6.6.6.6, 198.51.100.2").status_code == 429


def test_apierrors_num_proxies_wins_even_when_none(settings, store):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.APIERRORS = {**settings.APIERRORS, "NUM_PROXIES": None}
    view = view_for(OnePerDay)
    assert get(view, remote="10.0.0.1", forwarded="198.51.100.1").status_code == 200
    assert get(view, remote="10.0.0.1", forwarded="198.51.100.2").status_code == 429


def test_drf_num_proxies_set_on_api_settings_is_read_per_request(settings, store, monkeypatch):
    view = view_for(OnePerDay)
    assert get(view, remote="10.0.0.1", forwarded="198.51.100.1").status_code == 200
    assert get(view, remote="10.0.0.1", forwarded="198.51.100.2").status_code == 429
    # DRF's own tests set the attribute directly.
    monkeypatch.setattr(api_settings, "NUM_PROXIES", 1)
    assert get(view, remote="10.0.0.1", forwarded="198.51.100.2").status_code == 200


# THROTTLE_RATES ------------------------------------------------------------------------------


class OwnRates(ScopedRateLimitThrottle):
    THROTTLE_RATES: dict[str, Any] = {"x": "2/minute", "y": "1/minute"}


def test_throttle_rates_class_attribute_is_read_by_scope(settings, store):
    set_rates(settings, anon="100/minute")  # neither "x" nor "y"
    x_view = view_for(OwnRates, throttle_scope="x")
    y_view = view_for(OwnRates, throttle_scope="y")
    assert statuses(x_view, 3) == [200, 200, 429]
    assert statuses(y_view, 2) == [200, 429]


def test_throttle_rates_class_attribute_wins_over_the_setting(settings, store):
    set_rates(settings, x="100/minute")
    view = view_for(OwnRates, throttle_scope="x")
    assert statuses(view, 3) == [200, 200, 429]


def test_a_scope_missing_from_own_throttle_rates_does_not_fall_back(settings, store):
    # As in DRF: a class's THROTTLE_RATES is the only place its scopes are looked up.
    set_rates(settings, z="100/minute")
    throttle = OwnRates()
    throttle.scope = "z"
    with pytest.raises(ImproperlyConfigured, match=r"'z' scope in OwnRates\.THROTTLE_RATES"):
        throttle.get_rate()


def test_throttle_rates_follows_the_setting_unless_overridden(settings, store):
    set_rates(settings, anon="1/minute")
    assert RateLimitThrottle.THROTTLE_RATES == {"anon": "1/minute"}
    assert AnonRateLimitThrottle().THROTTLE_RATES == {"anon": "1/minute"}
    assert statuses(view_for(AnonRateLimitThrottle), 2) == [200, 429]
    set_rates(settings, anon="3/minute")
    assert RateLimitThrottle.THROTTLE_RATES == {"anon": "3/minute"}
    view = view_for(AnonRateLimitThrottle)
    assert statuses(view, 4, remote="203.0.113.10") == [200, 200, 200, 429]


class MissingOwnScope(UserRateLimitThrottle):
    scope = "elsewhere"
    THROTTLE_RATES: dict[str, Any] = {"user": "5/minute"}


class OwnScope(UserRateLimitThrottle):
    scope = "mine"
    THROTTLE_RATES: dict[str, Any] = {"mine": "5/fortnight"}


def test_checks_read_a_class_throttle_rates(settings):
    use_throttles(settings, "OwnRates", "MissingOwnScope", rates={"elsewhere": "1/minute"})
    messages = checks.check_throttle_rates()
    assert [message.id for message in messages] == ["apierrors.E104"]
    assert "MissingOwnScope" in messages[0].msg
    assert messages[0].hint == "Add 'elsewhere' to MissingOwnScope.THROTTLE_RATES."
    use_throttles(settings, "OwnScope", rates={})
    messages = checks.check_throttle_rates()
    assert [message.id for message in messages] == ["apierrors.E101"]
    assert 'OwnScope.THROTTLE_RATES["mine"]' in messages[0].msg


# cache = caches[...] -------------------------------------------------------------------------


def test_cache_attribute_names_the_store(settings, store):
    # The test lifts the limit by clearing the cache, which remembered refusals outlive.
    settings.APIERRORS = {
        **settings.APIERRORS,
        "THROTTLE_CACHE": "default",
        "REMEMBER_DENIALS": False,
    }

    class OwnCache(AnonRateLimitThrottle):
        rate = "1/minute"
        cache = caches[store]

    view = view_for(OwnCache)
    assert statuses(view, 2) == [200, 429]
    caches["default"].clear()  # THROTTLE_CACHE holds nothing of this throttle
    assert get(view).status_code == 429
    caches[store].clear()
    assert get(view).status_code == 200


def test_cache_attribute_works_in_other_threads(settings, store):
    # The test lifts the limit by clearing the cache, which remembered refusals outlive.
    settings.APIERRORS = {
        **settings.APIERRORS,
        "THROTTLE_CACHE": "default",
        "REMEMBER_DENIALS": False,
    }

    class OwnCache(AnonRateLimitThrottle):
        rate = "1/minute"
        cache = caches[store]  # this thread's object; another thread gets another one

    view = view_for(OwnCache)
    assert get(view).status_code == 200
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(get(view).status_code))
    thread.start()
    thread.join()
    assert seen == [429]
    caches[store].clear()
    assert get(view).status_code == 200


def test_default_cache_proxy_is_the_default_alias():
    assert cache_alias_of(default_cache) == "default"
    assert cache_alias_of(caches["default"]) == "default"
    assert cache_alias_of(LocMemCache("elsewhere", {})) is None


class ForeignCache(AnonRateLimitThrottle):
    rate = "1/minute"
    cache = LocMemCache(f"foreign{next_alias()}", {})


def test_e108_cache_not_in_caches(settings):
    use_throttles(settings, "ForeignCache")
    messages = idiom_checks.check_drf_idioms()
    assert [message.id for message in messages] == ["apierrors.E109"]
    assert "ForeignCache" in messages[0].msg
    assert messages[0].hint is not None
    assert "cache_alias" in messages[0].hint
    with pytest.raises(ImproperlyConfigured, match="apierrors.E109"):
        ForeignCache().allow_request(APIRequestFactory().get("/"), None)  # type: ignore[arg-type]


# parse_rate() ---------------------------------------------------------------------------------


def test_parse_rate_as_drf():
    throttle = RateLimitThrottle()
    assert throttle.parse_rate(None) == (None, None)
    assert throttle.parse_rate("100/hour") == (100, 3600)
    assert throttle.parse_rate("10/5m") == (10, 300)


class PerWords(AnonRateLimitThrottle):
    """Rates written "<count> per <seconds>", read by its own parse_rate()."""

    def parse_rate(self, rate):
        if rate is None:
            return (None, None)
        count, seconds = rate.split(" per ")
        return (int(count), int(seconds))


def test_overridden_parse_rate_is_used(settings, store):
    set_rates(settings, anon="2 per 60")
    view = view_for(PerWords)
    assert statuses(view, 3) == [200, 200, 429]
    throttle = PerWords()
    plan = throttle.get_plan()
    assert plan is not None
    assert [policy.rate for policy in plan.policies] == [Rate(2, 60)]


def test_overridden_parse_rate_changes_what_a_rate_means(settings, store):
    class FirstLetter(AnonRateLimitThrottle):
        # DRF's own parser reads only the unit's first letter: "1/mo" is per minute there.
        def parse_rate(self, rate):
            count, unit = rate.split("/")
            return (int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit[0]])

    set_rates(settings, anon="1/mo")
    view = view_for(FirstLetter)
    assert statuses(view, 2) == [200, 429]
    assert int(get(view)["Retry-After"]) <= 60


def test_parse_rate_returning_nonsense_is_an_error(settings, store):
    class Nonsense(AnonRateLimitThrottle):
        def parse_rate(self, rate):
            return (5, 0.5)

    set_rates(settings, anon="5/second")
    with pytest.raises(ImproperlyConfigured, match=r"Nonsense\.parse_rate\('5/second'\)"):
        Nonsense().get_plan()


@pytest.mark.parametrize("parsed", [(10**10, 60), (1, 10**10), (1, 2, 3), None])
def test_parse_rate_returning_more_than_a_store_counts_is_an_error(settings, parsed):
    class Vast(AnonRateLimitThrottle):
        def parse_rate(self, rate):
            return parsed

    set_rates(settings, anon="5/second")
    with pytest.raises(ImproperlyConfigured, match=r"Vast\.parse_rate\('5/second'\)"):
        Vast().get_plan()


class PerWordsVast(PerWords):
    scope = "vast"


def test_checks_refuse_what_an_overridden_parse_rate_makes_too_large(settings):
    use_throttles(settings, "PerWordsVast", rates={"vast": "1 per 10000000000"})
    messages = checks.check_throttle_rates()
    assert [message.id for message in messages] == ["apierrors.E101"]
    assert "'1 per 10000000000'" in messages[0].msg


class PerWordsBroken(PerWords):
    scope = "broken"


def test_checks_read_rates_with_an_overridden_parse_rate(settings):
    use_throttles(settings, "PerWords", rates={"anon": "2 per 60"})
    assert checks.check_throttle_rates() == []
    use_throttles(settings, "PerWordsBroken", rates={"broken": "2 each 60"})
    messages = checks.check_throttle_rates()
    assert [message.id for message in messages] == ["apierrors.E101"]
    assert "'2 each 60'" in messages[0].msg


def test_a_rate_is_checked_for_every_throttle_that_reads_it(settings):
    # AnonRateLimitThrottle reads "anon" with apierrors' parser, PerWords with its own.
    use_throttles(settings, "PerWords", rates={"anon": "2 per 60"})
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"].append(
        "apierrors.throttling.AnonRateLimitThrottle"
    )
    messages = checks.check_throttle_rates()
    assert [message.id for message in messages] == ["apierrors.E101"]
    assert "'2 per 60' does not parse" in messages[0].msg


class Unmakeable(PerWords):
    rate = "2 per 60"
    algorithm = "leaky_bucket"

    def __init__(self, required):
        self.required = required


def test_a_throttle_that_cannot_be_made_is_reported_and_still_checked(settings):
    use_throttles(settings, "Unmakeable")
    messages = checks.check_throttle_rates()
    assert [message.id for message in messages] == ["apierrors.E101", "apierrors.E103"]
    assert "cannot be instantiated" in messages[0].msg


# throttle_success() / throttle_failure() ------------------------------------------------------


class Counting(AnonRateLimitThrottle):
    rate = "2/minute"
    calls: ClassVar[list[str]] = []

    def throttle_success(self):
        self.calls.append("success")
        return super().throttle_success()

    def throttle_failure(self):
        self.calls.append("failure")
        return super().throttle_failure()


def test_throttle_success_and_failure_are_called(settings, store):
    Counting.calls.clear()
    assert statuses(view_for(Counting), 3) == [200, 200, 429]
    assert Counting.calls == ["success", "success", "failure"]


def test_not_called_when_the_request_is_not_counted(settings, store):
    class Skipping(Counting):
        def get_cache_key(self, request, view):
            return None

    Counting.calls.clear()
    assert statuses(view_for(Skipping), 3) == [200, 200, 200]
    assert Counting.calls == []


def test_their_result_is_allow_requests(settings, store):
    class Lenient(AnonRateLimitThrottle):
        rate = "1/minute"

        def throttle_failure(self):
            return True  # log-only: let it through

    class Strict(AnonRateLimitThrottle):
        rate = "5/minute"

        def throttle_success(self):
            return False

    assert statuses(view_for(Lenient), 3) == [200, 200, 200]
    assert statuses(view_for(Strict), 2) == [429, 429]


# The rest of SimpleRateThrottle's options and hooks work as in DRF ---------------------------


def test_timer_method_scope_attr_cache_format_key_wait_get_ident(settings, store):
    class Everything(ScopedRateLimitThrottle):
        TIMER_SECONDS = 1_800_000_000.0
        THROTTLE_RATES: dict[str, Any] = {"reports": "1/minute"}
        scope_attr = "rate_group"
        cache_format = "custom_%(scope)s_%(ident)s"
        seen_keys: ClassVar[list[str | None]] = []

        def timer(self):
            return self.TIMER_SECONDS

        def get_ident(self, request):
            return request.META["HTTP_X_CLIENT"]

        def wait(self):
            self.seen_keys.append(self.key)
            return 7.2

    view = view_for(Everything, rate_group="reports")
    factory = APIRequestFactory()
    assert view(factory.get("/", HTTP_X_CLIENT="a")).status_code == 200
    assert view(factory.get("/", HTTP_X_CLIENT="b")).status_code == 200
    response = view(factory.get("/", HTTP_X_CLIENT="a"))
    assert response.status_code == 429
    assert response["Retry-After"] == "8"
    assert Everything.seen_keys == ["custom_reports_a"]
    Everything.TIMER_SECONDS += 60
    assert view(factory.get("/", HTTP_X_CLIENT="a")).status_code == 200


def test_timer_as_time_time_like_drf(settings, store):
    class WallClock(AnonRateLimitThrottle):
        rate = "1/minute"
        timer = time.time

    assert statuses(view_for(WallClock), 2) == [200, 429]


class ByAccountNumber(RateLimitThrottle):
    """A key that is not a string: DRF hands it to the cache, which formats it."""

    rate = "2/minute"

    def get_cache_key(self, request, view):
        return int(request.META["HTTP_X_ACCOUNT"])


@pytest.mark.parametrize("throttled", ["sync", "async"])
def test_a_cache_key_that_is_not_a_string_counts_as_its_text(settings, store, throttled):
    view = view_for(ByAccountNumber)
    factory = APIRequestFactory()
    if throttled == "sync":
        answers = [view(factory.get("/", HTTP_X_ACCOUNT="42")).status_code for _ in range(3)]
        answers.append(view(factory.get("/", HTTP_X_ACCOUNT="7")).status_code)
        assert answers == [200, 200, 429, 200]
    else:
        throttle = ByAccountNumber()
        request = factory.get("/", HTTP_X_ACCOUNT="42")
        assert [async_to_sync(throttle.aallow_request)(request, None) for _ in range(3)] == [
            True,
            True,
            False,
        ]


# DRF-only state: apierrors.E108 ---------------------------------------------------------------


class ReadsHistory(AnonRateLimitThrottle):
    def throttle_failure(self):
        # DRF-only state on purpose: the check under test finds it.
        print(len(self.history))  # type: ignore[attr-defined]  # noqa: T201
        return False


class SetsNumRequests(UserRateLimitThrottle):
    def __init__(self):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)  # type: ignore[arg-type]


class ReadsNow(AnonRateLimitThrottle):
    @property
    def elapsed(self):
        return self.now  # type: ignore[attr-defined]  # DRF-only state on purpose


class ReadsUnsetRate(ScopedRateLimitThrottle):
    def throttle_failure(self):
        # DRF's scoped throttle sets it; this one never does.
        print(self.rate)  # type: ignore[attr-defined]  # noqa: T201
        return False


class ReadsOwnRate(AnonRateLimitThrottle):
    rate = "5/minute"

    def throttle_failure(self):
        print(self.rate)  # noqa: T201
        return False


class SetsThenReadsRate(AnonRateLimitThrottle):
    def __init__(self):
        self.rate = self.get_rate()

    def throttle_failure(self):
        print(self.rate)  # noqa: T201
        return False


class SetsStateInAClosure(UserRateLimitThrottle):
    """``self`` captured by a generator expression: a cell, loaded with LOAD_DEREF."""

    def allow_request(self, request, view):
        if any(group for group in ("premium",) if self.get_rate()):
            self.num_requests, self.duration = 1000, 3600
        return super().allow_request(request, view)


class ReadsStateInAComprehension(AnonRateLimitThrottle):
    def wait(self):
        recent = [moment for moment in self.history if moment > self.now]  # type: ignore[attr-defined]
        return float(len(recent))


class ReadsStateInALambda(AnonRateLimitThrottle):
    def throttle_failure(self):
        print(sorted([1.0], key=lambda moment: moment - self.duration))  # type: ignore[attr-defined]  # noqa: T201
        return False


class Innocent(AnonRateLimitThrottle):
    """Names that are not DRF's state on the throttle."""

    history = None  # a class attribute of its own is not flagged by name alone

    def get_cache_key(self, request, view):
        now = timezone.now()
        duration = 5
        return f"{now.date()}_{duration}_{self.get_ident(request)}"

    def timer(self):
        return time.time()

    @staticmethod
    def history_size():  # no self to read state from
        return 0


@pytest.mark.parametrize(
    ("throttle", "method", "names"),
    [
        ("ReadsHistory", "ReadsHistory.throttle_failure", "history"),
        ("SetsNumRequests", "SetsNumRequests.__init__", "duration, num_requests"),
        ("ReadsNow", "ReadsNow.elapsed", "now"),
        ("ReadsUnsetRate", "ReadsUnsetRate.throttle_failure", "rate"),
        ("SetsStateInAClosure", "SetsStateInAClosure.allow_request", "duration, num_requests"),
        ("ReadsStateInAComprehension", "ReadsStateInAComprehension.wait", "history, now"),
        ("ReadsStateInALambda", "ReadsStateInALambda.throttle_failure", "duration"),
    ],
)
def test_e107_drf_only_state(settings, throttle, method, names):
    use_throttles(settings, throttle, rates={"anon": "1/minute", "user": "1/minute"})
    messages = idiom_checks.check_drf_idioms()
    assert [message.id for message in messages] == ["apierrors.E108"]
    assert f"{method}() uses {names} of DRF's SimpleRateThrottle" in messages[0].msg
    assert messages[0].hint is not None
    assert "Coming from DRF's throttles" in messages[0].hint


def test_e107_not_for_names_that_are_not_the_throttles_state(settings):
    use_throttles(
        settings,
        *("Innocent", "OwnRates", "PerWords", "Counting", "ReadsOwnRate", "SetsThenReadsRate"),
    )
    assert idiom_checks.check_drf_idioms() == []


def test_check_is_registered():
    from django.core import checks as django_checks

    registered: list[object] = list(django_checks.registry.registry.get_checks())
    assert idiom_checks.check_drf_idioms in registered
