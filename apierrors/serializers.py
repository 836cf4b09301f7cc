"""Rejecting body fields a serializer does not declare.

DRF drops unknown fields silently, so a client that misspells ``sendAt`` as ``sendat`` gets
a 200 and a campaign with no schedule. ``RejectUnknownFieldsMixin`` answers them as
``INVALID_FIELD`` details instead, next to any other problem of the same body::

    class CampaignSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer): ...

To apply it to every serializer of a project without editing them, set
``APIERRORS = {"REJECT_UNKNOWN_FIELDS": True}``; a serializer opts out with
``reject_unknown_fields = False``.

Read-only fields the serializer declares (``id``, ``status``, ``createdAt``) are accepted
when sent with the value they already have, so a client may send back what it read; sent
with another value (or on a create, where they have none yet) they are INVALID_FIELD too,
rather than a change silently not made. Values are compared as the field shows them, and
failing that as the field reads them (the same time written with another offset is the
same value).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.fields import SkipField
from rest_framework.settings import api_settings

from apierrors import codes
from apierrors.conf import conf

UNKNOWN_FIELD_MESSAGE = _("This field is not accepted by this endpoint.")
READ_ONLY_FIELD_MESSAGE = _("This field is read-only; send it unchanged or leave it out.")

# A body of 100,000 unknown keys must not buy a 10 MB answer: past this many, one more
# entry counts the rest.
MAX_REPORTED_UNKNOWN_FIELDS = 20


def unknown_fields(serializer: serializers.Serializer[Any], data: object) -> list[str]:
    """Keys of ``data`` the serializer does not declare, in the order the client sent them."""
    if not isinstance(data, Mapping):
        return []
    declared = serializer.fields
    return [str(key) for key in data if key not in declared]


def read_only_changes(serializer: serializers.Serializer[Any], data: object) -> list[str]:
    """Read-only fields of ``data`` sent with a value other than the one they have."""
    if not isinstance(data, Mapping):
        return []
    declared = serializer.fields
    return [
        str(key)
        for key, value in data.items()
        if key in declared
        and declared[key].read_only
        and not _has_value(declared[key], serializer.instance, value)
    ]


def _has_value(field: serializers.Field[Any, Any, Any, Any], instance: Any, sent: Any) -> bool:
    if instance is None or isinstance(instance, list | tuple | QuerySet):
        return False  # a create (or a list): there is no current value to send back
    try:
        attribute = field.get_attribute(instance)
        current = None if attribute is None else field.to_representation(attribute)
    except (AttributeError, KeyError, ObjectDoesNotExist, SkipField):
        return False
    if sent == current:
        return True
    try:
        return bool(field.to_internal_value(sent) == field.to_internal_value(current))
    except (ValidationError, DjangoValidationError, TypeError, ValueError, NotImplementedError):
        return False


def validate_with_unknown_fields(
    serializer: serializers.Serializer[Any],
    data: Any,
    to_internal_value: Callable[[Any], Any],
) -> Any:
    """Run ``to_internal_value`` and add an INVALID_FIELD error per undeclared key and per
    read-only field sent with another value than its own."""
    refused = {
        **_unknown_errors(unknown_fields(serializer, data)),
        **_read_only_errors(read_only_changes(serializer, data)),
    }
    try:
        value = to_internal_value(data)
    except ValidationError as exc:
        if refused and isinstance(exc.detail, dict):
            for key, errors in refused.items():
                existing = exc.detail.get(key)
                if isinstance(existing, list):
                    existing.extend(errors)
                else:
                    exc.detail[key] = errors  # type: ignore[assignment]
        raise
    if refused:
        raise ValidationError(refused)
    return value


def _read_only_errors(names: list[str]) -> dict[str, list[ErrorDetail]]:
    message = str(READ_ONLY_FIELD_MESSAGE)
    return {name: [ErrorDetail(message, code=codes.INVALID_FIELD.code)] for name in names}


def _unknown_errors(names: list[str]) -> dict[str, list[ErrorDetail]]:
    if not names:
        return {}
    code = codes.INVALID_FIELD.code
    message = str(UNKNOWN_FIELD_MESSAGE)
    reported = names[:MAX_REPORTED_UNKNOWN_FIELDS]
    errors = {name: [ErrorDetail(message, code=code)] for name in reported}
    rest = len(names) - len(reported)
    if rest:
        more = ngettext(
            "%(count)d more field is not accepted by this endpoint.",
            "%(count)d more fields are not accepted by this endpoint.",
            rest,
        ) % {"count": rest}
        errors[api_settings.NON_FIELD_ERRORS_KEY] = [ErrorDetail(more, code=code)]
    return errors


class RejectUnknownFieldsMixin:
    """Serializer mixin: body fields the serializer does not declare are INVALID_FIELD.

    Set ``reject_unknown_fields = False`` on a subclass to accept them again.
    """

    reject_unknown_fields = True

    def to_internal_value(self, data: Any) -> Any:
        parent = super().to_internal_value  # type: ignore[misc]
        if not self.reject_unknown_fields:
            return parent(data)
        return validate_with_unknown_fields(self, data, parent)  # type: ignore[arg-type]


_original_to_internal_value = serializers.Serializer.to_internal_value


def _project_wide_to_internal_value(self: serializers.Serializer[Any], data: Any) -> Any:
    def original(value: Any) -> Any:
        return _original_to_internal_value(self, value)

    if (
        isinstance(self, RejectUnknownFieldsMixin)
        or not getattr(self, "reject_unknown_fields", True)
        or not conf.REJECT_UNKNOWN_FIELDS
    ):
        return original(data)
    return validate_with_unknown_fields(self, data, original)


def install() -> None:
    """Apply the check to every ``Serializer`` (``REJECT_UNKNOWN_FIELDS``); idempotent."""
    serializers.Serializer.to_internal_value = _project_wide_to_internal_value  # type: ignore[method-assign,assignment]
