"""The one control API of the live engine: every frontend (CLI, display, OSC, web) drives
an :class:`Engine` and nothing else touches the transport.

Control methods may be called from any thread; they are serialised by a lock that only
control threads take (never the audio callback). Each turns the request into a command
for the :class:`~ictus.engine.transport.Transport`, computing anything expensive (a new
grid for a tempo change, a plan starting at another bar) here, before handing it over.

Listeners (:meth:`Engine.add_listener`) get :class:`Event` objects on the engine's own
supervisor thread, which also watches the backend (xruns, a server that went away,
reconnecting). A slow listener delays other listeners, never the audio.

>>> from ictus.tempomap import Section, Tempo, TempoMap
>>> from ictus.sounds import Voice
>>> from ictus.engine.backends.null import NullBackend
>>> song = TempoMap((Section(2, Tempo(120), label="verse"), Section(2, Tempo(90), label="chorus")))
>>> backend = NullBackend(rate=8000, period=400)
>>> tick = Voice("tick", 8000, [1.0], [0.5], [0.25])
>>> with Engine(song, backend, voice=tick) as engine:
...     engine.start()
...     for _ in range(50):
...         _ = backend.pull()
...     engine.status().bar, engine.status().beat, engine.status().section
(2, 2, 'verse')
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ictus.engine.backends.base import Backend
from ictus.engine.plan import Outputs, Plan, build_plan
from ictus.engine.transport import ANCHORS, Snapshot, Transport
from ictus.engine.transport import Event as TransportEvent
from ictus.errors import IctusError, ParameterError
from ictus.sounds import Voice
from ictus.tempomap import CountIn, TempoMap

#: How often the supervisor thread looks at the transport and the backend (seconds).
POLL = 0.02
#: Taps further apart than this start a new tap tempo.
TAP_RESET = 2.0
#: How often to try the server again while it is away (``reconnect=True``).
RETRY = 0.25

VoiceSource = Voice | Callable[[int], Voice]


@dataclass(frozen=True)
class Status:
    """Where the engine is, for displays and remotes (one block old at most).

    ``state`` is ``playing``, ``paused``, ``stopped``, ``ended`` or ``offline`` (the
    backend went away; with reconnect on, it comes back by itself).
    """

    state: str
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


@dataclass(frozen=True)
class Event:
    """Something that happened: transport changes and ``beat``/``bar``/``section``.

    Transport kinds carry the backend ``clock`` at which they took effect and the grid
    ``frame`` played from there on (see :mod:`ictus.engine.transport`); ``xrun``,
    ``offline``, ``online`` and ``error`` report the backend.
    """

    kind: str
    clock: int
    frame: int
    bar: int = 0
    beat: int = 0
    section: str = ""
    detail: object = None


Listener = Callable[[Event], None]


def _default_voice(rate: int) -> Voice:
    from ictus.sounds import synth_voice

    return synth_voice("woodblock", rate)


class Engine:
    """Play a tempo map live through a backend.

    Parameters
    ----------
    tempo_map : TempoMap
        Its ``scale`` and ``count_in`` are the starting tempo scale and count-in.
    backend : Backend
    voice : Voice or callable rate -> Voice
        Default: the woodblock, made at the backend's rate.
    channels : int
    click_on : sequence of 0-based channels, default all
    gains : mapping level -> linear gain
    latency_ms : sequence of float
        One offset for every click channel, or one per channel of ``click_on``; a
        negative offset sounds that output early (pre-roll), to make up for a slow
        in-ear system.
    start_label, start_bar : where :meth:`start` begins (as ``ictus render --from-*``).
    loop : label to loop from the start, or None
    reconnect : bool
        When the backend goes away, keep trying to get it back instead of ending.
    rate : int or None
        Sample rate to ask the backend for; None: the device's or server's own.
    """

    def __init__(
        self,
        tempo_map: TempoMap,
        backend: Backend,
        *,
        voice: VoiceSource | None = None,
        channels: int = 1,
        click_on: Sequence[int] | None = None,
        gains: Mapping[str, float] | None = None,
        latency_ms: Sequence[float] | None = None,
        start_label: str | None = None,
        start_bar: int | None = None,
        loop: str | None = None,
        reconnect: bool = False,
        rate: int | None = None,
    ) -> None:
        if start_label is not None and start_bar is not None:
            raise ParameterError("start from a label or from a bar, not both")
        self.tempo_map = tempo_map.with_count_in(CountIn())
        self.count_in = tempo_map.count_in
        self.backend = backend
        self._voice_source: VoiceSource = voice or _default_voice
        self._channels = channels
        self._click_on = tuple(click_on) if click_on is not None else None
        self._gains = gains
        self._latency_ms = tuple(latency_ms) if latency_ms else None
        Outputs(channels, self._click_on, self._offsets(48000), gains)  # validate early
        if start_label is not None:
            self.start_bar = tempo_map.first_bar_of(tempo_map.section_index(start_label))
        else:
            self.start_bar = start_bar or 1
            tempo_map.bar_start(self.start_bar)  # validates the bar
        self._loop_label = loop
        if loop is not None:
            tempo_map.section_index(loop)
        self.reconnect = reconnect
        self._rate = rate

        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._listen_lock = threading.Lock()
        self._plans: OrderedDict[tuple[int, CountIn, Fraction, int], Plan] = OrderedDict()
        self._scale = Fraction(tempo_map.scale)
        self._mode = "stopped"
        self._cue = self.start_bar
        self._sent = 0
        self._taps: list[float] = []
        self._last_plan: Plan | None = None
        self._transport: Transport | None = None
        self._voice: Voice | None = None
        self._outputs: Outputs | None = None
        self._closing = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._offline = False
        self._seen_xruns = 0
        self.failure: str | None = None
        self.listener_errors = 0
        # beat tracking on the supervisor thread: (plan, clock, frame) while sounding
        self._pending: deque[TransportEvent] = deque()
        self._track: tuple[Plan, int, int] | None = None
        self._next_frame = 0
        self._section = ""

    # -- life cycle ------------------------------------------------------------------

    def open(self) -> Engine:
        """Open the backend, build the first plan and start the callback (stopped)."""
        backend = self.backend
        backend.open(self._channels, self._rate)
        try:
            self._prepare(backend.rate)
            plan = self._plan(self.start_bar, self.count_in)
            self._transport = Transport(plan)
            self._last_plan = plan
            if self._loop_label is not None:
                self._send("loop", self.tempo_map.section_index(self._loop_label))
            if backend.realtime:
                _realtime_habits()
            backend.start(self._transport.process)
            backend.settle()
        except BaseException:
            backend.close()
            raise
        self._supervisor = threading.Thread(
            target=self._supervise, name="ictus-engine", daemon=True
        )
        self._supervisor.start()
        return self

    def close(self) -> None:
        """Stop the supervisor and close the backend (idempotent)."""
        self._closing.set()
        supervisor = self._supervisor
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join(1.0)
            if not supervisor.is_alive() and self._transport is not None:
                self._deliver(self._transport)  # what happened last still reaches listeners
        self.backend.close()

    def __enter__(self) -> Engine:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare(self, rate: int) -> None:
        source = self._voice_source
        voice = source if isinstance(source, Voice) else source(rate)
        if voice.rate != rate:
            raise ParameterError(f"the voice is at {voice.rate} Hz, the output at {rate} Hz")
        self._voice = voice
        self._outputs = Outputs(self._channels, self._click_on, self._offsets(rate), self._gains)
        self._plans.clear()

    def _offsets(self, rate: int) -> tuple[int, ...] | None:
        if self._latency_ms is None:
            return None
        return tuple(round(ms * rate / 1000) for ms in self._latency_ms)

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            raise IctusError("the engine is not open")
        return self._transport

    @property
    def rate(self) -> int:
        return self.backend.rate

    # -- plans -----------------------------------------------------------------------

    def _plan(self, anchor: int, count_in: CountIn, scale: Fraction | None = None) -> Plan:
        """The plan from bar ``anchor`` with ``count_in`` at ``scale`` (cached)."""
        scale = self._scale if scale is None else scale
        key = (anchor, count_in, scale, self.backend.rate)
        plan = self._plans.get(key)
        if plan is None:
            assert self._voice is not None and self._outputs is not None
            plan = build_plan(
                self.tempo_map.with_scale(scale),
                self._voice,
                rate=self.backend.rate,
                outputs=self._outputs,
                start_bar=anchor,
                count_in=count_in,
            )
            self._plans[key] = plan
            while len(self._plans) > 12:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        return plan

    def _full(self) -> Plan:
        """The whole map from bar 1 without count-in: holds every bar (the fallback)."""
        return self._plan(1, CountIn())

    def _send(self, *command: object) -> None:
        transport = self.transport
        self._sent += 1
        transport.send(*command)
        if command[0] == "go" and command[2] is not None:
            self._last_plan = command[2]  # type: ignore[assignment]

    # -- state -----------------------------------------------------------------------

    def _state(self, snap: Snapshot) -> str:
        if self._offline:
            return "offline"
        if snap.applied < self._sent:
            return self._mode  # our last command is not applied yet: trust the intent
        if snap.playing:
            return "playing"
        if snap.ended:
            return "ended"
        return "paused" if self._mode == "paused" else "stopped"

    def _bar_of(self, target: int | str) -> int:
        if isinstance(target, str) and not target.lstrip("-").isdigit():
            return self.tempo_map.first_bar_of(self.tempo_map.section_index(target))
        bar = int(target)
        self.tempo_map.bar_start(bar)  # ParameterError names the valid range
        return bar

    # -- the control API -------------------------------------------------------------

    def start(self) -> None:
        """Play from the cue bar (the start bar, or where :meth:`locate` put it),
        with the count-in if there is one."""
        with self._lock:
            state = self._state(self.transport.snapshot)
            if state == "playing":
                return
            if state == "paused":
                self._cue = self._current_bar()
            self._mode = "playing"
            if self.count_in:
                self._send("go", None, self._plan(self._cue, self.count_in), None, True)
            else:
                self._send("go", self._cue, None, self._full(), True)

    def stop(self) -> None:
        """Stop; the next :meth:`start` plays from the cue bar again."""
        with self._lock:
            self._mode = "stopped"
            self._send("stop")

    def pause(self) -> None:
        """Stop where we are; :meth:`continue_` goes on from the same sample."""
        with self._lock:
            if self._state(self.transport.snapshot) == "playing":
                self._mode = "paused"
                self._send("pause")

    def continue_(self) -> None:
        """Go on after :meth:`pause` (no count-in); otherwise the same as :meth:`start`."""
        with self._lock:
            if self._state(self.transport.snapshot) == "paused":
                self._mode = "playing"
                self._send("resume")
            else:
                self.start()

    def locate(self, target: int | str) -> None:
        """Go to a bar (number) or a section (label): at once while playing, else it
        becomes the cue for the next start."""
        with self._lock:
            bar = self._bar_of(target)
            state = self._state(self.transport.snapshot)
            if state != "paused":
                self._cue = bar
            if state == "playing":
                self._send("go", bar, None, self._full(), True)
            else:
                if state != "paused":
                    self._mode = "stopped"
                self._send("go", bar, None, self._full(), False)

    def step(self, bars: int) -> None:
        """Locate ``bars`` bars forward (negative: back) from the current bar."""
        with self._lock:
            total = self.tempo_map.total_bars
            self.locate(min(max(self._current_bar() + bars, 1), total))

    def loop(self, label: str | None) -> None:
        """Repeat the section ``label`` (None: stop looping). If the transport is
        playing outside it, it goes there at the next bar line."""
        with self._lock:
            if label is None:
                self._loop_label = None
                self._send("loop", -1)
                return
            index = self.tempo_map.section_index(label)
            first = self.tempo_map.first_bar_of(index)
            inside = first <= self._current_bar() < first + self.tempo_map.sections[index].bars
            self._loop_label = label
            self._send("loop", index)
            state = self._state(self.transport.snapshot)
            if state == "playing" and not inside:
                self._send("jump", first, self._full())
            elif state in ("stopped", "ended") and not inside:
                self._cue = first
                self._send("go", first, None, self._full(), False)

    def toggle_loop(self) -> None:
        """Loop the section being played, or stop looping (the display's ``l`` key)."""
        with self._lock:
            if self._looped() is not None:
                self.loop(None)
                return
            bar = max(self._current_bar(), 1)
            section = self.tempo_map.sections[self.tempo_map.bar_start(bar)[0]]
            if section.label is None:
                raise ParameterError(f"bar {bar} is in a section without a label: cannot loop")
            self.loop(section.label)

    def jump_at_next_bar(self, target: int | str) -> None:
        """At the next bar line, go to a bar or section (live vamps and skips)."""
        with self._lock:
            bar = self._bar_of(target)
            if self._state(self.transport.snapshot) == "playing":
                self._send("jump", bar, self._full())
            else:
                self.locate(bar)

    def set_scale(self, percent: float | Fraction | str) -> float:
        """Scale every tempo of the map to ``percent`` (100 = as written), now, without
        losing the beat: the position carries over by musical time. Returns the percent
        set (kept to 0.1 %)."""
        with self._lock:
            try:
                value = Fraction(round(Fraction(str(percent)) * 10), 10)
            except (ValueError, ZeroDivisionError):
                raise ParameterError(
                    f"tempo scale: expected a percentage, got {percent!r}"
                ) from None
            scale = value / 100
            if not Fraction(1, 100) <= scale <= 100:
                raise ParameterError(f"tempo scale must be 1..10000 %, got {float(value)} %")
            if scale == self._scale:
                return float(value)
            snap = self.transport.snapshot
            keys = {snap.plan.key, self._full().key}
            if self._last_plan is not None:
                keys.add(self._last_plan.key)
            self._scale = scale
            plans = {key: self._plan(key[0], key[1]) for key in keys}
            self._send("rescale", plans)
            return float(value)

    def nudge_scale(self, percent: float) -> float:
        """Change the tempo scale by ``percent`` points (the display's +/- keys)."""
        with self._lock:
            return self.set_scale(self._scale * 100 + Fraction(str(percent)))

    def tap(self, at: float | None = None) -> float | None:
        """Tap the beat; from the second tap on, set the scale so the beat being played
        matches the taps. ``at``: the tap's time in seconds (default: now).
        Returns the new scale in percent, or None after a first tap."""
        with self._lock:
            now = time.monotonic() if at is None else at
            if self._taps and now - self._taps[-1] > TAP_RESET:
                self._taps = []
            self._taps = [*self._taps[-4:], now]
            if len(self._taps) < 2:
                return None
            intervals = [b - a for a, b in zip(self._taps, self._taps[1:], strict=False)]
            tapped = statistics.median(intervals)
            snap = self.transport.snapshot
            beat = snap.plan.beat_seconds(max(snap.frame, 0))
            if beat is None or tapped <= 0:
                return None
            # the beat as that plan plays it, at that plan's scale (a change we sent may
            # not be playing yet)
            percent = snap.plan.scale * 100 * Fraction(beat) / Fraction(tapped)
            percent = min(max(percent, Fraction(1)), Fraction(10000))
            return self.set_scale(Fraction(round(percent * 10), 10))

    # -- what is playing -------------------------------------------------------------

    def _current_bar(self) -> int:
        snap = self.transport.snapshot
        state = self._state(snap)
        if state in ("stopped", "ended"):
            return self._cue
        plan = snap.plan
        i = plan.click_index(snap.frame)
        bar = int(plan.grid.bar[max(i, 0)])
        return bar if bar >= 1 else plan.anchor  # a count-in counts into the anchor bar

    def _looped(self) -> str | None:
        """Label of the section being looped (the transport drops a loop it leaves)."""
        snap = self.transport.snapshot
        if snap.applied < self._sent:
            return self._loop_label
        return self.tempo_map.sections[snap.loop].label if snap.loop >= 0 else None

    def status(self) -> Status:
        """Where the engine is now (any thread)."""
        snap = self.transport.snapshot
        state = self._state(snap)
        plan = snap.plan
        grid = plan.grid
        tm = self.tempo_map
        if state in ("stopped", "ended") or not len(grid):
            bar, beat = (self._cue, 1) if state == "stopped" else (tm.total_bars, 1)
            index = tm.bar_start(bar)[0]
            section = tm.sections[index].label or ""
            beat_count = tm.sections[index].beats_per_bar
            frame = plan.bar_frame.get(bar, 0)
            tempo = float(tm.sections[index].start_quarter_bpm * self._scale)
            count_in = False
        else:
            i = max(plan.click_index(snap.frame), 0)
            frame = snap.frame
            bar, beat = int(grid.bar[i]), int(grid.beat[i])
            count_in = bar <= 0
            section = grid.section_names[grid.section[i]]
            index = tm.bar_start(max(bar, plan.anchor))[0]
            beat_count = tm.sections[index].beats_per_bar
            tempo = float(grid.tempo[i])
        nxt: str | None = None
        if count_in or snap.loop == index:
            nxt = tm.sections[index].label
        elif index + 1 < len(tm.sections):
            nxt = tm.sections[index + 1].label or f"bar {tm.first_bar_of(index + 1)}"
        return Status(
            state=state,
            bar=bar,
            beat=beat,
            beats=beat_count,
            section=section,
            next_section=nxt,
            tempo=tempo,
            scale_percent=float(self._scale * 100),
            count_in=count_in,
            loop=self._looped(),
            jump=snap.jump,
            seconds=frame / plan.rate,
            clock=snap.clock,
            frame=snap.frame,
            rate=plan.rate,
            period=self.backend.period,
            backend=self.backend.name,
            xruns=self.backend.xruns,
            title=tm.title,
        )

    def wait(self, timeout: float | None = None) -> str:
        """Block (control thread) until the map has played to its end or the backend
        failed for good; returns the state (``ended``, ``offline``, or the current
        one after ``timeout`` seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.failure is not None:
                return "offline"
            state = self._state(self.transport.snapshot)
            if state == "ended":
                return state
            if self.transport.error is not None:
                raise IctusError(f"the audio callback failed: {self.transport.error!r}")
            if deadline is not None and time.monotonic() >= deadline:
                return state
            time.sleep(0.1)  # a person is waiting, not the click: polling is fine

    # -- listeners -------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` for every :class:`Event`; returns the remover."""
        with self._listen_lock:
            self._listeners = [*self._listeners, listener]

        def remove() -> None:
            with self._listen_lock:
                self._listeners = [x for x in self._listeners if x is not listener]

        return remove

    def _emit(self, event: Event) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                self.listener_errors += 1

    def _describe(self, plan: Plan | None, frame: int) -> tuple[int, int, str]:
        if plan is None or not len(plan.grid):
            return 0, 0, ""
        i = max(plan.click_index(frame), 0)
        g = plan.grid
        return int(g.bar[i]), int(g.beat[i]), g.section_names[g.section[i]]

    def _beats_until(self, clock: int) -> None:
        """Emit ``section``/``bar``/``beat`` for every beat that started before ``clock``.

        Each carries the exact backend clock of its first sample, worked out from the
        anchor it sounded under; nothing is missed when a listener was slow.
        """
        if self._track is None:
            return
        plan, clock0, frame0 = self._track
        stop = frame0 + (clock - clock0)
        if stop <= self._next_frame:
            return
        samples = plan.samples
        lo = int(np.searchsorted(samples, self._next_frame, side="left"))
        hi = int(np.searchsorted(samples, stop, side="left"))
        self._next_frame = stop
        g = plan.grid
        for i in np.flatnonzero(g.sub[lo:hi] == 0) + lo:
            at = clock0 + int(samples[i]) - frame0
            bar, beat = int(g.bar[i]), int(g.beat[i])
            section = g.section_names[g.section[i]]
            frame = int(samples[i])
            if section != self._section:
                self._section = section
                self._emit(Event("section", at, frame, bar, beat, section))
            if beat == 1:
                self._emit(Event("bar", at, frame, bar, beat, section))
            self._emit(Event("beat", at, frame, bar, beat, section))

    def _deliver(self, transport: Transport) -> None:
        """Hand the transport's events and the beats between them to the listeners."""
        snap = transport.snapshot  # first: every event of the blocks it covers is queued
        pending = self._pending
        events = transport.events
        while events:
            pending.append(events.popleft())
        while pending and pending[0][1] < snap.clock:
            kind, clock, frame, plan, detail = pending.popleft()
            self._beats_until(clock)
            bar, beat, section = self._describe(plan or snap.plan, frame)
            if kind in ANCHORS:
                self._track = (plan, clock, frame) if plan is not None else None
                self._next_frame = frame
            if kind == "end":
                with self._lock:
                    if self._mode == "playing":
                        self._mode = "stopped"
                        self._cue = self.start_bar
            self._emit(Event(kind, clock, frame, bar, beat, section, detail))
        self._beats_until(snap.clock if not pending else min(snap.clock, pending[0][1]))

    def _supervise(self) -> None:
        """Deliver events and watch the backend, until closed (the engine's thread)."""
        if self.backend.realtime:
            gil_holder_priority()
        while not self._closing.wait(POLL):
            transport = self._transport
            assert transport is not None
            self._deliver(transport)
            backend = self.backend
            backend.check()
            if backend.xruns != self._seen_xruns:
                self._seen_xruns = backend.xruns
                snap = transport.snapshot
                self._emit(Event("xrun", snap.clock, snap.frame, detail=backend.xruns))
            if backend.failure is not None and not self._offline:
                self._went_away(backend.failure)
            if self._offline and self.reconnect and not self._closing.wait(RETRY):
                self._come_back()

    def _went_away(self, reason: str) -> None:
        self._offline = True
        snap = self.transport.snapshot
        self._emit(Event("offline", snap.clock, snap.frame, detail=reason))
        if not self.reconnect:
            self.failure = reason

    def _come_back(self) -> None:
        backend = self.backend
        with self._lock:
            if not backend.reopen():
                return
            transport = self.transport
            old_rate = transport.snapshot.plan.rate
            transport.send("rebase")
            if backend.rate != old_rate:
                # a server at another rate: same music, new samples
                self._prepare(backend.rate)
                snap = transport.snapshot
                keys = {snap.plan.key, (1, CountIn())}
                if self._last_plan is not None:
                    keys.add(self._last_plan.key)
                transport.send("rescale", {k: self._plan(k[0], k[1]) for k in keys})
            warning = None
            try:
                backend.start(transport.process)
            except IctusError as err:  # e.g. a --connect port not back yet: play anyway
                warning = str(err)
            backend.settle()
            self._offline = False
            snap = transport.snapshot
            self._emit(Event("online", snap.clock, snap.frame, detail=backend.describe()))
            if warning is not None:
                self._emit(Event("warning", snap.clock, snap.frame, detail=warning))


def _realtime_habits() -> None:
    """Process-wide settings that keep a Python audio callback on time.

    - The callback needs the GIL within a fraction of a period: other threads hand it
      over every 0.5 ms instead of Python's default 5 ms.
    - Everything alive now (modules, the plans) moves out of the garbage collector's
      sight (:func:`gc.freeze`), so a collection that happens to start in the audio
      thread scans only the few objects made since, not the whole heap.
    """
    sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))
    gc.freeze()  # no gc.collect() first: it would hold the GIL for a long while


def gil_holder_priority() -> bool:
    """Give the calling thread the lowest real-time priority, where allowed.

    Python threads share one lock (the GIL). If an ordinary thread holding it is
    pre-empted by another process, the real-time audio thread waits for it: priority
    inversion, heard as an xrun. At SCHED_FIFO 1 our other threads still yield to the
    audio thread (JACK runs it higher) but not to ordinary processes. Returns whether
    it worked (it needs root, or an rtprio limit, and Linux).
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (AttributeError, OSError):
        return False
    return True
