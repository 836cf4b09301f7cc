"""The catalogue: every error code apierrors knows, its HTTP status, default message and family.

This module is the one place a built-in code is defined. ``apierrors.exceptions`` builds one
exception class per entry, the handler maps DRF and Django failures onto these codes, and the
documentation's catalogue page is generated from ``CATALOGUE``. Adding a code is one entry
in ``_ENTRIES``; a project's own codes are declared by subclassing
``apierrors.exceptions.ApiError`` instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Family(str, enum.Enum):
    """The group a code belongs to, as the catalogue's headings name them."""

    AUTHENTICATION = "authentication"
    RESOURCE = "resource"
    VALIDATION = "validation"
    SEGMENT = "segment"
    CAMPAIGN = "campaign"
    SOCIAL = "social"
    PROTOCOL = "protocol"
    SERVER = "server"


@dataclass(frozen=True)
class ErrorCode:
    """One catalogue entry.

    ``message`` is the translatable default sentence sent when the raiser gives none;
    ``description`` says when the code is raised, for the docs and the OpenAPI schema.
    """

    code: str
    status: int
    message: str | Promise
    family: Family
    description: str

    def __str__(self) -> str:
        return self.code


_ENTRIES: tuple[ErrorCode, ...] = (
    # Authentication
    ErrorCode(
        "UNAUTHORIZED",
        401,
        _("Authentication credentials were not provided or are not valid."),
        Family.AUTHENTICATION,
        "No credentials, or credentials that are not valid.",
    ),
    ErrorCode(
        "FORBIDDEN",
        403,
        _("You do not have permission to perform this action."),
        Family.AUTHENTICATION,
        "Authenticated, but not allowed to do this.",
    ),
    ErrorCode(
        "TOKEN_EXPIRED",
        401,
        _("The access token has expired."),
        Family.AUTHENTICATION,
        "A JWT whose exp has passed.",
    ),
    ErrorCode(
        "INVALID_SCOPE",
        403,
        _("The access token does not carry the scope this action requires."),
        Family.AUTHENTICATION,
        "The token lacks a scope the view requires.",
    ),
    # Resource
    ErrorCode(
        "RESOURCE_NOT_FOUND",
        404,
        _("The requested resource does not exist."),
        Family.RESOURCE,
        "The object does not exist (or is not visible to this caller), or no URL matches.",
    ),
    ErrorCode(
        "DUPLICATE_RESOURCE",
        409,
        _("A resource with these values already exists."),
        Family.RESOURCE,
        "A create or rename would break a uniqueness rule.",
    ),
    ErrorCode(
        "RESOURCE_CONFLICT",
        409,
        _("The resource's current state does not allow this action."),
        Family.RESOURCE,
        "The resource's state forbids the action.",
    ),
    # Validation
    ErrorCode(
        "VALIDATION_ERROR",
        422,
        _("The request body is not valid."),
        Family.VALIDATION,
        "The body failed validation with mixed problems; 400 when it cannot be parsed at all.",
    ),
    ErrorCode(
        "INVALID_FIELD",
        422,
        _("The request body holds a field this endpoint does not accept."),
        Family.VALIDATION,
        "The body holds a field the endpoint does not accept.",
    ),
    ErrorCode(
        "MISSING_FIELD",
        422,
        _("A required field is missing."),
        Family.VALIDATION,
        "A required field is absent.",
    ),
    ErrorCode(
        "INVALID_FORMAT",
        422,
        _("A field's value has the wrong type or format."),
        Family.VALIDATION,
        "A field's value has the wrong type or format.",
    ),
    # Segment
    ErrorCode(
        "INVALID_SEGMENT_RULE",
        422,
        _("The segment rule is not valid."),
        Family.SEGMENT,
        "A segment rule's structure is not valid.",
    ),
    ErrorCode(
        "UNKNOWN_FIELD",
        422,
        _("The segment rule names a field that cannot be segmented on."),
        Family.SEGMENT,
        "A segment rule names a field that cannot be segmented on.",
    ),
    ErrorCode(
        "INVALID_OPERATOR",
        422,
        _("The segment rule uses an operator the field's type does not support."),
        Family.SEGMENT,
        "A segment rule uses an operator the field's type does not support.",
    ),
    # Campaign
    ErrorCode(
        "CAMPAIGN_ALREADY_ACTIVE",
        409,
        _("The campaign is active and cannot be changed."),
        Family.CAMPAIGN,
        "Modifying, rescheduling or deleting an active campaign.",
    ),
    ErrorCode(
        "CAMPAIGN_NOT_SCHEDULED",
        409,
        _("The campaign must be scheduled first."),
        Family.CAMPAIGN,
        "Activating a campaign that has not been scheduled.",
    ),
    ErrorCode(
        "SEGMENT_REQUIRED",
        422,
        _("The campaign needs a target segment."),
        Family.CAMPAIGN,
        "Scheduling or activating a campaign without a target segment.",
    ),
    ErrorCode(
        "INVALID_SCHEDULE",
        422,
        _("The scheduled time is in the past or not a valid time."),
        Family.CAMPAIGN,
        "A scheduled time in the past (or not a valid time).",
    ),
    # Social
    ErrorCode(
        "CONNECTION_EXPIRED",
        409,
        _("The social connection's token has expired."),
        Family.SOCIAL,
        "Publishing through a social connection whose token has expired.",
    ),
    ErrorCode(
        "PUBLISHING_FAILED",
        502,
        _("The platform failed to publish the post."),
        Family.SOCIAL,
        "The social platform failed to publish.",
    ),
    ErrorCode(
        "RATE_LIMIT_EXCEEDED",
        429,
        _("Too many requests. Please retry later."),
        Family.SOCIAL,
        "This API's throttle, or a social platform's rate limit.",
    ),
    ErrorCode(
        "CONTENT_REJECTED",
        422,
        _("The platform rejected the content."),
        Family.SOCIAL,
        "The social platform rejected the content.",
    ),
    # Protocol and server: failures every DRF API meets, not named by the seed.
    ErrorCode(
        "METHOD_NOT_ALLOWED",
        405,
        _("This method is not allowed on this URL."),
        Family.PROTOCOL,
        "The method is not allowed on the URL (with an Allow header).",
    ),
    ErrorCode(
        "NOT_ACCEPTABLE",
        406,
        _("No available representation matches the Accept header."),
        Family.PROTOCOL,
        "No renderer matches Accept.",
    ),
    ErrorCode(
        "UNSUPPORTED_MEDIA_TYPE",
        415,
        _("The request's content type is not supported."),
        Family.PROTOCOL,
        "No parser matches Content-Type.",
    ),
    ErrorCode(
        "SERVER_ERROR",
        500,
        _("An unexpected error occurred. Please try again later."),
        Family.SERVER,
        "Anything uncaught; the body says nothing about the cause.",
    ),
    ErrorCode(
        "SERVICE_UNAVAILABLE",
        503,
        _("The service is temporarily unavailable. Please try again later."),
        Family.SERVER,
        "A dependency is down and the project chose to fail closed.",
    ),
)

CATALOGUE: dict[str, ErrorCode] = {entry.code: entry for entry in _ENTRIES}

UNAUTHORIZED = CATALOGUE["UNAUTHORIZED"]
FORBIDDEN = CATALOGUE["FORBIDDEN"]
TOKEN_EXPIRED = CATALOGUE["TOKEN_EXPIRED"]
INVALID_SCOPE = CATALOGUE["INVALID_SCOPE"]
RESOURCE_NOT_FOUND = CATALOGUE["RESOURCE_NOT_FOUND"]
DUPLICATE_RESOURCE = CATALOGUE["DUPLICATE_RESOURCE"]
RESOURCE_CONFLICT = CATALOGUE["RESOURCE_CONFLICT"]
VALIDATION_ERROR = CATALOGUE["VALIDATION_ERROR"]
INVALID_FIELD = CATALOGUE["INVALID_FIELD"]
MISSING_FIELD = CATALOGUE["MISSING_FIELD"]
INVALID_FORMAT = CATALOGUE["INVALID_FORMAT"]
INVALID_SEGMENT_RULE = CATALOGUE["INVALID_SEGMENT_RULE"]
UNKNOWN_FIELD = CATALOGUE["UNKNOWN_FIELD"]
INVALID_OPERATOR = CATALOGUE["INVALID_OPERATOR"]
CAMPAIGN_ALREADY_ACTIVE = CATALOGUE["CAMPAIGN_ALREADY_ACTIVE"]
CAMPAIGN_NOT_SCHEDULED = CATALOGUE["CAMPAIGN_NOT_SCHEDULED"]
SEGMENT_REQUIRED = CATALOGUE["SEGMENT_REQUIRED"]
INVALID_SCHEDULE = CATALOGUE["INVALID_SCHEDULE"]
CONNECTION_EXPIRED = CATALOGUE["CONNECTION_EXPIRED"]
PUBLISHING_FAILED = CATALOGUE["PUBLISHING_FAILED"]
RATE_LIMIT_EXCEEDED = CATALOGUE["RATE_LIMIT_EXCEEDED"]
CONTENT_REJECTED = CATALOGUE["CONTENT_REJECTED"]
METHOD_NOT_ALLOWED = CATALOGUE["METHOD_NOT_ALLOWED"]
NOT_ACCEPTABLE = CATALOGUE["NOT_ACCEPTABLE"]
UNSUPPORTED_MEDIA_TYPE = CATALOGUE["UNSUPPORTED_MEDIA_TYPE"]
SERVER_ERROR = CATALOGUE["SERVER_ERROR"]
SERVICE_UNAVAILABLE = CATALOGUE["SERVICE_UNAVAILABLE"]
