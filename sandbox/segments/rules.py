"""Segment rules: the catalogue of fields and the validator of rule trees.

A rule is a group or a condition::

    {"all": [rule, ...]}      every rule matches
    {"any": [rule, ...]}      at least one rule matches
    {"not": rule}             the rule does not match
    {"field": "country", "operator": "eq", "value": "US"}

Limits, so that no body can make validation or storage expensive: rules nest at most
``MAX_DEPTH`` levels deep (the root rule is level 1, a rule inside a group one level
deeper than the group), a group holds at most ``MAX_GROUP_SIZE`` rules, a tree at most
``MAX_CONDITIONS`` conditions, a list value at most ``MAX_LIST_VALUES`` items and a string
value at most ``MAX_STRING_LENGTH`` characters. At most ``MAX_PROBLEMS`` problems are
reported for one tree.

``validate_rules`` is pure: it returns the problems, each pointing at the offending part
of the body (``rules.all[1].operator``), with the code a client can act on:
UNKNOWN_FIELD for a field not in the catalogue, INVALID_OPERATOR for an operator the
field's type does not support, INVALID_FORMAT for a string holding a NUL or a lone
surrogate (no database stores those), and INVALID_SEGMENT_RULE for every other fault.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ErrorDetail
from rest_framework.settings import api_settings

from apierrors import codes
from apierrors.exceptions import FieldProblem

MAX_DEPTH = 5
MAX_GROUP_SIZE = 50
MAX_CONDITIONS = 100
MAX_LIST_VALUES = 100
MAX_STRING_LENGTH = 500
MAX_DAYS = 36500
MAX_PROBLEMS = 20

GROUP_KEYS = ("all", "any", "not")
CONDITION_KEYS = ("field", "operator", "value")

INVALID_SEGMENT_RULE = codes.INVALID_SEGMENT_RULE.code
UNKNOWN_FIELD = codes.UNKNOWN_FIELD.code
INVALID_OPERATOR = codes.INVALID_OPERATOR.code
INVALID_FORMAT = codes.INVALID_FORMAT.code

PathPart = str | int
Path = tuple[PathPart, ...]


class ValueProblem(Exception):
    """A value that does not fit its operator: ``code`` and ``message`` at ``path``."""

    def __init__(self, message: str, *, code: str = INVALID_SEGMENT_RULE, path: Path = ()):
        super().__init__(message)
        self.message = message
        self.code = code
        self.path = path


# Values -----------------------------------------------------------------------------------


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check_text(value: str, path: Path = ()) -> None:
    if _UNSTORABLE.search(value):
        raise ValueProblem(
            "Text may not contain NUL characters or unpaired surrogates.",
            code=INVALID_FORMAT,
            path=path,
        )
    if len(value) > MAX_STRING_LENGTH:
        raise ValueProblem(f"Text values are at most {MAX_STRING_LENGTH} characters.", path=path)


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise ValueProblem("The value must be a string.")
    _check_text(value)
    return value


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValueProblem("The value must be a non-empty list of strings.")
    if len(value) > MAX_LIST_VALUES:
        raise ValueProblem(f"A list value holds at most {MAX_LIST_VALUES} items.")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise ValueProblem("The value must be a non-empty list of strings.", path=(index,))
        _check_text(item, (index,))
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueProblem("The value must be a number.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueProblem("The value must be a finite number.")
    # Not converted: an integer too large for a float still compares exactly.
    return value


def _number_range(value: object) -> tuple[float, float]:
    message = "The value must be a list of two numbers, [low, high], with low <= high."
    if not isinstance(value, list) or len(value) != 2:
        raise ValueProblem(message)
    try:
        low, high = _number(value[0]), _number(value[1])
    except ValueProblem:
        raise ValueProblem(message) from None
    if low > high:
        raise ValueProblem(message)
    return low, high


def _datetime(value: object) -> datetime:
    message = "The value must be an ISO 8601 date and time, e.g. 2025-01-31T09:00:00Z."
    if not isinstance(value, str) or len(value) > 64:
        raise ValueProblem(message)
    _check_text(value)
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueProblem(message)
    # Naive times are read as UTC so that two of them always compare.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _datetime_range(value: object) -> tuple[datetime, datetime]:
    message = "The value must be a list of two ISO 8601 times, [start, end], with start <= end."
    if not isinstance(value, list) or len(value) != 2:
        raise ValueProblem(message)
    try:
        start, end = _datetime(value[0]), _datetime(value[1])
    except ValueProblem as problem:
        if problem.code == INVALID_FORMAT:
            raise
        raise ValueProblem(message) from None
    if start > end:
        raise ValueProblem(message)
    return start, end


def _days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise ValueProblem(f"The value must be a whole number of days from 1 to {MAX_DAYS}.")
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueProblem("The value must be true or false.")
    return value


@dataclass(frozen=True)
class ValueKind:
    """What an operator compares with: a name for the catalogue and the check."""

    name: str
    check: Callable[[object], object]


STRING = ValueKind("string", _string)
STRINGS = ValueKind("string[]", _strings)
NUMBER = ValueKind("number", _number)
NUMBER_RANGE = ValueKind("[number, number]", _number_range)
DATETIME = ValueKind("datetime", _datetime)
DATETIME_RANGE = ValueKind("[datetime, datetime]", _datetime_range)
DAYS = ValueKind("integer (days)", _days)
BOOLEAN = ValueKind("boolean", _boolean)

# Operators per field type, and the value each one takes.
OPERATORS: dict[str, dict[str, ValueKind]] = {
    "string": {
        "eq": STRING,
        "neq": STRING,
        "contains": STRING,
        "startsWith": STRING,
        "endsWith": STRING,
        "in": STRINGS,
        "notIn": STRINGS,
        "exists": BOOLEAN,
    },
    "number": {
        "eq": NUMBER,
        "neq": NUMBER,
        "gt": NUMBER,
        "gte": NUMBER,
        "lt": NUMBER,
        "lte": NUMBER,
        "between": NUMBER_RANGE,
        "exists": BOOLEAN,
    },
    "datetime": {
        "before": DATETIME,
        "after": DATETIME,
        "between": DATETIME_RANGE,
        "withinLastDays": DAYS,
        "exists": BOOLEAN,
    },
    "boolean": {"eq": BOOLEAN, "exists": BOOLEAN},
    "list": {
        "contains": STRING,
        "notContains": STRING,
        "containsAny": STRINGS,
        "containsAll": STRINGS,
        "isEmpty": BOOLEAN,
    },
}


@dataclass(frozen=True)
class SegmentField:
    """A contact attribute a segment can test."""

    name: str
    type: str
    description: str

    @property
    def operators(self) -> dict[str, ValueKind]:
        return OPERATORS[self.type]


FIELDS: dict[str, SegmentField] = {
    entry.name: entry
    for entry in (
        SegmentField("email", "string", "The contact's email address."),
        SegmentField("country", "string", "ISO 3166-1 alpha-2 country code, e.g. US."),
        SegmentField("age", "number", "Age in years."),
        SegmentField("signedUpAt", "datetime", "When the contact signed up."),
        SegmentField("isSubscribed", "boolean", "Whether the contact accepts marketing email."),
        SegmentField("tags", "list", "Labels attached to the contact."),
    )
}


def catalogue() -> dict[str, Any]:
    """The fields, their types and operators, and the limits, as the API shows them."""
    return {
        "fields": [
            {
                "name": entry.name,
                "type": entry.type,
                "description": entry.description,
                "operators": [
                    {"name": name, "value": kind.name} for name, kind in entry.operators.items()
                ],
            }
            for entry in FIELDS.values()
        ],
        "limits": {
            "maxDepth": MAX_DEPTH,
            "maxGroupSize": MAX_GROUP_SIZE,
            "maxConditions": MAX_CONDITIONS,
            "maxListValues": MAX_LIST_VALUES,
            "maxStringLength": MAX_STRING_LENGTH,
        },
    }


# The walk --------------------------------------------------------------------------------


class _TooManyProblems(Exception):
    pass


@dataclass
class _Walk:
    """One validation of one tree; ``problems`` in the order they were found."""

    problems: list[tuple[Path, str, str]] = field(default_factory=list)
    conditions: int = 0

    def report(self, path: Path, code: str, message: str) -> None:
        self.problems.append((path, code, message))
        if len(self.problems) >= MAX_PROBLEMS:
            raise _TooManyProblems

    def rule(self, node: object, path: Path, level: int) -> None:
        if level > MAX_DEPTH:
            self.report(path, INVALID_SEGMENT_RULE, f"Rules nest at most {MAX_DEPTH} levels deep.")
            return
        if not isinstance(node, dict) or not node:
            self.report(
                path,
                INVALID_SEGMENT_RULE,
                "A rule is an object: a group (all, any or not) or a condition "
                "(field, operator, value).",
            )
            return
        group_keys = [key for key in GROUP_KEYS if key in node]
        if group_keys:
            self.group(node, group_keys, path, level)
        else:
            self.condition(node, path)

    def group(self, node: dict[Any, Any], keys: list[str], path: Path, level: int) -> None:
        if len(keys) > 1:
            self.report(path, INVALID_SEGMENT_RULE, "A group has exactly one of all, any or not.")
            return
        for key in node:
            if key not in GROUP_KEYS:
                self.report(
                    (*path, str(key)),
                    INVALID_SEGMENT_RULE,
                    "A group holds only one of all, any or not.",
                )
        key = keys[0]
        members = node[key]
        if key == "not":
            self.rule(members, (*path, key), level + 1)
            return
        if not isinstance(members, list):
            self.report((*path, key), INVALID_SEGMENT_RULE, f"{key} holds a list of rules.")
        elif not members:
            self.report((*path, key), INVALID_SEGMENT_RULE, "A group needs at least one rule.")
        elif len(members) > MAX_GROUP_SIZE:
            self.report(
                (*path, key),
                INVALID_SEGMENT_RULE,
                f"A group holds at most {MAX_GROUP_SIZE} rules.",
            )
        else:
            for index, member in enumerate(members):
                self.rule(member, (*path, key, index), level + 1)

    def condition(self, node: dict[Any, Any], path: Path) -> None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            self.report(
                (), INVALID_SEGMENT_RULE, f"A segment has at most {MAX_CONDITIONS} conditions."
            )
            raise _TooManyProblems
        for key in node:
            if key not in CONDITION_KEYS:
                self.report(
                    (*path, str(key)),
                    INVALID_SEGMENT_RULE,
                    "A condition holds only field, operator and value.",
                )
        name = node.get("field")
        if not isinstance(name, str):
            self.report(
                (*path, "field"), INVALID_SEGMENT_RULE, "A condition names a field, as a string."
            )
            return
        entry = FIELDS.get(name)
        if entry is None:
            self.report(
                (*path, "field"),
                UNKNOWN_FIELD,
                f"This field cannot be segmented on; the fields that can are {', '.join(FIELDS)}.",
            )
            return
        operator = node.get("operator")
        if not isinstance(operator, str):
            self.report(
                (*path, "operator"),
                INVALID_SEGMENT_RULE,
                "A condition names an operator, as a string.",
            )
            return
        kind = entry.operators.get(operator)
        if kind is None:
            self.report(
                (*path, "operator"),
                INVALID_OPERATOR,
                f"{entry.name} is a {entry.type} field; its operators are "
                f"{', '.join(entry.operators)}.",
            )
            return
        if "value" not in node:
            self.report(
                (*path, "value"),
                INVALID_SEGMENT_RULE,
                f"The operator {operator} needs a value ({kind.name}).",
            )
            return
        try:
            kind.check(node["value"])
        except ValueProblem as problem:
            self.report((*path, "value", *problem.path), problem.code, problem.message)


def _walk(rules: object) -> list[tuple[Path, str, str]]:
    walk = _Walk()
    with contextlib.suppress(_TooManyProblems):
        walk.rule(rules, (), 1)
    return walk.problems


def format_path(parts: Path) -> str:
    """``("rules", "all", 1, "operator")`` -> ``"rules.all[1].operator"``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def validate_rules(rules: object, root: str = "rules") -> list[FieldProblem]:
    """Every problem of a rule tree, with paths starting at ``root``; empty when valid."""
    return [
        FieldProblem(format_path((root, *path)), code, message)
        for path, code, message in _walk(rules)
    ]


def error_detail(rules: object) -> Any:
    """The problems as a DRF error tree relative to the rules field, or ``None``.

    DRF nests a field's errors under its name, and apierrors turns integer keys into
    ``[index]`` path parts, so ``{"all": {1: {"operator": [...]}}}`` becomes
    ``rules.all[1].operator``. Problems of the tree as a whole are a plain list.
    """
    problems = _walk(rules)
    if not problems:
        return None
    own: list[ErrorDetail] = []
    tree: dict[PathPart, Any] = {}
    for path, code, message in problems:
        detail = ErrorDetail(message, code=code)
        if path:
            _insert(tree, path, detail)
        else:
            own.append(detail)
    if not tree:
        return own
    if own:
        tree[api_settings.NON_FIELD_ERRORS_KEY] = own
    return tree


def _insert(tree: dict[PathPart, Any], path: Path, detail: ErrorDetail) -> None:
    """Put ``detail`` at ``path``; a node with errors of its own and of its children keeps
    its own under DRF's non-field key, which apierrors reads as the node's path."""
    node = tree
    *parents, last = path
    for part in parents:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif isinstance(child, list):
            child = node[part] = {api_settings.NON_FIELD_ERRORS_KEY: child}
        node = child
    leaf = node.get(last)
    if leaf is None:
        node[last] = [detail]
    elif isinstance(leaf, list):
        leaf.append(detail)
    else:
        leaf.setdefault(api_settings.NON_FIELD_ERRORS_KEY, []).append(detail)
