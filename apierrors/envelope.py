"""Building the envelope's body: ``details`` from validation errors, paths, camelCase.

The envelope is ``{"error": {"code", "message", "requestId", ...optional members}}``.
``details`` entries come from DRF's (or Django's) nested validation errors: every leaf
becomes one ``FieldProblem`` whose ``field`` is a dotted path into the request body, list
items as ``items[2].name``, and whose ``code`` is a catalogue code (``validation`` does it
all for the handler). ``for_error`` is the body of an ``ApiError``, for the handler and the
docs alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache, partial
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS as DJANGO_NON_FIELD_ERRORS
from django.utils.translation import ngettext
from rest_framework.settings import api_settings

from apierrors import codes
from apierrors.conf import envelope_settings
from apierrors.exceptions import ApiError, FieldProblem, find_class, status_for_code
from apierrors.ratelimit.headers import retry_after_seconds
from apierrors.translated import translated

# DRF's and Django's validation codes, mapped onto the catalogue. A code that is already a
# known catalogue (or project) code passes through unchanged; anything else is a rule that
# failed, VALIDATION_ERROR.
DRF_FIELD_CODES: Mapping[str, str] = {
    "required": codes.MISSING_FIELD.code,
    "unique": codes.DUPLICATE_RESOURCE.code,
    "unique_together": codes.DUPLICATE_RESOURCE.code,
    **dict.fromkeys(
        (
            "invalid",
            "invalid_choice",
            "incorrect_type",
            "incorrect_match",
            "no_match",
            "null",
            "blank",
            "empty",
            "max_length",
            "min_length",
            "max_value",
            "min_value",
            "max_digits",
            "max_decimal_places",
            "max_whole_digits",
            "max_string_length",
            "overflow",
            "date",
            "datetime",
            "time",
            "make_aware",
            "not_a_list",
            "not_a_dict",
            "not_a_string",
            "invalid_image",
            "no_name",
            "surrogate_characters_not_allowed",
            "null_characters_not_allowed",
        ),
        codes.INVALID_FORMAT.code,
    ),
}

PathPart = str | int


def camelize(name: str) -> str:
    """``send_at`` -> ``sendAt``; leading underscores and already camel names are kept."""
    stripped = name.lstrip("_")
    head, *rest = stripped.split("_")
    if not rest:
        return name
    prefix = name[: len(name) - len(stripped)]
    return prefix + head + "".join(part[:1].upper() + part[1:] for part in rest if part)


# A key holding one of these would make its path ambiguous (``{"a.b": ...}`` against
# ``{"a": {"b": ...}}``): each is escaped with a backslash, the backslash itself first.
_PATH_SPECIALS = str.maketrans({"\\": "\\\\", ".": "\\.", "[": "\\[", "]": "\\]"})


def escape_key(name: str) -> str:
    """``a.b`` -> ``a\\.b``: a key as one unambiguous path part."""
    return name.translate(_PATH_SPECIALS)


def format_path(parts: Sequence[PathPart], *, camel: bool) -> str | None:
    """``["items", 0, "send_at"]`` -> ``"items[0].send_at"`` (``sendAt`` with ``camel``).

    A key's ``\\``, ``.``, ``[`` and ``]`` are escaped with a backslash (``escape_key``).
    """
    if not parts:
        return None
    out = ""
    for position, part in enumerate(parts):
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = escape_key(camelize(part) if camel else part)
            out = f"{out}.{name}" if position else name
    return out


def field_code(drf_code: str | None) -> str:
    """The catalogue code for one validation leaf's DRF or Django code."""
    return _field_code(drf_code, envelope_settings().field_codes)


def _field_code(drf_code: str | None, extra: Mapping[str, str]) -> str:
    if drf_code is None:
        return codes.VALIDATION_ERROR.code
    if drf_code in extra:
        return extra[drf_code]
    if drf_code in DRF_FIELD_CODES:
        return DRF_FIELD_CODES[drf_code]
    if find_class(drf_code) is not None:
        return drf_code
    return codes.VALIDATION_ERROR.code


def flatten(detail: Any, *, camel: bool | None = None) -> list[FieldProblem]:
    """Every leaf of a DRF ``ValidationError.detail`` tree as one ``FieldProblem``."""
    settings = envelope_settings()
    if camel is None:
        camel = settings.camelize_fields
    problems: list[FieldProblem] = []
    non_field_keys = (api_settings.NON_FIELD_ERRORS_KEY, DJANGO_NON_FIELD_ERRORS)
    _walk(detail, None, problems, camel, non_field_keys, settings.field_codes)
    return problems


def _is_non_field_key(key: object) -> bool:
    return key in (api_settings.NON_FIELD_ERRORS_KEY, DJANGO_NON_FIELD_ERRORS)


# The kinds of node of a validation tree, as constants (a union is built on each use).
_MAPPINGS = (dict, Mapping)
_SEQUENCES = (list, tuple)
_NESTED = (dict, list, tuple, Mapping)


@lru_cache(maxsize=1024)
def _path_name(key: str, camel: bool) -> str:
    """One key as a path part (``format_path``'s rule), kept: a form's keys repeat."""
    return escape_key(camelize(key) if camel else key)


def _walk(
    node: Any,
    path: str | None,
    out: list[FieldProblem],
    camel: bool,
    non_field_keys: tuple[object, ...],
    extra: Mapping[str, str],
) -> None:
    """``path`` is ``format_path`` of the parts so far, built a part at a time (``None``
    for none)."""
    # A leaf (an ErrorDetail, a str) is the most frequent node: tested first, and lists
    # before mappings (Mapping is an ABC: a slower test, for what is rarely not a dict).
    if not isinstance(node, str):
        if isinstance(node, _SEQUENCES):
            for index, item in enumerate(node):
                if isinstance(item, str):  # a field's messages: the leaves, inline
                    code = _field_code(getattr(item, "code", None), extra)
                    out.append(FieldProblem(path, code, str(item) or default_message(code)))
                elif isinstance(item, _NESTED):
                    _walk(item, f"{path or ''}[{index}]", out, camel, non_field_keys, extra)
                else:
                    _walk(item, path, out, camel, non_field_keys, extra)
            return
        if isinstance(node, _MAPPINGS):
            for key, value in node.items():
                # DRF 3.18 keys list errors by integer index; index 0 is a real path part.
                if key in non_field_keys:
                    _walk(value, path, out, camel, non_field_keys, extra)
                elif isinstance(key, int):
                    _walk(value, f"{path or ''}[{key}]", out, camel, non_field_keys, extra)
                else:
                    name = _path_name(str(key), camel)
                    child = name if path is None else f"{path}.{name}"
                    _walk(value, child, out, camel, non_field_keys, extra)
            return
    code = _field_code(getattr(node, "code", None), extra)
    out.append(FieldProblem(path, code, str(node) or default_message(code)))


def default_message(code: str) -> str:
    """The default sentence of ``code``'s class (VALIDATION_ERROR's for an unknown code)."""
    cls = find_class(code)
    return str(cls.default_detail if cls is not None else codes.VALIDATION_ERROR.message)


# Past this many, ``details`` lists the first ones and one entry that counts the rest.
MAX_DETAILS = 100


def bounded(problems: list[FieldProblem], code: str) -> list[FieldProblem]:
    """At most ``MAX_DETAILS`` entries: a huge body must not buy a huge answer."""
    if len(problems) <= MAX_DETAILS:
        return problems
    rest = len(problems) - (MAX_DETAILS - 1)
    more = ngettext(
        "%(count)d more problem is not listed.", "%(count)d more problems are not listed.", rest
    ) % {"count": rest}
    return [*problems[: MAX_DETAILS - 1], FieldProblem(None, code, more)]


def _code_and_message(problems: Sequence[FieldProblem]) -> tuple[str, str]:
    distinct = {problem.code for problem in problems}
    code = distinct.pop() if len(distinct) == 1 else codes.VALIDATION_ERROR.code
    if len(problems) == 1:
        return code, problems[0].message
    entry = codes.CATALOGUE.get(code) or codes.VALIDATION_ERROR
    return code, translated(("catalogue", entry.code), partial(str, entry.message))


def summarize(problems: Sequence[FieldProblem]) -> tuple[str, int, str]:
    """The top-level code, status and message for a list of field problems.

    The code is the problems' code when all share one, else VALIDATION_ERROR; the message
    is the single problem's own when there is one, else the code's default sentence.
    """
    code, message = _code_and_message(problems)
    return code, status_for_code(code) or codes.VALIDATION_ERROR.status, message


def validation(detail: Any) -> tuple[str, str, list[FieldProblem]]:
    """A validation tree (DRF's or Django's) as the top-level code and message of its
    answer and its ``details``, bounded: all the handler needs to build the error."""
    problems = flatten(detail)
    code, message = _code_and_message(problems)
    return code, message, bounded(problems, code)


def anchor(code: str) -> str:
    """The anchor of ``code``'s entry on the catalogue page: ``RESOURCE_NOT_FOUND`` ->
    ``resource-not-found``."""
    return code.lower().replace("_", "-")


def doc_url(code: str) -> str | None:
    """The link to ``code``'s entry on the catalogue page, when ``DOCS_URL`` is set."""
    base = envelope_settings().docs_url
    if not base:
        return None
    return f"{base}#{anchor(code)}"


def retry_after(error: ApiError) -> int | None:
    """The whole seconds to wait that ``error`` is answered with: its own ``retry_after``
    rounded up, 1 for a 429 that names none, else ``None``."""
    if error.retry_after is not None:
        return retry_after_seconds(error.retry_after)
    if error.status_code == 429:
        return 1
    return None


def encodable(text: str) -> str:
    """``text`` with lone surrogates escaped, so that any renderer can encode it as UTF-8.

    Messages and field paths can quote the request body (an unknown key, DRF's
    ``"x" is not a valid choice.``), and JSON lets a body carry ``"\\udc80"``.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def build(
    *,
    code: str,
    message: str,
    request_id: str | None,
    details: Iterable[FieldProblem] = (),
    retry_after: int | None = None,
) -> dict[str, Any]:
    """The envelope dict, with the optional members only when they carry something."""
    error: dict[str, Any] = {"code": code, "message": encodable(message), "requestId": request_id}
    detail_list = []
    for problem in details:
        field, message = problem.field, problem.message
        detail_list.append(
            {
                "field": field if field is None or field.isascii() else encodable(field),
                "code": problem.code,
                "message": message if message.isascii() else encodable(message),
            }
        )
    if detail_list:
        error["details"] = detail_list
    if retry_after is not None:
        error["retryAfter"] = retry_after
    url = doc_url(code)
    if url:
        error["docUrl"] = url
    return {"error": error}


def for_error(error: ApiError, *, request_id: str | None) -> dict[str, Any]:
    """The envelope ``error`` is answered with; an empty message is the code's default."""
    return build(
        code=error.code,
        message=error.message or default_message(error.code),
        request_id=request_id,
        details=error.details,
        retry_after=retry_after(error),
    )
