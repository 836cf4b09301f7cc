"""Plot bench/peers.py's figures: cost of one check (x bare PING) against rate, per contender.

Run: .venv/bin/python bench/peers.py --repeat 3 --json bench/peers.json
     .venv/bin/python bench/plot_peers.py bench/peers.json docs/_static/throttle-peers.png

Each line is a contender's median over the repetitions, as a multiple of the bare-socket
PING measured in the same rounds; the bars show the range of the repetitions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {
    "apierrors fixed window": ("#4c72b0", "-", "o"),
    "apierrors GCRA": ("#55a868", "-", "o"),
    "apierrors GCRA two rates (+ 10000/day)": ("#55a868", "--", "s"),
    "apierrors store check alone (fixed window)": ("#4c72b0", ":", "."),
    "apierrors store check alone (GCRA)": ("#55a868", ":", "."),
    "limits fixed window": ("#dd8452", "-", "^"),
    "limits moving window": ("#dd8452", "--", "v"),
    "limits sliding window counter": ("#dd8452", ":", "D"),
    "django-ratelimit": ("#8172b3", "-", "P"),
    "DRF UserRateThrottle near limit": ("#c44e52", "-", "X"),
}


def main(source: str, target: str) -> None:
    data: dict[str, Any] = json.loads(Path(source).read_text())
    summary: dict[str, dict[str, Any]] = data["summary"]
    rates: list[str] = []
    for row in summary.values():
        if row["rate"] and row["rate"] not in rates:
            rates.append(row["rate"])
    series: dict[str, dict[str, dict[str, Any]]] = {}
    for row in summary.values():
        if row["rate"]:
            series.setdefault(row["contender"], {})[row["rate"]] = row

    figure, axes = plt.subplots(figsize=(8, 5), dpi=120)
    positions = list(range(len(rates)))
    for contender, by_rate in series.items():
        colour, line, marker = STYLE.get(contender, ("#333333", "-", "o"))
        xs = [i for i, rate in enumerate(rates) if rate in by_rate]
        rows = [by_rate[rates[i]] for i in xs]
        ys = [row["x_bare_ping"] for row in rows]
        low = [y - row["x_bare_ping_range"][0] for y, row in zip(ys, rows, strict=True)]
        high = [row["x_bare_ping_range"][1] - y for y, row in zip(ys, rows, strict=True)]
        axes.errorbar(
            xs,
            ys,
            yerr=[low, high],
            color=colour,
            linestyle=line,
            marker=marker,
            capsize=3,
            linewidth=1.3,
            markersize=5,
            label=contender,
        )
    pool = summary["pool PING"]["x_bare_ping"]
    axes.axhline(
        pool, color="#555555", linestyle="--", linewidth=1, label=f"pool PING ({pool:.2f})"
    )
    axes.axhline(1.0, color="#000000", linestyle="-", linewidth=0.8, label="bare PING (1.0)")
    script = summary.get("bare EVALSHA (return 1)")
    if script is not None:
        floor = script["x_bare_ping"]
        axes.axhline(
            floor,
            color="#000000",
            linestyle=":",
            linewidth=1,
            label=f"bare EVALSHA of a no-op script ({floor:.2f})",
        )
    axes.set_yscale("log")
    axes.set_yticks([1, 1.5, 2, 3, 5, 10, 20, 40])
    axes.get_yaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    axes.set_xticks(positions, rates)
    axes.set_xlabel("rate")
    axes.set_ylabel("cost of one allowed check (x bare-socket PING)")
    meta = data["meta"]
    axes.set_title(
        f"One rate-limit check on Redis ({meta['repeat']} interleaved runs, {meta['date']})",
        fontsize=10,
    )
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", ncol=2)
    figure.tight_layout()
    figure.savefig(target)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: plot_peers.py PEERS_JSON TARGET_PNG")
    main(sys.argv[1], sys.argv[2])
