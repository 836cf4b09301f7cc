"""Plot the throttle benchmark for the docs: cost per check across rates.

Run: .venv/bin/python bench/throttle.py --json bench/throttle.json
     .venv/bin/python bench/plot.py bench/throttle.json docs/_static/throttle-cost.png

DRF's SimpleRateThrottle keeps one timestamp per request in its window, so its cost grows
with the rate; apierrors' throttles keep a counter or a time per policy, so theirs does not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RATES = ("60/min", "1000/hour", "10000/day")
SERIES = (
    ("DRF SimpleRateThrottle {rate}", "DRF SimpleRateThrottle", "#c44e52"),
    ("apierrors fixed window {rate}", "apierrors, fixed window", "#4c72b0"),
    ("apierrors GCRA {rate}", "apierrors, GCRA", "#55a868"),
)


def main(source: str, target: str) -> None:
    cost: dict[str, float] = json.loads(Path(source).read_text())
    ping = cost["redis-py PING"]
    figure, axes = plt.subplots(figsize=(7, 4), dpi=120)
    width = 0.26
    for offset, (pattern, label, colour) in enumerate(SERIES):
        values = [cost[pattern.format(rate=rate)] for rate in RATES]
        positions = [index + (offset - 1) * width for index in range(len(RATES))]
        bars = axes.bar(positions, values, width, label=label, color=colour)
        axes.bar_label(bars, fmt="%.0f", fontsize=8, padding=2)
    axes.axhline(
        ping, color="#555555", linestyle="--", linewidth=1, label=f"one PING ({ping:.0f} µs)"
    )
    axes.set_xticks(range(len(RATES)), RATES)
    axes.set_xlabel("rate (DRF's history is held near the limit)")
    axes.set_ylabel("µs per allowed check (median)")
    axes.set_title("Cost of one throttle check on Redis")
    axes.legend(frameon=False, loc="upper left")
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: plot.py FIGURES.json OUTPUT.png")
    main(sys.argv[1], sys.argv[2])
