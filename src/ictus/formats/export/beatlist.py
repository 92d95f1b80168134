"""Beat lists: every click of a grid as CSV or JSON rows (``ictus beats``).

The CSV header is fixed (other tools rely on it)::

    index,time_s,sample,bar,beat,sub,level,tempo_bpm,section

When the map has a start timecode (``start: 01:00:00:00 @ 24``) and is passed as
``tempo_map``, a tenth column ``timecode`` follows: the label of the frame nearest each
click. Without a start the nine columns stay exactly as they are.

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
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, TextIO

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.formats.typed_tempo import readable
from ictus.tempomap.grid import ClickGrid
from ictus.tempomap.model import Level, TempoMap
from ictus.tempomap.timeline import Timeline
from ictus.timebase import Timecode

HEADER = ("index", "time_s", "sample", "bar", "beat", "sub", "level", "tempo_bpm", "section")


def _tempo_text(value: float) -> str:
    # for people: at most 3 decimals (JSON keeps the full value)
    return readable(value)


def beat_rows(grid: ClickGrid, rate: int) -> list[dict[str, object]]:
    """The rows as dicts with the CSV header's keys (exact numbers, not text)."""
    return _rows(grid, grid.samples(rate), 0, len(grid))


#: Rows formatted at a time: the whole of a ten-million-click grid as Python objects
#: would take gigabytes.
_CHUNK = 1 << 14


def _rows(
    grid: ClickGrid, samples: NDArray[np.int64], start: int, stop: int
) -> list[dict[str, object]]:
    return [
        {
            "index": i,
            "time_s": float(grid.time[i]),
            "sample": int(samples[i]),
            "bar": int(grid.bar[i]),
            "beat": int(grid.beat[i]),
            "sub": int(grid.sub[i]),
            "level": Level(int(grid.level[i])).label,
            "tempo_bpm": float(grid.tempo[i]),
            "section": grid.section_names[grid.section[i]],
        }
        for i in range(start, stop)
    ]


def seconds_from_map_start(tempo_map: TempoMap, grid: ClickGrid) -> NDArray[np.float64]:
    """Each click's time from the map's first downbeat (bar 1), wherever the grid starts.

    The grid's own timeline knows its origin and count-in lead
    (:meth:`~ictus.tempomap.grid.ClickGrid.map_times`); ``tempo_map`` is used only for
    a grid made without one (then taken to start at bar 1). Count-in clicks come out
    negative.

    >>> from ictus.tempomap import Section, Tempo, TempoMap, CountIn, build_grid
    >>> m = TempoMap((Section(2, Tempo(120)),), count_in=CountIn(bars=1))
    >>> seconds_from_map_start(m, build_grid(m, start_bar=2))[:5].tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0]
    """
    if grid.timeline is None:
        grid = replace(grid, timeline=Timeline(tempo_map))
    return grid.map_times()


def click_timecodes(tempo_map: TempoMap, grid: ClickGrid) -> list[str]:
    """The timecode label of the frame nearest each click; ``""`` before 00:00:00:00.

    >>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
    >>> from ictus.timebase import FPS_24
    >>> m = TempoMap((Section(1, Tempo(120)),), start=Timecode.parse("01:00:00:00", FPS_24))
    >>> click_timecodes(m, build_grid(m))
    ['01:00:00:00', '01:00:00:12', '01:00:01:00', '01:00:01:12']
    """
    start = tempo_map.start
    if start is None:
        raise ParameterError("the map has no start timecode (a 'start: 01:00:00:00 @ 24' line)")
    rate = start.rate
    fps = float(rate.fps)
    frames = np.floor(seconds_from_map_start(tempo_map, grid) * fps + 0.5).astype(np.int64)
    frames += start.to_frame()
    return [str(Timecode.from_frame(f, rate)) if f >= 0 else "" for f in frames.tolist()]


def write_beats(
    grid: ClickGrid | Iterable[ClickGrid],
    stream: TextIO,
    *,
    fmt: str = "csv",
    rate: int = 48000,
    tempo_map: TempoMap | None = None,
) -> None:
    """Write one row per click (silent ones included) as ``csv`` or ``json``.

    ``grid`` is a whole grid or its blocks in order
    (:func:`~ictus.tempomap.grid.grid_blocks`: constant memory for any length). Pass
    the ``tempo_map`` the grid was built from to add a ``timecode`` column (after the
    nine fixed ones) when the map has a start timecode.
    """
    if fmt not in ("csv", "json"):
        raise ParameterError(f"unknown beat-list format {fmt!r}; choose csv or json")
    if rate <= 0:
        raise ParameterError(f"sample rate must be > 0, got {rate}")
    blocks = (grid,) if isinstance(grid, ClickGrid) else grid
    with_timecode = tempo_map is not None and tempo_map.start is not None
    if fmt == "json":
        _write_json(blocks, stream, rate, tempo_map if with_timecode else None)
    else:
        _write_csv(blocks, stream, rate, tempo_map if with_timecode else None)


def _write_json(
    blocks: Iterable[ClickGrid], stream: TextIO, rate: int, tempo_map: TempoMap | None
) -> None:
    # row by row, as json.dump(rows, indent=1) would write the whole list: the rows
    # of ten million clicks as Python dicts would take gigabytes
    stream.write("[")
    index = 0
    for block in blocks:
        timecodes = click_timecodes(tempo_map, block) if tempo_map is not None else None
        samples = block.samples(rate)
        for start in range(0, len(block), _CHUNK):
            rows = _rows(block, samples, start, min(start + _CHUNK, len(block)))
            for k, row in enumerate(rows):
                row["index"] = index
                if timecodes is not None:
                    row["timecode"] = timecodes[start + k]
                text = json.dumps(row, indent=1).replace("\n", "\n ")
                stream.write(("\n " if index == 0 else ",\n ") + text)
                index += 1
    stream.write("\n]\n" if index else "]\n")


def _write_csv(
    blocks: Iterable[ClickGrid], stream: TextIO, rate: int, tempo_map: TempoMap | None
) -> None:
    names = [level.label for level in Level]
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow((*HEADER, "timecode") if tempo_map is not None else HEADER)
    index = 0
    for block in blocks:
        timecodes = click_timecodes(tempo_map, block) if tempo_map is not None else None
        samples = block.samples(rate)
        # whole columns at once (a million rows stay fast), a block of rows at a time
        # (ten million rows as Python objects would take gigabytes)
        for start in range(0, len(block), _CHUNK):
            end = min(start + _CHUNK, len(block))
            part = slice(start, end)
            columns: list[Any] = [
                range(index, index + end - start),
                np.char.mod("%.9f", block.time[part]).tolist(),
                samples[part].tolist(),
                block.bar[part].tolist(),
                block.beat[part].tolist(),
                block.sub[part].tolist(),
                [names[x] for x in block.level[part].tolist()],
                [_tempo_text(t) for t in block.tempo[part].tolist()],
                [block.section_names[x] for x in block.section[part].tolist()],
            ]
            if timecodes is not None:
                columns.append(timecodes[start:end])
            writer.writerows(zip(*columns, strict=True))
            index += end - start
