"""The segment rule validator on its own: codes, paths, limits, and hostile trees."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.segments import rules
from sandbox.segments.rules import error_detail, validate_rules


def problems(tree: Any) -> list[tuple[str | None, str]]:
    return [(p.field, p.code) for p in validate_rules(tree)]


def cond(field: Any = "country", operator: Any = "eq", value: Any = "US") -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


VALID = [
    cond(),
    {"all": [cond(), cond("age", "gte", 18)]},
    {"any": [cond("tags", "containsAny", ["a", "b"]), {"not": cond("isSubscribed", "eq", False)}]},
    {"all": [cond("signedUpAt", "between", ["2024-01-01T00:00:00Z", "2024-02-01T00:00:00"])]},
    cond("signedUpAt", "withinLastDays", 30),
    cond("age", "between", [18, 34.5]),
    cond("email", "endsWith", "@example.com"),
    cond("country", "in", ["US", "CA"]),
    cond("tags", "isEmpty", True),
    cond("email", "exists", False),
]


@pytest.mark.parametrize("tree", VALID)
def test_valid_trees_have_no_problems(tree):
    assert validate_rules(tree) == []
    assert error_detail(tree) is None


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        (
            {"all": [cond(), cond("age", "contains", 18)]},
            [("rules.all[1].operator", "INVALID_OPERATOR")],
        ),
        ({"all": [cond("colour")]}, [("rules.all[0].field", "UNKNOWN_FIELD")]),
        (cond("isSubscribed", "gt", True), [("rules.operator", "INVALID_OPERATOR")]),
        (cond("tags", "eq", "x"), [("rules.operator", "INVALID_OPERATOR")]),
        (cond("age", "eq", "18"), [("rules.value", "INVALID_SEGMENT_RULE")]),
        (cond("age", "eq", True), [("rules.value", "INVALID_SEGMENT_RULE")]),
        (cond("age", "between", [34, 18]), [("rules.value", "INVALID_SEGMENT_RULE")]),
        (cond("signedUpAt", "before", "yesterday"), [("rules.value", "INVALID_SEGMENT_RULE")]),
        (
            cond("signedUpAt", "before", "2024-02-30T00:00:00Z"),
            [("rules.value", "INVALID_SEGMENT_RULE")],
        ),
        (cond("signedUpAt", "withinLastDays", 0), [("rules.value", "INVALID_SEGMENT_RULE")]),
        (cond("country", "in", []), [("rules.value", "INVALID_SEGMENT_RULE")]),
        (cond("country", "in", ["US", 3]), [("rules.value[1]", "INVALID_SEGMENT_RULE")]),
        (cond("country", "eq", "U\x00S"), [("rules.value", "INVALID_FORMAT")]),
        (cond("country", "in", ["US", "\ud800"]), [("rules.value[1]", "INVALID_FORMAT")]),
        (cond("country", "eq", "x" * 501), [("rules.value", "INVALID_SEGMENT_RULE")]),
        ({"field": "age", "operator": "gt"}, [("rules.value", "INVALID_SEGMENT_RULE")]),
        ({"operator": "eq", "value": 1}, [("rules.field", "INVALID_SEGMENT_RULE")]),
        ({"field": "age", "value": 1}, [("rules.operator", "INVALID_SEGMENT_RULE")]),
        ({**cond(), "extra": 1}, [("rules.extra", "INVALID_SEGMENT_RULE")]),
        ({"all": [], "any": [cond()]}, [("rules", "INVALID_SEGMENT_RULE")]),
        ({"all": [cond()], "field": "age"}, [("rules.field", "INVALID_SEGMENT_RULE")]),
        ({"all": []}, [("rules.all", "INVALID_SEGMENT_RULE")]),
        ({"any": cond()}, [("rules.any", "INVALID_SEGMENT_RULE")]),
        ({"not": [cond()]}, [("rules.not", "INVALID_SEGMENT_RULE")]),
        ({}, [("rules", "INVALID_SEGMENT_RULE")]),
        ([cond()], [("rules", "INVALID_SEGMENT_RULE")]),
        ("country = US", [("rules", "INVALID_SEGMENT_RULE")]),
        (None, [("rules", "INVALID_SEGMENT_RULE")]),
        (
            {"all": [cond(), 7, cond(["x"])]},
            [
                ("rules.all[1]", "INVALID_SEGMENT_RULE"),
                ("rules.all[2].field", "INVALID_SEGMENT_RULE"),
            ],
        ),
    ],
)
def test_each_fault_has_its_code_and_path(tree, expected):
    assert problems(tree) == expected


def nested(depth: int) -> dict[str, Any]:
    tree: dict[str, Any] = cond()
    for _ in range(depth - 1):
        tree = {"not": tree}
    return tree


def test_nesting_limit():
    assert problems(nested(rules.MAX_DEPTH)) == []
    path = "rules" + ".not" * rules.MAX_DEPTH
    assert problems(nested(rules.MAX_DEPTH + 1)) == [(path, "INVALID_SEGMENT_RULE")]
    assert problems(nested(500)) == [(path, "INVALID_SEGMENT_RULE")]


def test_group_and_tree_size_limits():
    assert problems({"all": [cond()] * rules.MAX_GROUP_SIZE}) == []
    assert problems({"all": [cond()] * 100_000}) == [("rules.all", "INVALID_SEGMENT_RULE")]
    wide = {"all": [{"any": [cond()] * 40} for _ in range(3)]}
    assert problems(wide) == [("rules", "INVALID_SEGMENT_RULE")]


def test_problems_are_capped():
    tree = {"all": [cond("nope")] * rules.MAX_GROUP_SIZE}
    found = problems(tree)
    assert len(found) == rules.MAX_PROBLEMS
    assert found[0] == ("rules.all[0].field", "UNKNOWN_FIELD")


def test_error_detail_nests_under_the_field():
    detail = error_detail({"all": [cond(), cond("age", "contains", 1)]})
    assert list(detail) == ["all"]
    assert list(detail["all"]) == [1]
    (item,) = detail["all"][1]["operator"]
    assert item.code == "INVALID_OPERATOR"
    (root,) = error_detail([])
    assert root.code == "INVALID_SEGMENT_RULE"


def test_catalogue_lists_every_field_with_its_operators():
    catalogue = rules.catalogue()
    names = [entry["name"] for entry in catalogue["fields"]]
    assert names == ["email", "country", "age", "signedUpAt", "isSubscribed", "tags"]
    age = catalogue["fields"][2]
    assert age["type"] == "number"
    assert {"name": "between", "value": "[number, number]"} in age["operators"]
    assert catalogue["limits"]["maxDepth"] == rules.MAX_DEPTH
    json.dumps(catalogue)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(
            st.sampled_from(["all", "any", "not", "field", "operator", "value", "x"])
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=60,
)
conditions = st.fixed_dictionaries(
    {
        "field": st.sampled_from([*rules.FIELDS, "nope"]),
        "operator": st.sampled_from(
            sorted({op for ops in rules.OPERATORS.values() for op in ops} | {"like"})
        ),
        "value": json_values,
    }
)
trees = st.recursive(
    conditions | json_values,
    lambda children: (
        st.dictionaries(
            st.sampled_from(["all", "any"]), st.lists(children, max_size=4), min_size=1, max_size=1
        )
        | st.builds(lambda rule: {"not": rule}, children)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_any_tree_is_answered_with_bounded_problems(tree):
    found = validate_rules(tree)
    assert len(found) <= rules.MAX_PROBLEMS
    for problem in found:
        assert problem.field is not None
        assert problem.field.startswith("rules")
        assert problem.code in {
            "INVALID_SEGMENT_RULE",
            "UNKNOWN_FIELD",
            "INVALID_OPERATOR",
            "INVALID_FORMAT",
        }
    assert (error_detail(tree) is None) == (found == [])
