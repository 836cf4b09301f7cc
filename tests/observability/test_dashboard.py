"""The Grafana dashboard and the PromQL of docs/observability.md name only what apierrors
exports: its metric names (with their sample suffixes) and their labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from apierrors.contrib import prometheus

DOCS = Path(__file__).resolve().parents[2] / "docs"
DASHBOARD = DOCS / "_static" / "grafana" / "apierrors-dashboard.json"

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
# PromQL's own words, and the names Grafana substitutes.
PROMQL = {
    "sum",
    "by",
    "rate",
    "topk",
    "max",
    "histogram_quantile",
    "without",
    "increase",
    "avg",
    "min",
    "count",
    "and",
    "or",
    "unless",
    "on",
    "ignoring",
    "bool",
}
METRICS = [
    prometheus.ERROR_RESPONSES,
    prometheus.THROTTLE_DECISIONS,
    prometheus.THROTTLE_USAGE,
    prometheus.STORE_LATENCY,
    prometheus.STORE_UNAVAILABLE,
    prometheus.BREAKER_OPEN,
]


def exported() -> tuple[set[str], set[str]]:
    names: set[str] = set()
    labels = {"le"}
    for metric in METRICS:
        (family,) = metric.describe()
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
        labels.update(metric._labelnames)
    return names, labels


def check(expr: str) -> None:
    names, labels = exported()
    bare = re.sub(r'"[^"]*"', '""', expr)  # label values
    bare = re.sub(r"\[[^\]]*\]", "", bare)  # range selectors
    for grouping in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", bare):
        assert {g.strip() for g in grouping.split(",")} <= labels, expr
    for matchers in re.findall(r"\{([^}]*)\}", bare):
        for matcher in filter(None, (m.strip() for m in matchers.split(","))):
            assert re.split(r"[=!~]", matcher)[0].strip() in labels, expr
    bare = re.sub(r"\{[^}]*\}", "", bare)
    bare = re.sub(r"\b(?:by|without)\s*\([^)]*\)", "", bare)
    words = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", bare)) - PROMQL
    assert words, expr
    assert words <= names, f"{expr}: {sorted(words - names)}"


def dashboard_exprs() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def doc_exprs() -> list[str]:
    text = (DOCS / "observability.md").read_text()
    blocks = re.findall(r"```promql\n(.*?)```", text, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line and line[0] != "#"]


def test_dashboard_is_grafana_json():
    board = json.loads(DASHBOARD.read_text())
    assert board["title"]
    assert board["uid"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["targets"]
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])


@pytest.mark.parametrize("expr", dashboard_exprs())
def test_dashboard_names_only_exported_metrics(expr):
    check(expr)


@pytest.mark.parametrize("expr", doc_exprs())
def test_documented_promql_names_only_exported_metrics(expr):
    check(expr)


def test_the_check_catches_unknown_names():
    with pytest.raises(AssertionError):
        check("sum(rate(apierrors_errors_total[5m]))")
    with pytest.raises(AssertionError):
        check("sum by (path) (rate(apierrors_error_responses_total[5m]))")
    with pytest.raises(AssertionError):
        check('rate(apierrors_error_responses_total{path="/x"}[5m])')
