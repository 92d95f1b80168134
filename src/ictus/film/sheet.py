"""The click sheet: the music editor's handout for the scoring stage.

One row per beat (warning clicks included): bar, beat, timecode, feet+frames, tempo in
BPM and as a frame click, and the hits. A hit within half a frame of a beat is written
on that beat's row with its error; any other hit gets a row of its own at its place in
the bar (``3|2.5`` is the 8th after beat 2).

Written as CSV (for tools), HTML (with print styles: A4, header repeated on each page)
or PDF (matplotlib's PDF backend, imported only when a PDF is asked for).

>>> from ictus.tempomap import Section, Tempo, TempoMap
>>> from ictus.timebase import FPS_24, Timecode
>>> from ictus.film.picture import Placement
>>> m = TempoMap((Section(1, Tempo(120)),), start=Timecode.parse("01:00:08:00", FPS_24))
>>> rows = sheet_rows(Placement.of(m), [Hit(Fraction(1), "door")])
>>> [(r.bar_beat, r.timecode, r.feet, r.click, r.hits) for r in rows][:3]
[('1|1', '01:00:08:00', '12+00', '12-0', ''), ('1|2', '01:00:08:12', '12+12', '12-0', ''), \
('1|3', '01:00:09:00', '13+08', '12-0', 'door')]
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ictus.atomic import atomic_path
from ictus.errors import ParameterError
from ictus.film.hits import Hit
from ictus.film.picture import Placement, nearest_frame
from ictus.tempomap import ClickGrid, Section, Timeline, build_grid
from ictus.timebase import bpm_to_frames, format_click

SHEET_FORMATS = ("csv", "html", "pdf")
COLUMNS = ("bar", "beat", "timecode", "subframe", "feet", "bpm", "click", "section", "hits")


@dataclass(frozen=True)
class SheetRow:
    """One line of the click sheet."""

    kind: str  # "beat" or "hit"
    bar: int
    beat: str  # "1", or "2.5" for a hit between beats
    time_s: float  # seconds from the cue start (warning clicks negative)
    timecode: str
    subframe: float  # how far past the frame of ``timecode`` (-0.5 .. 0.5)
    feet: str
    bpm: float
    click: str
    section: str
    hits: str

    @property
    def bar_beat(self) -> str:
        return f"{self.bar}|{self.beat}"


def _section_of(placement: Placement, bar: int) -> Section:
    tempo_map = placement.tempo_map
    index = tempo_map.bar_start(bar)[0] if bar >= 1 else 0
    return tempo_map.sections[index]


def _beat_quarters(section: Section, beat: int) -> Fraction:
    offsets = section.beat_offsets()
    ends = (*offsets[1:], section.bar_quarters)
    return ends[beat - 1] - offsets[beat - 1]


def _click_label(section: Section, placement: Placement, beat_bpm: Fraction) -> str:
    tempo = section.tempo
    scale = placement.tempo_map.scale
    if (
        tempo.frame_click is not None
        and not section.is_ramp
        and section.steps is None
        and section.tempi is None
        and scale == 1
        and tempo.frame_click[1].fps == placement.rate.fps
    ):
        return format_click(tempo.frame_click[0])
    try:
        return format_click(bpm_to_frames(beat_bpm, placement.rate))
    except ParameterError:
        return ""


def _beat_times(line: Timeline, grid: ClickGrid, on_beat: Sequence[int]) -> list[Fraction]:
    """Exact map time of each beat click: the count-in's (negative) first, then the music's."""
    count_in = iter(line.count_in_clicks())
    out = []
    for i in on_beat:
        bar, beat = int(grid.bar[i]), int(grid.beat[i])
        if bar >= 1:
            out.append(line.time_of(bar, beat))
        else:
            out.append(line.map_time(line.grid_time_at(next(count_in)[2])))
    return out


def sheet_rows(
    placement: Placement, hits: Sequence[Hit] = (), grid: ClickGrid | None = None
) -> list[SheetRow]:
    """The rows of the sheet, in time order.

    Parameters
    ----------
    placement
        The map in picture (see :class:`~ictus.film.picture.Placement`).
    hits
        Hit points, seconds after the cue start (bar 1's downbeat).
    grid
        The map's grid, if already built (count-in included: the warning clicks).
    """
    grid = grid if grid is not None else build_grid(placement.tempo_map)
    line = grid.timeline or Timeline(placement.tempo_map)
    on_beat = np.flatnonzero(grid.sub == 0)
    times = _beat_times(line, grid, on_beat.tolist())
    frames = [placement.frame_at(t) for t in times]
    seconds = np.array([float(t) for t in times])
    rows: list[SheetRow] = []
    beat_rows: list[dict[str, object]] = []
    for k, i in enumerate(on_beat.tolist()):
        bar, beat = int(grid.bar[i]), int(grid.beat[i])
        section = _section_of(placement, bar)
        quarters = _beat_quarters(section, beat)
        quarter_bpm = line.tempo_at(line.quarter_of(bar, beat)) if bar >= 1 else line.count_in_tempo
        bpm = quarter_bpm / quarters
        beat_rows.append(
            {
                "kind": "beat",
                "bar": bar,
                "beat": str(beat),
                "time_s": float(seconds[k]),
                "timecode": placement.label(frames[k]),
                "subframe": round(float(frames[k] - nearest_frame(frames[k])), 3),
                "feet": placement.feet(frames[k]),
                "bpm": round(float(bpm), 3),
                "click": _click_label(section, placement, bpm),
                "section": grid.section_names[grid.section[i]],
                "hits": [],
            }
        )
    extra: list[dict[str, object]] = []
    for hit in hits:
        t = float(hit.time)
        if not beat_rows:
            break
        k = int(np.argmin(np.abs(seconds - t)))
        frame = placement.frame_at(hit.time)
        error = frame - frames[k]
        text = hit.label or "hit"
        if abs(error) <= Fraction(1, 2):
            note = f"{text} ({float(error):+.2f} fr)" if abs(error) >= 0.005 else text
            beat_rows[k]["hits"].append(note)  # type: ignore[attr-defined]
            continue
        # between beats: its place in the bar from the beats either side
        before = k if seconds[k] <= t else max(k - 1, 0)
        after = min(before + 1, len(beat_rows) - 1)
        row = beat_rows[before]
        span = seconds[after] - seconds[before]
        part = (t - seconds[before]) / span if span > 0 else 0.0
        extra.append(
            {
                **row,
                "kind": "hit",
                "beat": f"{int(str(row['beat'])) + part:.2f}".rstrip("0").rstrip("."),
                "time_s": t,
                "timecode": placement.label(frame),
                "subframe": round(float(frame - nearest_frame(frame)), 3),
                "feet": placement.feet(frame),
                "hits": [text],
            }
        )
    for row in sorted([*beat_rows, *extra], key=lambda r: (r["time_s"], r["kind"] != "beat")):
        rows.append(SheetRow(**{**row, "hits": "; ".join(row["hits"])}))  # type: ignore[arg-type]
    return rows


def _title(placement: Placement) -> str:
    title = placement.tempo_map.title or "Click sheet"
    return (
        f"{title} - starts {placement.start_timecode} at {placement.rate.name} fps, "
        f"feet+frames from {placement.label(placement.reel.start_frame)} ({placement.reel.gauge})"
    )


def sheet_csv(rows: Sequence[SheetRow]) -> str:
    """CSV text: ``bar,beat,timecode,subframe,feet,bpm,click,section,hits,time_s,kind``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*COLUMNS, "time_s", "kind"))
    for r in rows:
        writer.writerow(
            (
                r.bar,
                r.beat,
                r.timecode,
                r.subframe,
                r.feet,
                r.bpm,
                r.click,
                r.section,
                r.hits,
                f"{r.time_s:.6f}",
                r.kind,
            )
        )
    return out.getvalue()


_CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 10.5pt; margin: 1.5em; }
h1 { font-size: 14pt; margin: 0 0 .2em 0; }
p.meta { margin: 0 0 1em 0; color: #333; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 2px 6px; border-bottom: 1px solid #ccc; text-align: right; white-space: nowrap; }
th { background: #eee; border-bottom: 2px solid #000; }
td.hits, th.hits, td.section { text-align: left; white-space: normal; }
tr.downbeat td { border-top: 1.5px solid #000; font-weight: bold; }
tr.hit td { background: #fff3c4; }
tr.warning td { color: #666; font-style: italic; }
td.hits { font-weight: bold; }
.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
@page { size: A4; margin: 12mm; }
@media print {
  body { margin: 0; font-size: 9.5pt; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; }
  tr.hit td { background: none; border: 1.5px solid #000; }
}
"""


def sheet_html(rows: Sequence[SheetRow], placement: Placement) -> str:
    """A printable HTML page (A4, the header row repeats on every printed page)."""
    title = html.escape(placement.tempo_map.title or "Click sheet")
    meta = html.escape(_title(placement))
    head = "".join(f'<th class="{c}">{c.replace("subframe", "+fr")}</th>' for c in COLUMNS)
    body = []
    for r in rows:
        classes = []
        if r.bar <= 0:
            classes.append("warning")
        elif r.kind == "beat" and r.beat == "1":
            classes.append("downbeat")
        if r.kind == "hit" or r.hits:
            classes.append("hit")
        bar = f"W{1 - r.bar}" if r.bar <= 0 else str(r.bar)
        cells = [
            bar,
            r.beat,
            f'<span class="mono">{r.timecode}</span>',
            f"{r.subframe:+.2f}" if r.subframe else "",
            r.feet,
            f"{r.bpm:.3f}",
            r.click,
            html.escape(r.section),
            html.escape(r.hits),
        ]
        tds = "".join(f'<td class="{c}">{v}</td>' for c, v in zip(COLUMNS, cells, strict=True))
        body.append(f'<tr class="{" ".join(classes)}">{tds}</tr>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        f'<h1>{title}</h1><p class="meta">{meta}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table></body></html>\n"
    )


_PDF_ROWS = 48


def sheet_pdf(rows: Sequence[SheetRow], placement: Placement, path: str) -> None:
    """A4 pages of the sheet as PDF, drawn with matplotlib's PDF backend."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    widths = (0.06, 0.06, 0.15, 0.06, 0.09, 0.09, 0.07, 0.12, 0.30)
    x = np.concatenate([[0.0], np.cumsum(widths)])
    pages = max(1, math.ceil(len(rows) / _PDF_ROWS))
    with PdfPages(path) as pdf:
        for page in range(pages):
            fig = Figure(figsize=(8.27, 11.69))  # A4 portrait, inches
            ax = fig.add_axes((0.06, 0.04, 0.88, 0.88))
            ax.set_axis_off()
            ax.set_xlim(0, 1)
            ax.set_ylim(_PDF_ROWS + 1, -1)
            fig.text(
                0.06, 0.965, placement.tempo_map.title or "Click sheet", fontsize=13, weight="bold"
            )
            fig.text(0.06, 0.945, f"{_title(placement)}   page {page + 1}/{pages}", fontsize=7.5)
            for c, name in enumerate(COLUMNS):
                ax.text(
                    x[c] + 0.005,
                    -0.2,
                    name.replace("subframe", "+fr"),
                    fontsize=8,
                    weight="bold",
                    va="center",
                )
            ax.axhline(0.4, color="black", linewidth=1.2)
            chunk = rows[page * _PDF_ROWS : (page + 1) * _PDF_ROWS]
            for y, r in enumerate(chunk, start=1):
                if r.kind == "hit" or r.hits:
                    ax.axhspan(y - 0.45, y + 0.45, color="#ffe98a", linewidth=0)
                if r.kind == "beat" and r.beat == "1" and r.bar >= 1:
                    ax.axhline(y - 0.5, color="black", linewidth=0.8)
                bar = f"W{1 - r.bar}" if r.bar <= 0 else str(r.bar)
                cells = (
                    bar,
                    r.beat,
                    r.timecode,
                    f"{r.subframe:+.2f}" if r.subframe else "",
                    r.feet,
                    f"{r.bpm:.3f}",
                    r.click,
                    r.section[:14],
                    r.hits[:48],
                )
                for c, value in enumerate(cells):
                    ax.text(
                        x[c] + 0.005,
                        y,
                        value,
                        fontsize=7.5,
                        va="center",
                        family="monospace" if c in (2, 3, 4, 5, 6) else "sans-serif",
                        weight="bold" if c == 8 else "normal",
                    )
            pdf.savefig(fig)


def sheet_format(path: str, fmt: str | None) -> str:
    """The sheet format from ``fmt`` or the file extension."""
    name = fmt or Path(path).suffix.lower().lstrip(".")
    name = {"htm": "html", "txt": "csv"}.get(name, name)
    if name not in SHEET_FORMATS:
        raise ParameterError(
            f"cannot tell the sheet format of {path!r}; use .csv, .html or .pdf (or --format)"
        )
    return name


def write_sheet(
    placement: Placement,
    hits: Sequence[Hit],
    path: str,
    fmt: str | None = None,
) -> list[SheetRow]:
    """Write the click sheet to ``path`` (``-`` for CSV/HTML on standard output), atomically."""
    name = sheet_format(path, fmt) if path != "-" else (fmt or "csv")
    if name not in SHEET_FORMATS:
        raise ParameterError(f"unknown sheet format {name!r}; choose csv, html or pdf")
    rows = sheet_rows(placement, hits)
    if name == "pdf":
        if path == "-":
            raise ParameterError("a PDF sheet needs a file name: -o sheet.pdf")
        with atomic_path(path) as tmp:
            sheet_pdf(rows, placement, tmp)
        return rows
    text = sheet_csv(rows) if name == "csv" else sheet_html(rows, placement)
    if path == "-":
        import sys

        sys.stdout.write(text)
        return rows
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return rows
