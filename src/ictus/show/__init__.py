"""Live shows: a show file (songs, setlist, outputs, monitor mixes), its checks, spoken
counts and cues, backing stems streamed from disk, and offline rendering per output.

The runner (:class:`ShowRunner`, ``ictus show run``; imported on first use, as it brings
the engine) drives an engine per song with what :func:`plan_song` gives:
the song's grid, its sources of the engine's shape and their routing, and its MIDI
events at frames. The format is described in docs/SHOW.md.
"""

from typing import Any

from ictus.show.check import Route, ShowError, ShowReport, check_show
from ictus.show.model import (
    ALLOW_CLICK_ON_MAIN,
    Advance,
    At,
    BarBeat,
    ClickVariant,
    ControlChange,
    MidiEvent,
    Mix,
    Note,
    Output,
    ProgramChange,
    Show,
    Song,
    SourceKind,
    Speech,
    SpokenCue,
    Stem,
)
from ictus.show.plan import ClickSource, SongPlan, SpokenTrack, SpokenWord, plan_song
from ictus.show.render import render_song
from ictus.show.showfile import load_show
from ictus.show.speech import Speaker
from ictus.show.stems import StemStream

__all__ = [
    "ALLOW_CLICK_ON_MAIN",
    "Advance",
    "At",
    "BarBeat",
    "ClickSource",
    "ClickVariant",
    "ControlChange",
    "MidiEvent",
    "Mix",
    "Note",
    "Output",
    "ProgramChange",
    "Route",
    "Show",
    "ShowError",
    "ShowReport",
    "ShowRunner",
    "Song",
    "SongPlan",
    "SourceKind",
    "Speaker",
    "Speech",
    "SpokenCue",
    "SpokenTrack",
    "SpokenWord",
    "Stem",
    "StemStream",
    "check_show",
    "load_show",
    "plan_song",
    "render_song",
]


def __getattr__(name: str) -> Any:
    # the runner imports the engine: only when asked for (render_song needs none of it)
    if name == "ShowRunner":
        from ictus.show.runner import ShowRunner

        return ShowRunner
    raise AttributeError(f"module 'ictus.show' has no attribute {name!r}")
