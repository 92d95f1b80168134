"""Ableton Link on the engine: lead a session from the callback, or follow one.

:class:`LinkLead` is an event output (:mod:`.outputs`): in the audio callback it hands
the :class:`~ictus.sync.link.LinkLeader` the host time and grid time of the block
(every ``every`` microseconds at most), so the session hears the map's tempo, ramps and
locates from the real-time thread that plays them, and starts and stops with the
transport.

:class:`LinkFollow` is a follower (:mod:`.followers`): every poll it asks the
:class:`~ictus.sync.link.LinkFollower` where the transport should be at the host time
of the transport's last block end, and, when it is more than ``tolerance`` off (or
stopped while the session plays), sends a :class:`~ictus.engine.requests.Chase` for
exactly that place at exactly that backend clock; the tempo scale follows the
session's tempo against the map's, to 0.1 %. Once the session's other peers are gone
it stops chasing and the transport plays on from where the session left it (a backup
rig taking over: no jump, no gap), and says so in :attr:`Follower.lost`.

Both rules of docs/LINK.md apply: a Link beat is a quarter note, the start bar's
downbeat is Link beat 0, the quantum stays fixed.

>>> from ictus.tempomap import Section, Tempo, TempoMap
>>> line = reference_line(TempoMap((Section(2, Tempo(120)),)), 1, Fraction(1))
>>> float(line.lead), float(line.origin)
(0.0, 0.0)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ictus.engine import requests as rq
from ictus.engine.events import EventKind
from ictus.engine.followers import Controls, Follower
from ictus.engine.outputs import EventOutput
from ictus.sync.link import (
    FollowState,
    LinkFollower,
    LinkLeader,
    LinkSession,
    QuantumRule,
    WhenLost,
)
from ictus.tempomap import TempoMap
from ictus.tempomap.timeline import Timeline

if TYPE_CHECKING:
    from ictus.engine.control import Where
    from ictus.engine.events import Change
    from ictus.engine.plan import Plan


#: seconds over which a follower measures the session's speed against the map's
SPEED_WINDOW = 1.0
#: polls in a row a follower must find the transport off before it places it again
CONFIRM = 3
#: how much an ictus leader's committed tempo alternates (relative): Link sends a tempo as
#: whole microseconds per beat, so this must exceed one in 500 000 at 120 bpm
HEARTBEAT_NUDGE = 4e-6
#: seconds without a change of the session's tempo after which a follower that heard
#: an ictus leader's heartbeat takes it for dead
HEARTBEAT = 0.25


def reference_line(tempo_map: TempoMap, start_bar: int, scale: Fraction) -> Timeline:
    """The timeline Link beats are counted on: the map at ``scale`` from ``start_bar``
    with its count-in (Link beat 0 is that bar's downbeat)."""
    return Timeline(tempo_map.with_scale(scale), start_bar=start_bar)


class LinkLead(EventOutput):
    """Lead a Link session from the transport (``ictus play --link``).

    Parameters
    ----------
    tempo_map : TempoMap
        The map the engine plays, with its count-in.
    start_bar : int
        The engine's start bar (Link beat 0 is its downbeat).
    quantum : QuantumRule
    session : LinkSession, optional
        Made here (audio-thread calls: the callback is its only user).
    every : int
        Microseconds between updates at most (0: every block).
    host_time : callable backend clock -> Link microseconds
        Usually :meth:`ictus.engine.Engine.host_time`.
    """

    def __init__(
        self,
        tempo_map: TempoMap,
        start_bar: int,
        quantum: QuantumRule,
        host_time: Callable[[int], int],
        *,
        session: LinkSession | None = None,
        every: int = 4000,
    ) -> None:
        self.tempo_map = tempo_map
        self.start_bar = start_bar
        self.quantum = quantum
        self.host_time = host_time
        first = reference_line(tempo_map, start_bar, Fraction(tempo_map.scale))
        self.session = session or LinkSession(float(first.count_in_tempo), audio_thread=True)
        self.every = every
        self._leaders: dict[Fraction, LinkLeader] = {}
        self._clock = 0
        self._plan: Plan | None = None  # the plan last played (for a stop's place)
        self._last = -(1 << 62)
        self._peers = -1
        #: the phase error (s) each update found, the latest few thousand (diagnostics)
        self.errors: list[float] = []

    def prepare(self, plan: Plan) -> None:
        scale = plan.scale
        if scale not in self._leaders:
            line = reference_line(self.tempo_map, self.start_bar, scale)
            self._leaders[scale] = LinkLeader(line, self.quantum, session=self.session)

    def _grid_time(self, plan: Plan, frame: int) -> tuple[LinkLeader, float]:
        leader = self._leaders[plan.scale]
        line = leader.timeline
        seconds = (frame - plan.origin) / plan.rate  # map time at the plan's scale
        return leader, seconds - float(line.origin) + float(line.lead)

    def begin(self, clock: int, frames: int) -> None:
        self._clock = clock

    def change(self, change: Change, offset: int) -> None:
        kind = change.kind
        plan = change.plan
        at = self.host_time(self._clock + offset)
        if kind in (EventKind.START, EventKind.RESUME) and plan is not None:
            leader, grid = self._grid_time(plan, change.frame)
            leader.start(at, grid)
            self._last = at
        elif kind in (EventKind.STOP, EventKind.PAUSE, EventKind.END):
            last = self._plan
            if last is not None:
                leader, grid = self._grid_time(last, change.frame)
                leader.stop(at, grid)
        elif plan is not None and kind is not EventKind.SET_LOOP:
            self._last = -(1 << 62)  # a locate, loop or jump: tell the session at once

    def play(self, plan: Plan, frame: int, frames: int, offset: int) -> None:
        at = self.host_time(self._clock + offset)
        if at - self._last < self.every:
            return
        self._last = at
        self._plan = plan
        leader, grid = self._grid_time(plan, frame)
        peers = self.session.peers
        if peers != self._peers:
            # Link resets a start/stop state set before two peers met when their
            # sessions merge: say again that we play, and since when
            self._peers = peers
            leader.start(at, grid)
            return
        # the heartbeat: the tempo alternates by a few parts per million every 100 ms,
        # so the session's tempo changes at least that often while we live; the phase
        # is forced at every update, so the peers' beat does not move
        nudge = HEARTBEAT_NUDGE if (at // 100_000) % 2 else -HEARTBEAT_NUDGE
        error = leader.update(at, grid, nudge)
        errors = self.errors
        if len(errors) >= 4096:
            del errors[:2048]
        errors.append(error)

    def close(self) -> None:
        self.session.close()


@runtime_checkable
class Chaser(Protocol):
    """What a precise follower needs of the engine (the :class:`~ictus.engine.Engine`)."""

    def request(self, request: rq.Request) -> object: ...

    def where(self) -> Where: ...

    def host_time(self, clock: int) -> int: ...


class LinkFollow(Follower):
    """Follow a Link session's tempo and phase (``ictus play --follow link``).

    Parameters
    ----------
    tempo_map, start_bar, quantum :
        As for :class:`LinkLead`: a backup rig uses the main machine's.
    tolerance : float
        Seconds the transport may be off the session before it is placed again (each
        placement is a jump of that size in the click).
    session : LinkSession, optional
    """

    name = "link"

    def __init__(
        self,
        tempo_map: TempoMap,
        start_bar: int,
        quantum: QuantumRule,
        *,
        tolerance: float = 0.0003,
        session: LinkSession | None = None,
    ) -> None:
        super().__init__()
        self.line = reference_line(tempo_map, start_bar, Fraction(1))
        self.quantum = quantum
        self.tolerance = tolerance
        self._session = session
        self.follower: LinkFollower | None = None
        self.chaser: Chaser | None = None
        #: how many times the transport was placed (a count of the jumps)
        self.placed = 0
        #: the last error seen while locked (seconds; session ahead is positive)
        self.error = 0.0
        self._window: deque[tuple[int, float, float, float]] = deque()
        self._matched = False  # the scale was measured against the session
        self._errors: deque[float] = deque(maxlen=CONFIRM)
        self._retimed = -(1 << 62)  # host time the session's tempo last changed
        self._heard = False  # a heartbeat was heard: the leader is an ictus

    def follow(self, engine: Controls) -> None:
        super().follow(engine)
        if not isinstance(engine, Chaser):
            raise TypeError("following Link needs the engine's where() and host_time()")
        self.chaser = engine
        session = self._session or LinkSession(float(self.line.count_in_tempo))
        self.follower = LinkFollower(
            self.line, self.quantum, session=session, when_lost=WhenLost.MAP
        )

    def _measure(
        self, host: int, map_time: float, tempo: float, quarter: float
    ) -> tuple[float | None, bool]:
        """The speed the map must play at to keep up with the session (its tempo
        scale), measured over the last :data:`SPEED_WINDOW` seconds, or None until
        the window is full or while the session's or the map's tempo changes in it;
        and whether the session's tempo changed since the last poll.

        Only a steady stretch counts: on a ramp a leader with the same map sends the
        tempo of a chord a little ahead (docs/LINK.md), which is not a different speed.
        """
        window = self._window
        retimed = False
        if window:
            last_host, last_time, last_tempo, _ = window[-1]
            dt = (host - last_host) / 1e6
            retimed = abs(tempo - last_tempo) > 1e-6 * last_tempo
            if dt <= 0 or abs(map_time - last_time - dt) > dt + 0.05:
                window.clear()  # a locate or restart over there: measure afresh
        window.append((host, map_time, tempo, quarter))
        while window and host - window[0][0] > SPEED_WINDOW * 1e6:
            window.popleft()
        first_host, _, first_tempo, first_quarter = window[0]
        span = (host - first_host) / 1e6
        if span < SPEED_WINDOW * 0.9 or abs(tempo - first_tempo) > 1e-4 * first_tempo:
            return None, retimed
        follower = self.follower
        assert follower is not None
        if abs(follower._map_tempo(first_quarter) - follower._map_tempo(quarter)) > 1e-9:
            return None, retimed  # the map ramps here: its speed is the map's own
        # the session's tempo over the map's own there: not the places' progress over
        # host time, which carries the error of two servers' reckonings of their frames
        # against the host clock (measured: 0.45 % off on a server with many xruns)
        return tempo / follower._map_tempo(quarter), retimed

    def poll(self) -> None:
        chaser, follower = self.chaser, self.follower
        if chaser is None or follower is None:
            return
        where = chaser.where()
        host = chaser.host_time(where.clock)
        target = follower.target(host)
        state = target.state
        if state is FollowState.LOST:
            # the main is gone: the transport is the clock now, playing on from where
            # the session left it (placing it after a host-time reckoning would jump)
            self.lost = "link: the session's other peers are gone; playing on from the map"
            return
        if state is FollowState.ALONE:
            self.lost = None
            return
        if not target.playing:
            self.lost = None
            self._window.clear()
            self._matched = False
            if where.playing:
                chaser.request(rq.Stop())
            return
        line = self.line
        map_time = target.grid_time - float(line.lead) + float(line.origin)
        speed, retimed = self._measure(host, map_time, target.tempo, target.grid_quarter)
        if retimed:
            self._retimed = host
            self._heard = True
        error = map_time / float(where.scale) - where.seconds
        self.error = error
        if self._heard and where.playing and host - self._retimed > HEARTBEAT * 1e6:
            # an ictus leader's heartbeat stopped: it died (Link drops a silent peer only
            # after seconds, running its last timeline meanwhile, which leaves the map
            # at its next ramp). Hold: the map goes on by itself from here.
            self.lost = "link: the leader's heartbeat stopped; playing on from the map"
            self._errors.clear()
            return
        self.lost = None
        if speed is not None:
            # a steady session over a steady stretch of the map: its speed is our scale
            self._matched = True
            if abs(float(where.scale) - speed) >= 0.0015:
                chaser.request(rq.SetScale(Fraction(round(speed * 1000), 10)))
                self._window.clear()
                return  # the next poll places the transport on the new plan
        seconds = map_time / float(where.scale)
        errors = self._errors
        errors.append(error)
        # placed when off for CONFIRM polls in a row, by their median: one bad reading
        # of a clock (a JACK cycle late in an xrun) must not move the click
        off = len(errors) == CONFIRM and all(abs(e) > self.tolerance for e in errors)
        if not where.playing or off:
            if where.playing:
                seconds = where.seconds + sorted(errors)[CONFIRM // 2]
            chaser.request(rq.Chase(seconds, where.clock))
            errors.clear()
            self.placed += 1

    def close(self) -> None:
        if self.follower is not None:
            self.follower.session.close()
