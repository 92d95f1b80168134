"""MIDI clock on the grid: 24 clocks a quarter note, each stamped to its exact sample.

docs/REFERENCE.md section 7 and docs/SYNC.md. The messages:

=========  =====================  ===================================================
bytes      name                   when ictus sends it
=========  =====================  ===================================================
``F8``     timing clock           at every map quarter ``c / 24`` while playing,
                                  count-in included (the receiver follows the tempo
                                  before it runs)
``FA``     start                  playback from bar 1: just before the clock on bar
                                  1's downbeat (after the count-in)
``F2 l m`` Song Position Pointer  when playing starts anywhere else, after a locate,
                                  loop or jump: sixteenths from bar 1's downbeat,
                                  always >= 0, sent at once (the receiver is stopped)
``FB``     continue               just before the clock on that sixteenth
``FC``     stop                   on stop or pause, and before the pointer when the
                                  position jumps while playing
=========  =====================  ===================================================

**Timing.** Clock ``c`` is map quarter ``c / 24`` (bar 1's downbeat is clock 0; the
count-in's clocks are negative). Its time comes from the timeline's vectorised
:meth:`~ictus.tempomap.Timeline.grid_times` at once for every clock, never by adding
intervals, and it goes out on grid frame ``round(t * rate)``, the rule that places the
clicks (:meth:`~ictus.tempomap.ClickGrid.samples`). A receiver starts on the first clock
after ``FA``/``FB``, so those go out in the same sample as that clock, just before it.

**Count-in.** Like a DAW with a pre-roll, the clock runs through the count-in so a
drum machine can lock to the tempo, and ``FA`` starts it on bar 1. Started from a later
bar, the pointer goes out when playback starts and ``FB`` on the start bar's downbeat.
A pointer counts whole sixteenths: a position between two (a locate into the middle of
a beat) continues from the next sixteenth. Beyond sixteenth 16383 (1024 bars of 4/4) no
pointer can say where: the clocks go on, and the receiver stays stopped.

Two layers: :class:`MidiClock` is pure (which clocks fall on which grid frames of one
timeline at one sample rate); :class:`MidiClockOutput` follows the transport (start,
stop, locate) and adds the transport messages. Both run in the audio callback: after
construction they only search a precomputed table.

Examples
--------
>>> from ictus.tempomap import Section, Tempo, TempoMap, Timeline
>>> from ictus.tempomap.model import CountIn
>>> line = Timeline(TempoMap((Section(2, Tempo(120)),), count_in=CountIn(beats=1)))
>>> clock = MidiClock(line, 48000)      # 120 BPM: a clock every 1000 samples
>>> [(offset, m.hex()) for offset, m in clock.messages_in(23500, 2000)]
[(500, 'f8'), (1500, 'f8')]
>>> out = MidiClockOutput(clock)
>>> out.start(0)                        # from the count-in: nothing to say yet
[]
>>> [(offset, m.hex()) for offset, m in out.render(23500, 2000)]  # bar 1 at frame 24000
[(500, 'fa'), (500, 'f8'), (1500, 'f8')]
>>> [m.hex(" ") for m in out.locate(120000)]  # to bar 2 (grid 2.5 s) while playing
['fc', 'f2 10 00']
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.tempomap.timeline import Timeline

CLOCK = bytes((0xF8,))
START = bytes((0xFA,))
CONTINUE = bytes((0xFB,))
STOP = bytes((0xFC,))
SONG_POSITION = 0xF2

CLOCKS_PER_QUARTER = 24
CLOCKS_PER_SIXTEENTH = 6
#: The pointer's range: 14 bits of sixteenths (1024 bars of 4/4).
MAX_SONG_POSITION = (1 << 14) - 1

#: A message in a block: (sample offset in the block, bytes).
Message = tuple[int, bytes]

# Within this many samples of a half, a float sample position is settled exactly (float
# error at 3 hours and 384 kHz is below 1e-6 samples).
_NEAR_HALF = 1e-5

# Clocks tabled beyond the map's ends (count-in, pre-roll, a tail after the end);
# further out they are computed when asked.
_MARGIN_QUARTERS = 16


def song_position(sixteenths: int) -> bytes:
    """The Song Position Pointer ``F2 lsb msb`` (7 bits each, low first).

    >>> song_position(16).hex(" "), song_position(300).hex(" ")
    ('f2 10 00', 'f2 2c 02')
    """
    if not 0 <= sixteenths <= MAX_SONG_POSITION:
        raise ParameterError(
            f"a Song Position Pointer holds 0..{MAX_SONG_POSITION} sixteenths, got {sixteenths}"
        )
    return bytes((SONG_POSITION, sixteenths & 0x7F, sixteenths >> 7))


def decode_song_position(message: bytes) -> int:
    """Sixteenths in a Song Position Pointer (the inverse of :func:`song_position`).

    >>> decode_song_position(bytes.fromhex("f22c02"))
    300
    """
    if len(message) != 3 or message[0] != SONG_POSITION or (message[1] | message[2]) & 0x80:
        raise ParameterError(f"not a Song Position Pointer: {message.hex(' ')}")
    return message[1] | message[2] << 7


class Anchor(NamedTuple):
    """The transport's position: at backend ``clock`` it plays grid ``frame``.

    After a locate the transport has a new anchor; every later sample follows from it.

    >>> Anchor(clock=1000, frame=-256).frame_at(1300)
    44
    """

    clock: int
    frame: int

    def frame_at(self, clock: int) -> int:
        return self.frame + (clock - self.clock)

    def clock_at(self, frame: int) -> int:
        return self.clock + (frame - self.frame)


class MidiClock:
    """Where each MIDI clock of a timeline falls, in grid frames at ``rate``.

    Parameters
    ----------
    timeline : Timeline
        The plan's timeline (its count-in, start bar and scale included).
    rate : int
        Sample rate in Hz.

    Notes
    -----
    Clock ``c`` is map quarter ``c / 24``; on the grid it is at grid quarter
    ``c / 24 - origin_quarter + count_in_quarters``. The frames of every clock from a
    little before the count-in to a little after the map's end are computed at
    construction (on the control side); :meth:`ticks_in` then only searches them.
    """

    def __init__(self, timeline: Timeline, rate: int) -> None:
        if rate <= 0:
            raise ParameterError(f"sample rate must be > 0, got {rate}")
        self.timeline = timeline
        self.rate = rate
        # grid quarter = map quarter + shift
        self._shift = timeline.count_in_quarters - timeline.origin_quarter
        self.origin_count = math.ceil(timeline.origin_quarter * CLOCKS_PER_QUARTER)
        lo = math.floor((-self._shift - _MARGIN_QUARTERS) * CLOCKS_PER_QUARTER)
        hi = math.ceil((timeline.end_quarter + _MARGIN_QUARTERS) * CLOCKS_PER_QUARTER)
        self._first = lo
        self._table = self.frames_of(np.arange(lo, hi + 1, dtype=np.int64))
        if len(self._table) > 1 and not (np.diff(self._table) > 0).all():
            raise ParameterError(
                f"the tempo is too fast for MIDI clock at {rate} Hz: two clocks share a sample"
            )

    def frames_of(self, counts: NDArray[np.int64]) -> NDArray[np.int64]:
        """Grid frame of each clock in ``counts``: ``round(rate * grid time)``, ties to
        even."""
        quarters = counts / CLOCKS_PER_QUARTER + float(self._shift)
        samples = self.timeline.grid_times(quarters) * self.rate
        frames = np.rint(samples)
        # 1/24 is no binary fraction, so a clock whose exact time falls on half a sample
        # (1/16 s at 40 BPM is 2756.25 samples at 44.1 kHz: every other clock) would
        # be rounded by the float's last bit: settle those from the exact time
        for i in np.flatnonzero(np.abs(samples - np.floor(samples) - 0.5) < _NEAR_HALF):
            q = Fraction(int(counts[i]), CLOCKS_PER_QUARTER) + self._shift
            frames[i] = round(self.timeline.grid_time_at(q) * self.rate)
        return frames.astype(np.int64)

    def frame_of(self, count: int) -> int:
        """Grid frame of clock ``count`` (``origin_count`` is the start bar's downbeat)."""
        i = count - self._first
        if 0 <= i < len(self._table):
            return int(self._table[i])
        return int(self.frames_of(np.array([count], dtype=np.int64))[0])

    def count_at(self, frame: int) -> int:
        """The first clock on or after grid ``frame``."""
        table = self._table
        if table[0] <= frame <= table[-1]:
            return self._first + int(np.searchsorted(table, frame, side="left"))
        q = float(self.timeline.grid_quarters([frame / self.rate])[0]) - float(self._shift)
        c = math.floor(q * CLOCKS_PER_QUARTER) - 2  # a little before, then walk
        while self.frame_of(c) < frame:
            c += 1
        while self.frame_of(c - 1) >= frame:
            c -= 1
        return c

    def ticks_in(self, frame: int, n: int) -> tuple[int, NDArray[np.int64]]:
        """The clocks on grid frames ``[frame, frame + n)``: (first count, their frames)."""
        table = self._table
        if table[0] <= frame and frame + n <= table[-1] + 1:
            lo = int(np.searchsorted(table, frame, side="left"))
            hi = int(np.searchsorted(table, frame + n, side="left"))
            return self._first + lo, table[lo:hi]
        first = self.count_at(frame)
        last = self.count_at(frame + n)  # the first one after the window
        return first, self.frames_of(np.arange(first, last, dtype=np.int64))

    def messages_in(self, frame_start: int, n: int) -> list[Message]:
        """The timing clocks of grid frames ``[frame_start, frame_start + n)``, stamped
        with their offset from ``frame_start``."""
        _, frames = self.ticks_in(frame_start, n)
        return [(int(f) - frame_start, CLOCK) for f in frames]


class MidiClockOutput:
    """MIDI clock that follows the transport: clocks plus start, stop and position.

    Callback side: the transport tells it what happens (:meth:`start`, :meth:`locate`,
    :meth:`stop`, :meth:`follow`), each returning the messages due at that sample, and
    asks :meth:`render` for each stretch of grid frames that plays. An engine's event
    output hook maps its transport changes onto these:

    ==========================================  ===========================
    transport change                            call
    ==========================================  ===========================
    start (from the plan's beginning)           ``start(frame)``
    resume                                      ``start(frame, resume=True)``
    locate, jump, loop wrap, frames lost        ``locate(frame)``
    scale, rebase (the music goes on)           ``follow(frame, new_clock)``
    pause, stop, end, error                     ``stop()``
    ==========================================  ===========================

    Parameters
    ----------
    clock : MidiClock
        The schedule of the plan that plays; a new plan's comes with the call that
        switches to it.
    """

    def __init__(self, clock: MidiClock) -> None:
        self.clock = clock
        self.playing = False
        self._cue: tuple[int, bytes] | None = None  # (count, FA or FB) before that clock
        self._last: int | None = None  # the last clock sent since the position last jumped

    def _position(self, frame: int, clock: MidiClock | None) -> int:
        if clock is not None:
            self.clock = clock
        # the receiver may start no earlier than the start bar and only on a sixteenth
        c = max(self.clock.count_at(frame), self.clock.origin_count, 0)
        return -(-c // CLOCKS_PER_SIXTEENTH) * CLOCKS_PER_SIXTEENTH

    def start(
        self, frame: int, clock: MidiClock | None = None, *, resume: bool = False
    ) -> list[bytes]:
        """Playing starts at grid ``frame``: ``FA`` on bar 1, else the pointer now and
        ``FB`` on the first sixteenth from there. Returns the messages due now."""
        c = self._position(frame, clock)
        self.playing = True
        self._last = None
        if c == 0 and not resume:
            self._cue = (c, START)
            return []
        if c // CLOCKS_PER_SIXTEENTH > MAX_SONG_POSITION:
            # no pointer can say where: the receiver stays stopped, the clocks go on
            self._cue = None
            return []
        self._cue = (c, CONTINUE)
        return [song_position(c // CLOCKS_PER_SIXTEENTH)]

    def locate(self, frame: int, clock: MidiClock | None = None) -> list[bytes]:
        """The position jumps to grid ``frame`` (locate, jump, loop wrap, lost frames):
        stop if playing, the pointer, then ``FB`` on the next sixteenth."""
        out = [STOP] if self.playing else []
        return out + self.start(frame, clock, resume=True)

    def follow(self, frame: int, clock: MidiClock) -> list[bytes]:
        """Go on with a new plan's schedule at the same musical position (a tempo scale
        change, a new backend clock), from its grid ``frame``: a clock already sent is
        not sent again, and nothing needs saying."""
        self.clock = clock
        return []

    def stop(self) -> list[bytes]:
        """Playing stops (stop, pause, the end): ``FC`` if it was playing."""
        was = self.playing
        self.playing = False
        self._cue = None
        return [STOP] if was else []

    def render(self, frame: int, n: int) -> list[Message]:
        """Messages for grid frames ``[frame, frame + n)`` of the current plan, stamped
        with their offset from ``frame`` (nothing while stopped)."""
        if not self.playing:
            return []
        first, frames = self.clock.ticks_in(frame, n)
        out: list[Message] = []
        last, cue = self._last, self._cue
        for i, f in enumerate(frames.tolist()):
            c = first + i
            if last is not None and c <= last:
                continue
            if cue is not None and c == cue[0]:
                out.append((f - frame, cue[1]))
                cue = None
            out.append((f - frame, CLOCK))
            last = c
        self._last, self._cue = last, cue
        return out


def clock_times(timeline: Timeline, counts: NDArray[np.int64]) -> NDArray[np.float64]:
    """Grid seconds of MIDI clocks ``counts`` (map quarter ``c / 24``), for tools.

    >>> from ictus.tempomap import Section, Tempo, TempoMap, Timeline
    >>> clock_times(Timeline(TempoMap((Section(1, Tempo(60)),))), np.array([0, 12, 24]))
    array([0. , 0.5, 1. ])
    """
    shift = float(timeline.count_in_quarters - timeline.origin_quarter)
    return timeline.grid_times(counts / CLOCKS_PER_QUARTER + shift)


__all__ = [
    "CLOCK",
    "CLOCKS_PER_QUARTER",
    "CONTINUE",
    "START",
    "STOP",
    "Anchor",
    "Message",
    "MidiClock",
    "MidiClockOutput",
    "clock_times",
    "decode_song_position",
    "song_position",
]
