"""Marker and label files for DAWs: one marker per bar or one region per section.

The markers are read off a :class:`~ictus.tempomap.grid.ClickGrid` (bar numbers,
section names, click times and the grid's duration); nothing here computes time.

Three formats:

``audacity``
    Audacity's label track text (File > Import > Labels): one label per line,
    ``start<TAB>end<TAB>text`` with times in seconds to 6 decimals; a point label has
    ``start == end`` (Audacity manual, "Importing and Exporting Labels").
``reaper``
    The CSV of REAPER's Region/Marker Manager (View > Region/Marker Manager,
    right-click > Import): header ``#,Name,Start,End,Length``, then ``M1``, ``M2``...
    for markers (End and Length left empty) and ``R1``, ``R2``... for regions. REAPER
    writes times in the ruler's format; we write minutes:seconds (``1:02.500``, the
    default ruler), which a reader cannot mistake for measures.beats (``5.1.00``).
    Sources: files exported by REAPER as quoted in marker-munger.py (an OBS/Shotcut
    tool) and utaupy's reaper.py documentation.
``csv``
    Plain CSV for scripts and spreadsheets: ``bar,time_s,end_s,label``.

``per="section"`` gives one region per run of bars with one section name (count-in
included); unlabelled runs are named by their bars (``bars 1-8``). ``per="bar"`` gives
one point marker per bar named by its number, with the section's name added on its
first bar (``17 chorus``). Every cue of the map (``cue=``, ``cue@5.3=``) is a point
marker too, named by its text (``cues=False`` leaves them out).

>>> import io
>>> from ictus.tempomap import CountIn, Section, Tempo, TempoMap, build_grid
>>> grid = build_grid(TempoMap((Section(2, Tempo(120), label="intro"),
...                             Section(2, Tempo(60), label="verse")), count_in=CountIn(1)))
>>> out = io.StringIO()
>>> write_markers(grid, out, "audacity")
>>> print(out.getvalue().replace("\\t", " | "), end="")
0.000000 | 2.000000 | count-in
2.000000 | 6.000000 | intro
6.000000 | 14.000000 | verse
>>> out = io.StringIO()
>>> write_markers(grid, out, "reaper", per="bar")
>>> print(out.getvalue().replace("\\r", ""), end="")
#,Name,Start,End,Length
M1,count-in,0:00.000,,
M2,1 intro,0:02.000,,
M3,2,0:04.000,,
M4,3 verse,0:06.000,,
M5,4,0:10.000,,
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import TextIO

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.tempomap.grid import COUNT_IN, ClickGrid

FORMATS: tuple[str, ...] = ("reaper", "audacity", "csv")
PER: tuple[str, ...] = ("section", "bar")
CSV_HEADER = ("bar", "time_s", "end_s", "label")
REAPER_HEADER = ("#", "Name", "Start", "End", "Length")


@dataclass(frozen=True)
class Marker:
    """A named span of the grid: ``start`` and ``end`` in seconds, from ``bar``."""

    start: float
    end: float
    bar: int
    name: str


def bar_markers(grid: ClickGrid) -> list[Marker]:
    """One marker per bar (count-in bars included), in time order.

    >>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
    >>> [(m.bar, m.name, m.start) for m in bar_markers(build_grid(TempoMap((
    ...     Section(2, Tempo(120), label="a"),))))]
    [(1, '1 a', 0.0), (2, '2', 2.0)]
    """
    firsts = _bar_starts(grid)
    ends = [*grid.time[firsts[1:]].tolist(), grid.duration]
    count_in_bars = int(np.sum(grid.bar[firsts] <= 0))
    result = []
    previous_section = -1
    for k, (i, end) in enumerate(zip(firsts.tolist(), ends, strict=True)):
        bar, section = int(grid.bar[i]), int(grid.section[i])
        if bar <= 0:
            name = COUNT_IN if count_in_bars == 1 else f"{COUNT_IN} {k + 1}"
        else:
            name = str(bar)
            label = grid.section_names[section]
            if section != previous_section and label:
                name += f" {label}"
        previous_section = section
        result.append(Marker(float(grid.time[i]), float(end), bar, name))
    return result


def section_markers(grid: ClickGrid) -> list[Marker]:
    """One region per run of bars with one section name, in time order.

    >>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
    >>> [(m.name, m.start, m.end) for m in section_markers(build_grid(TempoMap((
    ...     Section(2, Tempo(120)), Section(1, Tempo(60), label="b")))))]
    [('bars 1-2', 0.0, 4.0), ('b', 4.0, 8.0)]
    """
    firsts = _bar_starts(grid)
    sections = grid.section[firsts]
    change = np.flatnonzero(np.r_[True, sections[1:] != sections[:-1]])
    result = []
    for n, k in enumerate(change.tolist()):
        last_k = (change[n + 1] if n + 1 < len(change) else len(firsts)) - 1
        i = int(firsts[k])
        end = float(grid.time[firsts[last_k + 1]]) if last_k + 1 < len(firsts) else grid.duration
        bar, last_bar = int(grid.bar[i]), int(grid.bar[firsts[last_k]])
        name = grid.section_names[int(sections[k])]
        if not name:
            name = f"bar {bar}" if bar == last_bar else f"bars {bar}-{last_bar}"
        result.append(Marker(float(grid.time[i]), float(end), bar, name))
    return result


def cue_markers(grid: ClickGrid) -> list[Marker]:
    """One point marker per cue of the map, at the cue's time, named by its text.

    >>> from ictus.tempomap import Cue, Section, Tempo, TempoMap, build_grid
    >>> grid = build_grid(TempoMap((Section(2, Tempo(120), cues=(Cue("Build", 2, 3),)),)))
    >>> [(m.bar, m.name, m.start, m.end) for m in cue_markers(grid)]
    [(2, 'Build', 3.0, 3.0)]
    """
    return [Marker(c.time, c.time, c.bar, c.text) for c in grid.cues]


def write_markers(
    grid: ClickGrid, stream: TextIO, fmt: str = "csv", per: str = "section", *, cues: bool = True
) -> None:
    """Write the grid's bars or sections as a marker file of format ``fmt``.

    Parameters
    ----------
    grid : ClickGrid
    stream : text stream
        Opened with ``newline=""`` when it is a file (the CSV writers choose line ends).
    fmt : {"reaper", "audacity", "csv"}
    per : {"section", "bar"}
        Regions per section, or point markers per bar.
    cues : bool, default True
        Also a point marker per cue (REAPER: ``M`` rows after the regions; Audacity and
        CSV: in time order, a cue after a bar or region that starts with it).
    """
    if fmt not in FORMATS:
        raise ParameterError(f"unknown marker format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if per not in PER:
        raise ParameterError(f"markers per {per!r}? choose section or bar")
    items = section_markers(grid) if per == "section" else bar_markers(grid)
    points = cue_markers(grid) if cues else []
    if fmt == "audacity":
        spans = [(m, m.end if per == "section" else m.start) for m in items]
        spans += [(m, m.start) for m in points]
        for m, end in sorted(spans, key=lambda pair: pair[0].start):  # stable: cues after
            stream.write(f"{m.start:.6f}\t{end:.6f}\t{_one_line(m.name)}\n")
    elif fmt == "reaper":
        # REAPER's own exports are RFC 4180 CSV: CRLF line ends, quotes where needed
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(REAPER_HEADER)
        for n, m in enumerate(items, start=1):
            start_ms, end_ms = _milliseconds(m.start), _milliseconds(m.end)
            name = _one_line(m.name)
            if per == "section":
                writer.writerow(
                    (
                        f"R{n}",
                        name,
                        _reaper_time(start_ms),
                        _reaper_time(end_ms),
                        _reaper_time(end_ms - start_ms),
                    )
                )
            else:
                writer.writerow((f"M{n}", name, _reaper_time(start_ms), "", ""))
        first = 1 if per == "section" else len(items) + 1  # regions and markers count apart
        for n, m in enumerate(points, start=first):
            writer.writerow(
                (f"M{n}", _one_line(m.name), _reaper_time(_milliseconds(m.start)), "", "")
            )
    else:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for m in sorted([*items, *points], key=lambda m: m.start):
            writer.writerow((m.bar, f"{m.start:.9f}", f"{m.end:.9f}", m.name))


def _bar_starts(grid: ClickGrid) -> NDArray[np.intp]:
    """Index of the first click of every bar (its downbeat)."""
    bars = grid.bar
    return np.flatnonzero(np.r_[True, bars[1:] != bars[:-1]])


def _one_line(text: str) -> str:
    """Label text without tabs or line breaks (they would split the record)."""
    return " ".join(text.split())


def _milliseconds(seconds: float) -> int:
    return round(seconds * 1000)


def _reaper_time(ms: int) -> str:
    """Minutes:seconds.milliseconds as REAPER's default ruler shows it.

    >>> _reaper_time(62500), _reaper_time(3723004)
    ('1:02.500', '62:03.004')
    """
    minutes, rest = divmod(ms, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{minutes}:{seconds:02d}.{millis:03d}"
