"""Timecode and clock chase: followers fed by LTC, MTC or MIDI clock (in progress)."""

from __future__ import annotations

from typing import Any

from ictus.errors import ParameterError


def make_chaser(source: str, tempo_map: Any, midi_in: str | None, ltc_in: int | None) -> Any:
    """The follower for ``--follow SOURCE``."""
    raise ParameterError(f"--follow {source} is not available yet")
