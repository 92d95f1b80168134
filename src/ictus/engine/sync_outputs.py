"""Sync outputs in the engine: MIDI clock, MTC and JACK transport, stamped in the callback.

:class:`MidiSyncOutput` is the event output (:mod:`ictus.engine.outputs`) that drives the
pure schedules of :mod:`ictus.sync` (:class:`~ictus.sync.midiclock.MidiClockOutput`,
:class:`~ictus.sync.mtc.MtcOutput`) from the engine's transport changes, in the same
callback and from the same plan and position as the audio: every message goes out on
the block sample of its grid frame (docs/SYNC.md). MIDI clock and MTC on one port are
merged in sample order, since a JACK MIDI buffer takes events only in order.

Where the messages go is a :class:`MidiSink`: :class:`JackMidiSink` writes a MIDI output
port of the engine's own JACK client (``ictus play --midi-out jack``: sample-exact);
:class:`RtMidiSink` hands them to a thread that sends them to an ALSA/rtmidi port at
their time (``--midi-out NAME``: as exact as the thread wakes up).

:class:`JackTransportMaster` makes the engine the JACK transport's timebase master: it
rolls, stops and locates the JACK transport with the engine and publishes bar, beat,
tick, tempo and meter from the grid. :class:`JackTransportFollower` is the other way
round. Frame 0 of the JACK transport is bar 1's downbeat of the map at the tempo scale
playing; a count-in is not on the JACK transport (it rolls from bar 1).

>>> from ictus.sync.midiclock import MidiClockOutput
>>> from ictus.engine.events import Change, EventKind
>>> from ictus.tempomap import CountIn, Section, Tempo, TempoMap
>>> from ictus.sounds import Voice
>>> from ictus.engine.plan import Outputs, build_plan
>>> plan = build_plan(TempoMap((Section(2, Tempo(120)),), count_in=CountIn(beats=1)),
...                   Voice("i", 48000, [1.0], [1.0], [1.0]), rate=48000, outputs=Outputs(1))
>>> sink = ListSink()
>>> out = MidiSyncOutput(sink, clock=True)
>>> out.prepare(plan)
>>> out.begin(0, 2000)
>>> out.change(Change(EventKind.START, 0, 0, plan, None), 0)
>>> out.play(plan, 23500, 2000, 0)        # bar 1's downbeat at grid frame 24000
>>> [(at, m.hex()) for at, m in sink.sent]
[(500, 'fa'), (500, 'f8'), (1500, 'f8')]
"""

from __future__ import annotations

import bisect
import heapq
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

from ictus.engine.events import EventKind
from ictus.engine.followers import Place, TransportFollower
from ictus.engine.outputs import EventOutput
from ictus.errors import IctusError, ParameterError
from ictus.sync.midiclock import MidiClock, MidiClockOutput
from ictus.sync.mtc import MtcClock, MtcOutput
from ictus.tempomap import TempoMap, Timeline
from ictus.timebase import FrameRate, Timecode

if TYPE_CHECKING:
    from ictus.engine.events import Change
    from ictus.engine.plan import Plan

K = EventKind
#: plans kept prepared (a tempo change makes new ones; old ones are dropped oldest first)
KEEP_PLANS = 64
#: MIDI clock and MTC messages are small; a block with more than this many is broken
Message = tuple[int, bytes]

_MOVES = frozenset({K.LOCATE, K.JUMP, K.LOOP, K.SKIP})
_STOPS = frozenset({K.PAUSE, K.STOP, K.END, K.ERROR})
#: cycles after a locate before the JACK transport must stand on the engine's frame
#: (three measured, one to spare)
SETTLE = 4


class MidiSink(Protocol):
    """Where a block's MIDI messages go (callback side)."""

    def begin(self, clock: int, frames: int) -> None: ...

    def send(self, messages: Sequence[Message]) -> None: ...


class ListSink:
    """Keeps every message as (backend clock, bytes): for tests and ``ictus sync-test``."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, bytes]] = []
        self._clock = 0

    def begin(self, clock: int, frames: int) -> None:
        self._clock = clock

    def send(self, messages: Sequence[Message]) -> None:
        self.sent.extend((self._clock + o, m) for o, m in messages)


class JackMidiSink:
    """A MIDI output port of the engine's JACK client (``JackBackend(midi_outputs=...)``).

    The port is looked up every block, so a reconnected client's new port is used.
    """

    def __init__(self, backend: Any, name: str = "midi_out") -> None:
        from ictus.sync.jackmidi import JackMidiWriter

        self.backend = backend
        self.name = name
        self.writer: JackMidiWriter | None = None
        self._writer = JackMidiWriter

    def begin(self, clock: int, frames: int) -> None:
        port = self.backend.midi_port(self.name)
        writer = self.writer
        if writer is None or writer.port is not port:
            writer = self.writer = self._writer(port)
        writer.begin(frames)

    def send(self, messages: Sequence[Message]) -> None:
        if self.writer is not None:
            self.writer.send(messages)

    @property
    def dropped(self) -> int:
        return self.writer.dropped if self.writer is not None else 0


class RtMidiSink:
    """An ALSA/rtmidi MIDI port (mido with python-rtmidi), fed by a thread.

    The callback only queues each message with its backend clock; the thread maps the
    clock to ``time.monotonic`` through the block starts it saw and sends each message
    when its time comes. Its timing is the thread's wake-up, not the sample.
    """

    def __init__(self, name: str, rate: Callable[[], int]) -> None:
        try:
            import mido

            port = mido.open_output(name)
        except ImportError as err:
            raise IctusError(
                f"--midi-out {name!r}: an ALSA/rtmidi port needs mido and python-rtmidi "
                f"({err}); pip install python-rtmidi, or use --midi-out jack"
            ) from None
        except (OSError, RuntimeError, ValueError) as err:
            raise IctusError(
                f"--midi-out {name!r}: cannot open the MIDI port ({err}); "
                "see 'ictus devices', or use --midi-out jack"
            ) from None
        self._mido = mido
        self.port = port
        self._rate = rate
        self._queue: deque[tuple[int, bytes]] = deque()
        self._base = (0, 0.0)  # (backend clock, monotonic) of the latest block start
        self._clock = 0
        self._stop = threading.Event()
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="ictus-rtmidi", daemon=True)
        self._thread.start()

    def begin(self, clock: int, frames: int) -> None:
        self._clock = clock
        self._base = (clock, time.monotonic())

    def send(self, messages: Sequence[Message]) -> None:
        for offset, data in messages:
            self._queue.append((self._clock + offset, data))

    def _run(self) -> None:
        heap: list[tuple[int, int, bytes]] = []
        n = 0
        while not self._stop.is_set():
            while self._queue:
                at, data = self._queue.popleft()
                heapq.heappush(heap, (at, n, data))
                n += 1
            if not heap:
                time.sleep(0.0005)
                continue
            clock, then = self._base
            due = then + (heap[0][0] - clock) / max(self._rate(), 1)
            wait = due - time.monotonic()
            if wait > 0.0005:
                time.sleep(min(wait, 0.002))
                continue
            _, _, data = heapq.heappop(heap)
            self.port.send(self._mido.Message.from_bytes(data))
            self.sent += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        self.port.close()


class MidiSyncOutput(EventOutput):
    """MIDI clock and/or MTC on one MIDI sink, from the engine's transport.

    Parameters
    ----------
    sink : MidiSink
    clock : bool
        Send MIDI clock (start, stop, continue, Song Position Pointer).
    mtc : FrameRate or None
        Send MTC at this rate.
    start : Timecode, str or None
        MTC label of bar 1's downbeat (None: the map's ``start:``, else 00:00:00:00).

    How transport changes map onto the schedules (docs/SYNC.md): start and resume
    start them, a locate, jump, loop wrap or lost frames locate them, a tempo scale
    change or a new backend clock lets them go on with the new plan's schedule, and
    pause, stop, the end and an error stop them; notes that do not move the output
    (a loop set, a jump armed) say nothing.
    """

    def __init__(
        self,
        sink: MidiSink,
        *,
        clock: bool = False,
        mtc: FrameRate | None = None,
        start: Timecode | str | None = None,
    ) -> None:
        if not clock and mtc is None:
            raise ParameterError("a MIDI sync output needs MIDI clock, MTC or both")
        self.sink = sink
        self.clock = clock
        self.mtc = mtc
        self.start = start
        # plan serial -> (MidiClock or None, MtcClock or None), built on the control side
        self._tables: OrderedDict[int, tuple[MidiClock | None, MtcClock | None]] = OrderedDict()
        self._clock_out: MidiClockOutput | None = None
        self._mtc_out: MtcOutput | None = None

    def prepare(self, plan: Plan) -> None:
        line = plan.grid.timeline
        if line is None:
            raise ParameterError("a plan without a timeline cannot carry MIDI sync")
        clock = MidiClock(line, plan.rate) if self.clock else None
        mtc = MtcClock.for_timeline(line, self.mtc, plan.rate, self.start) if self.mtc else None
        self._tables[plan.serial] = (clock, mtc)
        while len(self._tables) > KEEP_PLANS:
            self._tables.popitem(last=False)

    def begin(self, clock: int, frames: int) -> None:
        self.sink.begin(clock, frames)

    def change(self, change: Change, offset: int) -> None:
        kind = change.kind
        if kind not in _STOPS and change.plan is None:
            return  # a locate while stopped, a loop set: nothing to say yet
        tables = self._tables.get(change.plan.serial) if change.plan is not None else None
        said: list[bytes] = []
        for i, out in enumerate(self._outputs(tables)):
            table = tables[i] if tables is not None else None
            if kind in (K.START, K.RESUME):
                said += out.start(change.frame, table, resume=kind is K.RESUME)  # type: ignore[arg-type]
            elif kind in _MOVES:
                said += out.locate(change.frame, table)  # type: ignore[arg-type]
            elif kind in (K.SCALE, K.REBASE):
                if table is not None:
                    said += out.follow(change.frame, table)  # type: ignore[arg-type]
            elif kind in _STOPS:
                said += out.stop()
        if said:
            self.sink.send([(offset, m) for m in said])

    def _outputs(
        self, tables: tuple[MidiClock | None, MtcClock | None] | None
    ) -> list[MidiClockOutput | MtcOutput]:
        """The schedules' followers, made on the first change that brings their tables."""
        if tables is not None:
            clock, mtc = tables
            if self._clock_out is None and clock is not None:
                self._clock_out = MidiClockOutput(clock)
            if self._mtc_out is None and mtc is not None:
                self._mtc_out = MtcOutput(mtc)
        outs: list[MidiClockOutput | MtcOutput] = []
        if self.clock:
            if self._clock_out is None:
                return []
            outs.append(self._clock_out)
        if self.mtc is not None:
            if self._mtc_out is None:
                return []
            outs.append(self._mtc_out)
        return outs

    def play(self, plan: Plan, frame: int, frames: int, offset: int) -> None:
        a = self._clock_out.render(frame, frames) if self._clock_out is not None else []
        b = self._mtc_out.render(frame, frames) if self._mtc_out is not None else []
        # stable: on a tie the clock goes first
        merged = sorted(a + b, key=lambda m: m[0]) if a and b else a or b
        if merged:
            self.sink.send([(offset + o, m) for o, m in merged])


# -- JACK transport ---------------------------------------------------------------------------

#: ticks per beat published as the JACK timebase master (a common sequencer value)
TICKS_PER_BEAT = 1920


class Beats(NamedTuple):
    """Every beat of a plan, for the timebase callback: arrays, one entry a beat."""

    frame: NDArray[np.int64]
    until: NDArray[np.int64]  # the next beat's frame (the last beat: the grid's end)
    bar: NDArray[np.int64]
    beat: NDArray[np.int64]
    beats_per_bar: NDArray[np.int64]
    beat_type: NDArray[np.float64]  # 4 / (quarters a beat): 4 for quarters, 8/3 for q.
    bpm: NDArray[np.float64]  # beats of that type a minute
    bar_start_tick: NDArray[np.float64]  # ticks from bar 1's downbeat to the beat's bar


def beats_of(plan: Plan) -> Beats:
    """The beats of ``plan`` (its on-beat clicks) with their bar, beat and meter.

    >>> from ictus.formats import parse_click
    >>> from ictus.sounds import Voice
    >>> from ictus.engine.plan import Outputs, build_plan
    >>> m = parse_click("a: 1 4/4 120\\nb: 1 6/8 q.=60")
    >>> b = beats_of(build_plan(m, Voice("i", 1000, [1.0], [1.0], [1.0]), rate=1000,
    ...                         outputs=Outputs(1)))
    >>> b.frame.tolist(), b.beats_per_bar.tolist(), b.beat_type.round(3).tolist()
    ([0, 500, 1000, 1500, 2000, 3000], [4, 4, 4, 4, 2, 2], [4.0, 4.0, 4.0, 4.0, 2.667, 2.667])
    >>> b.bpm.tolist(), b.bar_start_tick.tolist()
    ([120.0, 120.0, 120.0, 120.0, 60.0, 60.0], [0.0, 0.0, 0.0, 0.0, 7680.0, 7680.0])
    """
    g = plan.grid
    on = np.flatnonzero(g.sub == 0)
    frame = np.asarray(plan.samples, dtype=np.int64)[on]
    bar = g.bar[on].astype(np.int64)
    beat = g.beat[on].astype(np.int64)
    position = g.position[on]
    tempo = g.tempo[on]
    # a beat's length in quarters: up to the next beat (the last: as the one before)
    quarters = np.diff(position, append=position[-1:] + (position[-1:] - position[-2:-1]))
    if len(quarters) == 1:
        quarters[:] = 1.0
    starts = np.flatnonzero(np.diff(bar, prepend=bar[:1] - 1) != 0)  # each bar's first beat
    counts = np.diff(starts, append=len(bar))
    per_bar = np.repeat(counts, counts)
    bar_index = np.repeat(np.arange(len(starts)), counts)
    first_bar = np.searchsorted(bar[starts], 1)
    beats_before = np.cumsum(np.concatenate(([0], counts)))[:-1]
    origin = beats_before[first_bar] if first_bar < len(starts) else 0
    bar_tick = (beats_before[bar_index] - origin).clip(min=0) * float(TICKS_PER_BEAT)
    until = np.append(frame[1:], np.int64(plan.end))
    return Beats(
        frame, until, bar, beat, per_bar, 4.0 / quarters, tempo / quarters, bar_tick.astype(float)
    )


class JackTransportMaster(EventOutput):
    """The engine as JACK's timebase master (``--jack-transport master``).

    In the callback it rolls the JACK transport from bar 1's downbeat (after any
    count-in), stops it with the engine, and relocates it when the engine moves (a
    locate, jump, loop wrap, lost frames, a tempo scale change). JACK applies a locate
    two cycles after it is asked and then spends a cycle "starting" with the frame
    standing still, so the transport is asked for the map frame the engine will play
    three cycles on, and rolls from there on the engine's frame at every cycle start
    (measured in docs/SYNC.md); for those three cycles after a move it lags. Once
    settled, the transport's frame is checked at every cycle start and put back if it is
    not the engine's: around an xrun JACK can hand out a frame time twice or a cycle
    off, a locate then lands a period away, and the transport would stay there
    (:attr:`corrections` counts these). :meth:`timebase` (the backend registers it)
    publishes bar, beat, tick, tempo and meter for the transport's own frame, read on
    the engine's grid.
    """

    def __init__(self, backend: Any) -> None:
        import jack

        self.backend = backend  # its client is looked up each cycle (a reconnect renews it)
        self._beats: OrderedDict[int, Beats] = OrderedDict()
        self._n = 0
        self._next: tuple[Plan, int] | None = None  # (plan, grid frame) of the next cycle
        self._rolling = jack.ROLLING
        self._start_next = False  # a locate was asked: start in the next cycle
        self._on = False  # the transport was started (and not stopped) by us
        self._moved = False  # the engine moved in this block: relocate
        self._block_frame = 0  # map frame of this block's first sample
        self._settle = 0  # cycles until the transport must be where the engine is
        #: times the transport was found off the engine's frame and put back
        self.corrections = 0

    def prepare(self, plan: Plan) -> None:
        self._beats[plan.serial] = beats_of(plan)
        while len(self._beats) > KEEP_PLANS:
            self._beats.popitem(last=False)

    def begin(self, clock: int, frames: int) -> None:
        self._n = frames

    def change(self, change: Change, offset: int) -> None:
        kind = change.kind
        if kind in _STOPS or (change.plan is None and kind in _MOVES):
            self._next = None
            self._start_next = False
            self._on = False
            client = self.backend.client
            if client is not None:
                client.transport_stop()
        elif change.plan is not None and kind in _MOVES | {K.SCALE, K.REBASE}:
            self._moved = True

    def play(self, plan: Plan, frame: int, frames: int, offset: int) -> None:
        n = self._n
        if offset == 0:
            self._block_frame = frame - plan.origin
        if offset + frames != n:
            return  # only the block's last stretch says where the next cycle starts
        nxt = frame + frames
        self._next = (plan, nxt)
        client = self.backend.client
        if client is None:
            return
        # JACK rolls from a locate asked now three cycles on (the locate lands in the
        # cycle after next and a cycle of "starting" follows, measured on jackd 1.9):
        # so it is asked for where the engine will be then (cycles keep their size)
        if self._start_next:
            client.transport_start()
            self._start_next = False
            self._on = True
            return
        then = nxt + 2 * n - plan.origin  # map frame (bar 1's downbeat: 0) three cycles on
        if then < 0:
            return  # the count-in: the transport waits at bar 1
        if not self._on:
            client.transport_locate(then)
            self._start_next = True
            self._settle = SETTLE
        elif self._moved or self._off(client, offset == 0):
            client.transport_locate(then)
            self._settle = SETTLE
        self._moved = False

    def _off(self, client: Any, whole: bool) -> bool:
        """Whether the settled, rolling transport stands elsewhere than the engine did
        at this block's start (``whole``: one stretch, so no move inside the block)."""
        if self._settle > 0:
            self._settle -= 1
            return False
        if not whole:
            return False
        state, pos = client.transport_query_struct()
        if state != self._rolling or int(pos.frame) == self._block_frame:
            return False
        self.corrections += 1
        return True

    def timebase(self, state: int, blocksize: int, pos: Any, new_pos: bool) -> None:
        """JACK-Client's timebase callback: the BBT of the transport's frame for the
        next cycle, read on the grid of the plan playing (so bar, beat and tick always
        agree with the frame JACK publishes them with)."""
        nxt = self._next
        if nxt is None:
            return
        plan = nxt[0]
        frame = int(pos.frame) + plan.origin  # the transport's frame on this plan's grid
        beats = self._beats.get(plan.serial)
        if beats is None or not len(beats.frame):
            return
        i = int(np.searchsorted(beats.frame, frame, side="right")) - 1
        i = max(i, int(np.searchsorted(beats.bar, 1)))  # the count-in shows bar 1
        i = min(i, len(beats.frame) - 1)
        f0 = int(beats.frame[i])
        span = int(beats.until[i]) - f0
        tick = 0
        if span > 0 and frame > f0:
            tick = min((frame - f0) * TICKS_PER_BEAT // span, TICKS_PER_BEAT - 1)
        pos.valid = pos.valid | _BBT
        pos.bar = int(beats.bar[i])
        pos.beat = int(beats.beat[i])
        pos.tick = tick
        pos.bar_start_tick = float(beats.bar_start_tick[i])
        pos.beats_per_bar = float(beats.beats_per_bar[i])
        pos.beat_type = float(beats.beat_type[i])
        pos.ticks_per_beat = float(TICKS_PER_BEAT)
        pos.beats_per_minute = float(beats.bpm[i])


#: jack_position_bits_t JackPositionBBT (jack/types.h)
_BBT = 0x10


class JackTransportFollower(TransportFollower):
    """Follow the JACK transport another application moves (``--jack-transport follow``).

    Frame 0 of the JACK transport is bar 1's downbeat; its frame is turned into a bar
    of the map through the timeline. Started, stopped or moved over there, the engine
    starts, stops or locates to that bar (polled every few milliseconds).
    """

    name = "jack"

    def __init__(self, backend: Any, tempo_map: TempoMap) -> None:
        self.backend = backend
        self.bar_times = [Fraction(t) for t in Timeline(tempo_map).bar_times()][:-1]
        super().__init__(self._read)

    def _read(self) -> Place | None:
        client = self.backend.client
        if client is None:
            return None
        import jack

        try:
            state, pos = client.transport_query()
        except jack.JackError:
            return None
        t = Fraction(int(pos["frame"]), int(pos["frame_rate"]) or self.backend.rate)
        bar = max(bisect.bisect_right(self.bar_times, t), 1)
        return Place(state == jack.ROLLING, bar)


__all__ = [
    "JackMidiSink",
    "JackTransportFollower",
    "JackTransportMaster",
    "ListSink",
    "MidiSink",
    "MidiSyncOutput",
    "RtMidiSink",
    "beats_of",
]
