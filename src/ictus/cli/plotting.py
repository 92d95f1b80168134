"""``ictus plot``: tempo over time, with bars, sections, meters, cues and mute bars.

The picture, top to bottom: the title; a lane of section names, each with its meter
when the meter changes and its tempo as written (``q.=70 (q=105)`` when the beat is
not a quarter note, because the curve is drawn in quarter notes); a lane of cues; bar
numbers on the upper axis; the tempo curve with bar lines, section lines, the count-in
shaded and mute bars hatched; time on the lower axis. Labels in a lane are measured and
stacked in as many rows as they need, so none ever covers another or a line.

matplotlib is imported only when a plot is drawn (``ictus render`` never needs it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ictus.atomic import atomic_path
from ictus.cli.summary import tempo_text
from ictus.errors import ParameterError
from ictus.tempomap.grid import COUNT_IN, ClickGrid, build_grid
from ictus.tempomap.model import Section, TempoMap, unit_name

IMAGE_FORMATS = ("png", "svg", "pdf")

#: What the curve's numbers are, written on the axis.
TEMPO_AXIS = "tempo (BPM, quarter note = 1 beat)"

# Layout in inches. Widths stay fixed while labels are measured and placed, so the
# placement (in pixels) holds in the finished figure.
_WIDTH, _DPI = 12.0, 110
_LEFT, _RIGHT = 1.0, 0.35
_BOTTOM, _PLOT, _BAR_AXIS, _TITLE = 0.55, 2.6, 0.45, 0.45
_ROW, _LANE_PAD = 0.2, 0.08
_FONT = 8
_GAP_PX = 8.0  # space between two labels in one row
_OFFSET_PX = 4.0  # from a label's marker to its text

_SECTION, _CUE = "#333333", "#c0392b"
_BAR_STEPS = (1, 2, 4, 8, 16, 32, 64, 100, 200, 500, 1000, 2000, 5000, 10000, 100000)
_MIN_BAR_PX = 3.0  # closer than this, single bar lines and ticks would only make a grey wash
_QUARTER = Fraction(1, 4)  # beat units are fractions of a whole note


@dataclass(frozen=True)
class Mark:
    """One label in a lane: it points at time ``x`` (seconds) and reads ``text``."""

    x: float
    text: str


def stack_rows(spans: Sequence[tuple[float, float]], gap: float) -> list[int]:
    """Give each span (left, right) the lowest row where it clears the spans before it.

    Spans are taken in order of their left ends; a span fits in a row when it starts at
    least ``gap`` after the right end of the last span in that row.

    >>> stack_rows([(0, 10), (5, 12), (11, 20), (13, 30)], gap=1)
    [0, 1, 0, 1]
    >>> stack_rows([], gap=1)
    []
    """
    rows = [0] * len(spans)
    ends: list[float] = []  # right end of the last span in each row
    for i in sorted(range(len(spans)), key=lambda k: spans[k][0]):
        left, right = spans[i]
        row = next((r for r, end in enumerate(ends) if left >= end + gap), len(ends))
        if row == len(ends):
            ends.append(right)
        else:
            ends[row] = right
        rows[i] = row
    return rows


def written_tempo(section: Section) -> str:
    """The tempo as written, and in quarter notes when the beat unit is another.

    >>> from fractions import Fraction
    >>> from ictus.tempomap.model import Meter, Tempo
    >>> written_tempo(Section(2, Tempo(70, unit=Fraction(3, 8)), Meter(12, 8)))
    'q.=70 (q=105)'
    >>> written_tempo(Section(2, Tempo(96)))
    'q=96'
    """
    text = tempo_text(section)
    unit = section.tempo.unit
    if unit is None:
        return f"{unit_name(_QUARTER)}={text}"
    if unit == _QUARTER or section.tempi is not None or section.steps is not None:
        return text
    start = f"{float(section.start_quarter_bpm):g}"
    end = f"-{float(section.end_quarter_bpm):g}" if section.tempo_end is not None else ""
    return f"{text} ({unit_name(_QUARTER)}={start}{end})"


def _clock(seconds: float, _pos: Any = None) -> str:
    """Tick labels of a time axis: ``m:ss``, or ``h:mm:ss`` from an hour on.

    >>> _clock(75.0), _clock(10.0), _clock(7.5), _clock(3725.0)
    ('1:15', '0:10', '0:07.5', '1:02:05')
    """
    minutes, rest = divmod(seconds, 60)
    text = f"{int(rest):02d}" if rest == int(rest) else f"{rest:04.1f}"
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{text}" if hours else f"{minutes}:{text}"


def _time_step(duration: float) -> float:
    """A tick step for the time axis: at most about ten ticks."""
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600):
        if duration / step <= 10:
            return float(step)
    return 7200.0


def _downbeats(grid: ClickGrid) -> tuple[Any, Any]:
    """Bar numbers and times of every downbeat (count-in bars included)."""
    first = (grid.beat == 1) & (grid.sub == 0)
    return grid.bar[first], grid.time[first]


def _section_marks(
    tempo_map: TempoMap, grid: ClickGrid
) -> tuple[list[Mark], list[tuple[float, float]]]:
    """Labels at section starts, and the (start, end) of every mute section."""
    bars, times = _downbeats(grid)
    downbeat = dict(zip(bars.tolist(), times.tolist(), strict=True))
    starts = [downbeat[tempo_map.first_bar_of(i)] for i in range(len(tempo_map.sections))]
    ends = [*starts[1:], grid.duration]
    marks: list[Mark] = []
    mutes: list[tuple[float, float]] = []
    if grid.section_names and grid.section_names[0] == COUNT_IN and (grid.section == 0).any():
        bars = len({int(b) for b in grid.bar[grid.section == 0]})
        marks.append(Mark(0.0, f"count-in ({bars} bar{'s' if bars != 1 else ''})"))
    meter = None
    for i, section in enumerate(tempo_map.sections):
        parts = [section.label or f"({tempo_map.first_bar_of(i)})"]
        if str(section.meter) != meter:
            meter = str(section.meter)
            parts.append(meter)
        parts.append(written_tempo(section))
        if section.mute:
            parts.append("mute")
            mutes.append((starts[i], ends[i]))
        marks.append(Mark(starts[i], "  ".join(parts)))
    return marks, mutes


def _bar_ticks(grid: ClickGrid, px_per_s: float, label_px: float) -> tuple[list[float], list[str]]:
    """Bar numbers for the upper axis: every bar, or every 2nd, 4th, 8th ... bar from
    bar 1, whichever is the first whose labels keep ``label_px`` apart."""
    numbers, times = _downbeats(grid)
    bars = [(b, t) for b, t in zip(numbers.tolist(), times.tolist(), strict=True) if b >= 1]
    for step in _BAR_STEPS:
        # phrases from bar 1 (1, 5, 9 ...) while short; round numbers (100, 200 ...) when long
        if step < 100:
            shown = [(b, t) for b, t in bars if (b - 1) % step == 0]
        else:
            shown = [(b, t) for b, t in bars if b == 1 or b % step == 0]
        gaps = np.diff([t for _, t in shown]) * px_per_s
        if not len(gaps) or gaps.min() >= label_px:
            break
    return [t for _, t in shown], [str(b) for b, _ in shown]


def _place(
    marks: Sequence[Mark], widths: Sequence[float], px_per_s: float, plot_px: float
) -> tuple[list[int], list[float]]:
    """Rows for the marks' labels and where each label's text starts, in pixels from
    the plot's left edge: right of its marker, or left of it where the plot ends."""
    spans, lefts = [], []
    for mark, width in zip(marks, widths, strict=True):
        x = mark.x * px_per_s
        left = x + _OFFSET_PX
        if left + width > plot_px:  # would run off the right: end at the marker instead
            left = max(min(x - _OFFSET_PX, plot_px) - width, 0.0)
        spans.append((min(left, x), max(left + width, x)))
        lefts.append(left)
    return stack_rows(spans, _GAP_PX), lefts


def tempo_figure(tempo_map: TempoMap) -> Any:
    """The tempo plot of ``tempo_map`` as a matplotlib Figure (Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    grid = build_grid(tempo_map)
    duration = grid.duration
    plot_w = _WIDTH - _LEFT - _RIGHT
    px_per_s = plot_w * _DPI / duration
    sections, mutes = _section_marks(tempo_map, grid)
    cues = [Mark(c.time, c.text) for c in grid.cues]

    fig = Figure(figsize=(_WIDTH, 6), dpi=_DPI)
    renderer = FigureCanvasAgg(fig).get_renderer()  # type: ignore[no-untyped-call]

    def width_px(text: str) -> float:
        probe = fig.text(0, 0, text, fontsize=_FONT)
        width = float(probe.get_window_extent(renderer).width)
        probe.remove()
        return width

    lanes = [
        (name, marks, *_place(marks, [width_px(m.text) for m in marks], px_per_s, plot_w * _DPI))
        for name, marks in (("sections", sections), ("cues", cues))
        if marks
    ]
    heights = [(max(rows, default=0) + 1) * _ROW + _LANE_PAD for _, _, rows, _ in lanes]
    total = _BOTTOM + _PLOT + _BAR_AXIS + sum(heights) + _TITLE
    fig.set_size_inches(_WIDTH, total)

    def rect(bottom: float, height: float) -> tuple[float, float, float, float]:
        return (_LEFT / _WIDTH, bottom / total, plot_w / _WIDTH, height / total)

    ax = fig.add_axes(rect(_BOTTOM, _PLOT))
    _draw_tempo(ax, grid)
    on_beat = grid.sub == 0
    downbeats = grid.time[on_beat & (grid.beat == 1)]
    ticks, labels = _bar_ticks(grid, px_per_s, width_px("8888") + _GAP_PX)
    dense = len(downbeats) > 1 and np.diff(downbeats).min() * px_per_s < _MIN_BAR_PX
    bar_lines = ticks if dense else downbeats
    _draw_marks(ax, grid, bar_lines, sections, mutes, cues)
    ax.set_ylabel(TEMPO_AXIS, fontsize=9)
    _time_axis(ax, duration)

    top = ax.secondary_xaxis("top")
    top.set_xticks(ticks, labels=labels)
    if not dense:
        top.set_xticks([float(x) for x in downbeats], minor=True)
    top.tick_params(labelsize=_FONT)
    # named in the left margin, level with the numbers, like the lanes above
    fig.text(
        _LEFT / _WIDTH - 0.01,
        (_BOTTOM + _PLOT + 0.12) / total,
        "bar",
        fontsize=_FONT,
        ha="right",
        va="center",
        color="#666666",
    )

    bottom = _BOTTOM + _PLOT + _BAR_AXIS
    # the cue lane sits right above the bar numbers, the section lane above it
    for (name, marks, rows, lefts), height in reversed(list(zip(lanes, heights, strict=True))):
        lane = fig.add_axes(rect(bottom, height), sharex=ax)
        bottom += height
        n_rows = max(rows, default=0) + 1
        lane.set_ylim(n_rows, 0)
        lane.set_axis_off()
        _draw_lane(lane, _CUE if name == "cues" else _SECTION, marks, rows, lefts, px_per_s)
        fig.text(
            _LEFT / _WIDTH - 0.01,
            (bottom - height / 2) / total,
            name,
            fontsize=_FONT,
            ha="right",
            va="center",
            color="#666666",
        )
    title = tempo_map.title or "tempo map"
    if tempo_map.scale != 1:
        title += f"  (tempo x {float(tempo_map.scale):g})"
    fig.text(_LEFT / _WIDTH, 1 - 0.15 / total, title, fontsize=11, ha="left", va="top")
    return fig


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
    """Draw the map's tempo plot (see the module docstring) into ``output``."""
    fmt = check_image_format(output)
    fig = tempo_figure(tempo_map)
    with atomic_path(output) as tmp:
        fig.savefig(tmp, format=fmt)


def _draw_tempo(ax: Any, grid: ClickGrid) -> None:
    """The tempo line, one step per beat, with room above and below it."""
    duration = grid.duration
    on_beat = grid.sub == 0
    t, tempo = grid.time[on_beat], grid.tempo[on_beat]
    # each beat holds its tempo until the next beat (the map's end closes the last step)
    ax.step(
        np.append(t, duration),
        np.append(tempo, tempo[-1]),
        where="post",
        color="#1f5fa8",
        linewidth=1.6,
        zorder=3,
    )
    lo, hi = float(tempo.min()), float(tempo.max())
    pad = max(4.0, (hi - lo) * 0.12)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(0, duration)


def _draw_marks(
    ax: Any,
    grid: ClickGrid,
    bar_lines: Any,
    sections: Sequence[Mark],
    mutes: Sequence[tuple[float, float]],
    cues: Sequence[Mark],
) -> None:
    """Behind the tempo line: bar lines, section starts, the count-in, muted bars, cues."""
    # one collection for all bar lines: a three-hour map has thousands
    ax.vlines(bar_lines, 0, 1, transform=ax.get_xaxis_transform(), color="#cccccc",
              linewidth=0.5, zorder=0)  # fmt: skip
    for mark in sections:
        ax.axvline(mark.x, color=_SECTION, linewidth=1.0, zorder=1)
    if grid.section_names[0] == COUNT_IN and (grid.section == 0).any():
        ax.axvspan(
            0,
            float(grid.time[grid.section != 0][0]) if (grid.section != 0).any() else grid.duration,
            color="#f2e6c9",
            zorder=0,
            label="count-in",
        )
    for start, end in mutes:
        ax.axvspan(
            start, end, facecolor="#eeeeee", edgecolor="#999999", hatch="///", linewidth=0, zorder=0
        )
    for cue in cues:
        ax.axvline(cue.x, color=_CUE, linewidth=0.8, linestyle=":", zorder=2)


def _time_axis(ax: Any, duration: float) -> None:
    """The lower axis in seconds, or as a clock (m:ss, h:mm:ss) from a minute on."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    ax.xaxis.set_major_locator(MultipleLocator(_time_step(duration)))
    if duration >= 60:
        ax.xaxis.set_major_formatter(FuncFormatter(_clock))
        ax.set_xlabel("time (h:mm:ss)" if duration >= 3600 else "time (m:ss)", fontsize=9)
    else:
        ax.set_xlabel("time (s)", fontsize=9)
    ax.tick_params(labelsize=_FONT)


def _draw_lane(
    lane: Any,
    colour: str,
    marks: Sequence[Mark],
    rows: Sequence[int],
    lefts: Sequence[float],
    px_per_s: float,
) -> None:
    """One lane of labelled marks: a tick at each mark, its text on its row."""
    for mark, row, left in zip(marks, rows, lefts, strict=True):
        y = row + 0.5
        lane.plot(
            [mark.x],
            [y],
            marker="|",
            markersize=8,
            linestyle="none",
            color=colour,
            clip_on=False,
        )
        lane.text(
            left / px_per_s,
            y,
            mark.text,
            fontsize=_FONT,
            va="center",
            ha="left",
            color=colour,
            clip_on=False,
        )
