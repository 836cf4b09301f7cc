"""What a request body's component promises: closed to undeclared fields, and text patterns.

A body the schema accepts should be a body the API accepts, so that clients and fuzzers
reading the schema do not send what will be refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers

from apierrors.conf import conf
from apierrors.serializers import RejectUnknownFieldsMixin


def rejects_unknown_fields(serializer: Any) -> bool:
    """Whether ``serializer`` (a class or an instance) answers undeclared body fields with
    INVALID_FIELD: ``RejectUnknownFieldsMixin``, or any serializer under the
    ``REJECT_UNKNOWN_FIELDS`` setting, unless it sets ``reject_unknown_fields = False``."""
    serializer_class = serializer if isinstance(serializer, type) else type(serializer)
    if not issubclass(serializer_class, serializers.Serializer):
        return False
    if not getattr(serializer, "reject_unknown_fields", True):
        return False
    return issubclass(serializer_class, RejectUnknownFieldsMixin) or conf.REJECT_UNKNOWN_FIELDS


# What DRF's CharField refuses beyond maxLength and minLength, as JSON Schema patterns: a NUL
# character (its ProhibitNullCharactersValidator), and, where it trims whitespace and refuses
# blanks, text of whitespace only. Documented so that a schema-valid body is not refused.
# The whitespace is what Python's str.strip() removes, spelled out: a regex's \s differs
# between engines (ECMA-262's lacks U+001C-U+001F and U+0085, which strip() removes).
PYTHON_WHITESPACE = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NO_NUL_PATTERN = "^[^\\x00]*$"
NOT_BLANK_PATTERN = f"^[^\\x00]*[^\\x00{PYTHON_WHITESPACE}][^\\x00]*$"


def text_pattern(text: serializers.Field[Any, Any, Any, Any]) -> str | None:
    """The pattern a ``CharField`` of a request body holds its input to, or ``None``."""
    if not isinstance(text, serializers.CharField) or text.read_only:
        return None
    if not any(isinstance(v, ProhibitNullCharactersValidator) for v in text.validators):
        return None
    if text.trim_whitespace and not text.allow_blank:
        return NOT_BLANK_PATTERN
    return NO_NUL_PATTERN


def constrain_text_fields(serializer: Any, schema: dict[str, Any]) -> None:
    """Give the plain text properties of a request component the pattern their field checks.

    Properties with a format, an enum or a pattern of their own (e-mail, URL, regex and
    choice fields) are left as drf-spectacular wrote them.
    """
    instance = serializer() if isinstance(serializer, type) else serializer
    fields = getattr(instance, "fields", None)
    properties = schema.get("properties", {})
    if not isinstance(fields, Mapping):
        return
    for name, serializer_field in fields.items():
        prop = properties.get(name)
        pattern = text_pattern(serializer_field)
        if (
            pattern is None
            or not isinstance(prop, dict)
            or prop.get("type") != "string"
            or {"format", "enum", "pattern"} & set(prop)
        ):
            continue
        prop["pattern"] = pattern
