"""The plots: W2 get_session latency against history length, W1c aggregate events/s against sessions at once;
one panel per database, one line per contender.

matplotlib when it is installed; otherwise :mod:`benchmarks.png` draws the
same data as one chart (lines, axes, legend) with no dependency at all.
"""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

from benchmarks.results import Results

__all__ = ["plot_w1c", "plot_w2", "w1c_series", "w2_series"]

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


def w1c_series(results: Results) -> dict[str, Series]:
    """family -> label -> (kind, [(sessions at once, aggregate events/s), ...])."""
    panels: dict[str, Series] = {}
    for row in results.rows:
        sessions = row.extra.get("sessions")
        if row.workload != "W1c" or not row.operations or sessions is None or math.isnan(row.rate):
            continue
        panels.setdefault(row.family, {}).setdefault(row.label, (row.kind, []))[1].append((int(sessions), row.rate))
    return panels


def plot_w1c(results: Results, path: Path) -> bool:
    """Write the W1c plot; False (nothing written) when the run has no W1c rows."""
    panels = w1c_series(results)
    if not panels:
        return False
    labels = ("append_event, N sessions at once", "sessions appended to at once", "aggregate events/s")
    if importlib.util.find_spec("matplotlib") is not None:
        _matplotlib(panels, path, *labels)
        return True
    from benchmarks.png import line_chart

    flat = {f"{label} ({family})": points for family, series in panels.items() for label, (_, points) in series.items()}
    line_chart(
        flat,
        path,
        title="W1c: aggregate events/s vs sessions appended to at once",
        unit="/s",
        x_label="sessions at once (log)",
    )
    return True


def plot_w2(results: Results, path: Path) -> None:
    panels = w2_series(results)
    if importlib.util.find_spec("matplotlib") is not None:
        _matplotlib(panels, path, *_W2_LABELS)
        return
    from benchmarks.png import line_chart

    flat = {
        f"{label} ({family})" if len(panels) > 1 else label: points
        for family, series in panels.items()
        for label, (_, points) in series.items()
    }
    line_chart(flat, path, title="W2 get_session(num_recent_events=20): median ms vs events of history")


_W2_LABELS = ("get_session(num_recent_events=20)", "events of history in the session", "median ms per call")


def _matplotlib(panels: dict[str, Series], path: Path, title: str, xlabel: str, ylabel: str) -> None:
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
        axes.set_title(f"{family}: {title}")
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=6, loc="best")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
