"""apierrors.permissions: HasScopes reads the view's scopes and the token's ``scope`` claim."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apierrors.permissions import HasScopes, challenge, token_scopes

factory = APIRequestFactory()


class User:
    is_authenticated = True


class ClaimsAuthentication(BaseAuthentication):
    """Authenticates with the claims a test put in ``request.META["claims"]``."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        claims = request._request.META.get("claims")
        return None if claims is None else (User(), claims)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="test"'


class ScopedView(APIView):
    authentication_classes = [ClaimsAuthentication]
    permission_classes = [HasScopes]
    required_scopes: Any = ["things:read", "things:write"]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})

    def post(self, request: Request) -> Response:
        return Response({"ok": True})

    def put(self, request: Request) -> Response:
        return Response({"ok": True})


class PerMethodView(ScopedView):
    required_scopes = {"GET": ["things:read"], "POST": ["things:write"]}


class HookView(ScopedView):
    def get_required_scopes(self, request: Request) -> list[str]:
        return ["admin"] if request.query_params.get("admin") else []


class ThingViewSet(viewsets.ViewSet):
    authentication_classes = [ClaimsAuthentication]
    permission_classes = [HasScopes]
    required_scopes = {
        "GET": ["things:read"],
        "POST": ["things:write"],
        "export": ["things:export"],
    }

    def list(self, request: Request) -> Response:
        return Response([])

    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> Response:
        return Response([])


def call(view: Any, method: str = "get", claims: Any = None, path: str = "/", **kwargs: Any) -> Any:
    request = getattr(factory, method)(path, **kwargs)
    if claims is not None:
        request.META["claims"] = claims
    response = view(request)
    response.render()
    return response


def test_all_required_scopes_granted():
    view = ScopedView.as_view()
    response = call(view, claims={"scope": "things:write other things:read"})
    assert response.status_code == 200


def test_missing_scope_raises_invalid_scope_with_challenge():
    response = call(ScopedView.as_view(), claims={"scope": "things:read"})
    assert response.status_code == 403
    assert response.data["error"]["code"] == "INVALID_SCOPE"
    assert response.data["error"]["message"] == (
        "This action requires the scope things:write, which the access token does not grant."
    )
    assert response["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="things:read things:write"'
    )


def test_every_missing_scope_is_named():
    response = call(ScopedView.as_view(), claims={"scope": ""})
    assert response.data["error"]["message"] == (
        "This action requires the scopes things:read, things:write, which the access token "
        "does not grant."
    )


@pytest.mark.parametrize(
    "claims",
    [{}, {"scope": None}, {"scope": 7}, {"scope": {"things:read": True}}, {"scp": "things:read"}],
)
def test_missing_or_malformed_claim_grants_nothing(claims):
    response = call(ScopedView.as_view(), claims=claims)
    assert response.data["error"]["code"] == "INVALID_SCOPE"


def test_list_claim_is_accepted():
    assert token_scopes({"scope": ["a", "b", 3]}) == frozenset({"a", "b"})
    assert token_scopes({"scp": "a b"}, claim="scp") == frozenset({"a", "b"})
    assert token_scopes(None) == frozenset()
    assert token_scopes("scope a") == frozenset()


def test_scope_matching_is_exact():
    response = call(ScopedView.as_view(), claims={"scope": "things:read things:write:all"})
    assert response.status_code == 403


def test_no_token_is_left_to_drf_as_401():
    response = call(ScopedView.as_view())
    assert response.status_code == 401
    assert response.data["error"]["code"] == "UNAUTHORIZED"
    assert response["WWW-Authenticate"] == 'Bearer realm="test"'


def test_per_method_mapping():
    view = PerMethodView.as_view()
    assert call(view, "get", {"scope": "things:read"}).status_code == 200
    assert call(view, "head", {"scope": "things:read"}).status_code == 200
    assert call(view, "options", {"scope": "things:read"}).status_code == 200
    response = call(view, "post", {"scope": "things:read"})
    assert response["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="things:write"'
    assert call(view, "post", {"scope": "things:write"}).status_code == 200


def test_a_handled_method_the_mapping_omits_is_refused():
    response = call(PerMethodView.as_view(), "put", {"scope": "things:read things:write"})
    assert response.status_code == 403
    assert response.data["error"]["code"] == "FORBIDDEN"


def test_a_method_the_view_does_not_handle_reaches_405():
    response = call(PerMethodView.as_view(), "delete", {"scope": ""})
    assert response.status_code == 405
    assert response.data["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_viewset_actions_are_looked_up_before_methods():
    export = ThingViewSet.as_view({"get": "export"})
    listing = ThingViewSet.as_view({"get": "list"})
    assert call(listing, claims={"scope": "things:read"}).status_code == 200
    response = call(export, claims={"scope": "things:read"})
    assert (
        response["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="things:export"'
    )
    assert call(export, claims={"scope": "things:export"}).status_code == 200


def test_hook_on_the_view():
    view = HookView.as_view()
    assert call(view, claims={}).status_code == 200
    assert call(view, claims={}, path="/?admin=1").status_code == 403
    assert call(view, claims={"scope": "admin"}, path="/?admin=1").status_code == 200


def test_empty_requirement_needs_no_token():
    class Open(ScopedView):
        required_scopes: Any = []

    assert call(Open.as_view()).status_code == 200


@pytest.mark.parametrize("declared", [None, "things:read", 5])
def test_misconfigured_views_are_reported(declared):
    view = ScopedView()
    view.required_scopes = declared
    request = Request(factory.get("/"))
    with pytest.raises(ImproperlyConfigured):
        HasScopes().get_required_scopes(request, view)


def test_subclass_reads_another_claim():
    class HasScp(HasScopes):
        scope_claim = "scp"

    class View(ScopedView):
        permission_classes = [HasScp]

    assert call(View.as_view(), claims={"scp": ["things:read", "things:write"]}).status_code == 200


def test_challenge():
    assert challenge(["a", "b"]) == 'Bearer error="insufficient_scope", scope="a b"'
