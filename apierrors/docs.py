"""Documentation generated from the code: example bodies and the catalogue page.

The OpenAPI schema (``apierrors.openapi``) and the catalogue page of the docs show the same
example body for a code, built here from the code's exception class through the envelope
builder the handler uses, so the examples cannot drift from what the API answers.

``render_catalogue()`` writes ``docs/catalogue.md``: one section per family, one entry per
code with an explicit anchor that ``APIERRORS["DOCS_URL"]`` links to (``docUrl``). Regenerate
it with ``python manage.py apierrors_catalogue --output docs/catalogue.md``; a project that
declares codes of its own adds ``--project`` to list them too. ``with_readme_table()`` puts
the short table of codes under the README's ``## The catalogue`` heading (``--readme
README.md``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.utils import translation
from rest_framework import exceptions as drf
from rest_framework import serializers

from apierrors import codes, envelope
from apierrors import exceptions as errors
from apierrors.envelope import anchor
from apierrors.handler import get_handler
from apierrors.serializers import UNKNOWN_FIELD_MESSAGE

EXAMPLE_REQUEST_ID = "req_8f14e45fceea167a5a36dedd"
EXAMPLE_RETRY_AFTER = 60

# The body field each validation-family example points at, with the message a real
# failure of that kind carries (DRF's own for DRF's codes).
_REQUIRED = serializers.Field.default_error_messages["required"]
_NOT_AN_INTEGER = serializers.IntegerField.default_error_messages["invalid"]
EXAMPLE_PROBLEMS: dict[str, tuple[tuple[str, str, Any], ...]] = {
    codes.VALIDATION_ERROR.code: (
        ("name", codes.MISSING_FIELD.code, _REQUIRED),
        ("segmentId", codes.INVALID_FORMAT.code, _NOT_AN_INTEGER),
    ),
    codes.MISSING_FIELD.code: (("name", codes.MISSING_FIELD.code, _REQUIRED),),
    codes.INVALID_FORMAT.code: (("segmentId", codes.INVALID_FORMAT.code, _NOT_AN_INTEGER),),
    codes.INVALID_FIELD.code: (("colour", codes.INVALID_FIELD.code, UNKNOWN_FIELD_MESSAGE),),
    codes.INVALID_SEGMENT_RULE.code: (
        ("rules.any", codes.INVALID_SEGMENT_RULE.code, codes.INVALID_SEGMENT_RULE.message),
    ),
    codes.UNKNOWN_FIELD.code: (
        ("rules.all[0].field", codes.UNKNOWN_FIELD.code, codes.UNKNOWN_FIELD.message),
    ),
    codes.INVALID_OPERATOR.code: (
        ("rules.all[1].operator", codes.INVALID_OPERATOR.code, codes.INVALID_OPERATOR.message),
    ),
}


def example_error(error_class: type[errors.ApiError], status: int | None = None) -> errors.ApiError:
    """An instance of ``error_class`` as the API typically answers it.

    The message is the class's default; a 429 carries ``retry_after``; a validation-family
    code carries ``details`` and, as the handler does, takes its message from them. ``status``
    400 with ``VALIDATION_ERROR`` is the answer to a body that cannot be parsed.
    """
    code = str(error_class.default_code)
    if status == 400 and code == codes.VALIDATION_ERROR.code:
        return get_handler().convert(drf.ParseError())
    if int(error_class.status_code) == 429:
        return error_class(retry_after=EXAMPLE_RETRY_AFTER)
    problems = [
        errors.FieldProblem(field, problem_code, str(message))
        for field, problem_code, message in EXAMPLE_PROBLEMS.get(code, ())
    ]
    if not problems:
        return error_class()
    _, _, message = envelope.summarize(problems)
    return error_class(message, details=problems)


def example_body(error: errors.ApiError) -> dict[str, Any]:
    """The envelope the API answers ``error`` with, under the example request id."""
    return envelope.for_error(error, request_id=EXAMPLE_REQUEST_ID)


def describe(error_class: type[errors.ApiError]) -> str:
    """When ``error_class`` is raised: a project class's own docstring (first line), else
    the catalogue's description of its code, else its default message."""
    own_doc = error_class.__dict__.get("__doc__")
    if own_doc and error_class.__module__ != errors.__name__:
        return str(own_doc).strip().splitlines()[0]
    entry = codes.CATALOGUE.get(str(error_class.default_code))
    if entry is not None:
        return entry.description
    return str(error_class.default_detail)


def project_classes() -> list[type[errors.ApiError]]:
    """The project's own codes: one ``ApiError`` subclass per code the catalogue lacks."""
    found: dict[str, type[errors.ApiError]] = {}
    for cls in errors.registered_classes():
        code = str(cls.default_code)
        if code not in codes.CATALOGUE and code not in found:
            found[code] = cls
    return [found[code] for code in sorted(found)]


_INTRO = """\
# Error catalogue

<!-- Generated from apierrors/codes.py by `python manage.py apierrors_catalogue`.
     Edit the catalogue, not this page; a test fails when they disagree. -->

Every error answer carries one of these codes in `error.code`. A code never changes its
meaning or its HTTP status, and is never sent with another status; new codes may be added.
`HTTP_ERROR` alone has no status of its own: it answers an error whose status no other code
stands for (another package's 418, 451 or 504) and is sent with that status.
With `APIERRORS["DOCS_URL"]` set to this page's URL, each envelope's `docUrl` links to its
code's entry below.
The examples show the body with its optional members where the code usually has them.

| Code | Status | Raised when |
| --- | --- | --- |
"""


ANY_STATUS = "any"


def status_label(error_class: type[errors.ApiError]) -> str:
    """The status column of a code: its status, ``any`` for HTTP_ERROR."""
    entry = codes.CATALOGUE.get(str(error_class.default_code))
    own = entry is not None and error_class is errors.find_class(entry.code)
    if own and entry is not None and entry.any_status:
        return ANY_STATUS
    return str(int(error_class.status_code))


def _entry_rows(entries: Iterable[tuple[str, str, str]]) -> str:
    return "".join(
        f"| {{ref}}`{code} <{anchor(code)}>` | {status} | {description} |\n"
        for code, status, description in entries
    )


def _section(error_class: type[errors.ApiError]) -> str:
    code = str(error_class.default_code)
    status = status_label(error_class)
    body = example_body(example_error(error_class))
    # The page must not depend on the DOCS_URL of the project that renders it.
    body["error"].pop("docUrl", None)
    lines = [
        f"({anchor(code)})=",
        f"### `{code}`",
        "",
        f"- **Status:** {status}",
        f"- **Raised when:** {describe(error_class)}",
        f"- **Default message:** {error_class.default_detail}",
        f"- **Exception:** `{error_class.__module__}.{error_class.__qualname__}`",
        "",
    ]
    if status == ANY_STATUS:
        lines += [
            "Sent with the status of the error it answers; the example shows a 400.",
            "",
        ]
    if code == codes.VALIDATION_ERROR.code:
        lines += [
            "A body that cannot be parsed at all is answered 400 with this code and no `details`.",
            "",
        ]
    lines += ["```json", json.dumps(body, indent=2, ensure_ascii=False), "```", ""]
    return "\n".join(lines)


def render_catalogue(*, include_project: bool = False) -> str:
    """The catalogue page, in English whatever the active language."""
    with translation.override("en"):
        classes = [errors.class_for_code(code) for code in codes.CATALOGUE]
        project = project_classes() if include_project else []
        rows = [
            (str(cls.default_code), status_label(cls), describe(cls))
            for cls in [*classes, *project]
        ]
        parts = [_INTRO, _entry_rows(rows)]
        for family in codes.Family:
            members = [cls for cls in classes if cls.error and cls.error.family is family]
            if members:
                parts.append(f"\n## {family.value.capitalize()}\n\n")
                parts.append("\n".join(_section(cls) for cls in members))
        if project:
            parts.append("\n## This project's codes\n\n")
            parts.append("\n".join(_section(cls) for cls in project))
        return "".join(parts)


README_HEADING = "## The catalogue"


def render_readme_table() -> str:
    """The README's table of the built-in codes: code, status, when it is raised."""
    rows = "".join(
        f"| `{entry.code}` | {ANY_STATUS if entry.any_status else entry.status} "
        f"| {entry.description} |\n"
        for entry in codes.CATALOGUE.values()
    )
    return "| code | status | meaning |\n| --- | --- | --- |\n" + rows


def with_readme_table(readme: str) -> str:
    """``readme`` with the table under its ``## The catalogue`` heading generated anew (the
    table is added after the heading when there is none yet)."""
    head, heading, rest = readme.partition(README_HEADING + "\n")
    if not heading:
        raise ValueError(f"no {README_HEADING!r} heading")
    lines = rest.splitlines(keepends=True)
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    table = render_readme_table() + ("" if end > start else "\n")
    return "".join([head, heading, *lines[:start], table, *lines[end:]])
