"""The throttles a project uses, as its routes serve them: what the system checks look at.

``DEFAULT_THROTTLE_CLASSES`` and the ``throttle_classes`` of every view in the URLconf, with
what ``as_view(...)`` or DRF's ``@action(...)`` set for its route (``throttle_classes``,
``throttle_scope``). A view that builds its throttles in ``get_throttles()`` is not seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# What DRF's routers and ``@action`` put in a view's ``initkwargs`` to route it: not the
# view's own configuration.
_ROUTING = frozenset({"basename", "description", "detail", "name", "suffix"})


class RoutedView:
    """A view class as one URL serves it: the ``initkwargs`` of ``as_view(**initkwargs)``
    (and of DRF's ``@action(throttle_classes=..., throttle_scope=...)``) over the class's
    attributes. Two routes that set the same values are one routed view."""

    def __init__(self, cls: type, overrides: Mapping[str, Any], actions: Sequence[str]) -> None:
        self.cls = cls
        self.overrides = dict(overrides)
        self.__qualname__ = ".".join([cls.__qualname__, *actions])
        self._identity = (cls, tuple(sorted((k, id(v)) for k, v in self.overrides.items())))

    def __getattr__(self, name: str) -> Any:
        overrides = self.__dict__.get("overrides", {})
        return overrides[name] if name in overrides else getattr(self.cls, name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RoutedView) and other._identity == self._identity

    def __hash__(self) -> int:
        return hash(self._identity)


def _routed(cls: type, callback: Any) -> type | RoutedView:
    initkwargs = getattr(callback, "initkwargs", None)
    if not isinstance(initkwargs, Mapping):
        return cls
    overrides = {
        key: value
        for key, value in initkwargs.items()
        if key not in _ROUTING and getattr(cls, key, None) is not value
    }
    if not overrides:
        return cls
    actions = getattr(callback, "actions", None)
    names = sorted(set(actions.values())) if isinstance(actions, Mapping) else []
    return RoutedView(cls, overrides, [str(name) for name in names])


def _view_classes(patterns: Sequence[Any]) -> list[type | RoutedView]:
    found: list[type | RoutedView] = []
    for pattern in patterns:
        nested = getattr(pattern, "url_patterns", None)
        if nested is not None:
            found += _view_classes(nested)
            continue
        callback = getattr(pattern, "callback", None)
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if isinstance(cls, type):
            found.append(_routed(cls, callback))
    return found


def _listed(classes: object) -> Sequence[Any]:
    """A view's ``throttle_classes`` (or ``DEFAULT_THROTTLE_CLASSES``) as DRF can use them:
    a list or tuple. Anything else (``(UserRateThrottle)``, a tuple without its comma) fails
    in DRF at the view's first request; the checks pass it by rather than fail."""
    return classes if isinstance(classes, list | tuple) else ()


def throttles_in_use() -> list[tuple[type, type | RoutedView | None]]:
    """``(throttle class, view)`` for the apierrors throttles the project uses (the view is
    ``None`` for ``DEFAULT_THROTTLE_CLASSES``, a ``RoutedView`` for a view whose route sets
    its throttles or scope)."""
    from django.urls import get_resolver
    from rest_framework.settings import api_settings

    from apierrors.throttling import RateLimitThrottle

    found: list[tuple[Any, type | RoutedView | None]] = [
        (cls, None) for cls in _listed(api_settings.DEFAULT_THROTTLE_CLASSES)
    ]
    try:
        views = _view_classes(get_resolver().url_patterns)
    except Exception:  # a broken URLconf is reported by Django's own checks
        views = []
    for view in dict.fromkeys(views):
        found += [(cls, view) for cls in _listed(getattr(view, "throttle_classes", None))]
    return [
        (cls, view)
        for cls, view in dict.fromkeys(found)
        if isinstance(cls, type) and issubclass(cls, RateLimitThrottle)
    ]
