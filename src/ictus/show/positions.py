"""Positions in a song (a bar, a bar and beat, a section label) and where they fall.

Times come from the song's :class:`~ictus.tempomap.ClickGrid` only: a position is looked
up among the grid's clicks, never computed here.

>>> from ictus.tempomap import Meter, Section, Tempo, TempoMap, build_grid
>>> m = TempoMap((Section(2, Tempo(120), label="intro"), Section(1, Tempo(60), Meter(3, 4),
...               label="verse")))
>>> resolve(m, At("verse")), beat_time(build_grid(m), BarBeat(3, 2))
(BarBeat(bar=3, beat=1), 5.0)
"""

from __future__ import annotations

import numpy as np

from ictus.errors import ParameterError
from ictus.show.model import At, BarBeat, Position
from ictus.tempomap import ClickGrid, TempoMap


def resolve(tempo_map: TempoMap, position: Position) -> BarBeat:
    """The bar and beat of ``position`` in ``tempo_map``, checked to lie inside it."""
    if isinstance(position, At):
        return BarBeat(tempo_map.first_bar_of(tempo_map.section_index(position.label)))
    index, _ = tempo_map.bar_start(position.bar)
    beats = tempo_map.sections[index].beats_per_bar
    if position.beat > beats:
        raise ParameterError(f"bar {position.bar} has {beats} beats, not {position.beat}")
    return position


def beat_time(grid: ClickGrid, position: BarBeat) -> float:
    """Seconds from the grid's start to the click on ``position`` (silent clicks count)."""
    hits = np.flatnonzero(
        (grid.bar == position.bar) & (grid.beat == position.beat) & (grid.sub == 0)
    )
    if len(hits) == 0:
        raise ParameterError(f"no beat {position} in the song")
    return float(grid.time[hits[0]])
