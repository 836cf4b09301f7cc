"""Reading a view as the schema generator hands it over: its handlers and permissions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework import permissions

# Permissions that refuse only anonymous requests (answered 401 where the view authenticates).
AUTHENTICATION_ONLY = (permissions.IsAuthenticated, permissions.IsAuthenticatedOrReadOnly)
Negated = permissions.NOT


def bind_actions(view: Any) -> None:
    """Give a viewset its handlers for this request's methods (``view.get = view.list``)."""
    # A viewset learns them per request in the function ``as_view`` returns; the schema
    # generator's view never ran it, and permissions such as HasScopes look at them.
    for method, action_name in (getattr(view, "action_map", None) or {}).items():
        if not hasattr(view, method) and hasattr(view, action_name):
            setattr(view, method, getattr(view, action_name))


def leaf_permissions(items: Iterable[Any]) -> list[Any]:
    """Permissions with ``&`` and ``|`` compositions opened up (``~`` kept whole)."""
    leaves: list[Any] = []
    for item in items:
        if isinstance(item, permissions.AND | permissions.OR):
            leaves += leaf_permissions([getattr(item, "op1", None), getattr(item, "op2", None)])
        else:
            leaves.append(item)
    return leaves


def named_in_mro(cls: type, name: str) -> bool:
    """Whether ``cls`` or one of its bases is called ``name`` (a class not imported here)."""
    return any(base.__name__ == name for base in cls.__mro__)
