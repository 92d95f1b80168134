"""The model (:class:`TempoMap`) and the one exact grid (:class:`ClickGrid`) it becomes."""

from ictus.tempomap.grid import (
    COUNT_IN,
    ClickGrid,
    GridCue,
    build_grid,
    section_duration,
    section_times,
)
from ictus.tempomap.model import (
    ACCENT,
    LEVELS,
    NORMAL,
    RAMP_SHAPES,
    SILENT,
    SUB,
    CountIn,
    Cue,
    Meter,
    Section,
    Tempo,
    TempoMap,
    parse_unit,
    unit_name,
)

__all__ = [
    "ACCENT",
    "COUNT_IN",
    "LEVELS",
    "NORMAL",
    "RAMP_SHAPES",
    "SILENT",
    "SUB",
    "ClickGrid",
    "CountIn",
    "Cue",
    "GridCue",
    "Meter",
    "Section",
    "Tempo",
    "TempoMap",
    "build_grid",
    "parse_unit",
    "section_duration",
    "section_times",
    "unit_name",
]
