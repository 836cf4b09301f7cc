"""``HasScopes``: the OAuth 2 scope check, answered as 403 INVALID_SCOPE.

A view names the scopes it requires; the permission reads the scopes the access token
grants from its ``scope`` claim (space-separated, RFC 8693 / RFC 9068) and refuses a token
that lacks one with ``InvalidScope`` and the RFC 6750 challenge::

    WWW-Authenticate: Bearer error="insufficient_scope", scope="campaigns:write"

Declare the scopes on the view, as one list for every method or per action or method::

    class CampaignViewSet(viewsets.ModelViewSet):
        permission_classes = [HasScopes]
        required_scopes = {
            "GET": ["campaigns:read"],
            "POST": ["campaigns:write"],
            "activate": ["campaigns:write"],   # a viewset action, looked up before the method
        }

or compute them in a ``get_required_scopes(request)`` method on the view. With a mapping,
HEAD and OPTIONS fall back to GET; any other method the mapping does not name is refused
(fail closed), so map it to ``[]`` to require nothing, while a method the view does not
handle at all is let through to its 405 METHOD_NOT_ALLOWED. A request without a token is
left to DRF, which answers 401 UNAUTHORIZED.

Subclass to read another claim (``scope_claim = "scp"``) or to change where the token's
scopes come from (``get_token_scopes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apierrors.exceptions import InvalidScope

if TYPE_CHECKING:
    # Only for annotations: DRF imports permission classes named in its settings while
    # rest_framework.views is itself being imported.
    from rest_framework.views import APIView

# Methods that only read, answered with the scopes of GET when a mapping does not name them.
_READ_FALLBACK = {"HEAD": "GET", "OPTIONS": "GET"}


def token_scopes(auth: Any, claim: str = "scope") -> frozenset[str]:
    """The scopes a token grants: its ``claim`` as a space-separated string or a list.

    ``auth`` is ``request.auth``: a simplejwt ``Token``, a dict of claims, or anything
    with a ``get`` method. A missing or malformed claim grants nothing.
    """
    getter = getattr(auth, "get", None)
    if not callable(getter):
        return frozenset()
    value = getter(claim)
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def challenge(scopes: Iterable[str]) -> str:
    """The RFC 6750 ``WWW-Authenticate`` value for a token that lacks ``scopes``."""
    return f'Bearer error="insufficient_scope", scope="{" ".join(scopes)}"'


class HasScopes(BasePermission):
    """Requires the access token to grant every scope the view declares.

    Override ``get_required_scopes`` to compute the scopes elsewhere, ``get_token_scopes``
    to read them from somewhere other than ``request.auth[scope_claim]``.
    """

    scope_claim = "scope"
    message = _("You do not have permission to perform this action.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        required = self.get_required_scopes(request, view)
        if required is None:
            return False
        if not required:
            return True
        if request.auth is None:
            # No token: DRF answers 401 when authentication was not attempted, 403 otherwise.
            return False
        granted = self.get_token_scopes(request)
        missing = [scope for scope in required if scope not in granted]
        if missing:
            raise self.insufficient_scope(required, missing)
        return True

    def get_required_scopes(self, request: Request, view: APIView) -> list[str] | None:
        """The scopes this request needs; ``None`` refuses it (a method nobody mapped)."""
        hook = getattr(view, "get_required_scopes", None)
        if callable(hook):
            return _as_list(hook(request), view)
        declared = getattr(view, "required_scopes", None)
        if declared is None:
            raise ImproperlyConfigured(
                f"{type(view).__name__} uses HasScopes but declares no required_scopes."
            )
        if not isinstance(declared, Mapping):
            return _as_list(declared, view)
        action = getattr(view, "action", None)
        if action is not None and action in declared:
            return _as_list(declared[action], view)
        method = (request.method or "GET").upper()
        if not _handles(view, method):
            # The view answers 405 METHOD_NOT_ALLOWED; a scope error would hide that.
            return []
        if method not in declared and method in _READ_FALLBACK:
            method = _READ_FALLBACK[method]
        if method not in declared:
            return None
        return _as_list(declared[method], view)

    def get_token_scopes(self, request: Request) -> frozenset[str]:
        """The scopes the request's token grants."""
        return token_scopes(request.auth, self.scope_claim)

    def insufficient_scope(self, required: list[str], missing: list[str]) -> InvalidScope:
        """The error for a token that lacks ``missing``; the challenge lists all ``required``."""
        message = ngettext(
            "This action requires the scope %(scopes)s, which the access token does not grant.",
            "This action requires the scopes %(scopes)s, which the access token does not grant.",
            len(missing),
        ) % {"scopes": ", ".join(missing)}
        return InvalidScope(message, headers={"WWW-Authenticate": challenge(required)})


def _handles(view: APIView, method: str) -> bool:
    name = method.lower()
    return name in view.http_method_names and hasattr(view, name)


def _as_list(scopes: object, view: APIView) -> list[str]:
    if isinstance(scopes, str) or not isinstance(scopes, Iterable):
        raise ImproperlyConfigured(
            f"{type(view).__name__}.required_scopes must list scopes, not {scopes!r}."
        )
    return [str(scope) for scope in scopes]
