"""Beat lists: every click of a grid as CSV or JSON rows (``ictus beats``).

The CSV header is fixed (other tools rely on it)::

    index,time_s,sample,bar,beat,sub,level,tempo_bpm,section

>>> import io
>>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
>>> out = io.StringIO()
>>> write_beats(build_grid(TempoMap((Section(1, Tempo(120), label="a"),))), out, rate=48000)
>>> print(out.getvalue().splitlines()[2])
1,0.500000000,24000,1,2,0,normal,120,a
"""

from __future__ import annotations

import csv
import json
from typing import TextIO

import numpy as np

from ictus.errors import ParameterError
from ictus.tempomap.grid import ClickGrid
from ictus.tempomap.model import LEVELS

HEADER = ("index", "time_s", "sample", "bar", "beat", "sub", "level", "tempo_bpm", "section")


def _tempo_text(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def beat_rows(grid: ClickGrid, rate: int) -> list[dict[str, object]]:
    """The rows as dicts with the CSV header's keys (exact numbers, not text)."""
    samples = grid.samples(rate)
    return [
        {
            "index": i,
            "time_s": float(grid.time[i]),
            "sample": int(samples[i]),
            "bar": int(grid.bar[i]),
            "beat": int(grid.beat[i]),
            "sub": int(grid.sub[i]),
            "level": LEVELS[grid.level[i]],
            "tempo_bpm": float(grid.tempo[i]),
            "section": grid.section_names[grid.section[i]],
        }
        for i in range(len(grid))
    ]


def write_beats(grid: ClickGrid, stream: TextIO, *, fmt: str = "csv", rate: int = 48000) -> None:
    """Write one row per click (silent ones included) as ``csv`` or ``json``."""
    if fmt not in ("csv", "json"):
        raise ParameterError(f"unknown beat-list format {fmt!r}; choose csv or json")
    if fmt == "json":
        json.dump(beat_rows(grid, rate), stream, indent=1)
        stream.write("\n")
        return
    samples = grid.samples(rate)
    # format whole columns at once: a million rows stay fast
    times = np.char.mod("%.9f", grid.time)
    tempos = [_tempo_text(t) for t in grid.tempo.tolist()]
    levels = [LEVELS[x] for x in grid.level.tolist()]
    sections = [grid.section_names[x] for x in grid.section.tolist()]
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(
        zip(
            range(len(grid)),
            times.tolist(),
            samples.tolist(),
            grid.bar.tolist(),
            grid.beat.tolist(),
            grid.sub.tolist(),
            levels,
            tempos,
            sections,
            strict=True,
        )
    )
