"""The W2 plot: get_session latency against history length, one panel per database, one line per contender.

matplotlib when it is installed; otherwise :mod:`benchmarks.png` draws the
same data as one chart (lines, axes, legend) with no dependency at all.
"""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

from benchmarks.results import Results

__all__ = ["plot_w2", "w2_series"]

_STYLE = {"ours": "-", "floor": ":", "adk": "--", "ceiling": "-."}
Series = dict[str, tuple[str, list[tuple[int, float]]]]


def w2_series(results: Results) -> dict[str, Series]:
    """family -> label -> (kind, [(history length, median ms), ...]); the in-memory ceiling joins every family."""
    panels: dict[str, Series] = {}
    ceiling: Series = {}
    for row in results.rows:
        match = re.search(r"([\d,]+) history", row.case)
        if row.workload != "W2" or not row.operations or match is None or math.isnan(row.median_ms):
            continue
        target = ceiling if row.kind == "ceiling" else panels.setdefault(row.family, {})
        target.setdefault(row.label, (row.kind, []))[1].append((int(match.group(1).replace(",", "")), row.median_ms))
    if not panels:
        return {"memory": ceiling} if ceiling else {}
    return {family: {**ceiling, **series} for family, series in panels.items()}


def plot_w2(results: Results, path: Path) -> None:
    panels = w2_series(results)
    if importlib.util.find_spec("matplotlib") is not None:
        _matplotlib(panels, path)
        return
    from benchmarks.png import line_chart

    flat = {
        f"{label} ({family})" if len(panels) > 1 else label: points
        for family, series in panels.items()
        for label, (_, points) in series.items()
    }
    line_chart(flat, path, title="W2 get_session(num_recent_events=20): median ms vs events of history")


def _matplotlib(panels: dict[str, Series], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = max(1, len(panels))
    columns = min(2, count)
    rows = math.ceil(count / columns)
    figure, grid = plt.subplots(rows, columns, figsize=(7 * columns, 4.6 * rows), dpi=100, squeeze=False)
    for axes in grid.flat[count:]:
        axes.set_visible(False)
    for axes, (family, series) in zip(grid.flat, panels.items(), strict=False):
        for label, (kind, points) in series.items():
            xs, ys = zip(*sorted(points), strict=True)
            axes.plot(xs, ys, _STYLE.get(kind, "-"), marker="o", markersize=3, linewidth=1.4, label=label)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_title(f"{family}: get_session(num_recent_events=20)")
        axes.set_xlabel("events of history in the session")
        axes.set_ylabel("median ms per call")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=6, loc="best")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
