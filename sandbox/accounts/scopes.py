"""The OAuth scopes of the sandbox's API."""

from __future__ import annotations

CAMPAIGNS_READ = "campaigns:read"
CAMPAIGNS_WRITE = "campaigns:write"
SEGMENTS_READ = "segments:read"
SEGMENTS_WRITE = "segments:write"
SOCIAL_PUBLISH = "social:publish"

ALL = (CAMPAIGNS_READ, CAMPAIGNS_WRITE, SEGMENTS_READ, SEGMENTS_WRITE, SOCIAL_PUBLISH)
READ = (CAMPAIGNS_READ, SEGMENTS_READ)
