"""Film footage: feet+frames counts measured from picture start.

Film editors count picture in feet and frames. 35 mm 4-perf film has 64
perforations per foot and 4 per frame, so 16 frames per foot (90 feet per minute at
24 fps); 16 mm has one perforation per frame and 40 frames per foot. The count starts
at picture start (0+00, the first frame of the Academy leader, often at timecode
01:00:00:00); the 2-pop is at 9+00 and the first frame of action at 12+00.

Examples
--------
>>> from ictus.timebase.rates import FPS_24
>>> reel = PictureStart.from_timecode("01:00:00:00", FPS_24, GAUGE_35MM)
>>> format_timecode(reel.to_frame("9+00"), FPS_24)
'01:00:06:00'
>>> reel.to_feet(parse_timecode("01:00:08:00", FPS_24))
'12+00'
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ictus.errors import ParameterError
from ictus.patterns import lazy
from ictus.timebase.rates import FrameRate
from ictus.timebase.timecode import format_timecode, parse_timecode

_FEET = lazy(r"(?P<sign>-?)(\d+)\+(\d+)")


@dataclass(frozen=True)
class FilmGauge:
    """A film format, by how many frames make one foot.

    >>> GAUGE_35MM.frames_per_foot, GAUGE_16MM.frames_per_foot
    (16, 40)
    """

    name: str
    frames_per_foot: int

    def __post_init__(self) -> None:
        fpf = self.frames_per_foot
        if isinstance(fpf, bool) or not isinstance(fpf, int) or fpf < 1:
            raise ParameterError(f"frames per foot must be a positive int, got {fpf!r}")

    def __str__(self) -> str:
        return self.name


GAUGE_35MM = FilmGauge("35mm", 16)  # 4-perf: 64 perfs per foot / 4 perfs per frame
GAUGE_16MM = FilmGauge("16mm", 40)  # 1 perf per frame, 40 perfs per foot

#: Every gauge by name.
GAUGES: dict[str, FilmGauge] = {g.name: g for g in (GAUGE_35MM, GAUGE_16MM)}


def parse_gauge(text: str) -> FilmGauge:
    """Read a gauge name, ``"35mm"`` (4-perf) or ``"16mm"``.

    >>> parse_gauge(" 16MM ").frames_per_foot
    40
    >>> parse_gauge("70mm")
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: unknown film gauge '70mm'; choose one of: 35mm, 16mm
    """
    gauge = GAUGES.get(text.strip().lower()) if isinstance(text, str) else None
    if gauge is None:
        raise ParameterError(f"unknown film gauge {text!r}; choose one of: {', '.join(GAUGES)}")
    return gauge


def _frame_digits(gauge: FilmGauge) -> int:
    # Wide enough for the largest frame-in-foot, at least 2 as editors write it.
    return max(2, len(str(gauge.frames_per_foot - 1)))


def format_feet(frame: int, gauge: FilmGauge) -> str:
    """Feet+frames of a frame count from picture start (frame 0 is ``0+00``).

    Parameters
    ----------
    frame
        Frames since picture start, >= 0.
    gauge
        The film gauge (frames per foot).

    Examples
    --------
    >>> format_feet(1978, GAUGE_35MM), format_feet(1978, GAUGE_16MM)
    ('123+10', '49+18')
    >>> format_feet(-1, GAUGE_35MM)
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: frame -1 is before picture start (0+00)
    """
    if isinstance(frame, bool) or not isinstance(frame, int):
        raise ParameterError(f"frame must be an int, got {frame!r}")
    if frame < 0:
        raise ParameterError(f"frame {frame} is before picture start (0+00)")
    feet, frames = divmod(frame, gauge.frames_per_foot)
    return f"{feet}+{frames:0{_frame_digits(gauge)}d}"


def parse_feet(text: str, gauge: FilmGauge) -> int:
    """Frame count from picture start of a feet+frames label such as ``"123+04"``.

    Raises
    ------
    ParameterError
        If the text is malformed, negative, or its frames are not below the
        gauge's frames per foot.

    Examples
    --------
    >>> parse_feet("12+00", GAUGE_35MM), parse_feet("12+00", GAUGE_16MM)
    (192, 480)
    >>> parse_feet("3+16", GAUGE_35MM)
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: feet+frames '3+16': frames must be 0..15 for 35mm
    """
    if not isinstance(text, str):
        raise ParameterError(f"feet+frames must be a string, got {text!r}")
    match = _FEET.fullmatch(text.strip())
    if match is None:
        raise ParameterError(f"malformed feet+frames {text!r}; expected FEET+FRAMES like 123+04")
    if match["sign"]:
        raise ParameterError(f"feet+frames {text!r} is negative; counts start at 0+00")
    feet, frames = int(match.group(2)), int(match.group(3))
    if frames >= gauge.frames_per_foot:
        raise ParameterError(
            f"feet+frames {text!r}: frames must be 0..{gauge.frames_per_foot - 1} for {gauge}"
        )
    return feet * gauge.frames_per_foot + frames


def feet_per_minute(gauge: FilmGauge, rate: FrameRate) -> Fraction:
    """Feet of film that run through in one minute of real time.

    >>> from ictus.timebase.rates import FPS_24
    >>> feet_per_minute(GAUGE_35MM, FPS_24), feet_per_minute(GAUGE_16MM, FPS_24)
    (Fraction(90, 1), Fraction(36, 1))
    """
    return 60 * rate.fps / gauge.frames_per_foot


@dataclass(frozen=True)
class PictureStart:
    """Where feet+frames are counted from: the frame (timecode count) of 0+00.

    Footage frame = timecode frame - ``start_frame``.

    Parameters
    ----------
    start_frame
        Frame count (see :func:`~ictus.timebase.timecode.parse_timecode`) of picture start.
    gauge
        The film gauge.

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_24
    >>> reel = PictureStart(parse_timecode("01:00:00:00", FPS_24), GAUGE_35MM)
    >>> reel.to_feet(reel.start_frame + 144)
    '9+00'
    """

    start_frame: int
    gauge: FilmGauge

    def __post_init__(self) -> None:
        start = self.start_frame
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ParameterError(f"picture start frame must be an int >= 0, got {start!r}")

    @classmethod
    def from_timecode(cls, label: str, rate: FrameRate, gauge: FilmGauge) -> PictureStart:
        """Picture start at a timecode label (often ``01:00:00:00``)."""
        return cls(parse_timecode(label, rate), gauge)

    def to_feet(self, frame: int) -> str:
        """Feet+frames of a timecode frame count.

        >>> PictureStart(100, GAUGE_16MM).to_feet(141)
        '1+01'
        """
        if isinstance(frame, bool) or not isinstance(frame, int):
            raise ParameterError(f"frame must be an int, got {frame!r}")
        if frame < self.start_frame:
            raise ParameterError(
                f"frame {frame} is before picture start (frame {self.start_frame}, 0+00)"
            )
        return format_feet(frame - self.start_frame, self.gauge)

    def to_frame(self, feet: str) -> int:
        """Timecode frame count of a feet+frames label.

        >>> PictureStart(100, GAUGE_16MM).to_frame("1+01")
        141
        """
        return self.start_frame + parse_feet(feet, self.gauge)

    def feet_to_timecode(self, feet: str, rate: FrameRate) -> str:
        """Timecode label of a feet+frames label.

        >>> from ictus.timebase.rates import FPS_24
        >>> PictureStart.from_timecode("01:00:00:00", FPS_24, GAUGE_35MM).feet_to_timecode(
        ...     "12+00", FPS_24)
        '01:00:08:00'
        """
        return format_timecode(self.to_frame(feet), rate)

    def timecode_to_feet(self, label: str, rate: FrameRate) -> str:
        """Feet+frames of a timecode label.

        >>> from ictus.timebase.rates import FPS_24
        >>> PictureStart.from_timecode("01:00:00:00", FPS_24, GAUGE_35MM).timecode_to_feet(
        ...     "01:00:06:00", FPS_24)
        '9+00'
        """
        return self.to_feet(parse_timecode(label, rate))
