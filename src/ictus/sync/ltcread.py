"""Reading Linear Timecode (LTC) from audio: biphase-mark decoding and the sync word.

Biphase-mark code changes the level at every bit boundary and once more in the middle
of a ``1``: between two level changes lies either a whole bit (a ``0``) or half of one
(two halves make a ``1``). :class:`LtcReader` finds the level changes (a zero crossing
past a hysteresis of a quarter of the recent peak, its position interpolated between
the two samples around it), sorts each gap into long or short against a running
estimate of the bit length (which follows the speed of the tape, within 23.9-30.1
fps), and shifts the bits into an 80-bit window. When the last 16 bits read are the
sync word ``0011111111111101`` (in the order sent), the 64 before it are a frame: its
fields are read as :mod:`ictus.sync.ltc` writes them (BCD, least significant bit
first). The frame's place is the level change that began its bit 0, in samples with a
fraction, and its end is the change that ended the sync word (the next frame's start).

Only forward play is read (a reversed word's sync reads ``1011111111111100``);
a damaged frame (a bad gap, a field out of range) is skipped and reading resumes at
the next sync word.

Examples
--------
>>> from ictus.sync.ltc import LtcSignal
>>> from ictus.timebase import FPS_25
>>> signal = LtcSignal(FPS_25, 48000)
>>> reader = LtcReader(48000)
>>> frames = reader.feed(signal.render(0, 48000 // 5, 100), 0)  # 5 frames from 100
>>> [(f.label, f.start, f.end) for f in frames]  # frame 100 began before the block
[('00:00:04:01', 1919.5, 3839.5), ('00:00:04:02', 3839.5, 5759.5), \
('00:00:04:03', 5759.5, 7679.5)]

The encoder starts frame ``k`` at sample ``frame_start(k)`` (the first sample at the new
level): the zero crossing lies half a sample before it.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

#: the sync word as read (first bit received is the most significant here)
SYNC = 0b0011111111111101
_SLOWEST, _FASTEST = 23.9, 30.1  # fps the bit-length estimate may follow


class LtcFrame(NamedTuple):
    """One frame read: its label's fields, the drop-frame flag, and where it lies."""

    hours: int
    minutes: int
    seconds: int
    frames: int
    drop_frame: bool
    start: float  # sample (with a fraction) of the level change that began bit 0
    end: float  # sample of the change that ended the sync word (the next frame's start)

    @property
    def label(self) -> str:
        sep = ";" if self.drop_frame else ":"
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}{sep}{self.frames:02d}"


def _field(bits: list[int], units: tuple[int, int], tens: tuple[int, int]) -> int:
    u = sum(bits[units[0] + i] << i for i in range(units[1]))
    t = sum(bits[tens[0] + i] << i for i in range(tens[1]))
    if u > 9:
        return -1
    return 10 * t + u


def decode_word(bits: list[int]) -> tuple[int, int, int, int, bool] | None:
    """Hours, minutes, seconds, frames and the drop-frame flag of a frame's 64 data bits
    (bit 0 first), or None when a field is out of range.

    >>> from ictus.sync.ltc import ltc_word
    >>> from ictus.timebase import FPS_29_97_DF, Timecode
    >>> word = ltc_word(Timecode(1, 2, 3, 4, FPS_29_97_DF))
    >>> decode_word([(word >> k) & 1 for k in range(64)])
    (1, 2, 3, 4, True)
    """
    frames = _field(bits, (0, 4), (8, 2))
    seconds = _field(bits, (16, 4), (24, 3))
    minutes = _field(bits, (32, 4), (40, 3))
    hours = _field(bits, (48, 4), (56, 2))
    if not (0 <= frames < 30 and 0 <= seconds < 60 and 0 <= minutes < 60 and 0 <= hours < 24):
        return None
    return hours, minutes, seconds, frames, bool(bits[10])


class LtcReader:
    """Read LTC frames from blocks of audio as they come; see the module docstring.

    Parameters
    ----------
    sample_rate : int
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._shortest = sample_rate / (80 * _FASTEST)
        self._longest = sample_rate / (80 * _SLOWEST)
        self._bit = sample_rate / (80 * 25.0)  # running estimate of a bit's length
        self._state = 0  # +1/-1 past the hysteresis, 0 before the first
        self._peak = 0.0
        self._tail = np.zeros(0, dtype=np.float64)  # the previous block's last samples
        self._edge: float | None = None  # the last level change
        self._half: float | None = None  # where a 1 began, after its first half
        self._register = 0
        self._bits: deque[tuple[int, float]] = deque(maxlen=80)
        #: gaps that fit neither a bit nor half of one (noise, dropouts)
        self.errors = 0

    def feed(self, block: NDArray[np.floating], start: int) -> list[LtcFrame]:
        """Read a block whose first sample is sample ``start``; returns the frames whose
        sync word ended in it."""
        x = np.asarray(block, dtype=np.float64)
        if not len(x):
            return []
        peak = float(np.abs(x).max())
        self._peak = max(peak, self._peak * 0.9)
        h = 0.25 * self._peak
        if h <= 1e-4:
            return []
        marks = np.zeros(len(x), dtype=np.int8)
        marks[x > h] = 1
        marks[x < -h] = -1
        found: list[LtcFrame] = []
        tail = self._tail
        joined = np.concatenate([tail, x])
        offset = len(tail)
        state = self._state
        for i in np.flatnonzero(marks).tolist():
            m = int(marks[i])
            if m == state:
                continue
            if state == 0:
                state = m
                continue
            state = m
            # the zero crossing just before sample i (in ``joined``: i + offset)
            j = i + offset
            while j > 0 and np.sign(joined[j - 1]) == m:
                j -= 1
            if j == 0:
                where = float(start + i)
            else:
                a, b = joined[j - 1], joined[j]
                where = start + (j - 1 - offset) + float(a / (a - b))
            frame = self._change(where)
            if frame is not None:
                found.append(frame)
        self._state = state
        self._tail = joined[-8:].copy()
        return found

    def _change(self, at: float) -> LtcFrame | None:
        last, self._edge = self._edge, at
        if last is None:
            return None
        gap = at - last
        bit = self._bit
        if gap > 0.75 * bit:
            if gap > 1.5 * self._longest or self._half is not None:
                self._lose()
                return None
            self._bit = min(max(0.9 * bit + 0.1 * gap, self._shortest), self._longest)
            return self._take(0, last)
        if gap < 0.25 * self._shortest:
            self._lose()
            return None
        if self._half is None:
            self._half = last
            return None
        began, self._half = self._half, None
        self._bit = min(max(0.9 * bit + 0.1 * (at - began), self._shortest), self._longest)
        return self._take(1, began)

    def _lose(self) -> None:
        self.errors += 1
        self._half = None
        self._register = 0
        self._bits.clear()

    def _take(self, value: int, began: float) -> LtcFrame | None:
        self._bits.append((value, began))
        self._register = ((self._register << 1) | value) & 0xFFFF
        if self._register != SYNC or len(self._bits) < 80:
            return None
        bits = [b for b, _ in self._bits]
        start = self._bits[0][1]
        end = self._edge
        assert end is not None
        self._bits.clear()
        self._register = 0
        fields = decode_word(bits[:64])
        if fields is None:
            self.errors += 1
            return None
        return LtcFrame(*fields, start=start, end=end)
