"""What the sandbox's resources share: strict serializers, owned objects, id lookups."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ErrorDetail
from rest_framework.permissions import IsAuthenticated

from apierrors import codes
from apierrors.contrib.simplejwt import JWTAuthentication
from apierrors.exceptions import Forbidden, ResourceNotFound
from apierrors.permissions import HasScopes
from apierrors.serializers import RejectUnknownFieldsMixin
from apierrors.throttling import AnonRateLimitThrottle, UserRateLimitThrottle
from sandbox.names import refused_character

# The largest id a 64-bit primary key holds; larger ones would overflow the database driver.
MAX_ID = 2**63 - 1


class StrictSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    """A serializer that answers body fields it does not declare as INVALID_FIELD."""


class EmptySerializer(StrictSerializer):
    """The body of an action that takes none: ``{}`` or nothing, any key is INVALID_FIELD."""


# EmptySerializer in the schema: drf-spectacular leaves a serializer without fields out, but
# the action still reads the body (400, 415, and 422 INVALID_FIELD for any key).
EMPTY_BODY = {
    "application/json": {
        "type": "object",
        "description": "Nothing, or an empty object.",
        "additionalProperties": False,
    }
}


class TextField(serializers.CharField):
    """A ``CharField`` that takes only JSON strings. DRF's turns numbers into text, which a
    client reading ``type: string`` in the schema cannot expect; here they are INVALID_FORMAT."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class IdField(serializers.IntegerField):
    """An id: a JSON integer from 1 to ``MAX_ID``. DRF's ``IntegerField`` also takes
    ``"12"`` and ``12.0``, which the schema (``type: integer``) does not promise."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class NameField(TextField):
    """A resource's name: text without control, format, private-use or separator characters
    (INVALID_FORMAT otherwise), unique per owner by ``sandbox.names.name_key``."""

    default_error_messages = {
        "invisible": "Names may not contain control, format (zero-width, bidi) or "
        "private-use characters."
    }

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if refused_character(value):
            raise serializers.ValidationError(
                ErrorDetail(str(self.error_messages["invisible"]), code="invalid")
            )
        return value


def duplicate_name(message: str) -> ErrorDetail:
    """The detail of a name already taken: its code makes the answer 409 DUPLICATE_RESOURCE."""
    return ErrorDetail(message, code=codes.DUPLICATE_RESOURCE.code)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class OwnedRelatedField(serializers.PrimaryKeyRelatedField[Any]):
    """A reference by id to one of the requesting user's objects.

    An id that is not a positive 64-bit integer is INVALID_FORMAT; one that names no object
    of this user is VALIDATION_ERROR with a message naming the id.
    """

    def __init__(self, *, model: type[models.Model], label: str, **kwargs: Any) -> None:
        self.model = model
        kwargs.setdefault(
            "error_messages",
            {"does_not_exist": f"{label} {{pk_value}} does not exist or is not yours."},
        )
        super().__init__(**kwargs)
        self.id_field = IdField()

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # DRF reads "" as null for related fields; the schema says integer or null.
        if data == "":
            self.id_field.fail("invalid")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(self.id_field.run_validation(data))

    def get_queryset(self) -> models.QuerySet[Any]:
        request = self.context["request"]
        return self.model._default_manager.filter(owner=request.user)


class OwnedViewSet(viewsets.GenericViewSet[Any]):
    """A viewset of objects that belong to a user, reached with a JWT that carries the
    view's ``required_scopes``.

    ``resource_name`` names the object in messages. ``get_object`` answers an unknown id
    with RESOURCE_NOT_FOUND naming it, and ``check_owner`` refuses changes by anyone but
    the owner with FORBIDDEN. PUT is not offered: changes are PATCH.
    """

    # Set here rather than as DRF defaults in settings, which every view of the
    # project (the test suite's own views among them) would inherit.
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated, HasScopes]
    throttle_classes = [UserRateLimitThrottle, AnonRateLimitThrottle]
    resource_name: ClassVar[str] = "Resource"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # Only ids a 64-bit key can hold reach the view; anything else is a URL that matches nothing.
    lookup_value_regex = "[0-9]{1,18}"

    def get_object(self, *, for_update: bool = False) -> Any:
        queryset = self.filter_queryset(self.get_queryset())
        if for_update:
            queryset = queryset.select_for_update(of=("self",))
        pk = self.kwargs["pk"]
        try:
            obj = queryset.get(pk=int(pk))
        except queryset.model.DoesNotExist:
            raise ResourceNotFound(f"{self.resource_name} {int(pk)} does not exist.") from None
        self.check_object_permissions(self.request, obj)
        return obj

    def body_action(self) -> str | None:
        """The action whose body this request carries; for OPTIONS (DRF's action
        "metadata"), the action of the method DRF is describing."""
        if self.action == "metadata" and self.request.method is not None:
            return self.action_map.get(self.request.method.lower(), self.action)
        return self.action

    def check_owner(self, obj: Any) -> None:
        if obj.owner_id != self.request.user.pk:
            raise Forbidden(
                f"{self.resource_name} {obj.pk} belongs to another user; only its owner "
                "may change it."
            )
