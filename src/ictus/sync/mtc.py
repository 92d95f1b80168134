"""MIDI Time Code on the grid: quarter frames, each stamped to its exact sample.

docs/REFERENCE.md section 7 and docs/SYNC.md. The byte encoders are
:func:`ictus.timebase.mtc.full_frame` and :func:`~ictus.timebase.mtc.quarter_frames`;
this module says *when* each message goes out.

**Timing.** Timecode frame ``k`` (labelled ``start + k``) begins ``k / fps`` seconds after
the start label's frame, exactly (29.97 is 30000/1001 fps), and quarter frame ``j``
``j / (4 fps)`` seconds after it. The start label's frame begins at grid time ``origin``
(bar 1's downbeat for a map: its ``start:`` header or ``--start-tc`` labels it; the
count-in runs on the labels before it). A message goes out on grid frame
``round(t * rate)``, worked out in integers from the exact time, as the clicks are.

**Pieces.** Quarter frame ``j`` is piece ``j mod 8`` of the label ``start + 2 (j div 8)``:
the eight pieces spelling a label begin at the start of that label's frame, for the
frames ``start``, ``start + 2``, ``start + 4``... A receiver has all eight two frames
later and adds the two. The pieces depend on the position only, so a locate does not
restart them at piece 0: it sends the full-frame message at once, and the quarter frames
go on from wherever the new position falls.

**Rates.** 24, 25, 29.97 drop-frame and 30 fps carry their own rate code; 29.97
non-drop goes out as 30 (and 23.976 as 24): the labels are the same, the timing is the
real rate's.

Examples
--------
>>> from ictus.timebase import FPS_25
>>> mtc = MtcClock(FPS_25, 48000, "01:00:00:00")   # a quarter frame every 480 samples
>>> [(offset, m.hex()) for offset, m in mtc.messages_in(0, 1000)]
[(0, 'f100'), (480, 'f110'), (960, 'f120')]
>>> str(mtc.timecode_at(1920 * 3 - 1)), mtc.full_frame_at(1920 * 3).hex(" ")
('01:00:00:02', 'f0 7f 7f 01 01 21 00 00 03 f7')
"""

from __future__ import annotations

from fractions import Fraction

from ictus.errors import ParameterError
from ictus.tempomap.timeline import Timeline
from ictus.timebase import (
    FPS_24,
    FPS_25,
    FPS_29_97_DF,
    FPS_29_97_NDF,
    FPS_30,
    FrameRate,
    Timecode,
    frames_per_day,
    parse_timecode,
)
from ictus.timebase.mtc import full_frame, quarter_frames, rate_code

#: The rates MTC is sent at (23.976 works too, labelled as 24).
MTC_RATES: tuple[FrameRate, ...] = (FPS_24, FPS_25, FPS_29_97_DF, FPS_29_97_NDF, FPS_30)

#: A message in a block: (sample offset in the block, bytes).
Message = tuple[int, bytes]


def _round_half_even(num: int, den: int) -> int:
    """``round(num / den)`` for ``den > 0``, ties to even (as ``numpy.rint``)."""
    q, r = divmod(num, den)
    twice = 2 * r
    if twice > den or (twice == den and q % 2 == 1):
        q += 1
    return q


class MtcClock:
    """Where each MTC quarter frame falls, in grid frames at sample ``rate``.

    Parameters
    ----------
    fps : FrameRate
        One of :data:`MTC_RATES` (or 23.976).
    rate : int
        Sample rate in Hz.
    start : Timecode, str or int
        The label of the frame that begins at ``origin`` (a frame count, a label at
        ``fps``, or a :class:`~ictus.timebase.Timecode` at ``fps``).
    origin : Fraction
        Grid seconds where that frame begins.
    """

    def __init__(
        self,
        fps: FrameRate,
        rate: int,
        start: Timecode | str | int = 0,
        origin: Fraction | int = 0,
    ) -> None:
        rate_code(fps)  # refuses rates MTC cannot carry
        if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
            raise ParameterError(f"sample rate must be an int > 0, got {rate!r}")
        self.fps = fps
        self.rate = rate
        self._per_day = frames_per_day(fps)
        if isinstance(start, Timecode):
            if start.rate != fps:
                raise ParameterError(
                    f"start timecode {start} is at {start.rate.name} fps, the MTC at {fps.name}"
                )
            self.start = start.to_frame()
        elif isinstance(start, str):
            self.start = parse_timecode(start, fps)
        else:
            self.start = int(start) % self._per_day
        self.origin = Fraction(origin)
        # sample of quarter frame j = (p + j q) / d, exactly
        a = self.origin * rate
        b = Fraction(rate) / (4 * fps.fps)
        self._p = a.numerator * b.denominator
        self._q = b.numerator * a.denominator
        self._d = a.denominator * b.denominator
        self._group = -1 << 62
        self._pieces: list[bytes] = []

    @classmethod
    def for_timeline(
        cls,
        timeline: Timeline,
        fps: FrameRate,
        rate: int,
        start: Timecode | str | int | None = None,
    ) -> MtcClock:
        """MTC for a plan: ``start`` (else the map's ``start:`` header, else 0) labels
        bar 1's downbeat.

        >>> from ictus.tempomap import CountIn, Section, Tempo, TempoMap, Timeline
        >>> from ictus.timebase import FPS_25
        >>> line = Timeline(TempoMap((Section(2, Tempo(120)),), count_in=CountIn(bars=1)))
        >>> mtc = MtcClock.for_timeline(line, FPS_25, 48000, "10:00:00:00")
        >>> str(mtc.timecode_at(0)), str(mtc.timecode_at(96000))
        ('09:59:58:00', '10:00:00:00')
        """
        if start is None:
            start = timeline.tempo_map.start if timeline.tempo_map.start is not None else 0
        return cls(fps, rate, start, timeline.grid_time(Fraction(0)))

    def frame_of(self, j: int) -> int:
        """Grid frame of quarter frame ``j`` (0 is the start label's frame start)."""
        return _round_half_even(self._p + j * self._q, self._d)

    def first_at(self, frame: int) -> int:
        """The first quarter frame on or after grid ``frame``."""
        # estimate from the exact time, then settle the rounding by looking
        j = (2 * frame * self._d - 2 * self._p) // (2 * self._q)
        while self.frame_of(j) >= frame:
            j -= 1
        while self.frame_of(j) < frame:
            j += 1
        return j

    def label(self, k: int) -> Timecode:
        """The label of timecode frame ``k`` (counted from the start label, wrapping
        round the day)."""
        return Timecode.from_frame((self.start + k) % self._per_day, self.fps)

    def timecode_at(self, frame: int) -> Timecode:
        """The label of the timecode frame playing at grid ``frame``."""
        return self.label((self.first_at(frame + 1) - 1) // 4)

    def full_frame_at(self, frame: int) -> bytes:
        """The full-frame message that locates a receiver to grid ``frame``."""
        tc = self.timecode_at(frame)
        return full_frame(tc.to_frame(), self.fps)

    def piece(self, j: int) -> bytes:
        """Quarter frame ``j``: piece ``j mod 8`` of label ``start + 2 (j div 8)``."""
        group, piece = divmod(j, 8)
        if group != self._group:
            self._pieces = quarter_frames((self.start + 2 * group) % self._per_day, self.fps)
            self._group = group
        return self._pieces[piece]

    def messages_in(self, frame_start: int, n: int) -> list[Message]:
        """The quarter frames on grid frames ``[frame_start, frame_start + n)``, stamped
        with their offset from ``frame_start``."""
        out: list[Message] = []
        j = self.first_at(frame_start)
        end = frame_start + n
        while (f := self.frame_of(j)) < end:
            out.append((f - frame_start, self.piece(j)))
            j += 1
        return out


class MtcOutput:
    """MTC that follows the transport: quarter frames while playing, a full frame on
    every start and locate.

    ==========================================  ============================
    transport change                            call
    ==========================================  ============================
    start, resume                               ``start(frame)``
    locate, jump, loop wrap, frames lost        ``locate(frame, new_clock)``
    scale, rebase                               ``follow(frame, new_clock)``
    pause, stop, end, error                     ``stop()`` (MTC has no stop:
                                                the quarter frames cease)
    ==========================================  ============================

    >>> from ictus.timebase import FPS_30
    >>> out = MtcOutput(MtcClock(FPS_30, 48000, "00:00:10:00"))
    >>> [m.hex(" ") for m in out.start(1600 * 30)]
    ['f0 7f 7f 01 01 60 00 0b 00 f7']
    >>> [(offset, m.hex()) for offset, m in out.render(1600 * 30, 1200)]  # 00:00:11:00
    [(0, 'f100'), (400, 'f110'), (800, 'f12b')]
    """

    def __init__(self, clock: MtcClock) -> None:
        self.clock = clock
        self.playing = False

    def start(
        self, frame: int, clock: MtcClock | None = None, *, resume: bool = False
    ) -> list[bytes]:
        """Playing starts (or resumes: the same here) at grid ``frame``: a full frame."""
        if clock is not None:
            self.clock = clock
        self.playing = True
        return [self.clock.full_frame_at(frame)]

    def locate(self, frame: int, clock: MtcClock | None = None) -> list[bytes]:
        """The position jumps to grid ``frame``: a full frame."""
        return self.start(frame, clock)

    def follow(self, frame: int, clock: MtcClock) -> list[bytes]:
        """A new plan's schedule from its grid ``frame`` on: a tempo scale change moves
        the labels with the music, so a full frame says where they are now."""
        return self.start(frame, clock)

    def stop(self) -> list[bytes]:
        self.playing = False
        return []

    def render(self, frame: int, n: int) -> list[Message]:
        if not self.playing:
            return []
        return self.clock.messages_in(frame, n)


__all__ = ["MTC_RATES", "Message", "MtcClock", "MtcOutput"]
