"""Ableton Link: lead a session from the tempo map, or follow one with the transport.

Link shares a **tempo** and a **beat phase** between peers on a network, nothing else: no
meter, no bar numbers, no position in a song. These rules tie a map to it (docs/LINK.md
gives the reasons):

- **A Link beat is a quarter note**, whatever the meter or the map's beat unit (as in
  Ableton Live): the session's tempo is the map's quarter-note tempo (scale applied),
  and Link beats count quarters continuously through meter changes, steps and ramps.
- **The start bar's downbeat is Link beat 0**; the count-in has negative beats. So Link
  beat ``b`` is grid quarter ``b + count_in_quarters`` (:func:`grid_quarter`, inverse
  :func:`link_beat`).
- **The quantum** (the beats per Link "bar", which peers align their bars to) is the
  start bar's length in quarters (4 in 4/4, 3 in 6/8, 7/2 in 7/8), or a fixed number
  (:class:`QuantumRule`, ``--link-quantum N``). It stays fixed while playing.
- **At a meter change nothing jumps**: beats keep counting quarters, so a later bar
  starts at phase ``(quarters since the start bar) mod quantum`` (:func:`bar_phases`),
  0 again whenever those quarters are a multiple of the quantum. Realigning each new
  bar to phase 0 would move the beat of every other peer in the session.
- **Following**: the start bar's downbeat goes on the session's first bar line at or
  after its start time; each Link beat on is a grid quarter. A lost source leaves the
  target running on the map from where the session left it (:class:`WhenLost`).
- **Ramps are continuous tempo changes**: each :meth:`LinkLeader.update` puts the map's
  beat at that host time on the session and sets the tempo of the chord to the map's
  beat one ``lookahead`` (50 ms, Link's shortest broadcast period) later: peers
  extrapolating the last timeline they got stay on the ramp's curve within the
  chord's bow (tens of microseconds).

Host times are Link's clock: integer microseconds of ``CLOCK_MONOTONIC_RAW`` on Linux
(:meth:`LinkSession.now`). JACK 2 keeps its times on the same clock (``jack_get_time``
read within 10 us of it), so a block's JACK time (``jack_get_cycle_times``) is its Link
host time as it stands.

The engine drives both from its block clock: a :class:`LinkLeader` with the host time
and grid time of each block, a :class:`LinkFollower` polled for the place the transport
should be (its follower adapter makes the requests).

The Link binding is the optional extra ``link`` (``pip install 'ictus[link]'``,
LinkPython-extern, which carries Ableton's GPL-licensed Link library; ictus itself is
MIT, so the binding is never required). It is imported when a session is made.

Examples
--------
>>> from ictus.tempomap.model import CountIn, Meter, Section, Tempo, TempoMap
>>> m = TempoMap((Section(2, Tempo(120)), Section(1, Tempo(120), Meter(3, 4)),
...               Section(1, Tempo(120))), count_in=CountIn(bars=1))
>>> line = Timeline(m)
>>> link_beat(line, Fraction(0)), grid_quarter(line, Fraction(8))
(Fraction(-4, 1), Fraction(12, 1))
>>> QuantumRule().quantum(line), [str(p) for p in bar_phases(line, Fraction(4))]
(Fraction(4, 1), ['0', '0', '0', '3'])
"""

from __future__ import annotations

import enum
import importlib
import math
from dataclasses import dataclass
from fractions import Fraction
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ictus.errors import IctusError, ParameterError
from ictus.tempomap.timeline import Timeline

__all__ = [
    "LINK_TEMPO_RANGE",
    "FollowState",
    "FollowTarget",
    "LinkFollower",
    "LinkLeader",
    "LinkSession",
    "QuantumRule",
    "WhenLost",
    "bar_phases",
    "grid_quarter",
    "link_beat",
    "link_beats",
]

#: Tempos a Link session accepts (bpm); Link clamps to these, and so does the leader.
LINK_TEMPO_RANGE = (20.0, 999.0)

Array = NDArray[np.float64]


# -- the rule between a map and Link beats (pure, exact) -----------------------------------


def link_beat(timeline: Timeline, grid_quarter: Fraction | int) -> Fraction:
    """The Link beat of a grid quarter: quarters from the start bar's downbeat.

    >>> from ictus.tempomap.model import CountIn, Section, Tempo, TempoMap
    >>> line = Timeline(TempoMap((Section(4, Tempo(90)),), count_in=CountIn(beats=2)))
    >>> link_beat(line, 0), link_beat(line, Fraction(7, 2))
    (Fraction(-2, 1), Fraction(3, 2))
    """
    return Fraction(grid_quarter) - timeline.count_in_quarters


def grid_quarter(timeline: Timeline, beat: Fraction | int) -> Fraction:
    """The grid quarter of a Link beat (the inverse of :func:`link_beat`).

    >>> from ictus.tempomap.model import CountIn, Section, Tempo, TempoMap
    >>> line = Timeline(TempoMap((Section(4, Tempo(90)),), count_in=CountIn(beats=2)))
    >>> grid_quarter(line, -2), grid_quarter(line, Fraction(3, 2))
    (Fraction(0, 1), Fraction(7, 2))
    """
    return Fraction(beat) + timeline.count_in_quarters


def link_beats(timeline: Timeline, grid_times: ArrayLike) -> Array:
    """Link beats at many grid seconds (float64), through the timeline's tempo curve.

    >>> from ictus.tempomap.model import Section, Tempo, TempoMap
    >>> line = Timeline(TempoMap((Section(2, Tempo(120)), Section(2, Tempo(60)))))
    >>> link_beats(line, [0.0, 1.0, 4.0, 5.0]).tolist()
    [0.0, 2.0, 8.0, 9.0]
    """
    out: Array = timeline.grid_quarters(grid_times) - float(timeline.count_in_quarters)
    return out


def bar_phases(timeline: Timeline, quantum: Fraction) -> list[Fraction]:
    """Link phase (in quarters, ``0 <= phase < quantum``) of each bar's downbeat.

    From the start bar to the map's last bar. A peer with this quantum sees a bar line of
    the map on its own bar line where the phase is 0.

    >>> from ictus.tempomap.model import Meter, Section, Tempo, TempoMap
    >>> m = TempoMap((Section(1, Tempo(120)), Section(2, Tempo(120), Meter(7, 8))))
    >>> [str(p) for p in bar_phases(Timeline(m), Fraction(4))]
    ['0', '0', '7/2']
    """
    if quantum <= 0:
        raise ParameterError(f"Link quantum must be > 0, got {quantum}")
    tm = timeline.tempo_map
    start = timeline.origin_quarter
    first = sum(s.bars for s in tm.sections[: timeline.start_index]) + 1
    first += timeline.start_bar_offset
    return [
        (timeline.bar_quarter(bar) - start) % quantum for bar in range(first, tm.total_bars + 1)
    ]


@dataclass(frozen=True)
class QuantumRule:
    """How many quarters make a Link bar: ``quarters``, or the start bar's length.

    >>> from ictus.tempomap.model import Meter, Section, Tempo, TempoMap
    >>> line = Timeline(TempoMap((Section(2, Tempo(120), Meter(7, 8)),)))
    >>> QuantumRule().quantum(line), QuantumRule(Fraction(4)).quantum(line)
    (Fraction(7, 2), Fraction(4, 1))
    >>> QuantumRule(Fraction(0))
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: Link quantum must be > 0 quarters, got 0
    """

    quarters: Fraction | None = None

    def __post_init__(self) -> None:
        if self.quarters is not None:
            q = Fraction(self.quarters)
            if q <= 0:
                raise ParameterError(f"Link quantum must be > 0 quarters, got {q}")
            object.__setattr__(self, "quarters", q)

    def quantum(self, timeline: Timeline) -> Fraction:
        """The quantum in quarters (Link beats) for playing ``timeline``."""
        if self.quarters is not None:
            return self.quarters
        return timeline.tempo_map.sections[timeline.start_index].bar_quarters


# -- the binding ----------------------------------------------------------------------------


def _binding() -> ModuleType:
    """The Link binding module, or a one-line error naming the extra."""
    try:
        return importlib.import_module("link")
    except ImportError:
        raise IctusError(
            "Ableton Link needs the optional binding: pip install 'ictus[link]'"
        ) from None


class LinkSession:
    """This program's peer in a Link session (one per process is plenty).

    Parameters
    ----------
    tempo : float
        The tempo offered if no other peer is there yet.
    start_stop : bool
        Share start and stop with peers that do too (Link's start/stop sync).
    audio_thread : bool
        Read and write the session with Link's real-time-safe audio-thread calls (only
        ever from the audio thread then); else the application-thread calls.
    """

    def __init__(
        self, tempo: float = 120.0, *, start_stop: bool = True, audio_thread: bool = False
    ) -> None:
        self._link: Any = _binding().Link(_clamp(tempo))
        self._link.startStopSyncEnabled = start_stop
        self._link.enabled = True
        self._clock: Any = self._link.clock()
        self.audio_thread = audio_thread

    def now(self) -> int:
        """Link's host time now, in microseconds."""
        return int(self._clock.micros())

    @property
    def peers(self) -> int:
        """How many other peers are in the session."""
        return int(self._link.numPeers())

    def capture(self) -> Any:
        if self.audio_thread:
            return self._link.captureSessionState()
        return self._link.captureAppSessionState()

    def commit(self, state: Any) -> None:
        if self.audio_thread:
            self._link.commitSessionState(state)
        else:
            self._link.commitAppSessionState(state)

    def close(self) -> None:
        """Leave the session (peers are told at once)."""
        self._link.enabled = False

    def __enter__(self) -> LinkSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _clamp(tempo: float) -> float:
    low, high = LINK_TEMPO_RANGE
    return min(max(float(tempo), low), high)


# -- leading ---------------------------------------------------------------------------------


class LinkLeader:
    """Drive a Link session from the map: its tempo curve, phase and start/stop.

    The engine calls :meth:`start` when its transport starts, :meth:`update` every
    block (or every few milliseconds) while it plays, :meth:`stop` when it stops; each
    gets the host time and the grid time (seconds) the transport is at then. A locate
    is just an :meth:`update` at the new grid time: the jump is forced onto the session.

    The map is an external clock bridged into Link, the use Link's documentation gives
    for forcing the beat "periodically": each call forces the map's beat at that host
    time (by microseconds once running; by the jump on a start or locate) and sets the
    tempo of the chord to the map's beat one ``lookahead`` later.

    Parameters
    ----------
    timeline : Timeline
    quantum : QuantumRule
    session : LinkSession, optional
        Made here (at the map's start tempo) when not given.
    lookahead : float
        Seconds ahead the committed tempo aims at the map's beat. Link sends a new
        timeline to the other peers at most every 50 ms, and they extrapolate it in
        between: a chord over that span keeps them on a ramp's curve (its bow is
        ``a * lookahead**2 / 8`` beats for a beat acceleration ``a``).
    """

    def __init__(
        self,
        timeline: Timeline,
        quantum: QuantumRule | None = None,
        *,
        session: LinkSession | None = None,
        lookahead: float = 0.05,
    ) -> None:
        if lookahead <= 0:
            raise ParameterError(f"lookahead must be > 0 s, got {lookahead}")
        self.timeline = timeline
        self.quantum = float((quantum or QuantumRule()).quantum(timeline))
        self.session = session or LinkSession(float(timeline.count_in_tempo))
        self.lookahead = lookahead

    def _commit(
        self, host_time: int, grid_time: float, playing: bool | None, nudge: float = 0.0
    ) -> float:
        state = self.session.capture()
        beat, ahead = link_beats(self.timeline, [grid_time, grid_time + self.lookahead])
        seconds_per_beat = self.lookahead / (ahead - beat)
        # only the phase is shared: the error is the beat difference within a quantum
        off = (beat - state.beatAtTime(host_time, self.quantum) + self.quantum / 2) % self.quantum
        error = float((off - self.quantum / 2) * seconds_per_beat)
        # the map's beat now, and the tempo of the chord to its beat one lookahead on:
        # the line peers extrapolate until our next broadcast stays on a ramp's curve
        state.forceBeatAtTime(beat, host_time, self.quantum)
        tempo = 60.0 * (ahead - beat) / self.lookahead * (1.0 + nudge)
        state.setTempo(_clamp(tempo), host_time)
        if playing:
            # the session's start time is the start bar's downbeat (Link beat 0), as a
            # follower reads it; in the future during a count-in
            downbeat = float(self.timeline.lead) - grid_time
            state.setIsPlaying(True, host_time + round(downbeat * 1e6))
        elif playing is not None:
            state.setIsPlaying(False, host_time)
        self.session.commit(state)
        return error

    def start(self, host_time: int, grid_time: float) -> None:
        """The transport starts at ``grid_time`` at ``host_time``: start the session.

        The session's start time is set to the start bar's downbeat (Link beat 0):
        after the count-in when there is one, before ``host_time`` when the transport
        starts later in the map.
        """
        self._commit(host_time, grid_time, True)

    def update(self, host_time: int, grid_time: float, nudge: float = 0.0) -> float:
        """Commit the map's tempo and beat at ``grid_time`` to the session.

        Returns the phase error found before the commit, in seconds (session behind
        the map is positive; within half a quantum): what the peers were off by.
        ``nudge`` multiplies the committed tempo by ``1 + nudge`` (the engine's
        heartbeat, :mod:`ictus.engine.link`).
        """
        return self._commit(host_time, grid_time, None, nudge)

    def stop(self, host_time: int, grid_time: float) -> None:
        """The transport stops: stop the session (with start/stop sync)."""
        self._commit(host_time, grid_time, False)


# -- following -------------------------------------------------------------------------------


class FollowState(enum.Enum):
    """Whether a follower has a source: no peer yet, locked to one, or lost it."""

    ALONE = "alone"
    LOCKED = "locked"
    LOST = "lost"


class WhenLost(enum.Enum):
    """What a follower's target does once the source is lost.

    ``MAP``: carry on with the map at its own tempo from where the session left the
    transport (a backup rig taking over from the main machine). ``SESSION``: carry on
    at the session's last tempo and phase, as Link itself does.
    """

    MAP = "map"
    SESSION = "session"


class FollowTarget(NamedTuple):
    """Where the transport should be at a host time, and how fast it should go.

    ``grid_quarter`` and ``grid_time`` are the same place on the map; ``tempo`` is the
    session's quarter-note tempo; ``rate`` is that over the map's own tempo there (the
    speed to play the grid at); ``playing`` is the session's start/stop state.
    """

    grid_quarter: float
    grid_time: float
    tempo: float
    rate: float
    playing: bool
    state: FollowState


class LinkFollower:
    """The session's tempo and phase, as a place on the map for the engine to chase.

    The start bar's downbeat is put on a Link bar line (a multiple of the quantum): the
    first at or after the session's start time when it starts playing (start/stop
    sync; an ictus leader starts it on the downbeat itself), else the first at or after
    the first call. From there each Link beat is one grid quarter (:func:`grid_quarter`).
    The follower only reads the session: it never sets its tempo, phase or state.

    Parameters
    ----------
    timeline : Timeline
    quantum : QuantumRule
    session : LinkSession, optional
        Made here when not given.
    start_stop : bool
        Follow the session's start and stop; without it ``playing`` is always true.
    when_lost : WhenLost
        Where the target goes once every other peer has left.
    """

    def __init__(
        self,
        timeline: Timeline,
        quantum: QuantumRule | None = None,
        *,
        session: LinkSession | None = None,
        start_stop: bool = True,
        when_lost: WhenLost = WhenLost.MAP,
    ) -> None:
        self.timeline = timeline
        self.quantum = float((quantum or QuantumRule()).quantum(timeline))
        self.session = session or LinkSession(float(timeline.count_in_tempo))
        self.start_stop = start_stop
        self.when_lost = when_lost
        self._last: FollowTarget | None = None  # the last target while locked
        self._last_host = 0
        self._origin: float | None = None  # the session beat of our Link beat 0
        self._was_playing = False
        self._had_peers = False

    def state(self) -> FollowState:
        """ALONE before any other peer was seen, LOST once they have all gone."""
        if self.session.peers > 0:
            self._had_peers = True
            return FollowState.LOCKED
        return FollowState.LOST if self._had_peers else FollowState.ALONE

    def lost(self) -> bool:
        """Whether the source is lost (the target then carries on, see ``when_lost``)."""
        return self.state() is FollowState.LOST

    def _bar_line(self, beat: float) -> float:
        """The first session bar line at or after ``beat`` (this peer's beat values).

        A start time on a bar line reads back a microbeat either side of it (whole
        microseconds, the tempo's rounding): within 1/1000 beat counts as on it.
        """
        return math.ceil((beat - 1e-3) / self.quantum) * self.quantum

    def target(self, host_time: int) -> FollowTarget:
        """Where the transport should be at ``host_time`` (Link microseconds)."""
        status = self.state()
        if status is FollowState.LOST and self.when_lost is WhenLost.MAP and self._last:
            # the map at its own speed on from the last place the session put us
            last = self._last
            time = last.grid_time + (host_time - self._last_host) / 1e6
            quarter = float(self.timeline.grid_quarters([time])[0])
            tempo = self._map_tempo(quarter)
            return FollowTarget(quarter, time, tempo, 1.0, last.playing, status)
        state = self.session.capture()
        playing = bool(state.isPlaying()) if self.start_stop else True
        if self.start_stop and playing and not self._was_playing:
            # the session (re)started: the start bar's downbeat is its first bar line
            start = state.timeForIsPlaying()
            self._origin = self._bar_line(state.beatAtTime(start, self.quantum))
        elif self._origin is None:
            self._origin = self._bar_line(state.beatAtTime(host_time, self.quantum))
        self._was_playing = playing
        beat = float(state.beatAtTime(host_time, self.quantum)) - self._origin
        tempo = float(state.tempo())
        quarter = beat + float(self.timeline.count_in_quarters)
        time = float(self.timeline.grid_times([quarter])[0])
        target = FollowTarget(
            quarter, time, tempo, tempo / self._map_tempo(quarter), playing, status
        )
        if status is FollowState.LOCKED:
            self._last, self._last_host = target, host_time
        return target

    def _map_tempo(self, quarter: float) -> float:
        line = self.timeline
        ci = float(line.count_in_quarters)
        if quarter < ci:
            return float(line.count_in_tempo)
        return float(line.tempos([quarter - ci + float(line.origin_quarter)])[0])
