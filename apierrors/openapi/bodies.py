"""What a request body's component promises (closed to undeclared fields, text patterns), and
what validating it can answer beyond the validation codes (a uniqueness rule's 409).

A body the schema accepts should be a body the API accepts, so that clients and fuzzers
reading the schema do not send what will be refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from rest_framework import serializers, validators

from apierrors import codes
from apierrors.conf import conf
from apierrors.envelope import DRF_FIELD_CODES
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


# The example of a text property that gets a pattern. Swagger UI prefills a request body from
# the examples, and, for a string without one, generates text matching its pattern: random
# characters such as `.wu\jn|Jfk4Nikp<{uz(`. This is what it shows for a plain string.
TEXT_EXAMPLE = "string"


def text_example(prop: Mapping[str, Any]) -> str:
    """``TEXT_EXAMPLE`` cut or repeated to the property's ``maxLength`` and ``minLength``."""
    min_length = int(prop.get("minLength", 0))
    text = TEXT_EXAMPLE * (min_length // len(TEXT_EXAMPLE) + 1)
    max_length = prop.get("maxLength")
    return text[: max(min_length, len(TEXT_EXAMPLE) if max_length is None else int(max_length))]


def constrain_text_fields(serializer: Any, schema: dict[str, Any]) -> None:
    """Give the plain text properties of a request component the pattern their field checks,
    and an example that the pattern accepts (unless the property has one).

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
        if pattern == NOT_BLANK_PATTERN:
            prop.setdefault("minLength", 1)
        if "example" not in prop:
            prop["example"] = text_example(prop)


# How deep checks_uniqueness looks into nested serializers.
MAX_NESTING = 8


def _answers_duplicate(validator: Any) -> bool:
    """Whether ``validator`` refuses a taken value with a code answered DUPLICATE_RESOURCE."""
    if not isinstance(
        validator,
        validators.UniqueValidator
        | validators.UniqueTogetherValidator
        | validators.BaseUniqueForValidator,
    ):
        return False
    code = str(getattr(validator, "code", "unique"))
    return DRF_FIELD_CODES.get(code, code) == codes.DUPLICATE_RESOURCE.code


def model_has_uniqueness_rule(model: type[models.Model]) -> bool:
    """Whether saving ``model`` can break a uniqueness rule other than its primary key's: a
    unique field, ``unique_together`` or a ``UniqueConstraint``. The database refuses such a
    row, and the handler answers the ``IntegrityError`` with 409 DUPLICATE_RESOURCE."""
    meta = model._meta
    if any(
        getattr(field, "unique", False) and not getattr(field, "primary_key", False)
        for field in meta.concrete_fields
    ):
        return True
    if meta.unique_together:
        return True
    return any(isinstance(constraint, models.UniqueConstraint) for constraint in meta.constraints)


def checks_uniqueness(serializer: Any, depth: int = 0) -> bool:
    """Whether validating or saving with ``serializer`` (a class or an instance) can answer
    409 DUPLICATE_RESOURCE: a uniqueness validator on it or on a writable field
    (``UniqueValidator``, ``UniqueTogetherValidator``, ``unique_for_date``), in it or in a
    nested serializer, or a ``ModelSerializer`` whose model has a uniqueness rule."""
    instance = serializer() if isinstance(serializer, type) else serializer
    if isinstance(instance, serializers.ListSerializer):
        instance = instance.child
    if not isinstance(instance, serializers.Serializer) or depth > MAX_NESTING:
        return False
    model = getattr(getattr(instance, "Meta", None), "model", None)
    if (
        isinstance(instance, serializers.ModelSerializer)
        and isinstance(model, type)
        and issubclass(model, models.Model)
        and model_has_uniqueness_rule(model)
    ):
        return True
    if any(_answers_duplicate(validator) for validator in instance.validators):
        return True
    for field in instance.fields.values():
        if field.read_only:
            continue
        if any(_answers_duplicate(validator) for validator in field.validators):
            return True
        if isinstance(field, serializers.BaseSerializer) and checks_uniqueness(field, depth + 1):
            return True
    return False
