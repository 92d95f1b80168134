"""``ictus plot``: tempo over time, bar lines and section names (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ictus.atomic import atomic_path
from ictus.errors import ParameterError
from ictus.tempomap.grid import COUNT_IN, build_grid
from ictus.tempomap.model import TempoMap

IMAGE_FORMATS = ("png", "svg", "pdf")


def check_image_format(output: str) -> str:
    """The image format of ``output``, by its extension.

    >>> check_image_format("tempo.PNG")
    'png'
    """
    fmt = Path(output).suffix.lower().lstrip(".")
    if fmt not in IMAGE_FORMATS:
        raise ParameterError(f"{output}: plot to .png, .svg or .pdf")
    return fmt


def plot_tempo(tempo_map: TempoMap, output: str) -> None:
    """Draw the map's tempo curve (quarter-note BPM at every beat) into ``output``."""
    fmt = check_image_format(output)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = build_grid(tempo_map)
    on_beat = grid.sub == 0
    t, tempo, bar, beat = (
        grid.time[on_beat],
        grid.tempo[on_beat],
        grid.bar[on_beat],
        grid.beat[on_beat],
    )
    fig, ax = plt.subplots(figsize=(12, 4.2), dpi=110)
    # each beat holds its tempo until the next beat (the map's end closes the last step)
    ax.step(
        np.append(t, grid.duration),
        np.append(tempo, tempo[-1]),
        where="post",
        color="#1f5fa8",
        linewidth=1.6,
    )
    lo, hi = float(tempo.min()), float(tempo.max())
    pad = max(4.0, (hi - lo) * 0.15)
    ax.set_ylim(lo - pad, hi + pad * 2.2)
    for x in t[(beat == 1)]:
        ax.axvline(x, color="#bbbbbb", linewidth=0.5, zorder=0)
    names = [grid.section_names[i] for i in grid.section[on_beat]]
    shown, row = None, 0
    for x, name, b in zip(t, names, bar, strict=True):
        if name != shown:
            shown = name
            ax.axvline(x, color="#444444", linewidth=1.0, zorder=1)
            # alternate two rows so short sections' names do not overlap
            y = hi + pad * (1.9 if row % 2 == 0 else 1.1)
            ax.text(x, y, f" {name or '(no label)'}\n bar {b}", fontsize=8, va="top")
            row += 1
    ci = grid.section == 0
    if ci.any() and grid.section_names[0] == COUNT_IN:
        end = float(grid.time[~ci][0]) if (~ci).any() else grid.duration
        ax.axvspan(0, end, color="#f2e6c9", zorder=0)
    ax.set_xlim(0, grid.duration)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("tempo (quarter notes per minute)")
    ax.set_title(tempo_map.title or "tempo map", loc="left")
    fig.tight_layout()
    with atomic_path(output) as tmp:
        fig.savefig(tmp, format=fmt)
    plt.close(fig)
