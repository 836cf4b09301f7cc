"""The rule tree in the OpenAPI schema, built from the catalogue in ``sandbox.segments.rules``.

``SegmentRule`` is one of three groups (``SegmentAllGroup``, ``SegmentAnyGroup``,
``SegmentNotGroup``, which hold rules again) or a ``SegmentCondition``. A condition is one
of a few shapes, one per field type and kind of value, each naming the fields of that type
and the operators taking that value, so that a tree the schema accepts is a tree the API
accepts, save for what JSON Schema cannot say (the depth and condition limits, and ranges
whose low end is above their high end), which the descriptions state.

Every member of a ``oneOf`` is a named component (``SegmentNumberNumberRangeCondition``,
...): client generators name a class after each member and give up on inline ones
(openapi-python-client drops every operation that uses the union). No member has a property
whose value alone tells it apart (a field takes operators of several kinds, an operator
serves several types), so the unions have no ``discriminator``: a client tries the members
in turn, and exactly one matches.

The enums are components of their own (``SegmentNumberField``, ``SegmentNumberRangeOperator``,
...): drf-spectacular's enum hook names inline enums after their property, and gives every
``field`` enum of one component the same name, which would merge them into one.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent

from apierrors.openapi import NO_NUL_PATTERN
from sandbox.segments import rules

RULE = "SegmentRule"
CONDITION = "SegmentCondition"
GROUPS = {"all": "SegmentAllGroup", "any": "SegmentAnyGroup", "not": "SegmentNotGroup"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _text() -> dict[str, Any]:
    return {"type": "string", "maxLength": rules.MAX_STRING_LENGTH, "pattern": NO_NUL_PATTERN}


def _pair(item: dict[str, Any], order: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": item,
        "minItems": 2,
        "maxItems": 2,
        "description": f"[{order}], the first not after the second.",
    }


def value_schema(kind: rules.ValueKind) -> dict[str, Any]:
    """The JSON Schema of the values an operator of ``kind`` takes."""
    date_time = {"type": "string", "format": "date-time", "maxLength": 64}
    schemas: dict[str, dict[str, Any]] = {
        rules.STRING.name: _text(),
        rules.STRINGS.name: {
            "type": "array",
            "items": _text(),
            "minItems": 1,
            "maxItems": rules.MAX_LIST_VALUES,
        },
        rules.NUMBER.name: {"type": "number"},
        rules.NUMBER_RANGE.name: _pair({"type": "number"}, "low, high"),
        rules.DATETIME.name: date_time,
        rules.DATETIME_RANGE.name: _pair(date_time, "start, end"),
        rules.DAYS.name: {"type": "integer", "minimum": 1, "maximum": rules.MAX_DAYS},
        rules.BOOLEAN.name: {"type": "boolean"},
    }
    return schemas[kind.name]


# Component names of the kinds of value, as parts of the operator enums' names.
KIND_NAMES = {
    rules.STRING.name: "Text",
    rules.STRINGS.name: "TextList",
    rules.NUMBER.name: "Number",
    rules.NUMBER_RANGE.name: "NumberRange",
    rules.DATETIME.name: "Time",
    rules.DATETIME_RANGE.name: "TimeRange",
    rules.DAYS.name: "Days",
    rules.BOOLEAN.name: "Flag",
}


def _type_name(field_type: str) -> str:
    return f"Segment{field_type.capitalize()}"


def condition_components() -> dict[str, dict[str, Any]]:
    """``SegmentCondition`` (one shape per field type and kind of value) and its enums."""
    result: dict[str, dict[str, Any]] = {}
    shapes: list[dict[str, Any]] = []
    for field_type, operators in rules.OPERATORS.items():
        fields = [entry.name for entry in rules.FIELDS.values() if entry.type == field_type]
        field_enum = f"{_type_name(field_type)}Field"
        result[field_enum] = {
            "type": "string",
            "enum": fields,
            "description": f"The {field_type} fields.",
        }
        kinds: dict[str, list[str]] = {}
        for operator, kind in operators.items():
            kinds.setdefault(kind.name, []).append(operator)
        for kind_name, names in kinds.items():
            operator_enum = f"{_type_name(field_type)}{KIND_NAMES[kind_name]}Operator"
            result[operator_enum] = {
                "type": "string",
                "enum": names,
                "description": f"The operators of {field_type} fields taking a {kind_name}.",
            }
            shape = f"{_type_name(field_type)}{KIND_NAMES[kind_name]}Condition"
            result[shape] = {
                "type": "object",
                "description": f"A condition on a {field_type} field whose operator takes "
                f"a {kind_name}.",
                "properties": {
                    "field": _ref(field_enum),
                    "operator": _ref(operator_enum),
                    "value": value_schema(operators[names[0]]),
                },
                "required": ["field", "operator", "value"],
                "additionalProperties": False,
            }
            shapes.append(_ref(shape))
    result[CONDITION] = {
        "description": "A test of one contact field: GET /api/v1/segments/fields/ lists the "
        "fields, their operators and the value each operator takes.",
        "oneOf": shapes,
    }
    return result


def group_schema(key: str) -> dict[str, Any]:
    members: dict[str, Any] = (
        _ref(RULE)
        if key == "not"
        else {"type": "array", "items": _ref(RULE), "minItems": 1, "maxItems": rules.MAX_GROUP_SIZE}
    )
    meaning = {
        "all": "every rule matches",
        "any": "at least one rule matches",
        "not": "the rule does not match",
    }[key]
    return {
        "type": "object",
        "description": f"A group: {meaning}.",
        "properties": {key: members},
        "required": [key],
        "additionalProperties": False,
    }


def components() -> dict[str, dict[str, Any]]:
    """The rule tree's schema components, by name."""
    result: dict[str, dict[str, Any]] = {
        RULE: {
            "description": "A rule tree: a group ({all: [...]}, {any: [...]}, {not: {...}}) or "
            f"a condition. Rules nest at most {rules.MAX_DEPTH} levels deep (the root is level "
            f"1) and a tree holds at most {rules.MAX_CONDITIONS} conditions.",
            "oneOf": [*(_ref(name) for name in GROUPS.values()), _ref(CONDITION)],
            "example": {
                "all": [
                    {"field": "country", "operator": "eq", "value": "US"},
                    {"field": "age", "operator": "gte", "value": 18},
                ]
            },
        },
        **condition_components(),
    }
    for key, name in GROUPS.items():
        result[name] = group_schema(key)
    return result


class RulesFieldExtension(OpenApiSerializerFieldExtension):
    """Documents ``RulesField`` as a reference to ``SegmentRule``, registering the rule
    tree's components on first use."""

    target_class = "sandbox.segments.serializers.RulesField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, str]:
        for name, schema in components().items():
            auto_schema.registry.register_on_missing(
                ResolvedComponent(
                    name=name,
                    type=ResolvedComponent.SCHEMA,
                    schema=schema,
                    object=f"sandbox.segments.{name}",
                )
            )
        return _ref(RULE)
