"""The catalogue: every error code apierrors knows, its HTTP status, default message and family.

Each built-in code is one ``ErrorCode`` constant below, named after its code; ``CATALOGUE``
collects them in the order they are defined. Adding a built-in code touches two places: its
entry here and its class in ``apierrors.exceptions`` (``error = codes.NEW_CODE``; a test
fails while a code has no class). The docs' catalogue page and the README's table are
generated from these entries (``manage.py apierrors_catalogue``; a test fails until they are
regenerated), and the contract's list of codes is checked by ``tests/test_codes.py``.

A project's own codes are declared by subclassing ``apierrors.exceptions.ApiError`` instead.
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
    ``stands_for_status`` marks the code that answers an error of its status which names no
    code of its own (another package's exception, a Django error page); at most one per
    status. ``any_status`` marks the one code sent with whatever status such an error has
    when no code stands for it (HTTP_ERROR); every other code is only ever sent with
    ``status``.
    """

    code: str
    status: int
    message: str | Promise
    family: Family
    description: str
    stands_for_status: bool = False
    any_status: bool = False

    def __str__(self) -> str:
        return self.code


# Authentication
UNAUTHORIZED = ErrorCode(
    "UNAUTHORIZED",
    401,
    _("Authentication credentials were not provided or are not valid."),
    Family.AUTHENTICATION,
    "No credentials, or credentials that are not valid.",
    stands_for_status=True,
)
FORBIDDEN = ErrorCode(
    "FORBIDDEN",
    403,
    _("You do not have permission to perform this action."),
    Family.AUTHENTICATION,
    "Authenticated, but not allowed to do this.",
    stands_for_status=True,
)
TOKEN_EXPIRED = ErrorCode(
    "TOKEN_EXPIRED",
    401,
    _("The access token has expired."),
    Family.AUTHENTICATION,
    "A JWT whose exp has passed.",
)
INVALID_SCOPE = ErrorCode(
    "INVALID_SCOPE",
    403,
    _("The access token does not carry the scope this action requires."),
    Family.AUTHENTICATION,
    "The token lacks a scope the view requires.",
)

# Resource
RESOURCE_NOT_FOUND = ErrorCode(
    "RESOURCE_NOT_FOUND",
    404,
    _("The requested resource does not exist."),
    Family.RESOURCE,
    "The object does not exist (or is not visible to this caller), or no URL matches.",
    stands_for_status=True,
)
DUPLICATE_RESOURCE = ErrorCode(
    "DUPLICATE_RESOURCE",
    409,
    _("A resource with these values already exists."),
    Family.RESOURCE,
    "A create or rename would break a uniqueness rule.",
)
RESOURCE_CONFLICT = ErrorCode(
    "RESOURCE_CONFLICT",
    409,
    _("The resource's current state does not allow this action."),
    Family.RESOURCE,
    "The resource's state forbids the action; also a foreign-key violation, a deadlock or a "
    "serialization failure that a concurrent request caused (the last two with Retry-After).",
    stands_for_status=True,
)

# Validation
VALIDATION_ERROR = ErrorCode(
    "VALIDATION_ERROR",
    422,
    _("The request body is not valid."),
    Family.VALIDATION,
    "The body failed validation with mixed problems; 400 when it cannot be parsed at all.",
    stands_for_status=True,
)
INVALID_FIELD = ErrorCode(
    "INVALID_FIELD",
    422,
    _("The request body holds a field this endpoint does not accept."),
    Family.VALIDATION,
    "The body holds a field the endpoint does not accept.",
)
MISSING_FIELD = ErrorCode(
    "MISSING_FIELD",
    422,
    _("A required field is missing."),
    Family.VALIDATION,
    "A required field is absent.",
)
INVALID_FORMAT = ErrorCode(
    "INVALID_FORMAT",
    422,
    _("A field's value has the wrong type or format."),
    Family.VALIDATION,
    "A field's value has the wrong type or format.",
)

# Segment
INVALID_SEGMENT_RULE = ErrorCode(
    "INVALID_SEGMENT_RULE",
    422,
    _("The segment rule is not valid."),
    Family.SEGMENT,
    "A segment rule's structure is not valid.",
)
UNKNOWN_FIELD = ErrorCode(
    "UNKNOWN_FIELD",
    422,
    _("The segment rule names a field that cannot be segmented on."),
    Family.SEGMENT,
    "A segment rule names a field that cannot be segmented on.",
)
INVALID_OPERATOR = ErrorCode(
    "INVALID_OPERATOR",
    422,
    _("The segment rule uses an operator the field's type does not support."),
    Family.SEGMENT,
    "A segment rule uses an operator the field's type does not support.",
)

# Campaign
CAMPAIGN_ALREADY_ACTIVE = ErrorCode(
    "CAMPAIGN_ALREADY_ACTIVE",
    409,
    _("The campaign is active and cannot be changed."),
    Family.CAMPAIGN,
    "Modifying, rescheduling or deleting an active campaign.",
)
CAMPAIGN_NOT_SCHEDULED = ErrorCode(
    "CAMPAIGN_NOT_SCHEDULED",
    409,
    _("The campaign must be scheduled first."),
    Family.CAMPAIGN,
    "Activating a campaign that has not been scheduled.",
)
SEGMENT_REQUIRED = ErrorCode(
    "SEGMENT_REQUIRED",
    422,
    _("The campaign needs a target segment."),
    Family.CAMPAIGN,
    "Scheduling or activating a campaign without a target segment.",
)
INVALID_SCHEDULE = ErrorCode(
    "INVALID_SCHEDULE",
    422,
    _("The scheduled time is in the past or not a valid time."),
    Family.CAMPAIGN,
    "A scheduled time in the past (or not a valid time).",
)

# Social
CONNECTION_EXPIRED = ErrorCode(
    "CONNECTION_EXPIRED",
    409,
    _("The social connection's token has expired."),
    Family.SOCIAL,
    "Publishing through a social connection whose token has expired.",
)
PUBLISHING_FAILED = ErrorCode(
    "PUBLISHING_FAILED",
    502,
    _("The platform failed to publish the post."),
    Family.SOCIAL,
    "The social platform failed to publish.",
)
RATE_LIMIT_EXCEEDED = ErrorCode(
    "RATE_LIMIT_EXCEEDED",
    429,
    _("Too many requests. Please retry later."),
    Family.SOCIAL,
    "This API's throttle, or a social platform's rate limit.",
    stands_for_status=True,
)
CONTENT_REJECTED = ErrorCode(
    "CONTENT_REJECTED",
    422,
    _("The platform rejected the content."),
    Family.SOCIAL,
    "The social platform rejected the content.",
)

# Protocol and server: failures every DRF API meets, not named by the seed.
METHOD_NOT_ALLOWED = ErrorCode(
    "METHOD_NOT_ALLOWED",
    405,
    _("This method is not allowed on this URL."),
    Family.PROTOCOL,
    "The method is not allowed on the URL (with an Allow header).",
    stands_for_status=True,
)
NOT_ACCEPTABLE = ErrorCode(
    "NOT_ACCEPTABLE",
    406,
    _("No available representation matches the Accept header."),
    Family.PROTOCOL,
    "No renderer matches Accept.",
    stands_for_status=True,
)
UNSUPPORTED_MEDIA_TYPE = ErrorCode(
    "UNSUPPORTED_MEDIA_TYPE",
    415,
    _("The request's content type is not supported."),
    Family.PROTOCOL,
    "No parser matches Content-Type.",
    stands_for_status=True,
)
BAD_REQUEST = ErrorCode(
    "BAD_REQUEST",
    400,
    _("The request is not valid."),
    Family.PROTOCOL,
    "A request Django or another package refuses as malformed (not a body that fails "
    "validation, nor one that cannot be parsed: those are VALIDATION_ERROR).",
    stands_for_status=True,
)
PAYMENT_REQUIRED = ErrorCode(
    "PAYMENT_REQUIRED",
    402,
    _("Payment is required to perform this action."),
    Family.PROTOCOL,
    "Another package's (or a project's) 402: the action needs a paid plan or credit.",
    stands_for_status=True,
)
GONE = ErrorCode(
    "GONE",
    410,
    _("The requested resource is no longer available."),
    Family.PROTOCOL,
    "Another package's (or a project's) 410: the resource existed and was removed for good.",
    stands_for_status=True,
)
PRECONDITION_FAILED = ErrorCode(
    "PRECONDITION_FAILED",
    412,
    _("A precondition of the request was not met."),
    Family.PROTOCOL,
    "An If-Match / If-Unmodified-Since precondition failed (a 412 from another package).",
    stands_for_status=True,
)
PAYLOAD_TOO_LARGE = ErrorCode(
    "PAYLOAD_TOO_LARGE",
    413,
    _("The request body is too large."),
    Family.PROTOCOL,
    "The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE (or another package's 413).",
    stands_for_status=True,
)
LOCKED = ErrorCode(
    "LOCKED",
    423,
    _("The resource is locked."),
    Family.PROTOCOL,
    "Another package's (or a project's) 423: the resource is locked against changes.",
    stands_for_status=True,
)
PRECONDITION_REQUIRED = ErrorCode(
    "PRECONDITION_REQUIRED",
    428,
    _("This request must be conditional."),
    Family.PROTOCOL,
    "Another package's (or a project's) 428: the request must carry If-Match.",
    stands_for_status=True,
)
HTTP_ERROR = ErrorCode(
    "HTTP_ERROR",
    400,
    _("The request could not be completed."),
    Family.PROTOCOL,
    "An error of a status that no other code stands for (another package's 418, 451 or "
    "504): sent with that status, the only code whose status varies.",
    any_status=True,
)
SERVER_ERROR = ErrorCode(
    "SERVER_ERROR",
    500,
    _("An unexpected error occurred. Please try again later."),
    Family.SERVER,
    "Anything uncaught; the body says nothing about the cause.",
    stands_for_status=True,
)
SERVICE_UNAVAILABLE = ErrorCode(
    "SERVICE_UNAVAILABLE",
    503,
    _("The service is temporarily unavailable. Please try again later."),
    Family.SERVER,
    "A dependency is down and the project chose to fail closed.",
    stands_for_status=True,
)


CATALOGUE: dict[str, ErrorCode] = {
    entry.code: entry for entry in list(globals().values()) if isinstance(entry, ErrorCode)
}
"""Every built-in code, in the order of the definitions above."""

_STANDING_FOR_STATUS: dict[int, ErrorCode] = {
    entry.status: entry for entry in CATALOGUE.values() if entry.stands_for_status
}


def entry_for_status(status: int) -> ErrorCode:
    """The entry that names an error of ``status`` carrying no code of its own: the one that
    stands for that status, else HTTP_ERROR, sent with that status."""
    return _STANDING_FOR_STATUS.get(status, HTTP_ERROR)
