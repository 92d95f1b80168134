"""Linear Timecode (LTC, SMPTE 12M) as audio, computed from the sample position alone.

The frame word (80 bits, sent bit 0 first):

=====================  ===========================================================
bits                   meaning
=====================  ===========================================================
0-3, 8-9               frame units, tens (BCD, least significant bit first, as
                       every BCD field here)
10                     drop-frame flag (29.97 DF only)
11                     colour-frame flag
16-19, 24-26           seconds units, tens
27                     polarity correction at 24, 29.97 and 30 fps (a binary
                       group flag at 25)
32-35, 40-42           minutes units, tens
43, 58                 binary group flags, 0 (no user-bit format, not clock time)
48-51, 56-57           hours units, tens
59                     polarity correction at 25 fps (a group flag at the others)
4-7, 12-15, ... 60-63  the eight groups of user bits, all 0 here
64-79                  sync word 0011111111111101 (in the order sent)
=====================  ===========================================================

The polarity-correction bit makes every word hold an even number of zeros (so of ones),
as libltc's ``ltc_frame_set_parity`` does. Biphase-mark coding changes the level at every
bit boundary and once more in the middle of a ``1``; 80 boundaries plus an even number of
ones is an even number of changes, so **every frame starts at the same level**: here each
frame begins with a rise to ``+amplitude``. That is what lets the level at any sample be
computed from the frame that sample is in, with no memory of what came before.

Timing: the bit rate is exactly ``80 * fps`` (29.97 is 30000/1001). With the timecode
origin at sample 0, the ``j``-th half bit (``j = 160 k`` starts frame ``k``) begins at
sample ``floor(j * rate / (160 * fps) + 1/2)``, the ideal position rounded half up, so
every frame starts within half a sample of its ideal time and the error never grows.

Rise time: SMPTE 12M asks for 25 +- 5 us from 10 % to 90 %. ``rise_time`` smooths the
square wave with a symmetric box filter ``rise_time / 0.8`` wide (the full width of a
linear ramp whose 10-90 % time is ``rise_time``), applied to the position-computed square
wave, so it too is identical however the audio is cut into blocks. Being symmetric it
leaves each edge's mid-point where it was. Up to one sample wide (25 us at 32 kHz and
below) it does nothing; ``rise_time=None`` gives hard edges. Read off the samples by
linear interpolation the 25 us default gives 25.0 us at 96, 192 and 384 kHz, and 35 us
at 44.1 kHz, 37.5 us at 48 kHz (a sample there is 21-23 us: the converter's own
reconstruction filter sets the analogue edge at these rates).

Examples
--------
>>> from ictus.timebase import FPS_24, FPS_25
>>> sig = LtcSignal(FPS_25, 48000, rise_time=None)
>>> sig.render(0, 3), sig.render(22, 4)  # frame 00:00:00:00 bit 0 is a zero: 24 samples high
(array([0.5, 0.5, 0.5], dtype=float32), array([ 0.5,  0.5, -0.5, -0.5], dtype=float32))
>>> [LtcSignal(FPS_24, 44100).frame_start(k) for k in range(4)]  # 1837.5 samples a frame
[0, 1838, 3675, 5513]
"""

from __future__ import annotations

import math
import os
import wave
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ictus.atomic import atomic_path
from ictus.errors import ParameterError
from ictus.timebase import (
    FPS_23_976,
    FPS_24,
    FPS_25,
    FPS_29_97_DF,
    FPS_29_97_NDF,
    FPS_30,
    FrameRate,
    Number,
    Timecode,
    frames_per_day,
    parse_rate,
    parse_timecode,
    seconds_to_frames,
)

#: The rates LTC carries. 23.976 runs the 24 fps labels at 24000/1001 fps (no flag says so).
LTC_RATES: tuple[FrameRate, ...] = (
    FPS_23_976,
    FPS_24,
    FPS_25,
    FPS_29_97_DF,
    FPS_29_97_NDF,
    FPS_30,
)

#: Bits 64-79 as an integer (bit 64 is its least significant bit): 0011111111111101 sent.
SYNC_WORD = 0xBFFC

BITS_PER_FRAME = 80
_HALVES_PER_FRAME = 2 * BITS_PER_FRAME

#: Sample rates accepted, in Hz.
MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 384000

#: SMPTE 12M's rise time (10 % to 90 %), the default.
SMPTE_RISE_TIME = 25e-6
# Longer edges would blur into the next half bit at 30 fps (a half bit is 208 us).
_MAX_RISE_TIME = 100e-6

# Positions are multiplied by the half-bit rate in int64; stay well inside it.
_INT64_HEADROOM = 2**62

# Bit offset of each BCD field (least significant bit first) and its width.
_FIELDS = {
    "frame_units": (0, 4),
    "frame_tens": (8, 2),
    "seconds_units": (16, 4),
    "seconds_tens": (24, 3),
    "minutes_units": (32, 4),
    "minutes_tens": (40, 3),
    "hours_units": (48, 4),
    "hours_tens": (56, 2),
}
_DROP_FRAME_BIT = 10
_COLOUR_FRAME_BIT = 11


def parity_bit(rate: FrameRate) -> int:
    """The bit that corrects the biphase polarity: 59 at 25 fps, 27 at the others.

    >>> from ictus.timebase import FPS_25, FPS_29_97_DF
    >>> parity_bit(FPS_25), parity_bit(FPS_29_97_DF)
    (59, 27)
    """
    _check_rate(rate)
    # SMPTE 12M swaps the roles of bits 27 and 59 in 625/50 systems (libltc's table too).
    return 59 if rate.nominal == 25 else 27


def ltc_word(tc: Timecode, *, colour_frame: bool = False) -> int:
    """The 80-bit LTC word for one label, as an integer (bit ``i`` is sent ``i``-th).

    Parameters
    ----------
    tc
        The label; its rate decides the drop-frame flag and the polarity bit.
    colour_frame
        Set bit 11 (the timecode is locked to a colour field sequence).

    Examples
    --------
    >>> from ictus.timebase import FPS_25, FPS_29_97_DF
    >>> word = ltc_word(Timecode.parse("01:02:03:05", FPS_25))
    >>> "".join(str(word >> i & 1) for i in range(64, 80))
    '0011111111111101'
    >>> f"{word & (1 << 64) - 1:016x}"  # user bits zero; bit 59 evens the zeros
    '0801000200030005'
    >>> bin(ltc_word(Timecode.parse("00:01:00;02", FPS_29_97_DF)) >> 10 & 1)
    '0b1'
    """
    rate = tc.rate
    _check_rate(rate)
    values = {
        "frame_units": tc.frames % 10,
        "frame_tens": tc.frames // 10,
        "seconds_units": tc.seconds % 10,
        "seconds_tens": tc.seconds // 10,
        "minutes_units": tc.minutes % 10,
        "minutes_tens": tc.minutes // 10,
        "hours_units": tc.hours % 10,
        "hours_tens": tc.hours // 10,
    }
    word = SYNC_WORD << 64
    for name, (offset, _width) in _FIELDS.items():
        word |= values[name] << offset
    if rate.drop_frame:
        word |= 1 << _DROP_FRAME_BIT
    if colour_frame:
        word |= 1 << _COLOUR_FRAME_BIT
    # An odd number of ones (80 bits: so of zeros) would flip the next frame's polarity.
    if word.bit_count() % 2:
        word |= 1 << parity_bit(rate)
    return word


@lru_cache(maxsize=1024)
def _frame_levels(label: int, rate: FrameRate, colour_frame: bool) -> NDArray[np.int8]:
    """Level (+1 or -1) in each of the 160 half bits of the frame labelled ``label``."""
    word = ltc_word(Timecode.from_frame(label, rate), colour_frame=colour_frame)
    bits = np.unpackbits(
        np.frombuffer(word.to_bytes(BITS_PER_FRAME // 8, "little"), dtype=np.uint8),
        bitorder="little",
    ).astype(np.int64)
    ones_before = np.concatenate(([0], np.cumsum(bits)))
    half = np.arange(_HALVES_PER_FRAME)
    # Changes up to and including half bit h: one at each bit start so far, plus one in
    # the middle of every 1 whose middle has passed. Odd means high.
    changes = half // 2 + 1 + ones_before[(half + 1) // 2]
    levels = np.where(changes % 2 == 1, 1, -1).astype(np.int8)
    levels.flags.writeable = False
    return levels


def _check_rate(rate: FrameRate) -> None:
    if rate not in LTC_RATES:
        names = ", ".join(r.name for r in LTC_RATES)
        raise ParameterError(f"LTC runs at {names} fps; {rate.name} is not one of them")


def _check_int(value: object, what: str) -> int:
    # bool is an int subclass; True samples is a bug, not a number.
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(f"{what} must be an int, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class LtcSignal:
    """LTC at one frame rate and sample rate, rendered from any sample position.

    Sample 0 is the timecode origin: frame ``k`` starts at sample
    ``floor(k * sample_rate / fps + 1/2)`` and carries the label ``start + k``
    (labels wrap at 24 hours, and so do negative ``k``: the pre-roll before a start
    at 00:00:00:00 reads 23:59:59:xx).

    Parameters
    ----------
    rate
        One of :data:`LTC_RATES`.
    sample_rate
        Samples per second, 8000 to 384000.
    amplitude
        Peak level, 0 < amplitude <= 1 (the wave swings between -amplitude and
        +amplitude). 0.5 is -6 dBFS.
    rise_time
        10-90 % rise time in seconds (0 to 100 us), or ``None`` for hard edges.
    colour_frame
        Set the colour-frame flag (bit 11) in every frame.

    Examples
    --------
    >>> from ictus.timebase import FPS_29_97_DF
    >>> sig = LtcSignal(FPS_29_97_DF, 48000)
    >>> sig.frame_start(1), sig.frame_start(30)  # 1601.6 samples a frame
    (1602, 48048)
    >>> sig.frame_at(1601), sig.frame_at(1602), sig.frame_at(-1)
    (0, 1, -1)
    """

    rate: FrameRate
    sample_rate: int
    amplitude: float = 0.5
    rise_time: float | None = SMPTE_RISE_TIME
    colour_frame: bool = False
    # Half bits per sample, reduced: half = ((2 n + 1) * _num - 1) // (2 * _den).
    _num: int = field(init=False, repr=False, compare=False)
    _den: int = field(init=False, repr=False, compare=False)
    _taps: NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.rate, FrameRate):
            raise ParameterError(f"rate must be a FrameRate, got {self.rate!r}")
        _check_rate(self.rate)
        sample_rate = _check_int(self.sample_rate, "sample rate")
        if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
            raise ParameterError(
                f"sample rate must be {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz, got {sample_rate}"
            )
        if (
            isinstance(self.amplitude, bool)
            or not isinstance(self.amplitude, int | float)
            or not 0 < self.amplitude <= 1
        ):
            raise ParameterError(f"amplitude must be in (0, 1], got {self.amplitude!r}")
        if self.rise_time is not None and (
            isinstance(self.rise_time, bool)
            or not isinstance(self.rise_time, int | float)
            or not 0 <= self.rise_time <= _MAX_RISE_TIME
        ):
            raise ParameterError(
                f"rise time must be 0..{_MAX_RISE_TIME * 1e6:g} us (SMPTE: 25 us) or None, "
                f"got {self.rise_time!r}"
            )
        halves_per_sample = Fraction(_HALVES_PER_FRAME) * self.rate.fps / sample_rate
        object.__setattr__(self, "sample_rate", sample_rate)
        object.__setattr__(self, "_num", halves_per_sample.numerator)
        object.__setattr__(self, "_den", halves_per_sample.denominator)
        object.__setattr__(self, "_taps", _rise_taps(self.rise_time or 0.0, sample_rate))

    def frame_start(self, k: int) -> int:
        """First sample of frame ``k``: ``k * sample_rate / fps`` rounded half up.

        >>> from ictus.timebase import FPS_23_976
        >>> LtcSignal(FPS_23_976, 48000).frame_start(24)  # 1.001 s
        48048
        """
        k = _check_int(k, "frame")
        ideal = Fraction(k * self.sample_rate) / self.rate.fps
        return math.floor(ideal + Fraction(1, 2))

    def frame_at(self, sample: int) -> int:
        """Index of the frame that sample ``sample`` is in (the inverse of :meth:`frame_start`)."""
        sample = _check_int(sample, "sample")
        return ((2 * sample + 1) * self._num - 1) // (2 * self._den) // _HALVES_PER_FRAME

    def label(self, k: int, start: int = 0) -> Timecode:
        """The label frame ``k`` carries when frame 0 is labelled ``start`` (wraps at 24 h).

        >>> from ictus.timebase import FPS_25
        >>> str(LtcSignal(FPS_25, 48000).label(-1))
        '23:59:59:24'
        """
        return Timecode.from_frame((start + k) % frames_per_day(self.rate), self.rate)

    def render(self, start_sample: int, n: int, start: int = 0) -> NDArray[np.float32]:
        """The ``n`` samples from ``start_sample`` on (counted from the origin).

        A pure function of position: cutting a stretch into blocks anywhere and
        rendering them one by one gives the same samples as one call.

        Parameters
        ----------
        start_sample
            Position of the first sample; negative is before the origin (pre-roll).
        n
            Number of samples, >= 0.
        start
            Frame count (at :attr:`rate`) of the label frame 0 carries.

        Returns
        -------
        numpy.ndarray
            ``n`` float32 samples between ``-amplitude`` and ``+amplitude``.
        """
        n = _check_int(n, "sample count")
        if n < 0:
            raise ParameterError(f"sample count must be >= 0, got {n}")
        out = np.zeros(n, dtype=np.float32)
        if n:
            self.write(start_sample, out, start, LtcScratch(self, n))
        return out

    def write(
        self, start_sample: int, out: NDArray[np.float32], start: int, scratch: LtcScratch
    ) -> None:
        """:meth:`render` into ``out`` (1-D float32, at most ``scratch.capacity`` long)
        with ``scratch``'s buffers: no array is allocated, for the audio callback.

        >>> from ictus.timebase import FPS_25
        >>> sig = LtcSignal(FPS_25, 48000)
        >>> out = np.zeros(5, np.float32)
        >>> sig.write(1000, out, 0, LtcScratch(sig, 256))
        >>> np.array_equal(out, sig.render(1000, 5))
        True
        """
        start_sample = _check_int(start_sample, "start sample")
        start = _check_int(start, "start frame")
        n = out.shape[0]
        if n == 0:
            return
        if n > scratch.capacity or scratch.reach != len(self._taps) // 2:
            raise ParameterError(f"{n} samples do not fit a scratch of {scratch.capacity}")
        reach = scratch.reach
        count = n + 2 * reach
        first = start_sample - reach
        last = first + count - 1
        if max(abs(2 * first + 1), abs(2 * last + 1)) * self._num >= _INT64_HEADROOM:
            raise ParameterError(
                f"sample position {first} is too far from the LTC origin to compute in 64 bits"
            )
        # Half bit j covers the samples whose centre (n + 1/2) lies in (j, j + 1] half
        # bits: so every change lands on its ideal position rounded half up.
        half = scratch.half[:count]
        np.add(scratch.index[:count], first, out=half)
        half *= 2
        half += 1
        half *= self._num
        half -= 1
        np.floor_divide(half, 2 * self._den, out=half)
        first_frame = int(half[0]) // _HALVES_PER_FRAME
        last_frame = int(half[-1]) // _HALVES_PER_FRAME
        days = frames_per_day(self.rate)
        table = scratch.table
        for k in range(first_frame, last_frame + 1):
            table[k - first_frame] = _frame_levels((start + k) % days, self.rate, self.colour_frame)
        # the index of each sample's half bit in the table's rows, one after another
        half -= first_frame * _HALVES_PER_FRAME
        hard = scratch.hard[:count]
        scratch.flat_table.take(half, out=hard, mode="clip")  # "raise" would copy
        # all in float64 (the levels too): a ufunc mixing types would cast through a
        # buffer it allocates
        acc = scratch.acc[:n]
        if reach == 0:
            np.multiply(hard, self.amplitude, out=acc)
        else:
            # the box filter, tap by tap (np.convolve would allocate); symmetric taps
            tmp, taps = scratch.tmp[:n], self._taps
            np.multiply(hard[:n], taps[0], out=acc)
            for k in range(1, len(taps)):
                np.multiply(hard[k : k + n], taps[k], out=tmp)
                acc += tmp
            acc *= self.amplitude
        np.copyto(out, acc, casting="same_kind")


class LtcScratch:
    """Buffers for :meth:`LtcSignal.write` of up to ``capacity`` samples at a time.

    Made on the control side for one signal; the audio callback then renders LTC without
    allocating an array.
    """

    def __init__(self, signal: LtcSignal, capacity: int) -> None:
        self.capacity = capacity
        self.reach = len(signal._taps) // 2
        size = capacity + 2 * self.reach
        self.index = np.arange(size, dtype=np.int64)
        self.half = np.empty(size, dtype=np.int64)
        self.hard = np.empty(size, dtype=np.float64)
        self.acc = np.empty(capacity, dtype=np.float64)
        self.tmp = np.empty(capacity, dtype=np.float64)
        # every frame a stretch of ``size`` samples can touch, with one to spare each side
        frames = math.ceil(Fraction(size) * signal.rate.fps / signal.sample_rate) + 2
        self.table = np.empty((frames, _HALVES_PER_FRAME), dtype=np.float64)
        self.flat_table = self.table.reshape(-1)


def _rise_taps(rise_time: float, sample_rate: int) -> NDArray[np.float64]:
    """Symmetric box filter ``rise_time / 0.8`` samples wide, ends weighted fractionally.

    >>> _rise_taps(25e-6, 48000)  # 1.5 samples: a -1 -> +1 step becomes -2/3, +2/3
    array([0.16666667, 0.66666667, 0.16666667])
    >>> _rise_taps(25e-6, 32000), _rise_taps(0.0, 96000)
    (array([1.]), array([1.]))
    """
    width = rise_time / 0.8 * sample_rate
    if width <= 1:
        return np.ones(1)
    reach = math.ceil((width - 1) / 2)
    end = (width - (2 * reach - 1)) / 2
    taps = np.ones(2 * reach + 1)
    taps[0] = taps[-1] = end
    result: NDArray[np.float64] = taps / width
    return result


class _Anchor(NamedTuple):
    """Engine frame at which the LTC origin lies, and the label (frame count) it carries."""

    origin_frame: int
    start: int


class LtcSource:
    """LTC as an extra audio source for the engine's callback.

    ``render(block_start_frame, n, out)`` adds the LTC for engine frames
    ``block_start_frame .. block_start_frame + n - 1`` into ``out``. Engine frame
    ``origin_frame`` is the start of LTC frame 0, labelled ``start``. The wave is a
    function of position (:class:`LtcSignal`), so a locate needs no call: the next
    block renders at its new position.

    One thing needs memory: a block that does not follow on from the last one (a
    locate, a new :meth:`anchor`, the first block) usually lands inside a frame whose
    first bits were never sent. Sent as they are, a reader would take the old frame's
    bits and the new frame's sync word for one frame with a wrong label. So from such
    a landing until the next frame starts the source holds the level every frame
    starts from (``-amplitude``, no edges); readers see a short dropout, then whole,
    correct frames. A landing exactly on a frame start is seamless: every frame starts
    at the same level and ends in the same sync word.

    The engine's thread calls :meth:`render`; :meth:`anchor` may be called from another
    thread between blocks (it replaces one attribute).

    Parameters
    ----------
    signal
        Rate, sample rate, amplitude and edge shape.
    start
        The label at ``origin_frame``: a :class:`Timecode` at the signal's rate, a
        label text such as ``"01:00:00:00"``, or a frame count.
    origin_frame
        The engine frame where that label's LTC frame starts.
    capacity
        The longest block :meth:`write` takes (:meth:`render` grows it when needed);
        its buffers are made here, so rendering allocates no array.

    Examples
    --------
    >>> from ictus.timebase import FPS_25
    >>> src = LtcSource(LtcSignal(FPS_25, 48000), "10:00:00:00", origin_frame=96000)
    >>> out = np.zeros((4, 2), dtype=np.float32)
    >>> src.render(96000 + 1920 * 25, 4, out)  # 10:00:01:00 begins
    >>> out[:, 0]
    array([0.33333334, 0.5       , 0.5       , 0.5       ], dtype=float32)
    >>> str(src.timecode_at(96000 + 1920 * 25 - 1))
    '10:00:00:24'
    """

    def __init__(
        self,
        signal: LtcSignal,
        start: Timecode | str | int = 0,
        origin_frame: int = 0,
        capacity: int = 8192,
    ) -> None:
        self.signal = signal
        self._anchor = self._make_anchor(origin_frame, start)
        # Callback-side state: where the next block would continue seamlessly, the
        # anchor it was rendered with, and the engine frame up to which to hold.
        self._next_frame: int | None = None
        self._rendered_anchor: _Anchor | None = None
        self._hold_until = 0
        self.reserve(capacity)

    def _make_anchor(self, origin_frame: int, start: Timecode | str | int) -> _Anchor:
        rate = self.signal.rate
        if isinstance(start, Timecode):
            if start.rate != rate:
                raise ParameterError(
                    f"start timecode {start} is at {start.rate.name} fps, the LTC at {rate.name}"
                )
            frame = start.to_frame()
        elif isinstance(start, str):
            frame = parse_timecode(start, rate)
        else:
            frame = _check_int(start, "start frame") % frames_per_day(rate)
        return _Anchor(_check_int(origin_frame, "origin frame"), frame)

    @property
    def origin_frame(self) -> int:
        """Engine frame where LTC frame 0 (labelled :attr:`start`) begins."""
        return self._anchor.origin_frame

    @property
    def start(self) -> Timecode:
        """The label carried by the LTC frame that begins at :attr:`origin_frame`."""
        return Timecode.from_frame(self._anchor.start, self.signal.rate)

    def anchor(self, origin_frame: int, start: Timecode | str | int) -> None:
        """From now on, the LTC frame starting at engine frame ``origin_frame`` is ``start``.

        One attribute is replaced whole, so a callback running meanwhile sees either
        the old anchor or the new one, never a mix.
        """
        self._anchor = self._make_anchor(origin_frame, start)

    def timecode_at(self, frame: int) -> Timecode:
        """The label of the LTC frame sounding at engine frame ``frame``."""
        anchor = self._anchor
        k = self.signal.frame_at(_check_int(frame, "frame") - anchor.origin_frame)
        return self.signal.label(k, anchor.start)

    def render(self, block_start_frame: int, n: int, out: NDArray[np.float32]) -> None:
        """Add the LTC for ``n`` engine frames from ``block_start_frame`` into ``out``.

        ``out`` is ``(n,)`` (one channel) or ``(n, channels)`` (the same LTC added to
        each); a view into the engine's buffer is fine.
        """
        if out.shape[0] != n or out.ndim not in (1, 2):
            raise ParameterError(f"out must have shape ({n},) or ({n}, channels), got {out.shape}")
        if self._buffer.shape[0] < n:  # a longer block than ever: grow once
            self.reserve(n)
        samples = self._buffer[:n]
        self.write(block_start_frame, samples)
        if out.ndim == 1:
            out += samples
        else:
            out += samples[:, np.newaxis]

    def reserve(self, capacity: int) -> None:
        """Make room for blocks of up to ``capacity`` frames (control side: allocates)."""
        self._scratch = LtcScratch(self.signal, capacity)
        self._buffer = np.zeros(capacity, dtype=np.float32)

    def write(self, block_start_frame: int, out: NDArray[np.float32]) -> None:
        """Write (not add) the LTC of engine frames ``block_start_frame ..`` into the
        1-D ``out``, at most :meth:`reserve`'s capacity long, allocating no array: for
        the audio callback."""
        anchor = self._anchor  # read once: an anchor() meanwhile applies from the next block
        n = out.shape[0]
        position = block_start_frame - anchor.origin_frame
        self.signal.write(position, out, anchor.start, self._scratch)
        if block_start_frame != self._next_frame or anchor is not self._rendered_anchor:
            # Landed somewhere new: hold until the next frame start unless on one.
            k = self.signal.frame_at(position)
            landed_on_start = self.signal.frame_start(k) == position
            self._hold_until = (
                block_start_frame
                if landed_on_start
                else anchor.origin_frame + self.signal.frame_start(k + 1)
            )
        held = min(max(self._hold_until - block_start_frame, 0), n)
        if held:
            out[:held] = -self.signal.amplitude
        self._next_frame = block_start_frame + n
        self._rendered_anchor = anchor


# Chunk for write_ltc_wav: bounded memory for hour-long files.
_WAV_CHUNK = 1 << 16
_PCM24_MAX = (1 << 23) - 1


def write_ltc_wav(
    path: str | os.PathLike[str],
    start_tc: str,
    fps: str | FrameRate,
    seconds: Number,
    rate: int = 48000,
    *,
    amplitude: float = 0.5,
    rise_time: float | None = SMPTE_RISE_TIME,
) -> int:
    """Write a mono 24-bit WAV of LTC starting at ``start_tc``; return its length in samples.

    The file holds whole frames: ``ceil(seconds * fps)`` of them, the first one
    starting at sample 0. It is written in blocks (the same samples as one render)
    and appears only when complete.

    Parameters
    ----------
    path
        Output file.
    start_tc
        Label of the first frame, e.g. ``"01:00:00:00"`` (``;`` for drop-frame).
    fps
        A :data:`LTC_RATES` rate or its name (``"25"``, ``"29.97df"``, ...).
    seconds
        Length; rounded up to a whole frame.
    rate
        Sample rate in Hz.
    amplitude, rise_time
        As for :class:`LtcSignal`.

    Examples
    --------
    >>> import os, tempfile, wave
    >>> path = os.path.join(tempfile.mkdtemp(), "ltc.wav")
    >>> write_ltc_wav(path, "01:00:00:00", "25", 1)
    48000
    >>> with wave.open(path) as w:
    ...     w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
    (1, 3, 48000, 48000)
    """
    frame_rate = parse_rate(fps) if isinstance(fps, str) else fps
    signal = LtcSignal(frame_rate, rate, amplitude=amplitude, rise_time=rise_time)
    start = parse_timecode(start_tc, frame_rate)
    frames = seconds_to_frames(seconds, frame_rate, "ceil")
    if frames <= 0:
        raise ParameterError(f"seconds must be > 0, got {seconds!r}")
    total = signal.frame_start(frames)
    with atomic_path(path) as tmp, wave.open(tmp, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(3)
        out.setframerate(signal.sample_rate)
        for first in range(0, total, _WAV_CHUNK):
            block = signal.render(first, min(_WAV_CHUNK, total - first), start)
            pcm = np.round(block.astype(np.float64) * _PCM24_MAX).astype("<i4")
            out.writeframes(pcm.view(np.uint8).reshape(-1, 4)[:, :3].tobytes())
    return total
