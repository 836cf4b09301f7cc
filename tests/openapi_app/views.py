"""Small views whose schema tests/test_openapi.py checks: one per inference rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, viewsets
from rest_framework.authentication import (
    BaseAuthentication,
    BasicAuthentication,
    SessionAuthentication,
)
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
    schema,
    throttle_classes,
)
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import (
    AllowAny,
    BasePermission,
    IsAuthenticated,
    OperandHolder,
    SingleOperandHolder,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, BaseThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from apierrors import codes
from apierrors import exceptions as errors
from apierrors.contrib.simplejwt import JWTAuthentication
from apierrors.openapi import AutoSchema, raises
from apierrors.permissions import HasScopes
from apierrors.problem import ContentNegotiation
from tests.openapi_app.exceptions import QuotaExhausted
from tests.openapi_app.serializers import (
    NoteSerializer,
    ReportSerializer,
    StrictNoteSerializer,
    ThingSerializer,
)
from tests.testapp.models import Thing

NOTE = {"id": 1, "title": "Hello", "body": ""}


class Open:
    """No authentication, permission or throttle: the views' defaults come from the sandbox."""

    authentication_classes: Sequence[type[BaseAuthentication]] = []
    # The type APIView declares, so that the two bases agree.
    permission_classes: Sequence[type[BasePermission] | OperandHolder | SingleOperandHolder] = [
        AllowAny
    ]
    throttle_classes: Sequence[type[BaseThrottle]] = []


class PingView(Open, APIView):
    """GET with nothing that can fail but content negotiation and the server."""

    @extend_schema(responses={200: None})
    def get(self, request: Request) -> Response:
        return Response({"pong": True})


class MissingView(Open, APIView):
    """Always answers 404 RESOURCE_NOT_FOUND (the docUrl and problem details tests)."""

    content_negotiation_class = ContentNegotiation

    @raises(errors.ResourceNotFound)
    @extend_schema(responses={200: None})
    def get(self, request: Request) -> Response:
        raise errors.ResourceNotFound("Note 42 does not exist.")


class ValidatedView(Open, APIView):
    """POST that validates its body (problem details tests)."""

    content_negotiation_class = ContentNegotiation

    @extend_schema(request=NoteSerializer, responses={201: NoteSerializer})
    def post(self, request: Request) -> Response:
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(NOTE, status=201)


class NoteThrottle(AnonRateThrottle):
    rate = "100/hour"


class NotePagination(PageNumberPagination):
    page_size = 10


class NoteListView(generics.ListCreateAPIView[Any]):
    """Authenticated, throttled, paginated list and create."""

    authentication_classes = [BasicAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [NoteThrottle]
    pagination_class = NotePagination
    serializer_class = NoteSerializer

    def get_queryset(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return [NOTE]


class ThingListView(Open, generics.ListCreateAPIView[Thing]):
    """A model serializer with a unique field: its create answers 409 DUPLICATE_RESOURCE."""

    queryset = Thing.objects.order_by("pk")
    serializer_class = ThingSerializer
    pagination_class = None


class IsOwner(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return False


@raises(errors.ResourceConflict)
class NoteDetailView(APIView):
    """Path parameter, scopes, an owner check, session authentication (CSRF) and a
    class-level ``@raises`` stacked with a method-level one."""

    authentication_classes = [JWTAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, HasScopes | IsOwner]
    throttle_classes: list[type] = []
    required_scopes = {"GET": ["notes:read"], "PATCH": ["notes:write"], "DELETE": []}

    @extend_schema(responses={200: NoteSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(NOTE)

    @extend_schema(request=StrictNoteSerializer, responses={200: NoteSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        return Response(NOTE)

    @raises(errors.CampaignAlreadyActive, codes.DUPLICATE_RESOURCE)
    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        return Response(status=204)


class UnconfiguredThrottle(SimpleRateThrottle):
    """A DRF throttle whose scope has no rate: instantiating it raises."""

    scope = "openapi-test-unconfigured"


@extend_schema_view(
    create=[extend_schema(summary="Create a report"), raises(errors.DuplicateResource)],
)
class ReportViewSet(viewsets.GenericViewSet[Any]):
    """A viewset: scopes per method and per action, declared errors on an inherited action,
    a custom action stacking ``@extend_schema`` and ``@raises`` in both orders, a project
    code."""

    authentication_classes = [JWTAuthentication]
    permission_classes = [HasScopes]
    required_scopes = {"GET": ["reports:read"], "POST": ["reports:write"], "publish": ["share"]}
    throttle_classes = [UnconfiguredThrottle]
    serializer_class = ReportSerializer
    pagination_class = None
    lookup_value_converter = "int"

    def list(self, request: Request) -> Response:
        return Response([])

    def create(self, request: Request) -> Response:
        return Response({"id": 1, "name": "r"}, status=201)

    @extend_schema(request=None, responses={202: ReportSerializer})
    @raises(errors.PublishingFailed, errors.RateLimitExceeded)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: int) -> Response:
        return Response({"id": 1, "name": "r"}, status=202)

    @raises(QuotaExhausted)
    @extend_schema(request=None, responses={202: ReportSerializer})
    @action(detail=False, methods=["post"])
    def generate(self, request: Request) -> Response:
        return Response({"id": 1, "name": "r"}, status=202)


@raises(errors.ServiceUnavailable)
@extend_schema(responses={200: None})
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
# @api_view copies the schema of DEFAULT_SCHEMA_CLASS when it runs, before a test's settings.
@schema(AutoSchema())
def health(request: Request) -> Response:
    return Response({"ok": True})
