"""The DRF-suite harness's own logic: the expected-differences lists and the comparison.

(Running DRF's tests is ``make drf-suite``; these only check how its results are judged.)
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tests.drf import harness


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "expected.txt"
    path.write_text(text)
    return path


def test_load_expected_reads_ids_categories_and_reasons(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# a comment\n\n"
        "tests/test_a.py::A::test_x | design: the envelope, not {detail}\n"
        "tests/test_b.py::test_y | defect: get_rate() ignores THROTTLE_RATES | and more\n",
    )
    assert harness.load_expected(path) == {
        "tests/test_a.py::A::test_x": harness.Expected(
            "tests/test_a.py::A::test_x", "design", "the envelope, not {detail}"
        ),
        "tests/test_b.py::test_y": harness.Expected(
            "tests/test_b.py::test_y", "defect", "get_rate() ignores THROTTLE_RATES | and more"
        ),
    }


@pytest.mark.parametrize(
    "line",
    [
        "tests/test_a.py::test_x",  # no reason
        "tests/test_a.py::test_x | because",  # no category
        "tests/test_a.py::test_x | wontfix: because",  # unknown category
        "tests/test_a.py::test_x | design:   ",  # empty reason
    ],
)
def test_load_expected_rejects_lines_without_category_and_reason(tmp_path: Path, line: str) -> None:
    with pytest.raises(ValueError, match="expected.txt:1"):
        harness.load_expected(write(tmp_path, line + "\n"))


def test_load_expected_rejects_a_test_listed_twice(tmp_path: Path) -> None:
    path = write(tmp_path, "t::a | design: one\nt::a | defect: two\n")
    with pytest.raises(ValueError, match="listed twice"):
        harness.load_expected(path)


def test_compare_splits_new_failures_fixed_entries_and_expected_ones() -> None:
    expected = {
        "t::listed_failing": harness.Expected("t::listed_failing", "design", "why"),
        "t::listed_passing": harness.Expected("t::listed_passing", "defect", "cause"),
    }
    comparison = harness.compare(
        {"t::listed_failing": "assert 422 == 400", "t::new": "KeyError: 'detail'"}, expected
    )
    assert comparison.new == {"t::new": "KeyError: 'detail'"}
    assert comparison.fixed == ["t::listed_passing"]
    assert comparison.expected == ["t::listed_failing"]
    assert not comparison.ok


def test_compare_is_ok_only_when_failures_match_the_list_exactly() -> None:
    expected = {"t::a": harness.Expected("t::a", "design", "why")}
    assert harness.compare({"t::a": "msg"}, expected).ok
    assert not harness.compare({}, expected).ok
    assert not harness.compare({"t::a": "msg", "t::b": "msg"}, expected).ok


def test_failed_and_count_read_the_plugin_report() -> None:
    outcomes = {
        "t::a": {"outcome": "passed", "message": ""},
        "t::b": {"outcome": "failed", "message": "call: assert 1 == 2"},
        "t::c": {"outcome": "skipped", "message": ""},
    }
    assert harness.failed(outcomes) == {"t::b": "call: assert 1 == 2"}
    assert [harness.count(outcomes, o) for o in ("passed", "failed", "skipped")] == [1, 1, 1]


def test_the_repository_lists_parse_and_name_drf_tests() -> None:
    for path in (harness.THROTTLING_EXPECTED, harness.SUITE_EXPECTED):
        entries = harness.load_expected(path)
        assert entries
        assert all(nodeid.startswith("tests/") and "::" in nodeid for nodeid in entries)


def test_fetch_tests_extracts_only_tests_and_pytest_config(tmp_path: Path) -> None:
    # A cached sdist is used as is (no download): only tests/ and the config come out of it.
    archive = tmp_path / "djangorestframework-9.9.9.tar.gz"
    files = {
        "djangorestframework-9.9.9/tests/conftest.py": "",
        "djangorestframework-9.9.9/tests/test_x.py": "def test_x(): pass\n",
        "djangorestframework-9.9.9/rest_framework/__init__.py": "",
        "djangorestframework-9.9.9/pyproject.toml": "[tool.pytest]\naddopts = []\n",
    }
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    dest = harness.fetch_tests("9.9.9", tmp_path)
    assert dest == tmp_path / "djangorestframework-9.9.9"
    assert (dest / "tests" / "test_x.py").is_file()
    assert not (dest / "rest_framework").exists()  # the installed DRF is the one under test
    assert harness.pytest_config(dest) == dest / "pyproject.toml"
    assert {p.name for p in tmp_path.iterdir()} == {archive.name, dest.name}  # no leftovers


def test_pytest_config_refuses_an_sdist_without_one(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[build-system]\n")
    with pytest.raises(RuntimeError, match="No pytest configuration"):
        harness.pytest_config(tmp_path)


def test_regressions_are_tests_passing_with_drf_and_not_with_apierrors() -> None:
    def outcome(name: str, message: str = "") -> dict[str, str]:
        return {"outcome": name, "message": message}

    baseline = {
        "t::same": outcome("passed"),
        "t::broken": outcome("passed"),
        "t::skipped_now": outcome("passed"),
        "t::vanished": outcome("passed"),
        "t::failing_anyway": outcome("failed", "call: needs PostgreSQL"),
    }
    ours = {
        "t::same": outcome("passed"),
        "t::broken": outcome("failed", "call: assert 422 == 400"),
        "t::skipped_now": outcome("skipped"),
        "t::failing_anyway": outcome("failed", "call: needs PostgreSQL"),
        "tests/test_x.py": outcome("failed", "collect: ImportError"),
    }
    assert harness.regressions(baseline, ours) == {
        "t::broken": "call: assert 422 == 400",
        "t::skipped_now": "skipped",
        "t::vanished": "not run",
        "tests/test_x.py": "collect: ImportError",
    }
