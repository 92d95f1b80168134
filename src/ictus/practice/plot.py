"""A picture of a take's timing: deviation over time, bar lines, sections and the drift.

matplotlib is imported only when a plot is drawn (``ictus render`` never pays for it).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ictus.errors import ParameterError
from ictus.practice.timing import TimingReport
from ictus.tempomap import ClickGrid

#: Picture formats by file extension.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def plot_timing(
    report: TimingReport, grid: ClickGrid, path: str | os.PathLike[str], *, title: str = ""
) -> None:
    """Write the timing plot of ``report`` to ``path`` (PNG, SVG or PDF by extension).

    Each note is a dot at its click's map time, early below the zero line and late above;
    dotted lines mark the bars, shaded bands and names the sections, a straight line the
    drift; grey hatching marks the gap bars (the click muted), with their mean.
    """
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        raise ParameterError(f"plot file must end in {', '.join(FORMATS)}, got {os.fspath(path)!r}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4.5), dpi=110)
    try:
        _draw(ax, report, grid, title)
        fig.tight_layout()
        fig.savefig(os.fspath(path), format=FORMATS[suffix])
    finally:
        plt.close(fig)


def _draw(ax: Any, report: TimingReport, grid: ClickGrid, title: str) -> None:
    times = np.array([n.click for n in report.notes])
    devs = np.array([n.deviation for n in report.notes]) * 1000
    after = grid.bar > 0
    downbeats = grid.time[after & (grid.beat == 1) & (grid.sub == 0)]
    for t in downbeats:
        ax.axvline(t, color="0.85", lw=0.6, ls=":", zorder=0)
    shades = ("#f3f6fb", "#fbf7f0")
    for k, s in enumerate(report.sections):
        clicks = grid.time[after & (grid.bar >= s.first_bar) & (grid.bar <= s.last_bar)]
        if len(clicks) == 0:
            continue
        lo = float(clicks[0])
        following = grid.time[after & (grid.bar > s.last_bar)]
        hi = float(following[0]) if len(following) else grid.duration
        ax.axvspan(lo, hi, color=shades[k % 2], zorder=-1)
        name = s.label or f"bars {s.first_bar}-{s.last_bar}"
        mean = "" if s.timing.count == 0 else f"\n{s.timing.mean * 1000:+.1f} ms"
        ax.text(
            lo,
            1.0,
            f" {name}{mean}",
            transform=ax.get_xaxis_transform(),
            va="top",
            fontsize=8,
            color="0.3",
        )
    _shade_gaps(ax, report, grid)
    ax.axhline(0, color="0.4", lw=0.8)
    colours = np.where(devs < 0, "#1f6fb4", "#c8501e")
    ax.scatter(times, devs, s=12, c=colours, zorder=3)
    if report.drift is not None and len(times):
        xs = np.array([times.min(), times.max()])
        ax.plot(
            xs,
            (report.drift.start + report.drift.rate * xs) * 1000,
            color="0.2",
            lw=1,
            label=f"drift {report.drift.per_minute * 1000:+.1f} ms/min",
        )
    if report.drift is not None or report.gaps is not None:
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    limit = max(10.0, float(np.abs(devs).max()) * 1.25) if len(devs) else 10.0
    ax.set_ylim(-limit, limit * 1.35)
    ax.set_xlim(0, grid.duration)
    ax.set_xlabel("time in the map (s)")
    ax.set_ylabel("early  <-  ms  ->  late")
    overall = report.overall
    summary = (
        f"{overall.count} notes, mean {overall.mean * 1000:+.1f} ms, "
        f"spread {overall.spread * 1000:.1f} ms"
        if overall.count
        else "no notes matched"
    )
    ax.set_title(f"{title}  {summary}".strip(), fontsize=10)


def _shade_gaps(ax: Any, report: TimingReport, grid: ClickGrid) -> None:
    """Hatch each gap bar, from its downbeat to the next bar's."""
    if report.gaps is None:
        return
    downbeats = (grid.bar > 0) & (grid.beat == 1) & (grid.sub == 0)
    bar_starts = dict(zip(grid.bar[downbeats].tolist(), grid.time[downbeats].tolist(), strict=True))
    label = None
    if report.gaps.gaps.count:
        label = f"gap bars {report.gaps.gaps.mean * 1000:+.1f} ms"
    for bar in report.gaps.bars:
        lo = bar_starts.get(bar)
        if lo is None:
            continue
        hi = bar_starts.get(bar + 1, grid.duration)
        ax.axvspan(lo, hi, facecolor="0.88", hatch="//", edgecolor="0.75", lw=0, zorder=-0.5,
                   label=label)
        label = None  # one legend entry for all
