"""The throttling settings snapshot: every key of the "Throttling" section, kept until
``APIERRORS`` changes."""

from __future__ import annotations

import dataclasses

from apierrors.conf import SETTINGS
from apierrors.ratelimit import config


def test_snapshot_holds_every_throttling_key():
    throttling = {setting.name for setting in SETTINGS if setting.section == "Throttling"}
    assert set(config.FIELDS.values()) == throttling
    fields = dataclasses.fields(config.ThrottleSettings)
    assert set(config.FIELDS) == {field.name for field in fields}


def test_snapshot_reads_the_keys_through_conf(settings):
    settings.APIERRORS = {
        "FAIL_OPEN": False,
        "BREAKER_FAILURES": 7,
        "BREAKER_COOLDOWN": 2,
        "OUTAGE_LOG_INTERVAL": 30,
        "THROTTLE_KEY_PREFIX": "rl",
    }
    snapshot = config.current()
    assert snapshot.fail_open is False
    assert snapshot.breaker_failures == 7
    assert snapshot.breaker_cooldown == 2.0
    assert isinstance(snapshot.breaker_cooldown, float)
    assert snapshot.outage_log_interval == 30.0
    assert snapshot.prefix == "rl"
    assert snapshot.cache == "default"


def test_snapshot_is_kept_until_apierrors_changes(settings):
    settings.APIERRORS = {"FAIL_OPEN": True}
    first = config.current()
    assert config.current() is first
    settings.ROOT_URLCONF = settings.ROOT_URLCONF  # another setting: the snapshot stays
    assert config.current() is first
    settings.APIERRORS = {"FAIL_OPEN": False}
    assert config.current() is not first
    assert config.current().fail_open is False
