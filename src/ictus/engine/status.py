"""Where the engine is, for displays and remotes: :class:`State` and :class:`Status`.

>>> State.PLAYING == "playing", State("paused").name
(True, 'PAUSED')
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    """What the engine is doing."""

    PLAYING = "playing"
    PAUSED = "paused"
    STOPPED = "stopped"
    ENDED = "ended"
    OFFLINE = "offline"  # the backend went away; with reconnect on, it comes back


@dataclass(frozen=True)
class NextCue:
    """A cue still to come: its text and where (map bar and beat)."""

    text: str
    bar: int
    beat: int


@dataclass(frozen=True)
class Status:
    """Where the engine is (one block old at most).

    ``cue`` is the text of the last cue passed in the section being played (None:
    none yet); ``next_cue`` the next one ahead in the map, if any.
    ``follow`` names the follower moving the transport and ``follow_lost`` why it lost
    its source (see :mod:`ictus.engine.followers`).
    """

    state: State
    bar: int
    beat: int
    beats: int
    section: str
    next_section: str | None
    tempo: float
    scale_percent: float
    count_in: bool
    loop: str | None
    jump: int | None
    seconds: float
    clock: int
    frame: int
    rate: int
    period: int
    backend: str
    xruns: int
    title: str | None
    cue: str | None = None
    next_cue: NextCue | None = None
    follow: str | None = None
    follow_lost: str | None = None
