"""SMPTE timecode labels, frame counts and exact seconds.

A timecode is a *label*, not a time. Frame ``n`` is at ``n / fps`` seconds for every
rate, drop-frame or not; what differs is only how frames are named:

- Non-drop (NDF) labels count ``nominal`` frames per labelled second. At 29.97 NDF
  an hour of labels is 107892 + 108 = 108000 frames = 3603.6 s of real time.
- Drop-frame (DF, 29.97 and 59.94 only) skips the labels ``;00`` and ``;01``
  (``;00``-``;03`` at 59.94) at the start of every minute except minutes divisible
  by 10, so the labels stay within a few frames of real time: 17982 frames per
  10 minutes and 107892 per hour at 29.97 DF. No *frames* are dropped.

Labels run from ``00:00:00:00`` to the last frame before 24 hours; frame counts are
counted from ``00:00:00:00`` (frame 0), not from 1.

Examples
--------
>>> from ictus.timebase.rates import FPS_29_97_DF, FPS_29_97_NDF
>>> format_timecode(1800, FPS_29_97_DF)
'00:01:00;02'
>>> parse_timecode("00:10:00;00", FPS_29_97_DF)
17982
>>> timecode_to_seconds("00:01:00:00", FPS_29_97_NDF)
Fraction(3003, 50)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ictus.errors import ParameterError
from ictus.patterns import lazy
from ictus.timebase.numbers import Number, Rounding, round_fraction, to_fraction
from ictus.timebase.rates import FrameRate

# HH:MM:SS then one of ':' ';' '.' before the frames. A leading sign is captured
# only to give negative labels a clear message instead of "malformed".
_LABEL = lazy(r"(?P<sign>-?)(\d{1,2}):(\d{2}):(\d{2})([:;.])(\d{2})")

_HOURS_PER_DAY = 24


def _frames_per_ten_minutes(rate: FrameRate) -> int:
    """Frames in ten minutes of labels: 9 of the 10 minutes lose the dropped labels.

    >>> from ictus.timebase.rates import FPS_29_97_DF, FPS_30
    >>> _frames_per_ten_minutes(FPS_29_97_DF), _frames_per_ten_minutes(FPS_30)
    (17982, 18000)
    """
    return rate.nominal * 600 - 9 * rate.dropped_per_minute


def frames_per_day(rate: FrameRate) -> int:
    """Number of frames with a label, 00:00:00:00 to the end of 23:59:59.

    >>> from ictus.timebase.rates import FPS_24, FPS_29_97_DF
    >>> frames_per_day(FPS_24), frames_per_day(FPS_29_97_DF)
    (2073600, 2589408)
    """
    return _frames_per_ten_minutes(rate) * 6 * _HOURS_PER_DAY


@dataclass(frozen=True)
class Timecode:
    """One valid timecode label at a given rate.

    Constructing one checks that the label exists: fields are in range and, at
    drop-frame rates, the label is not one of the skipped ones.

    Parameters
    ----------
    hours, minutes, seconds, frames
        The label's fields; ``frames`` is the frame *within* the labelled second.
    rate
        The frame rate that gives the label meaning.

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_29_97_DF, FPS_25
    >>> tc = Timecode(1, 0, 6, 0, FPS_25)
    >>> str(tc), tc.to_frame()
    ('01:00:06:00', 90150)
    >>> Timecode.from_frame(1800, FPS_29_97_DF)
    Timecode(hours=0, minutes=1, seconds=0, frames=2, rate=FrameRate(fps=Fraction(30000, 1001), \
nominal=30, drop_frame=True))
    """

    hours: int
    minutes: int
    seconds: int
    frames: int
    rate: FrameRate

    def __post_init__(self) -> None:
        for field, value in (
            ("hours", self.hours),
            ("minutes", self.minutes),
            ("seconds", self.seconds),
            ("frames", self.frames),
        ):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ParameterError(f"timecode {field} must be an int, got {value!r}")
            if value < 0:
                raise ParameterError(f"timecode {field} must be >= 0, got {value}")
        if self.hours >= _HOURS_PER_DAY:
            raise ParameterError(f"timecode hours must be 0..23, got {self.hours} in {self}")
        if self.minutes >= 60:
            raise ParameterError(f"timecode minutes must be 0..59, got {self.minutes} in {self}")
        if self.seconds >= 60:
            raise ParameterError(f"timecode seconds must be 0..59, got {self.seconds} in {self}")
        if self.frames >= self.rate.nominal:
            raise ParameterError(
                f"timecode frames must be 0..{self.rate.nominal - 1} at {self.rate.name}, "
                f"got {self.frames} in {self}"
            )
        dropped = self.rate.dropped_per_minute
        if self.seconds == 0 and self.frames < dropped and self.minutes % 10 != 0:
            raise ParameterError(
                f"timecode {self} does not exist at {self.rate.name}: drop-frame skips the "
                f"labels ;00-;{dropped - 1:02d} at the start of every minute not divisible "
                f"by 10; the frame after {self._previous_label()} is "
                f"{self.hours:02d}:{self.minutes:02d}:00;{dropped:02d}"
            )

    def _previous_label(self) -> str:
        # Only used in the drop-frame message: the last label of the previous minute.
        minute = self.hours * 60 + self.minutes - 1
        last = self.rate.nominal - 1
        return f"{minute // 60:02d}:{minute % 60:02d}:59;{last:02d}"

    def __str__(self) -> str:
        separator = ";" if self.rate.drop_frame else ":"
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}{separator}{self.frames:02d}"

    @classmethod
    def parse(cls, label: str, rate: FrameRate) -> Timecode:
        """Read ``HH:MM:SS:FF``, ``HH:MM:SS;FF`` or ``HH:MM:SS.FF`` at ``rate``.

        The rate, not the separator, decides drop-frame. A ``;`` (the drop-frame
        mark) at a non-drop rate is refused rather than guessed at: read as
        non-drop, a drop-frame label is 3.6 s off per hour.

        >>> from ictus.timebase.rates import FPS_24
        >>> Timecode.parse("01:00:08.00", FPS_24).to_frame()
        86592
        >>> Timecode.parse("01:00:08;00", FPS_24)
        Traceback (most recent call last):
        ...
        ictus.errors.ParameterError: timecode '01:00:08;00' uses ';' (drop-frame) but \
the rate 24 is not drop-frame; write 01:00:08:00
        """
        if not isinstance(label, str):
            raise ParameterError(f"timecode must be a string, got {label!r}")
        text = label.strip()
        match = _LABEL.fullmatch(text)
        if match is None:
            raise ParameterError(
                f"malformed timecode {label!r}; expected HH:MM:SS:FF (or ;FF / .FF)"
            )
        if match["sign"] == "-":
            raise ParameterError(f"timecode {label!r} is negative; labels start at 00:00:00:00")
        hh, mm, ss, sep, ff = (match.group(i) for i in range(2, 7))
        if sep == ";" and not rate.drop_frame:
            raise ParameterError(
                f"timecode {label!r} uses ';' (drop-frame) but the rate {rate.name} is not "
                f"drop-frame; write {hh:0>2}:{mm}:{ss}:{ff}"
            )
        return cls(int(hh), int(mm), int(ss), int(ff), rate)

    @classmethod
    def from_frame(cls, frame: int, rate: FrameRate) -> Timecode:
        """The label of frame ``frame`` (0 is 00:00:00:00).

        >>> from ictus.timebase.rates import FPS_59_94_DF
        >>> [str(Timecode.from_frame(n, FPS_59_94_DF)) for n in (3599, 3600)]
        ['00:00:59;59', '00:01:00;04']
        """
        if isinstance(frame, bool) or not isinstance(frame, int):
            raise ParameterError(f"frame must be an int, got {frame!r}")
        if not 0 <= frame < frames_per_day(rate):
            raise ParameterError(
                f"frame {frame} has no timecode at {rate.name}: labels cover frames "
                f"0..{frames_per_day(rate) - 1} (00:00:00:00 to the last frame before 24 h)"
            )
        label_index = _frame_to_label_index(frame, rate)
        total_seconds, frames = divmod(label_index, rate.nominal)
        total_minutes, seconds = divmod(total_seconds, 60)
        hours, minutes = divmod(total_minutes, 60)
        return cls(hours, minutes, seconds, frames, rate)

    def to_frame(self) -> int:
        """The frame count since 00:00:00:00 (labels that were skipped do not count).

        >>> from ictus.timebase.rates import FPS_29_97_DF
        >>> Timecode(1, 0, 0, 0, FPS_29_97_DF).to_frame()
        107892
        """
        total_minutes = self.hours * 60 + self.minutes
        label_index = (total_minutes * 60 + self.seconds) * self.rate.nominal + self.frames
        # Every minute so far that is not a multiple of 10 skipped its first labels.
        skipped = self.rate.dropped_per_minute * (total_minutes - total_minutes // 10)
        return label_index - skipped


def _frame_to_label_index(frame: int, rate: FrameRate) -> int:
    """Position of frame's label in the unbroken sequence of all labels.

    Equal to ``frame`` for non-drop. For drop-frame, add back the labels skipped
    before it: the first minute of each ten is whole, the other nine are each
    ``dropped`` labels short.

    >>> from ictus.timebase.rates import FPS_29_97_DF
    >>> _frame_to_label_index(1799, FPS_29_97_DF), _frame_to_label_index(1800, FPS_29_97_DF)
    (1799, 1802)
    """
    dropped = rate.dropped_per_minute
    if dropped == 0:
        return frame
    full_minute = rate.nominal * 60
    short_minute = full_minute - dropped
    tens, rest = divmod(frame, _frames_per_ten_minutes(rate))
    skipped = 9 * dropped * tens
    if rest >= full_minute:
        # Minutes 1..9 of this block each skipped `dropped` labels, up to and
        # including the one this frame is in.
        skipped += dropped * (1 + (rest - full_minute) // short_minute)
    return frame + skipped


def parse_timecode(label: str, rate: FrameRate) -> int:
    """Frame count (from 00:00:00:00) of a timecode label.

    Parameters
    ----------
    label
        ``HH:MM:SS:FF``, ``HH:MM:SS;FF`` or ``HH:MM:SS.FF``; ``;`` only at drop-frame rates.
    rate
        The rate the label is in; it alone decides drop-frame.

    Raises
    ------
    ParameterError
        If the label is malformed, negative, out of range, or a drop-frame label
        that is skipped (it does not exist).

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_29_97_DF
    >>> parse_timecode("00:01:00;02", FPS_29_97_DF)
    1800
    >>> parse_timecode("00:01:00;00", FPS_29_97_DF)
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: timecode 00:01:00;00 does not exist at 29.97df: drop-frame \
skips the labels ;00-;01 at the start of every minute not divisible by 10; the frame after \
00:00:59;29 is 00:01:00;02
    """
    return Timecode.parse(label, rate).to_frame()


def format_timecode(frame: int, rate: FrameRate) -> str:
    """The timecode label of a frame count; ``;`` before the frames at drop-frame rates.

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_29_97_DF, FPS_29_97_NDF
    >>> format_timecode(17982, FPS_29_97_DF), format_timecode(17982, FPS_29_97_NDF)
    ('00:10:00;00', '00:09:59:12')
    """
    return str(Timecode.from_frame(frame, rate))


def frames_to_seconds(frame: int, rate: FrameRate) -> Fraction:
    """Exact real time of a frame: ``frame / fps``, the same for DF and NDF.

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_29_97_DF, FPS_29_97_NDF
    >>> frames_to_seconds(1800, FPS_29_97_DF) == frames_to_seconds(1800, FPS_29_97_NDF)
    True
    >>> frames_to_seconds(1800, FPS_29_97_DF)
    Fraction(3003, 50)
    """
    if isinstance(frame, bool) or not isinstance(frame, int):
        raise ParameterError(f"frame must be an int, got {frame!r}")
    return frame / rate.fps


def seconds_to_frames(seconds: Number, rate: FrameRate, rounding: Rounding = "nearest") -> int:
    """The frame at a real time.

    Parameters
    ----------
    seconds
        Real time; floats are read as their shortest decimal (``60.06`` is 6006/100).
    rate
        The frame rate.
    rounding
        ``"nearest"`` (halves go up), ``"floor"`` (the frame showing at that
        instant) or ``"ceil"`` (the first frame at or after it).

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_24, FPS_29_97_NDF
    >>> seconds_to_frames(60.06, FPS_29_97_NDF, "floor")
    1800
    >>> seconds_to_frames(Fraction(1, 48), FPS_24), seconds_to_frames(0.02, FPS_24, "floor")
    (1, 0)
    """
    return round_fraction(to_fraction(seconds, "seconds") * rate.fps, rounding)


def timecode_to_seconds(label: str, rate: FrameRate) -> Fraction:
    """Exact real time of a label since 00:00:00:00 (labels are not seconds).

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_29_97_NDF
    >>> float(timecode_to_seconds("01:00:00:00", FPS_29_97_NDF))
    3603.6
    """
    return frames_to_seconds(parse_timecode(label, rate), rate)


def seconds_to_timecode(seconds: Number, rate: FrameRate, rounding: Rounding = "nearest") -> str:
    """The label of the frame at a real time (see :func:`seconds_to_frames`).

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_29_97_DF, FPS_29_97_NDF
    >>> seconds_to_timecode(3600, FPS_29_97_DF), seconds_to_timecode(3600, FPS_29_97_NDF)
    ('01:00:00;00', '00:59:56:12')
    """
    return format_timecode(seconds_to_frames(seconds, rate, rounding), rate)
