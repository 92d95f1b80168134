"""A REAPER project (``.rpp``) holding a map's tempo envelope, regions and cue markers.

Opening the file in REAPER gives the tempo map, the meters, one region per section and
one marker per cue, in one step (the marker CSV of :mod:`ictus.formats.export.markers` brings
markers only). What the project holds:

- ``TEMPO bpm num den``: the first tempo and meter;
- ``<TEMPOENVEX``: one square point (``PT time bpm 1``) wherever the tempo changes,
  with the meter (``num + 65536 * den``) on points where it changes. REAPER's tempo is
  in quarter notes per minute. A ramp becomes one point per beat whose tempo is that
  beat's exact length (as in the MIDI export, without its microsecond rounding), so
  every beat lands where ``ictus render`` puts it;
- ``MARKER n start "name" 1`` / ``MARKER n end "" 1``: the sections as regions (the
  count-in too), named as in ``export-markers``; ``MARKER n time "text" 0``: the cues.

Times are seconds from the first click (count-in included) with 12 decimals, from the
grid and the map's exact section times (:func:`~ictus.tempomap.grid.section_times`,
:func:`~ictus.tempomap.grid.times_in_section`); the map's scale is applied.

>>> from ictus.formats.clickfile import parse_click
>>> print(format_rpp(parse_click('a: 1 4/4 120\\nb: 1 3/4 60 cue@1.2="x"\\n')), end="")
<REAPER_PROJECT 0.1 "6.0/ictus" 0
  TEMPO 120 4 4
  <TEMPOENVEX
    ACT 1 -1
    VIS 1 0 1
    LANEHEIGHT 0 0
    ARM 0
    DEFSHAPE 1 -1 -1
    PT 0.000000000000 120.000000000000 1 262148 0 1
    PT 2.000000000000 60.000000000000 1 262147 0 1
  >
  MARKER 1 0.000000000000 "a" 1
  MARKER 1 2.000000000000 "" 1
  MARKER 2 2.000000000000 "b" 1
  MARKER 2 5.000000000000 "" 1
  MARKER 1 3.000000000000 "x" 0
>
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ictus.formats.export.markers import cue_markers, section_markers
from ictus.tempomap.grid import build_grid, piecewise, section_times, times_in_section
from ictus.tempomap.model import Meter, Section, TempoMap
from ictus.tempomap.timeline import tempo_for


def format_rpp(tempo_map: TempoMap) -> str:
    """The REAPER project text of ``tempo_map`` (see the module docstring)."""
    grid = build_grid(tempo_map)
    music = np.flatnonzero(grid.bar >= 1)
    lead = Fraction(float(grid.time[music[0]])) if len(music) else Fraction(0)
    scale = tempo_map.scale
    first = tempo_map.sections[0]
    points: list[tuple[Fraction, Fraction, Meter | None]] = []
    if lead > 0:  # the count-in plays at the first tempo, in the first meter
        points.append((Fraction(0), first.start_quarter_bpm * scale, first.meter))
    for section, (start, _) in zip(tempo_map.sections, section_times(tempo_map), strict=True):
        at = lead + start / scale
        for k, (offset, bpm) in enumerate(_tempo_points(section)):
            meter = section.meter if k == 0 else None
            points.append((at + offset / scale, bpm * scale, meter))
    lines = [
        '<REAPER_PROJECT 0.1 "6.0/ictus" 0',
        f"  TEMPO {_plain(points[0][1])} {first.meter.count} {first.meter.unit}",
        "  <TEMPOENVEX",
        "    ACT 1 -1",
        "    VIS 1 0 1",
        "    LANEHEIGHT 0 0",
        "    ARM 0",
        "    DEFSHAPE 1 -1 -1",
    ]
    last_bpm: Fraction | None = None
    last_meter: Meter | None = None
    for time, bpm, meter in points:
        new_meter = meter is not None and meter != last_meter
        if bpm == last_bpm and not new_meter:
            continue
        line = f"    PT {_seconds(time)} {_seconds(bpm)} 1"
        if new_meter:
            assert meter is not None
            line += f" {meter.count + 65536 * meter.unit} 0 1"
            last_meter = meter
        lines.append(line)
        last_bpm = bpm
    lines.append("  >")
    for n, region in enumerate(section_markers(grid), start=1):
        lines.append(f'  MARKER {n} {_seconds(region.start)} "{_name(region.name)}" 1')
        lines.append(f'  MARKER {n} {_seconds(region.end)} "" 1')
    for n, cue in enumerate(cue_markers(grid), start=1):
        lines.append(f'  MARKER {n} {_seconds(cue.start)} "{_name(cue.name)}" 0')
    lines.append(">")
    return "\n".join(lines) + "\n"


def _tempo_points(section: Section) -> list[tuple[Fraction, Fraction]]:
    """(seconds from the section's start at scale 1, quarter BPM) where the tempo is set.

    A ramp gets a point on every beat with the tempo that makes that beat exactly as
    long as in the map.
    """
    steps = piecewise(section)
    if steps is not None:
        _, tempos, times = steps
        return list(zip(times[:-1], tempos[:-1], strict=True))
    if not section.is_ramp:
        return [(Fraction(0), section.start_quarter_bpm)]
    offsets = section.beat_offsets()
    qs = [bar * section.bar_quarters + offset for bar in range(section.bars) for offset in offsets]
    qs.append(section.length_quarters)
    times = times_in_section(section, qs)
    return [
        (times[k], tempo_for(qs[k + 1] - qs[k], times[k + 1] - times[k]))
        for k in range(len(qs) - 1)
    ]


def _seconds(value: float | Fraction) -> str:
    return f"{float(value):.12f}"


def _plain(value: Fraction) -> str:
    """A tempo for the ``TEMPO`` line: as short as it is exact to 6 decimals."""
    return f"{float(value):.6f}".rstrip("0").rstrip(".")


def _name(text: str) -> str:
    """One line without double quotes (RPP strings are quoted with them)."""
    return " ".join(text.replace('"', "'").split())
