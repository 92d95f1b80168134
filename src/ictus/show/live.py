"""A song on the live engine: its sources as engine audio sources, its MIDI events as an
event output, and one audio stream that the songs of a show take turns on.

**Sources.** A :class:`~ictus.show.plan.SongPlan` routes every source row (a click
variant, the spoken track, a stem channel) to device channels with a gain matrix. The
engine plays the whole song as one :class:`SongSource` on every channel at unity gain
(:func:`song_routes`), which mixes the rows with a :class:`~ictus.render.Router` of the
song's own routing, as :func:`~ictus.show.render_song` does: the live samples are the
file's, bit for bit. The engine's mixer passes a lone unity source on all channels
through as it is (a copy would change nothing), so a block costs one mix, not two.
The engine's map frame (``frame - plan.origin``, 0 at bar 1) becomes the
song's frame (0 at the first count-in click) by adding the song's bar-1 frame, so stems
follow a locate, a jump or a vamp's wrap at once. A stem's samples come from the
:class:`~ictus.show.StemStream` ring, read without a lock; its reader thread is never
waited for (a refill still under way is silence, counted as an underrun).

**MIDI.** :class:`SongMidi` finds the song's MIDI events (program changes at bars,
notes, control changes) in each stretch the transport plays and writes them, stamped
with their sample in the block, to a :class:`MidiPorts` (on JACK: a MIDI port).

**One stream.** :class:`Stage` owns the real backend. Each song's
:class:`~ictus.engine.Engine` gets a :class:`Slot` (a backend of its own in the engine's
eyes) and the stage's callback runs the slot that is on: switching songs is one
attribute, and an armed switch (:meth:`Stage.arm`) happens on its exact sample, even in
the middle of a block, so a song that starts N seconds after the last one ended starts
on the frame.

>>> import numpy as np
>>> from ictus.engine.backends.null import NullBackend
>>> stage = Stage(NullBackend(rate=1000, period=10), channels=1, rate=1000)
>>> stage.open()
>>> a, b = stage.slot(), stage.slot()
>>> a.open(1); a.start(lambda out, now: out.fill(1.0))
>>> b.open(1); b.start(lambda out, now: out.fill(2.0))
>>> stage.arm(a)
>>> stage.backend.pull()[:, 0].tolist()
[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
>>> stage.arm(b, clock=14)
>>> stage.backend.pull()[:, 0].tolist()
[1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ictus.engine import AudioSource, Backend, EventKind, EventOutput, Route
from ictus.engine.backends.base import Process
from ictus.engine.plan import MAX_PERIOD
from ictus.engine.rt import Doorbell
from ictus.errors import ParameterError
from ictus.render import FLOAT, Router
from ictus.show.stems import StemStream

if TYPE_CHECKING:
    from ictus.engine.events import Change
    from ictus.engine.plan import Plan
    from ictus.engine.transport import Transport
    from ictus.show.plan import SongPlan


# -- audio sources ------------------------------------------------------------------------


class SongSource(AudioSource):
    """A whole song as one engine audio source on every output channel: its sources'
    blocks (in the song's frames) mixed through its routing matrix by its own
    :class:`~ictus.render.Router`, the arithmetic of :func:`~ictus.show.render_song`.

    ``sounds_until`` is the song's end in map frames: the engine plays the song to its
    last frame (a stem or a word may run on after the map's last bar).
    """

    def __init__(self, plan: SongPlan) -> None:
        self.song = plan
        self.bar1 = plan.bar1_frame
        self.channels = plan.routing.channels
        self.sounds_until = plan.length - plan.bar1_frame
        self.router = Router(plan.routing, FLOAT, max_frames=MAX_PERIOD)
        # the stems read their blocks straight into the router's stack (the rows the
        # routing gives them), so their samples are not copied again to be mixed
        stack = np.zeros((plan.routing.sources, MAX_PERIOD), np.float32)
        placed: list[int] = []
        row = 0
        for source in plan.sources:
            if isinstance(source, StemStream):
                source.prepare(MAX_PERIOD, into=stack[row : row + source.channels])
                placed.extend(range(row, row + source.channels))
            source.blocks(0, MAX_PERIOD)  # their scratch buffers, made before playing
            row += source.channels
        self.router.stack_on(stack, placed)

    def render(self, plan: Plan, frame: int, out: NDArray[np.float32]) -> bool:
        at = frame - plan.origin + self.bar1  # the song's frame
        n = out.shape[0]
        if n <= MAX_PERIOD:
            return self.router.route(self.song.blocks(at, n), out)
        # longer blocks in parts: a stem's buffer is its rows of the stack, never grown
        sounded = False
        for a in range(0, n, MAX_PERIOD):
            part = out[a : a + MAX_PERIOD]
            sounded = self.router.route(self.song.blocks(at + a, part.shape[0]), part) or sounded
        return sounded


def song_routes(plan: SongPlan) -> list[Route]:
    """The engine routes that play ``plan`` (see the module docstring): one, the
    :class:`SongSource` on every channel at unity gain, which the engine's mixer hands
    the block to unchanged."""
    source = SongSource(plan)
    return [Route(source, tuple(range(source.channels)), 1.0)]


# -- MIDI ---------------------------------------------------------------------------------


class MidiPorts(Protocol):
    """Where a show's MIDI goes and comes from, in the audio callback.

    :meth:`begin` once per block, then :meth:`send` in offset order; :meth:`incoming`
    gives what arrived in the block as ``(offset, bytes)``.
    """

    def begin(self, frames: int) -> None: ...

    def send(self, offset: int, data: bytes) -> None: ...

    def incoming(self) -> Iterable[tuple[int, bytes]]: ...


class NoMidi:
    """No MIDI ports (PortAudio, the null backend): events are only logged."""

    def begin(self, frames: int) -> None:
        pass

    def send(self, offset: int, data: bytes) -> None:
        pass

    def incoming(self) -> Iterable[tuple[int, bytes]]:
        return ()


class JackMidi:
    """A JACK MIDI output and input port on the backend's client.

    Pass :meth:`register` as the JACK backend's ``on_client``: the ports are made on
    every client it opens, ``<client>:midi_out`` and ``<client>:midi_in``.
    """

    def __init__(self) -> None:
        self.client: Any = None
        self.out_port: Any = None
        self.in_port: Any = None
        #: messages JACK refused (a full buffer): never raised in the callback
        self.dropped = 0
        self._last = 0
        self._frames = 0
        # (get buffer, clear MIDI buffer, count MIDI events, out port, in port): C calls
        self._c: tuple[Any, ...] | None = None

    def register(self, client: Any) -> None:
        self.client = client
        self.out_port = client.midi_outports.register("midi_out")
        self.in_port = client.midi_inports.register("midi_in")
        # every cycle clears the output and counts the input: three C calls through
        # JACK-Client's cffi handle, half the time of its port methods (0.9 us against
        # 1.8 us warm); the ports' own methods only when messages came in
        import jack

        lib = getattr(jack, "_lib", None)
        if lib is not None and hasattr(self.out_port, "_ptr") and hasattr(self.in_port, "_ptr"):
            self._c = (
                lib.jack_port_get_buffer,
                lib.jack_midi_clear_buffer,
                lib.jack_midi_get_event_count,
                self.out_port._ptr,
                self.in_port._ptr,
            )

    def begin(self, frames: int) -> None:
        # JACK requires the output buffer cleared every cycle, messages or none
        c = self._c
        if c is not None:
            c[1](c[0](c[3], frames))
        elif self.out_port is not None:
            self.out_port.clear_buffer()
        self._last = 0
        self._frames = frames

    def send(self, offset: int, data: bytes) -> None:
        if self.out_port is None or not self._last <= offset < self._frames:
            self.dropped += 1
            return
        try:
            self.out_port.write_midi_event(offset, data)
        except Exception:  # jack.JackError: the buffer is full
            self.dropped += 1
            return
        self._last = offset

    def incoming(self) -> Iterable[tuple[int, bytes]]:
        if self.in_port is None:
            return ()
        c = self._c
        if c is not None and not c[2](c[0](c[4], self._frames)):
            return ()  # nothing came in (most cycles)
        return [(offset, bytes(data)) for offset, data in self.in_port.incoming_midi_events()]


#: Transport changes after which a note still sounding would never get its note-off
#: (the transport left the place where it comes)
_BREAKS = frozenset(
    {
        EventKind.LOCATE,
        EventKind.JUMP,
        EventKind.LOOP,
        EventKind.PAUSE,
        EventKind.STOP,
        EventKind.END,
        EventKind.ERROR,
    }
)


class SongMidi(EventOutput):
    """A song's MIDI events, sent on their frames (an engine event output).

    ``sent`` keeps ``(backend clock, bytes)`` of everything sent, for the display and
    tests. Events are in the song's frames; the map frame of a plan's grid frame is
    ``frame - plan.origin``, as for the audio sources. A note still sounding when the
    transport stops, pauses or moves is released there (no hanging notes).
    """

    def __init__(self, plan: SongPlan, ports: MidiPorts, keep: int = 1 << 12) -> None:
        self.frames = [frame for frame, _, _ in plan.midi]
        self.data = [raw for _, raw, _ in plan.midi]
        self.bar1 = plan.bar1_frame
        self.ports = ports
        self.sent: deque[tuple[int, bytes]] = deque(maxlen=keep)
        self._clock = 0
        # note-offs of the notes sounding now, by (status, note); made ahead (no
        # allocation in the callback beyond the dictionary's own)
        self._offs = {
            (raw[0], raw[1]): bytes([0x80 | (raw[0] & 0x0F), raw[1], 0])
            for raw in self.data
            if raw[0] & 0xF0 == 0x90
        }
        self._sounding: dict[tuple[int, int], bytes] = {}

    def begin(self, clock: int, frames: int) -> None:
        self._clock = clock

    def change(self, change: Change, offset: int) -> None:
        if change.kind in _BREAKS and self._sounding:
            for off in self._sounding.values():
                self._send(offset, off)
            self._sounding.clear()

    def play(self, plan: Plan, frame: int, frames: int, offset: int) -> None:
        at = frame - plan.origin + self.bar1
        lo = bisect.bisect_left(self.frames, at)
        hi = bisect.bisect_left(self.frames, at + frames, lo)
        for i in range(lo, hi):
            data = self.data[i]
            self._send(offset + self.frames[i] - at, data)
            kind = data[0] & 0xF0
            if kind == 0x90 and data[2] > 0:
                self._sounding[(data[0], data[1])] = self._offs[(data[0], data[1])]
            elif kind in (0x80, 0x90):
                self._sounding.pop((0x90 | (data[0] & 0x0F), data[1]), None)

    def _send(self, where: int, data: bytes) -> None:
        self.ports.send(where, data)
        self.sent.append((self._clock + where, data))


# -- one stream for the whole show --------------------------------------------------------


class Slot(Backend):
    """What one song's engine plays through: a place on the :class:`Stage`."""

    name = "show"

    def __init__(self, stage: Stage) -> None:
        super().__init__()
        self.stage = stage
        self.process: Process | None = None
        #: the engine's transport (its process is the transport's bound method), for
        #: switches armed to follow its end
        self.transport: Transport | None = None
        self.name = stage.backend.name  # type: ignore[misc]  # the engine reports it

    def open(self, channels: int, rate: int | None = None) -> None:
        real = self.stage.backend
        if channels != self.stage.channels:
            raise ParameterError(f"the show plays {self.stage.channels} channels, not {channels}")
        if rate is not None and rate != real.rate:
            raise ParameterError(f"the show runs at {real.rate} Hz, not {rate} Hz")
        self.channels = channels
        self.rate = real.rate
        self.period = real.period

    def start(self, process: Process) -> None:
        self.process = process
        self.transport = getattr(process, "__self__", None)

    def close(self) -> None:
        self.stage.leave(self)

    def check(self) -> None:
        real = self.stage.backend
        self.period = real.period
        self.xruns = real.xruns
        self.failure = real.failure


class _OfflineSlot(Slot):
    """A slot on a backend without a real clock (the engine then skips real-time set-up)."""

    realtime = False


@dataclass(eq=False)
class _Switch:
    """Put ``slot`` on at backend ``clock``; or, with ``after``, ``gap`` frames after
    that transport ends; or (neither) at the next block. ``then``: the switch after it."""

    serial: int
    slot: Slot | None
    clock: int | None = None
    after: Transport | None = None
    gap: int = 0
    then: _Switch | None = None


class Stage:
    """The show's one audio stream; songs' engines play through its :class:`Slot` s.

    Control side: :meth:`open`, :meth:`slot`, :meth:`arm`, :meth:`then`,
    :meth:`disarm`, :meth:`close`. Switches are numbered; the callback only reads the
    chain the control side published (one attribute) and records the number of the
    last switch it made (:attr:`taken`), never writing the chain back: a switch is
    pending while its number is above that.
    """

    def __init__(
        self, backend: Backend, *, channels: int, rate: int, midi: MidiPorts | None = None
    ) -> None:
        self.backend = backend
        self.channels = channels
        self.rate = rate
        self.midi: MidiPorts = midi or NoMidi()
        #: (backend clock, bytes) of every MIDI message that came in (the callback appends)
        self.inbox: deque[tuple[int, bytes]] = deque(maxlen=1 << 10)
        #: the slot playing now (written by the callback only)
        self.current: Slot | None = None
        #: number of the last switch the callback made, and the clock it made it at
        self.taken = 0
        self.switched_at = 0
        self._armed: _Switch | None = None
        self._serial = 0
        self._due: tuple[_Switch, int] | None = None  # callback's own: when ``after`` ended
        self._lock = threading.Lock()  # control side only
        #: rung by the callback when MIDI comes in or it makes a switch (the runner's
        #: thread sleeps on it: no polling for them)
        self.bell: Doorbell | None = None

    def open(self) -> None:
        self.backend.open(self.channels, self.rate)
        try:
            self.backend.start(self._process)
            self.backend.settle()
        except BaseException:
            self.backend.close()
            raise

    def close(self) -> None:
        self.backend.close()

    def slot(self) -> Slot:
        return Slot(self) if self.backend.realtime else _OfflineSlot(self)

    def _new(
        self, slot: Slot | None, clock: int | None, after: Transport | None, gap: int
    ) -> _Switch:
        self._serial += 1
        return _Switch(self._serial, slot, clock, after, gap)

    def arm(
        self,
        slot: Slot | None,
        *,
        clock: int | None = None,
        after: Transport | None = None,
        gap: int = 0,
    ) -> None:
        """Put ``slot`` on (None: silence): at the next block, at backend ``clock``, or
        ``gap`` frames after ``after`` (a song's transport) plays to its end. Replaces
        any switch armed before and not yet made."""
        with self._lock:
            self._armed = self._new(slot, clock, after, gap)

    def then(self, slot: Slot, *, after: Transport, gap: int = 0) -> None:
        """After the switch armed last (made or not), put ``slot`` on ``gap`` frames
        after ``after`` ends (an auto-advance armed before its song has started)."""
        with self._lock:
            switch = self._new(slot, None, after, gap)
            last = self._armed
            if last is None:
                self._armed = switch
                return
            while last.then is not None:
                last = last.then
            last.then = switch  # one attribute: the callback sees it whole or not yet

    def disarm(self) -> None:
        """Forget every switch not made yet."""
        with self._lock:
            self._armed = None

    def _pending(self) -> _Switch | None:
        switch = self._armed
        while switch is not None and switch.serial <= self.taken:
            switch = switch.then
        return switch

    @property
    def pending(self) -> bool:
        """A switch is still to come."""
        return self._pending() is not None

    def leave(self, slot: Slot) -> None:
        """``slot`` is closing: it must not play again."""
        with self._lock:
            switch = self._pending()
            while switch is not None:
                if switch.slot is slot or (
                    switch.after is not None and switch.after is slot.transport
                ):
                    self._armed = None  # the chain goes through it: drop the rest
                    break
                switch = switch.then
            if self.current is slot:
                self._armed = self._new(None, None, None, 0)
        # the callback may finish the block it is in with the slot: harmless, the
        # engine's transport outlives its close

    # -- the callback ----------------------------------------------------------------

    def _process(self, out: NDArray[np.float32], now: int) -> bool:
        n = out.shape[0]
        midi = self.midi
        midi.begin(n)
        heard = False
        for offset, data in midi.incoming():
            self.inbox.append((now + offset, data))
            heard = True
        if heard and self.bell is not None:
            self.bell.ring()
        armed = self._pending()
        at: int | None = None
        if armed is not None:
            if armed.clock is not None:
                at = armed.clock
            elif armed.after is None:
                at = now
            elif self._due is not None and self._due[0] is armed:
                at = self._due[1]
        if armed is not None and at is not None and at <= now:
            self._switch(armed, now)
            armed, at = self._pending(), None
        split = n if at is None else min(at - now, n)
        silent = self._run(out[:split], now) if split else True
        if split < n:
            assert armed is not None
            self._switch(armed, now + split)
            silent = self._run(out[split:], now + split) and silent
        elif (
            armed is not None
            and armed.after is not None
            and armed.after is self._transport()
            and (self._due is None or self._due[0] is not armed)
        ):
            ended = self._end_clock(armed.after)
            if ended is not None:
                start = ended + armed.gap
                self._due = (armed, start)
                if start < now + n:
                    # it ended in this block, and the next song starts in it too
                    k = max(start - now, 0)
                    self._switch(armed, now + k)
                    silent = self._run(out[k:], now + k) and silent
        return silent

    def _transport(self) -> Transport | None:
        """The transport of the slot playing (the one an ``after`` switch waits on)."""
        slot = self.current
        return None if slot is None else slot.transport

    def _switch(self, armed: _Switch, clock: int) -> None:
        self.current = armed.slot
        self.switched_at = clock
        self.taken = armed.serial
        if self.bell is not None:
            self.bell.ring()  # the runner follows the stage

    def _run(self, out: NDArray[np.float32], now: int) -> bool:
        slot = self.current
        if slot is None or slot.process is None:
            out.fill(0.0)
            return True
        return slot.process(out, now) is True

    @staticmethod
    def _end_clock(transport: Transport) -> int | None:
        snap = transport.snapshot
        if not snap.ended or not transport.history:
            return None
        last = transport.history[-1]
        return last.clock if last.kind is EventKind.END else None
