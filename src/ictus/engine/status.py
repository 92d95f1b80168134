"""Where the engine is, for displays and remotes: :class:`State` and :class:`Status`.

>>> State.PLAYING == "playing", State("paused").name
(True, 'PAUSED')
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ictus.tempomap import TempoMap


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
    its source (see :mod:`ictus.engine.followers`). ``output_errors`` counts the event
    outputs that failed in the callback and were switched off (the click goes on), and
    ``output_failure`` says what they raised. ``gap`` is True in a bar a gap click
    mutes (:mod:`ictus.tempomap.trainers`): it passes in time without a sound.
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
    output_errors: int = 0
    output_failure: str | None = None
    gap: bool = False


class CueList:
    """The text cues of a map in order, for :attr:`Status.cue` and
    :attr:`Status.next_cue`.

    >>> from ictus.formats import parse_click
    >>> cues = CueList(parse_click('a: 2 4/4 120 cue="One"\\nb: 2 4/4 120 cue@2.3="Two"'))
    >>> cues.around(1, 1), cues.around(4, 3)
    (('One', NextCue(text='Two', bar=4, beat=3)), ('Two', None))
    >>> cues.around(3, 1)  # a cue belongs to its own section
    (None, NextCue(text='Two', bar=4, beat=3))
    """

    def __init__(self, tempo_map: TempoMap) -> None:
        self.tempo_map = tempo_map
        self.cues = sorted(
            (tempo_map.first_bar_of(i) + cue.bar - 1, cue.beat, cue.text)
            for i, section in enumerate(tempo_map.sections)
            for cue in section.cues
        )

    def around(self, bar: int, beat: int) -> tuple[str | None, NextCue | None]:
        """The last cue at or before map ``bar`` and ``beat`` in that bar's section (beat
        0: before the bar's first beat), and the next cue in the map after it."""
        tm = self.tempo_map
        first = tm.first_bar_of(tm.bar_start(max(bar, 1))[0])
        current: str | None = None
        for cue_bar, cue_beat, text in self.cues:
            if (cue_bar, cue_beat) > (bar, beat):
                return current, NextCue(text, cue_bar, cue_beat)
            if cue_bar >= first:
                current = text
        return current, None
