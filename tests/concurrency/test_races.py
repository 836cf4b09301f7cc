"""Races between two requests of one user, against the sandbox under gunicorn on PostgreSQL.

Two gunicorn workers serve a PostgreSQL database of this module's own. Each race sends two
requests at once (two threads released by one barrier) and is repeated ``ROUNDS`` times on
fresh objects. Whatever order the database puts them in, no answer is a 5xx, no campaign
points at a segment that is gone, no deleted row comes back, and where only one of the two
can succeed exactly one does.

The sandbox avoids these failures itself (segments are locked before campaigns, updates
never insert), so the suite also holds without the exception handler's mapping of
database errors.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from tests.fixtures.sandbox_server import SandboxServer, manage, sandbox_env, start_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROUNDS = 20
ADMIN_URL = os.environ.get("APIERRORS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# Room for every request of the suite: the throttles are not what is tested here.
ROOMY_RATES = "user=1000000/hour,anon=1000000/hour,campaign-writes=1000000/second+1000000/hour"
RULES = {"field": "country", "operator": "eq", "value": "US"}
_names = itertools.count()


@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class Sandbox:
    server: SandboxServer
    token: str
    database_url: str

    def call(self, method: str, path: str, body: object = None) -> Answer:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.server.url(path),
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return Answer(response.status, json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            return Answer(error.code, parsed)

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.database_url) as connection:
            return connection.execute(sql, params).fetchall()

    def segment(self) -> int:
        answer = self.call(
            "POST",
            "/api/v1/segments/",
            {
                "name": f"race segment {next(_names)}",
                "rules": {"field": "country", "operator": "eq", "value": "US"},
            },
        )
        assert answer.status == 201, answer
        return int(answer.body["id"])

    def campaign(self, segment: int | None = None) -> int:
        body: dict[str, object] = {"name": f"race campaign {next(_names)}"}
        if segment is not None:
            body["segmentId"] = segment
        answer = self.call("POST", "/api/v1/campaigns/", body)
        assert answer.status == 201, answer
        return int(answer.body["id"])

    def schedule(self, campaign: int) -> None:
        answer = self.call(
            "POST", f"/api/v1/campaigns/{campaign}/schedule/", {"sendAt": future_time()}
        )
        assert answer.status == 200, answer


def future_time() -> str:
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure to connect means: no PostgreSQL here
        return False


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    if not postgres_available():
        from tests.fixtures.services import missing_service

        missing_service(f"PostgreSQL is not reachable at {ADMIN_URL}")
    import psycopg

    name = f"apierrors_races_{os.getpid()}"
    database_url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    directory = tmp_path_factory.mktemp("races")
    env = sandbox_env(directory / "unused.sqlite3", None, DATABASE_URL=database_url)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    token = manage(env, "issue_token", "demo").strip()
    server = start_sandbox(
        directory,
        directory / "unused.sqlite3",
        None,
        workers=2,
        share_database=True,
        DATABASE_URL=database_url,
        SANDBOX_THROTTLE_RATES=ROOMY_RATES,
    )
    try:
        yield Sandbox(server, token, database_url)
    finally:
        server.stop()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def at_once(first: Callable[[], Answer], second: Callable[[], Answer]) -> tuple[Answer, Answer]:
    """Run both calls in two threads released together."""
    barrier = threading.Barrier(2)

    def run(call: Callable[[], Answer]) -> Answer:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(2) as pool:
        one, two = pool.submit(run, first), pool.submit(run, second)
        return one.result(), two.result()


def assert_consistent(sandbox: Sandbox) -> None:
    """No campaign points at a segment that does not exist, and the server logged no
    uncaught exception."""
    log = sandbox.server.log_text()
    assert "Internal Server Error" not in log
    assert "Traceback" not in log
    dangling = sandbox.query(
        "SELECT c.id FROM campaigns_campaign c LEFT JOIN segments_segment s "
        "ON s.id = c.segment_id WHERE c.segment_id IS NOT NULL AND s.id IS NULL"
    )
    assert dangling == []


def segment_exists(sandbox: Sandbox, segment: int) -> bool:
    return bool(sandbox.query("SELECT 1 FROM segments_segment WHERE id = %s", segment))


def code(answer: Answer) -> str:
    return str(answer.body["error"]["code"])


def test_creating_a_campaign_while_its_segment_is_deleted(sandbox: Sandbox) -> None:
    for _ in range(ROUNDS):
        segment = sandbox.segment()
        created, deleted = at_once(
            partial(
                sandbox.call,
                "POST",
                "/api/v1/campaigns/",
                {"name": f"race campaign {next(_names)}", "segmentId": segment},
            ),
            partial(sandbox.call, "DELETE", f"/api/v1/segments/{segment}/"),
        )
        assert deleted.status == 204, deleted
        assert created.status in (201, 422), created
        if created.status == 201:
            # Created first: the delete then cleared its segment.
            row = sandbox.query(
                "SELECT segment_id FROM campaigns_campaign WHERE id = %s", created.body["id"]
            )
            assert row == [(None,)]
        else:
            assert created.body["error"]["details"][0]["field"] == "segmentId"
        assert not segment_exists(sandbox, segment)
        assert_consistent(sandbox)


def test_editing_a_campaign_while_its_new_segment_is_deleted(sandbox: Sandbox) -> None:
    for _ in range(ROUNDS):
        segment, campaign = sandbox.segment(), sandbox.campaign()
        edited, deleted = at_once(
            partial(
                sandbox.call,
                "PATCH",
                f"/api/v1/campaigns/{campaign}/",
                {"segmentId": segment, "subject": "raced"},
            ),
            partial(sandbox.call, "DELETE", f"/api/v1/segments/{segment}/"),
        )
        assert deleted.status == 204, deleted
        assert edited.status in (200, 422), edited
        row = sandbox.query(
            "SELECT segment_id, subject FROM campaigns_campaign WHERE id = %s", campaign
        )
        assert row[0][0] is None
        assert row[0][1] == ("raced" if edited.status == 200 else "")
        assert_consistent(sandbox)


@pytest.mark.parametrize("action", ["schedule", "activate"])
def test_starting_a_campaign_while_its_segment_is_deleted(sandbox: Sandbox, action: str) -> None:
    for _ in range(ROUNDS):
        segment = sandbox.segment()
        campaign = sandbox.campaign(segment)
        body: dict[str, str] = {}
        if action == "activate":
            # A paused campaign may be activated, and does not keep its segment alive.
            sandbox.schedule(campaign)
            assert sandbox.call("POST", f"/api/v1/campaigns/{campaign}/activate/", {}).status == 200
            assert sandbox.call("POST", f"/api/v1/campaigns/{campaign}/pause/", {}).status == 200
        else:
            body = {"sendAt": future_time()}
        started, deleted = at_once(
            partial(sandbox.call, "POST", f"/api/v1/campaigns/{campaign}/{action}/", body),
            partial(sandbox.call, "DELETE", f"/api/v1/segments/{segment}/"),
        )
        # Exactly one wins: the campaign starts and keeps its segment, or the segment goes
        # and the campaign, left without one, cannot start.
        assert {started.status, deleted.status} in ({200, 409}, {422, 204}), (started, deleted)
        status = sandbox.query(
            "SELECT status, segment_id FROM campaigns_campaign WHERE id = %s", campaign
        )
        if started.status == 200:
            assert code(deleted) == "RESOURCE_CONFLICT"
            assert segment_exists(sandbox, segment)
            assert status == [("scheduled" if action == "schedule" else "active", segment)]
        else:
            assert code(started) == "SEGMENT_REQUIRED"
            assert not segment_exists(sandbox, segment)
            assert status[0][1] is None
        assert_consistent(sandbox)


def test_editing_a_segment_while_it_is_deleted(sandbox: Sandbox) -> None:
    for _ in range(ROUNDS):
        segment = sandbox.segment()
        campaign = sandbox.campaign(segment)
        edited, deleted = at_once(
            partial(
                sandbox.call, "PATCH", f"/api/v1/segments/{segment}/", {"description": "raced"}
            ),
            partial(sandbox.call, "DELETE", f"/api/v1/segments/{segment}/"),
        )
        assert deleted.status == 204, deleted
        assert edited.status in (200, 404), edited
        # Deleted is deleted: the edit never brings the row back.
        assert not segment_exists(sandbox, segment)
        assert sandbox.call("GET", f"/api/v1/segments/{segment}/").status == 404
        row = sandbox.query("SELECT segment_id FROM campaigns_campaign WHERE id = %s", campaign)
        assert row == [(None,)]
        assert_consistent(sandbox)


def test_two_look_alike_names_at_once(sandbox: Sandbox) -> None:
    for _ in range(ROUNDS):
        name = f"Look alike {next(_names)}"
        one, two = at_once(
            partial(sandbox.call, "POST", "/api/v1/segments/", {"name": name, "rules": RULES}),
            partial(
                sandbox.call, "POST", "/api/v1/segments/", {"name": name.upper(), "rules": RULES}
            ),
        )
        assert sorted([one.status, two.status]) == [201, 409], (one, two)
        loser = one if one.status == 409 else two
        assert code(loser) == "DUPLICATE_RESOURCE"


def test_deleting_a_campaign_twice_at_once(sandbox: Sandbox) -> None:
    for _ in range(ROUNDS):
        campaign = sandbox.campaign(sandbox.segment())
        one, two = at_once(
            partial(sandbox.call, "DELETE", f"/api/v1/campaigns/{campaign}/"),
            partial(sandbox.call, "DELETE", f"/api/v1/campaigns/{campaign}/"),
        )
        assert sorted([one.status, two.status]) == [204, 404], (one, two)
