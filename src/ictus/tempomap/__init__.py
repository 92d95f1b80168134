"""The model (:class:`TempoMap`), its :class:`Timeline` and the exact grid (:class:`ClickGrid`).

All tempo-to-time math of the project lives in this package: everything above it asks
the :class:`Timeline` (or reads a grid built from it).
"""

from ictus.tempomap.grid import (
    COUNT_IN,
    ClickGrid,
    GridCue,
    build_grid,
)
from ictus.tempomap.model import (
    ACCENT,
    LEVELS,
    NORMAL,
    RAMP_SHAPES,
    SILENT,
    SOUNDING_LEVELS,
    SUB,
    CountIn,
    Cue,
    Level,
    Meter,
    Section,
    Tempo,
    TempoMap,
    parse_unit,
    unit_name,
)
from ictus.tempomap.timeline import (
    Position,
    Timeline,
    seconds_at_tempo,
    section_duration,
    section_times,
    stepped_seconds,
    tempo_for,
)

__all__ = [
    "ACCENT",
    "COUNT_IN",
    "LEVELS",
    "NORMAL",
    "RAMP_SHAPES",
    "SILENT",
    "SOUNDING_LEVELS",
    "SUB",
    "ClickGrid",
    "CountIn",
    "Cue",
    "GridCue",
    "Level",
    "Meter",
    "Position",
    "Section",
    "Tempo",
    "TempoMap",
    "Timeline",
    "build_grid",
    "parse_unit",
    "seconds_at_tempo",
    "section_duration",
    "section_times",
    "stepped_seconds",
    "tempo_for",
    "unit_name",
]
