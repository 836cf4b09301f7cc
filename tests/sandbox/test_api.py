"""The sandbox as a whole: protocol errors, request ids, the OpenAPI schema and its UI."""

from __future__ import annotations

import re

import pytest
import yaml
from openapi_spec_validator import validate

from tests.sandbox.support import assert_envelope, send

pytestmark = pytest.mark.django_db


def test_unknown_url_is_resource_not_found(as_demo, anonymous):
    assert_envelope(as_demo.get("/api/v1/nothing/"), "RESOURCE_NOT_FOUND", 404)
    assert_envelope(anonymous.get("/api/v2/campaigns/"), "RESOURCE_NOT_FOUND", 404)


def test_wrong_media_type_is_unsupported(as_demo):
    response = as_demo.post(
        "/api/v1/segments/", "name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_envelope(response, "UNSUPPORTED_MEDIA_TYPE", 415)


def test_unacceptable_accept_is_not_acceptable(as_demo):
    assert_envelope(as_demo.get("/api/v1/segments/", HTTP_ACCEPT="text/csv"), "NOT_ACCEPTABLE", 406)


def test_incoming_request_id_is_kept(as_demo):
    response = as_demo.get("/api/v1/segments/999/", HTTP_X_REQUEST_ID="client-42.a:b")
    assert response["X-Request-ID"] == "client-42.a:b"
    assert response.json()["error"]["requestId"] == "client-42.a:b"
    response = as_demo.get("/api/v1/segments/999/", HTTP_X_REQUEST_ID="<script>")
    assert re.fullmatch(r"req_[0-9a-f]{24}", response.json()["error"]["requestId"])


def test_successes_carry_a_request_id(as_demo):
    response = as_demo.get("/api/v1/campaigns/")
    assert re.fullmatch(r"req_[0-9a-f]{24}", response["X-Request-ID"])


def test_schema_is_valid_openapi(anonymous):
    response = anonymous.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate(schema)
    paths = set(schema["paths"])
    assert {
        "/api/v1/auth/token/",
        "/api/v1/auth/token/refresh/",
        "/api/v1/segments/",
        "/api/v1/segments/{id}/",
        "/api/v1/segments/validate/",
        "/api/v1/segments/fields/",
        "/api/v1/campaigns/",
        "/api/v1/campaigns/{id}/",
        "/api/v1/campaigns/{id}/schedule/",
        "/api/v1/campaigns/{id}/activate/",
        "/api/v1/campaigns/{id}/pause/",
        "/api/v1/social/connections/",
        "/api/v1/social/connections/{id}/posts/",
    } <= paths
    assert "jwtAuth" in schema["components"]["securitySchemes"]
    campaign = schema["components"]["schemas"]["Campaign"]["properties"]
    assert campaign["segmentId"]["type"] == "integer"
    assert "send_at" not in campaign


def test_schema_as_json(anonymous):
    response = anonymous.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_docs_serve_swagger_ui_without_a_cdn(anonymous):
    response = anonymous.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html
    assert "/api/schema/" in html


def test_error_bodies_are_ascii_json(as_demo):
    # A lone surrogate in an unknown key is echoed in details as an escape, never as bytes
    # that cannot be encoded.
    response = send(
        as_demo, "POST", "/api/v1/segments/", '{"name": "x", "rules": {}, "\\ud800": 1}'
    )
    assert response.status_code == 422
    assert response.content.isascii()


def test_the_bare_host_points_to_the_docs(anonymous):
    response = anonymous.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"
    assert anonymous.get(response["Location"]).status_code == 200
