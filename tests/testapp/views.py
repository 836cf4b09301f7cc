"""Views that raise every kind of failure the handler and middleware must envelope."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_protect
from rest_framework import exceptions as drf
from rest_framework import serializers as drf_serializers
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from apierrors import exceptions as errors
from apierrors.throttling import UserRateLimitThrottle
from tests.testapp.models import Holder, Thing
from tests.testapp.serializers import LooseSerializer, OrderSerializer, StrictOrderSerializer

logger = logging.getLogger("tests.testapp")


class RaiseCodeView(APIView):
    """Raises the catalogue class of the code in the URL (a 401 takes Basic's challenge)."""

    authentication_classes = [BasicAuthentication]

    def get(self, request: Request, code: str) -> Response:
        raise errors.class_for_code(code)()


DRF_EXCEPTIONS: dict[str, Any] = {
    "not_authenticated": lambda: drf.NotAuthenticated(),
    "authentication_failed": lambda: drf.AuthenticationFailed(),
    "permission_denied": lambda: drf.PermissionDenied("Only owners may do this."),
    "not_found": lambda: drf.NotFound(),
    "http404": lambda: Http404("No Thing matches the given query."),
    "parse_error": lambda: drf.ParseError("JSON parse error - Expecting value: line 1"),
    "method_not_allowed": lambda: drf.MethodNotAllowed("PATCH"),
    "not_acceptable": lambda: drf.NotAcceptable(),
    "unsupported_media_type": lambda: drf.UnsupportedMediaType("text/<script>"),
    "throttled": lambda: drf.Throttled(wait=12.2),
    "throttled_none": lambda: drf.Throttled(wait=None),
    "throttled_fraction": lambda: drf.Throttled(wait=0.2),
    "django_permission_denied": lambda: DjangoPermissionDenied("secret reason"),
    "django_validation": lambda: DjangoValidationError(
        {"name": [DjangoValidationError("Name is taken.", code="taken")]}
    ),
    "django_validation_plain": lambda: DjangoValidationError("Bad value.", code="invalid"),
    "does_not_exist": lambda: Thing.DoesNotExist("Thing matching query does not exist."),
    "suspicious": lambda: SuspiciousOperation("evil /etc/passwd"),
    "custom_api_exception": lambda: CustomConflict(),
    "custom_500_api_exception": lambda: Custom500(),
    "teapot": lambda: Teapot(),
    "jwt_like_dict_detail": lambda: drf.AuthenticationFailed(
        # simplejwt's shape, a non-string leaf included, which DRF's stubs do not allow.
        {"detail": "Given token not valid", "code": "token_not_valid", "messages": [{"a": 1}]}  # type: ignore[dict-item]
    ),
    "uncaught": lambda: RuntimeError("database password is hunter2 at /srv/app/secret.py"),
}


class CustomConflict(drf.APIException):
    status_code = 409
    default_detail = "Already archived."
    default_code = "archived"


class Teapot(drf.APIException):
    status_code = 418
    default_detail = "No coffee here."


class Custom500(drf.APIException):
    status_code = 500
    default_detail = "Internal detail: /srv/app"


class RaiseDRFView(APIView):
    def get(self, request: Request, name: str) -> Response:
        logger.info("about to raise %s", name)
        raise DRF_EXCEPTIONS[name]()


class ThreePerMinute(UserRateLimitThrottle):
    rate = "3/minute"


class ThrottledAuthView(APIView):
    """Authenticates, checks permissions, then throttles: DRF's order."""

    authentication_classes = [BasicAuthentication]
    permission_classes = [IsAdminUser]
    throttle_classes = [ThreePerMinute]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class RefusedInsideView(APIView):
    """Throttled, then refused by the view itself: the throttles have already counted it."""

    throttle_classes = [ThreePerMinute]

    def get(self, request: Request) -> Response:
        raise errors.Forbidden("Only owners may do this.")


class RatelessDRFThrottle(UserRateThrottle):
    scope = "no-such-scope"


class DRFThrottledAuthView(APIView):
    """Throttled by a DRF class whose rate is missing: DRF would fail, but after auth."""

    authentication_classes = [BasicAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [RatelessDRFThrottle]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class AuthView(APIView):
    authentication_classes = [BasicAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class OrderView(APIView):
    def post(self, request: Request) -> Response:
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


class BulkOrderView(APIView):
    def post(self, request: Request) -> Response:
        serializer = OrderSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


class StrictOrderView(APIView):
    def post(self, request: Request) -> Response:
        serializer = StrictOrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


class LooseView(APIView):
    def post(self, request: Request) -> Response:
        serializer = LooseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


class ThingSerializer(drf_serializers.ModelSerializer[Thing]):
    class Meta:
        model = Thing
        fields = ["id", "name"]
        # The view below creates through the ORM so the database's constraint is what fails.
        extra_kwargs: dict[str, dict[str, Any]] = {"name": {"validators": []}}


class ThingCreateView(APIView):
    def post(self, request: Request) -> Response:
        serializer = ThingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            Thing.objects.create(name="audit-" + serializer.validated_data["name"])
            thing = Thing.objects.create(name=serializer.validated_data["name"])
        return Response({"id": thing.pk}, status=201)


class ThingSearchView(APIView):
    """Looks a name up without validating it, as a careless view would."""

    def get(self, request: Request) -> Response:
        name = request.query_params.get("name", "")
        return Response({"found": Thing.objects.filter(name=name).exists()})


class ThingDeleteView(APIView):
    def delete(self, request: Request, pk: int) -> Response:
        Thing.objects.get(pk=pk).delete()
        return Response(status=204)


class HolderCreateView(APIView):
    """Adds a holder of thing ``pk`` without looking the thing up, as a view racing a delete
    would; an audit row is written first, in the same transaction."""

    def post(self, request: Request, pk: int) -> Response:
        with transaction.atomic():
            Thing.objects.create(name=f"audit-holder-{pk}")
            holder = Holder.objects.create(thing_id=pk)
        return Response({"id": holder.pk}, status=201)


class RenameTwoView(APIView):
    """Renames thing ``first``, then thing ``second``, in one transaction.

    ``meanwhile`` runs between the two updates: the tests put a concurrent transaction there.
    ``?isolation=repeatable-read`` runs the transaction at that level (PostgreSQL).
    """

    meanwhile: ClassVar[staticmethod[[], None]] = staticmethod(lambda: None)

    def post(self, request: Request, first: int, second: int) -> Response:
        with transaction.atomic():
            if request.query_params.get("isolation") == "repeatable-read":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            Thing.objects.filter(pk=first).update(name=f"view-{first}")
            self.meanwhile()
            Thing.objects.filter(pk=second).update(name=f"view-{second}")
        return Response(status=204)


class WriteThenConflictView(APIView):
    """Writes, then refuses: with ATOMIC_REQUESTS the write must be rolled back."""

    def post(self, request: Request) -> Response:
        Thing.objects.create(name="written-before-the-error")
        raise errors.ResourceConflict("The thing is locked.")


class BrowsableView(APIView):
    renderer_classes = [BrowsableAPIRenderer, JSONRenderer]

    def get(self, request: Request) -> Response:
        raise errors.ResourceNotFound("Campaign 42 does not exist.")


class PlainView(APIView):
    def get(self, request: Request) -> Response:
        return Response({"requestId": getattr(request, "request_id", None)})


class RateHeadersView(APIView):
    """Stands in for a throttle: records rate-limit headers for the middleware to send."""

    def get(self, request: Request) -> Response:
        request._request.apierrors_rate_limit_headers = {  # type: ignore[attr-defined]
            "X-RateLimit-Limit": "10",
            "X-RateLimit-Remaining": "9",
            "X-RateLimit-Reset": "1734184800",
        }
        if request.query_params.get("fail"):
            raise errors.ResourceNotFound()
        return Response({"ok": True})


class SessionView(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        return Response({"ok": True})


@csrf_protect
def csrf_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("posted")


def django_view(request: HttpRequest, name: str) -> HttpResponse:
    """A plain Django view (no DRF) that raises or answers errors itself."""
    if name == "ok":
        return HttpResponse("fine")
    if name == "html_400":
        return HttpResponse("<h1>Bad</h1>", status=400)
    if name == "own_json":
        return JsonResponse({"mine": True}, status=418)
    if name == "http404":
        raise Http404("secret path")
    if name == "permission":
        raise DjangoPermissionDenied("secret")
    if name == "suspicious":
        raise SuspiciousOperation("evil")
    raise RuntimeError("boom: secret at /srv/app.py")


async def async_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"requestId": getattr(request, "request_id", None)})


__all__ = ["Holder"]
