"""bench/e2e.py runs: a short run (``--quick``) starts both servers, drives both cases and
prints the figures and ratios. No timing is asserted; the figures are for people."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("loader", ["auto", "python"])
def test_quick_bench_runs_and_prints_ratios(loader):
    done = subprocess.run(
        [sys.executable, "bench/e2e.py", "--quick", "--loader", loader],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    print(done.stdout)
    for case in ("success", "error"):
        assert f"{case:<9}ratio" in done.stdout
    assert "0 unexpected" in done.stdout
