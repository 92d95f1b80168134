"""The one control API of the live engine: every frontend (CLI, display, OSC, web,
followers) drives an :class:`Engine` and nothing else touches the transport.

Control methods may be called from any thread; they are serialised by a lock that only
control threads take (never the audio callback). Each turns the request into a typed
command (:mod:`ictus.engine.commands`) for the
:class:`~ictus.engine.transport.Transport`, computing anything expensive (a new grid for
a tempo change, a plan starting at another bar: :class:`~ictus.engine.plan.PlanCache`)
here, before handing it over. :meth:`Engine.request` takes the same requests as values
(:mod:`ictus.engine.requests`), for remotes and followers.

Listeners (:meth:`Engine.add_listener`) get :class:`~ictus.engine.events.Event` objects
on the engine's own supervisor thread (:mod:`ictus.engine.supervisor`), which also
watches the backend (xruns, a server that went away, reconnecting). A slow listener
delays other listeners, never the audio.

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

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ictus.engine import requests as rq
from ictus.engine import rt
from ictus.engine.backends.base import Backend
from ictus.engine.commands import (
    Command,
    Go,
    JumpAtNextBar,
    Pause,
    Place,
    Rescale,
    Resume,
    SetLoop,
    Stop,
)
from ictus.engine.events import Delivery, Listener, Listeners
from ictus.engine.followers import Follower
from ictus.engine.inputs import AudioInput
from ictus.engine.outputs import EventOutput, Isolated
from ictus.engine.plan import Outputs, Plan, PlanCache, PlanKey
from ictus.engine.sources import Route, SourceMixer
from ictus.engine.status import CueList, State, Status
from ictus.engine.supervisor import Supervisor
from ictus.engine.tap import Taps
from ictus.engine.transport import Snapshot, Transport
from ictus.errors import IctusError, ParameterError
from ictus.sounds import Voice
from ictus.tempomap import CountIn, TempoMap

VoiceSource = Voice | Callable[[int], Voice]


class Where(NamedTuple):
    """Where the transport is at backend ``clock`` (the end of its last block):
    ``seconds`` of map time from bar 1's downbeat at tempo scale ``scale``."""

    clock: int
    seconds: float
    playing: bool
    scale: Fraction


def _default_voice(rate: int) -> Voice:
    from ictus.sounds import DEFAULT_VOICE, synth_voice

    return synth_voice(DEFAULT_VOICE, rate)


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
        Empty: the click goes to no output; something else must then play (``sources``
        or ``event_outputs``: a show's stems and MIDI), and the transport runs until
        the last source has sounded (``AudioSource.sounds_until``), else to the map's
        end.
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
    event_outputs : sequence of EventOutput
        Stamped to the sample in the audio callback (:mod:`ictus.engine.outputs`).
    sources : sequence of Route
        Audio sources mixed with the click (:mod:`ictus.engine.sources`).
    followers : sequence of Follower
        Move the transport after something outside (:mod:`ictus.engine.followers`).
    inputs : sequence of AudioInput
        Hear the backend's inputs in the callback (:mod:`ictus.engine.inputs`); the
        backend must have been made with as many inputs as the widest wants.
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
        event_outputs: Sequence[EventOutput] = (),
        sources: Sequence[Route] = (),
        followers: Sequence[Follower] = (),
        inputs: Sequence[AudioInput] = (),
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
        self.event_outputs = tuple(event_outputs)
        # what the callback calls: each output isolated (a failure is counted, not fatal)
        self._isolated = tuple(Isolated(o) for o in self.event_outputs)
        self.sources = SourceMixer(sources, channels)
        if self._click_on == () and not sources and not self.event_outputs:
            raise ParameterError(
                "the click goes to no output and nothing else plays: give it an output"
            )
        self.followers = tuple(followers)
        self.inputs = tuple(inputs)
        #: why an input failed in the callback (it is then switched off), or None
        self.input_failure: str | None = None
        self._live_inputs = list(self.inputs)
        self._cues = CueList(tempo_map)

        #: serialises control calls (never taken by the audio callback)
        self.lock = threading.RLock()
        self.listeners = Listeners()
        self.delivery = Delivery(self.listeners, self._ended)
        self._plans: PlanCache | None = None
        self._scale = Fraction(tempo_map.scale)
        self._mode = State.STOPPED
        self._cue = self.start_bar
        self._sent = 0
        self._taps = Taps()
        self._tapped: Fraction | None = None  # the last tapped beat, in seconds
        self._last_plan: Plan | None = None
        self._transport: Transport | None = None
        self._supervisor = Supervisor(self)
        self.failure: str | None = None

    # -- life cycle ------------------------------------------------------------------

    def open(self) -> Engine:
        """Open the backend, build the first plan and start the callback (stopped).

        With a real-time backend this also applies :mod:`ictus.engine.rt`'s settings, to
        the process and to the calling thread (the frontend's, which takes the GIL to
        wait and draw: it gets the lowest real-time priority where allowed).
        """
        backend = self.backend
        backend.open(self._channels, self._rate)
        try:
            if self.inputs:
                for audio_input in self.inputs:
                    audio_input.open(backend.rate, backend.inputs)
                backend.capture = self._capture
            self.prepare(backend.rate)
            plan = self._plan(self.start_bar, self.count_in)
            self._transport = Transport(plan, outputs=self._isolated, sources=self.sources)
            self._last_plan = plan
            if self._loop_label is not None:
                self._send(SetLoop(self.tempo_map.section_index(self._loop_label)))
            if backend.realtime:
                rt.realtime_habits()
            backend.start(self._transport.process)
            backend.settle()
        except BaseException:
            backend.close()
            raise
        if backend.realtime:
            rt.gil_holder_priority()
        self._supervisor.start()
        for follower in self.followers:
            follower.follow(self)
        return self

    def _capture(self, block: NDArray[np.float32], clock: int) -> None:
        """Callback: the backend's input block to every input (one that raises is
        switched off and its failure kept, like an event output's)."""
        for audio_input in self._live_inputs:
            try:
                audio_input.receive(block, clock)
            except Exception as err:
                self._live_inputs.remove(audio_input)
                if self.input_failure is None:
                    self.input_failure = repr(err)

    def close(self) -> None:
        """Stop the followers and the supervisor, and close the backend (idempotent)."""
        if self._supervisor.stop() and self._transport is not None:
            self.deliver()  # what happened last still gets out
        for follower in self.followers:
            follower.close()
        self.backend.close()

    def __enter__(self) -> Engine:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self, rate: int) -> None:
        """Make the voice and a fresh plan cache for ``rate`` (opening, reconnecting)."""
        source = self._voice_source
        voice = source if isinstance(source, Voice) else source(rate)
        if voice.rate != rate:
            raise ParameterError(f"the voice is at {voice.rate} Hz, the output at {rate} Hz")
        outputs = Outputs(self._channels, self._click_on, self._offsets(rate), self._gains)
        self._plans = PlanCache(
            self.tempo_map,
            voice,
            rate,
            outputs,
            on_new=self._new_plan,
            sounds_until=self.sources.sounds_until,
        )

    def _new_plan(self, plan: Plan) -> None:
        for output in self.event_outputs:
            output.prepare(plan)
        self.sources.prepare(plan)

    def _offsets(self, rate: int) -> tuple[int, ...] | None:
        if self._latency_ms is None:
            return None
        return tuple(round(ms * rate / 1000) for ms in self._latency_ms)

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            raise IctusError("the engine is not open")
        return self._transport

    def deliver(self) -> None:
        """Hand what the transport did to the listeners (the supervisor's thread)."""
        transport = self.transport
        snap = transport.snapshot  # first: every change of the blocks it covers is queued
        self.delivery.deliver(transport.events, snap.clock, snap.plan)

    @property
    def rate(self) -> int:
        return self.backend.rate

    @property
    def output_errors(self) -> int:
        """How many event outputs failed in the callback (each is then switched off)."""
        return sum(o.errors for o in self._isolated)

    @property
    def listener_errors(self) -> int:
        """How many times a listener raised (each one is skipped, not retried)."""
        return self.listeners.errors

    # -- plans -----------------------------------------------------------------------

    def _plan(self, anchor: int, count_in: CountIn, scale: Fraction | None = None) -> Plan:
        assert self._plans is not None
        return self._plans.get(anchor, count_in, self._scale if scale is None else scale)

    def _full(self) -> Plan:
        """The whole map from bar 1 without count-in: holds every bar (the fallback)."""
        return self._plan(1, CountIn())

    def plans_for_keys(self) -> dict[PlanKey, Plan]:
        """For a tempo or rate change: the plans the transport may hold, rebuilt."""
        snap = self.transport.snapshot
        keys = {snap.plan.key, self._full().key}
        if self._last_plan is not None:
            keys.add(self._last_plan.key)
        return {key: self._plan(key[0], key[1]) for key in keys}

    def _send(self, command: Command) -> None:
        self._sent += 1
        self.transport.send(command)
        if isinstance(command, Go) and command.plan is not None:
            self._last_plan = command.plan

    # -- state -----------------------------------------------------------------------

    def _state(self, snap: Snapshot) -> State:
        if self._supervisor.offline:
            return State.OFFLINE
        if snap.applied < self._sent:
            return self._mode  # our last command is not applied yet: trust the intent
        if snap.playing:
            return State.PLAYING
        if snap.ended:
            return State.ENDED
        return State.PAUSED if self._mode is State.PAUSED else State.STOPPED

    def _ended(self) -> None:
        """The delivery saw the end: the next start plays from the start bar again."""
        with self.lock:
            if self._mode is State.PLAYING:
                self._mode = State.STOPPED
                self._cue = self.start_bar

    def _bar_of(self, target: int | str) -> int:
        if isinstance(target, str) and not target.lstrip("-").isdigit():
            return self.tempo_map.first_bar_of(self.tempo_map.section_index(target))
        bar = int(target)
        self.tempo_map.bar_start(bar)  # ParameterError names the valid range
        return bar

    # -- the control API -------------------------------------------------------------

    def request(self, request: rq.Request) -> object:
        """Do what a typed request asks (:mod:`ictus.engine.requests`); returns what
        the matching method returns (a scale in percent, or None)."""
        handle = _REQUESTS.get(type(request))
        if handle is None:
            raise ParameterError(f"unknown request {request!r}")
        return handle(self, request)

    def start(self) -> None:
        """Play from the cue bar (the start bar, or where :meth:`locate` put it),
        with the count-in if there is one."""
        with self.lock:
            state = self._state(self.transport.snapshot)
            if state is State.PLAYING:
                return
            if state is State.PAUSED:
                self._cue = self._current_bar()
            if self.count_in:
                self._send(Go(None, self._plan(self._cue, self.count_in), None, True))
            else:
                self._send(Go(self._cue, None, self._full(), True))
            # after the command is queued: whoever sees the new state sees it in effect
            self._mode = State.PLAYING

    def stop(self) -> None:
        """Stop; the next :meth:`start` plays from the cue bar again."""
        with self.lock:
            self._send(Stop())
            self._mode = State.STOPPED

    def pause(self) -> None:
        """Stop where we are; :meth:`continue_` goes on from the same sample."""
        with self.lock:
            if self._state(self.transport.snapshot) is State.PLAYING:
                self._send(Pause())
                self._mode = State.PAUSED

    def continue_(self) -> None:
        """Go on after :meth:`pause` (no count-in); otherwise the same as :meth:`start`."""
        with self.lock:
            if self._state(self.transport.snapshot) is State.PAUSED:
                self._send(Resume())
                self._mode = State.PLAYING
            else:
                self.start()

    def locate(self, target: int | str) -> None:
        """Go to a bar (number) or a section (label): at once while playing, else it
        becomes the cue for the next start."""
        with self.lock:
            bar = self._bar_of(target)
            state = self._state(self.transport.snapshot)
            if state is not State.PAUSED:
                self._cue = bar
            if state is State.PLAYING:
                self._send(Go(bar, None, self._full(), True))
            else:
                self._send(Go(bar, None, self._full(), False))
                if state is not State.PAUSED:
                    self._mode = State.STOPPED

    def chase(self, seconds: float, clock: int, play: bool = True) -> None:
        """Be at map time ``seconds`` (from bar 1's downbeat, at the current tempo
        scale; negative: the count-in) at backend ``clock``, to the sample: see
        :class:`~ictus.engine.requests.Chase`. Before bar 1 the start bar's count-in
        plan is used when it reaches that far back, else the transport waits silent."""
        with self.lock:
            plan = self._full()
            rate = plan.rate
            frame = plan.origin + round(seconds * rate)
            if frame < 0 and self.count_in:
                counted = self._plan(self.start_bar, self.count_in)
                at = counted.origin + round(seconds * rate)
                if at >= -counted.preroll:
                    plan, frame = counted, at
            self._send(Place(frame, clock, plan, play))
            self._mode = State.PLAYING if play else State.STOPPED

    def where(self) -> Where:
        """Where the transport is at the end of its last block (any thread)."""
        snap = self.transport.snapshot
        plan = snap.plan
        return Where(
            snap.clock, (snap.frame - plan.origin) / plan.rate, snap.playing, plan.scale
        )

    def host_time(self, clock: int) -> int:
        """Host time (microseconds of ``CLOCK_MONOTONIC_RAW``: Link's and JACK's clock)
        at which backend ``clock`` plays: the backend's own reckoning (JACK), else
        estimated from now and the last block (within a period)."""
        exact = self.backend.host_time(clock)
        if exact is not None:
            return exact
        snap = self.transport.snapshot
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW) // 1000
        return now + (clock - snap.clock) * 1_000_000 // max(self.backend.rate, 1)

    def step(self, bars: int) -> None:
        """Locate ``bars`` bars forward (negative: back) from the current bar."""
        with self.lock:
            total = self.tempo_map.total_bars
            self.locate(min(max(self._current_bar() + bars, 1), total))

    def loop(self, label: str | None) -> None:
        """Repeat the section ``label`` (None: stop looping). If the transport is
        playing outside it, it goes there at the next bar line."""
        with self.lock:
            if label is None:
                self._loop_label = None
                self._send(SetLoop(-1))
                return
            index = self.tempo_map.section_index(label)
            first = self.tempo_map.first_bar_of(index)
            inside = first <= self._current_bar() < first + self.tempo_map.sections[index].bars
            self._loop_label = label
            self._send(SetLoop(index))
            state = self._state(self.transport.snapshot)
            if state is State.PLAYING and not inside:
                self._send(JumpAtNextBar(first, self._full()))
            elif state in (State.STOPPED, State.ENDED) and not inside:
                self._cue = first
                self._send(Go(first, None, self._full(), False))

    def toggle_loop(self) -> None:
        """Loop the section being played, or stop looping (the display's ``l`` key)."""
        with self.lock:
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
        with self.lock:
            bar = self._bar_of(target)
            if self._state(self.transport.snapshot) is State.PLAYING:
                self._send(JumpAtNextBar(bar, self._full()))
            else:
                self.locate(bar)

    def set_scale(self, percent: float | Fraction | str) -> float:
        """Scale every tempo of the map to ``percent`` (100 = as written), now, without
        losing the beat: the position carries over by musical time. Returns the percent
        set (kept to 0.1 %)."""
        with self.lock:
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
            self._scale = scale
            self._send(Rescale(self.plans_for_keys()))
            return float(value)

    def nudge_scale(self, percent: float) -> float:
        """Change the tempo scale by ``percent`` points (the display's +/- keys)."""
        with self.lock:
            return self.set_scale(self._scale * 100 + Fraction(str(percent)))

    def tap(self, at: float | None = None) -> float | None:
        """Tap the beat; from the second tap on, set the scale so the beat being played
        matches the taps. ``at``: the tap's time in seconds (default: now).
        Returns the new scale in percent, or None after a first tap."""
        with self.lock:
            tapped = self._taps.tap(time.monotonic() if at is None else at)
            if tapped is None:
                return None
            self._tapped = tapped
            snap = self.transport.snapshot
            beat = snap.plan.beat_seconds(max(snap.frame, 0))
            if beat is None:
                return None
            # the beat as that plan plays it, at that plan's scale (a change we sent may
            # not be playing yet)
            percent = snap.plan.scale * 100 * Fraction(beat) / tapped
            percent = min(max(percent, Fraction(1)), Fraction(10000))
            return self.set_scale(Fraction(round(percent * 10), 10))

    @property
    def tapped_bpm(self) -> float | None:
        """The tempo the last taps showed, in beats per minute of the beat being played
        (None before a second tap); :meth:`tap` has set the scale to play it."""
        tapped = self._tapped
        return None if tapped is None else float(60 / tapped)

    # -- what is playing -------------------------------------------------------------

    def _current_bar(self) -> int:
        snap = self.transport.snapshot
        state = self._state(snap)
        if state in (State.STOPPED, State.ENDED):
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
        if state in (State.STOPPED, State.ENDED) or not len(grid):
            bar, beat = (self._cue, 1) if state is State.STOPPED else (tm.total_bars, 1)
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
        if count_in:
            cue, next_cue = self._cues.around(plan.anchor, 0)
        else:
            cue, next_cue = self._cues.around(bar, 0 if state is State.STOPPED else beat)
        lost = [f.lost for f in self.followers if f.lost]
        failed = [o.failure for o in self._isolated if o.failure is not None]
        gap = not count_in and bar >= 1 and bar - tm.first_bar_of(index) in (
            tm.sections[index].gap_bars()
        )
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
            cue=cue,
            next_cue=next_cue,
            follow=", ".join(f.name for f in self.followers) or None,
            follow_lost="; ".join(lost) or None,
            output_errors=len(failed),
            output_failure="; ".join(failed) or None,
            gap=gap,
        )

    def wait(self, timeout: float | None = None) -> State:
        """Block (control thread) until the map has played to its end or the backend
        failed for good; returns the state (``ended``, ``offline``, or the current
        one after ``timeout`` seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.failure is not None:
                return State.OFFLINE
            state = self._state(self.transport.snapshot)
            if state is State.ENDED:
                return state
            if self.transport.error is not None:
                raise IctusError(f"the audio callback failed: {self.transport.error!r}")
            if deadline is not None and time.monotonic() >= deadline:
                return state
            time.sleep(0.1)  # a person is waiting, not the click: polling is fine

    # -- listeners -------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` for every :class:`~ictus.engine.events.Event`;
        returns the remover."""
        return self.listeners.add(listener)


#: What each typed request calls on the engine (one entry per request type).
_REQUESTS: dict[type, Callable[[Engine, Any], object]] = {
    rq.Start: lambda e, r: e.start(),
    rq.Stop: lambda e, r: e.stop(),
    rq.Pause: lambda e, r: e.pause(),
    rq.Continue: lambda e, r: e.continue_(),
    rq.Locate: lambda e, r: e.locate(r.target),
    rq.Step: lambda e, r: e.step(r.bars),
    rq.Loop: lambda e, r: e.loop(r.label),
    rq.JumpAtNextBar: lambda e, r: e.jump_at_next_bar(r.target),
    rq.SetScale: lambda e, r: e.set_scale(r.percent),
    rq.NudgeScale: lambda e, r: e.nudge_scale(r.points),
    rq.Tap: lambda e, r: e.tap(r.at),
    rq.Chase: lambda e, r: e.chase(r.seconds, r.clock, r.play),
}
