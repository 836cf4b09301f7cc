"""``@raises``: the domain errors a view declares, for the OpenAPI schema to document.

This module imports neither drf-spectacular nor anything that does, so views can declare
their errors whether or not the ``openapi`` extra is installed::

    from apierrors.declarations import raises

``apierrors.openapi`` reads the declarations (``declared_errors``) when it generates the
schema, and re-exports ``raises`` for projects that have it installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from apierrors import codes
from apierrors import exceptions as errors

__all__ = ["RAISES_ATTR", "Raisable", "declared_errors", "raises"]

RAISES_ATTR = "apierrors_raises"

_Decorated = TypeVar("_Decorated")
Raisable = type[errors.ApiError] | codes.ErrorCode


def _error_class(item: object) -> type[errors.ApiError]:
    if isinstance(item, codes.ErrorCode):
        return errors.class_for_code(item.code)
    if isinstance(item, type) and issubclass(item, errors.ApiError):
        return item
    raise TypeError(f"raises() takes ApiError subclasses or catalogue entries, not {item!r}.")


def raises(*declared: Raisable) -> Callable[[_Decorated], _Decorated]:
    """Declare the domain errors a view, a view method or a viewset action raises.

    Takes ``ApiError`` subclasses (``CampaignAlreadyActive``, a project's own) or catalogue
    entries (``codes.SEGMENT_REQUIRED``). On a class it applies to every operation of the
    view (and of its subclasses); on a method or ``@action`` to that operation only. It
    stacks with itself and with ``extend_schema`` in any order; on an ``@api_view``
    function, put it above ``@api_view``. Inside ``extend_schema_view`` pass it beside
    ``extend_schema``: ``extend_schema_view(create=[extend_schema(...), raises(...)])``.
    """
    classes = tuple(_error_class(item) for item in declared)

    def decorator(target: _Decorated) -> _Decorated:
        holder: Any = getattr(target, "cls", None) if _is_api_view_function(target) else target
        own = holder.__dict__.get(RAISES_ATTR, ()) if isinstance(holder, type) else None
        current = own if own is not None else getattr(holder, RAISES_ATTR, ())
        setattr(holder, RAISES_ATTR, (*classes, *current))
        return target

    return decorator


def _is_api_view_function(target: object) -> bool:
    # @api_view returns a function carrying the view class it built as ``cls``.
    return not isinstance(target, type) and isinstance(getattr(target, "cls", None), type)


def declared_errors(view: Any, method: str) -> list[type[errors.ApiError]]:
    """The classes ``@raises`` declared for ``method`` of ``view`` (class and handler)."""
    found: list[type[errors.ApiError]] = []
    for klass in type(view).__mro__:
        found.extend(klass.__dict__.get(RAISES_ATTR, ()))
    handler = getattr(view, getattr(view, "action", None) or method.lower(), None)
    found.extend(getattr(handler, RAISES_ATTR, ()))
    return found
