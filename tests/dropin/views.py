"""Views written the way real DRF projects write them, for the drop-in tests."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.decorators import method_decorator
from rest_framework import exceptions as drf
from rest_framework import status
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.decorators import api_view
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apierrors import exceptions as errors
from tests.testapp.models import Thing

FAILURES: dict[str, Any] = {
    "runtime": lambda: RuntimeError("boom"),
    "django_validation": lambda: DjangoValidationError("Bad value.", code="invalid"),
    "protected": lambda: ProtectedError("protected", set()),
    "integrity": lambda: IntegrityError("UNIQUE constraint failed: testapp_thing.name"),
    "not_found": lambda: drf.NotFound("No such thing."),
}


@method_decorator(transaction.atomic, name="dispatch")
class AtomicWriteView(APIView):
    """Writes a row, then fails: DRF lets the failure out and the atomic block rolls back."""

    def post(self, request: Request, failure: str) -> Response:
        Thing.objects.create(name=f"written-{failure}")
        raise FAILURES[failure]()


@transaction.atomic
@api_view(["POST"])
def atomic_function_view(request: Request, failure: str) -> Response:
    Thing.objects.create(name=f"fn-written-{failure}")
    raise FAILURES[failure]()


class RefusesAnonymously(BasePermission):
    """Refuses with apierrors' own Unauthorized when asked to (``?raise=unauthorized``)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.query_params.get("raise") == "unauthorized":
            raise errors.Unauthorized()
        # request.user is None where UNAUTHENTICATED_USER is None, which DRF's types omit.
        return bool(getattr(request.user, "is_authenticated", False))


class SessionFirstView(APIView):
    """DRF's default authentication order: SessionAuthentication gives no challenge."""

    authentication_classes = [SessionAuthentication, BasicAuthentication]
    permission_classes = [RefusesAnonymously]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class BasicFirstView(APIView):
    authentication_classes = [BasicAuthentication]
    permission_classes = [RefusesAnonymously]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class ParseView(APIView):
    """Reads the body, as any view does."""

    def post(self, request: Request) -> Response:
        return Response(request.data)


class Slugged(drf.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."


class PaymentRequired(drf.ValidationError):
    status_code = 402


class Conflicting(drf.ValidationError):
    status_code = 409


class Gone(drf.APIException):
    status_code = 410
    default_detail = "This campaign was archived."


class Teapot(drf.APIException):
    status_code = 418
    default_detail = "No coffee here."


class Unavailable(drf.APIException):
    status_code = 504
    default_detail = "The upstream timed out."


RAISED: dict[str, Any] = {
    "parse_error": lambda: drf.ParseError("The signature block is missing."),
    "not_acceptable": lambda: drf.NotAcceptable("Invalid version in Accept header."),
    "not_acceptable_default": lambda: drf.NotAcceptable(),
    "throttled": lambda: drf.Throttled(wait=30, detail="Export quota used up."),
    "throttled_default": lambda: drf.Throttled(wait=30),
    "method_not_allowed": lambda: drf.MethodNotAllowed("BREW"),
    "method_not_allowed_own": lambda: drf.MethodNotAllowed("PUT", detail="Campaigns are final."),
    "unsupported": lambda: drf.UnsupportedMediaType("text/evil"),
    "dict_detail": lambda: Slugged({"slug": ["taken"]}),
    "list_detail": lambda: Slugged(["first", "second"]),
    "dict_detail_500": lambda: drf.APIException({"slug": ["taken"]}),
    "validation_402": lambda: PaymentRequired({"plan": ["Upgrade to continue."]}),
    "validation_409": lambda: Conflicting("Already taken."),
    "gone": lambda: Gone(),
    "teapot": lambda: Teapot(),
    "unavailable": lambda: Unavailable(),
    "empty_validation": lambda: drf.ValidationError(""),
    "empty_detail": lambda: drf.NotFound(""),
    "dotted_keys": lambda: drf.ValidationError(
        {"d": {"a.b": ["bad"], "c[0]": ["bad"], "back\\slash": ["bad"]}, "d.a": {"b": ["bad"]}}
    ),
}


class RaiseView(APIView):
    def get(self, request: Request, name: str) -> Response:
        raise RAISED[name]()
