"""Frame clicks: tempo as frames per beat, the film composer's unit.

A click ``F-e`` is F frames plus e eighth-frames per beat (e in 0..7), so
``BPM = 60 * fps / (F + e/8)``. A click is stored as exact frames per beat, not as
BPM, because that is what stays locked to picture: under pull-down (24 -> 23.976)
12-0 is still 12 frames per beat although its BPM drops from 120 to 119.880.

A tempo between two eighth-frame clicks is shown with the nearest click and a mark
saying which way the true value lies:

- ``+``: the true frames per beat are *more* than the click shown (the beat is
  longer, so the tempo is *slower* than the click). 100 BPM at 24 fps is 14.4 frames,
  just above 14-3 (14.375): ``"14-3+"``.
- ``-``: the true frames per beat are *less* than shown (the tempo is faster).

Examples
--------
>>> from ictus.timebase.rates import FPS_24, FPS_23_976
>>> click_to_bpm(parse_click("12-0"), FPS_24), click_to_bpm(parse_click("12-0"), FPS_23_976)
(Fraction(120, 1), Fraction(120000, 1001))
>>> bpm_to_click(100, FPS_24)
('14-3+', Fraction(72, 5))
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ictus.errors import ParameterError
from ictus.patterns import lazy
from ictus.timebase.numbers import Number, round_fraction, to_fraction
from ictus.timebase.rates import FrameRate

# Clicks are written to the nearest eighth of a frame.
_EIGHTHS = 8

_CLICK = lazy(r"(\d+)-(\d+)")
_MARKED = lazy(r"\d+-\d+[+-]")


def _positive_frames(frames_per_beat: Fraction | int) -> Fraction:
    # Shared check: a click is a positive, exact number of frames per beat.
    if isinstance(frames_per_beat, bool) or not isinstance(frames_per_beat, Fraction | int):
        raise ParameterError(
            f"frames per beat must be an exact Fraction or int, got {frames_per_beat!r}"
        )
    if frames_per_beat <= 0:
        raise ParameterError(f"frames per beat must be > 0, got {frames_per_beat}")
    return Fraction(frames_per_beat)


def parse_click(text: str) -> Fraction:
    """Exact frames per beat of a click written ``F-e`` (F >= 1 frames, e in 0..7 eighths).

    Raises
    ------
    ParameterError
        If the text is not ``F-e``, F < 1, e > 7, or the text carries a ``+``/``-``
        mark (a marked click is an approximation; give the tempo in BPM instead).

    Examples
    --------
    >>> parse_click("12-2")
    Fraction(49, 4)
    >>> parse_click("12-8")
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: frame click '12-8': eighths must be 0..7, got 8
    """
    if not isinstance(text, str):
        raise ParameterError(f"frame click must be a string, got {text!r}")
    stripped = text.strip()
    if _MARKED.fullmatch(stripped):
        raise ParameterError(
            f"frame click {text!r} is marked approximate ({stripped[-1]}); "
            "give the exact tempo in BPM instead"
        )
    match = _CLICK.fullmatch(stripped)
    if match is None:
        raise ParameterError(f"malformed frame click {text!r}; expected FRAMES-EIGHTHS like 12-2")
    frames, eighths = int(match.group(1)), int(match.group(2))
    if frames < 1:
        raise ParameterError(f"frame click {text!r}: frames must be >= 1, got {frames}")
    if eighths >= _EIGHTHS:
        raise ParameterError(f"frame click {text!r}: eighths must be 0..7, got {eighths}")
    return frames + Fraction(eighths, _EIGHTHS)


def format_click(frames_per_beat: Fraction | int) -> str:
    """The click label of a number of frames per beat, marked if not on the grid.

    The nearest eighth-frame is shown (an exact half-way value goes to the
    larger click, marked ``-``); ``+`` means the true value is larger than
    shown, ``-`` smaller. See the module docstring.

    Examples
    --------
    >>> format_click(Fraction(49, 4)), format_click(Fraction(72, 5)), format_click(24)
    ('12-2', '14-3+', '24-0')
    >>> format_click(Fraction(1, 2))
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: frame click needs at least 1 frame per beat, got 1/2
    """
    exact = _positive_frames(frames_per_beat)
    eighths = round_fraction(exact * _EIGHTHS, "nearest")
    if eighths < _EIGHTHS:
        raise ParameterError(f"frame click needs at least 1 frame per beat, got {exact}")
    shown = Fraction(eighths, _EIGHTHS)
    mark = "+" if exact > shown else "-" if exact < shown else ""
    frames, rest = divmod(eighths, _EIGHTHS)
    return f"{frames}-{rest}{mark}"


def click_to_bpm(frames_per_beat: Fraction | int, rate: FrameRate) -> Fraction:
    """Exact tempo of a click: ``60 * fps / frames_per_beat`` beats per minute.

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_24
    >>> round(float(click_to_bpm(parse_click("16-3"), FPS_24)), 3)
    87.939
    """
    return 60 * rate.fps / _positive_frames(frames_per_beat)


def bpm_to_frames(bpm: Number, rate: FrameRate) -> Fraction:
    """Exact frames per beat of a tempo: ``60 * fps / bpm``.

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_24
    >>> bpm_to_frames(100, FPS_24)
    Fraction(72, 5)
    """
    tempo = to_fraction(bpm, "tempo (BPM)")
    if tempo <= 0:
        raise ParameterError(f"tempo (BPM) must be > 0, got {tempo}")
    return 60 * rate.fps / tempo


def bpm_to_click(bpm: Number, rate: FrameRate) -> tuple[str, Fraction]:
    """The nearest eighth-frame click of a tempo, and the exact frames per beat.

    Parameters
    ----------
    bpm
        Tempo in beats per minute; floats are read as their shortest decimal.
    rate
        The picture's frame rate.

    Returns
    -------
    text : str
        The nearest click, with ``+`` if the exact frames per beat are larger
        (the tempo is slower than the click) or ``-`` if smaller; no mark if exact.
    exact : Fraction
        The exact frames per beat, ``60 * fps / bpm``.

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_24
    >>> bpm_to_click(120, FPS_24)
    ('12-0', Fraction(12, 1))
    >>> bpm_to_click(102, FPS_24)[0]
    '14-1-'
    """
    exact = bpm_to_frames(bpm, rate)
    return format_click(exact), exact


@dataclass(frozen=True)
class FrameClick:
    """A tempo held as exact frames per beat (stays in sync with picture under pull-down).

    Examples
    --------
    >>> from ictus.timebase.rates import FPS_24, FPS_23_976
    >>> click = FrameClick.parse("13-2")
    >>> str(click), round(float(click.bpm(FPS_24)), 3), round(float(click.bpm(FPS_23_976)), 3)
    ('13-2', 108.679, 108.571)
    """

    frames_per_beat: Fraction

    def __post_init__(self) -> None:
        if not isinstance(self.frames_per_beat, Fraction):
            raise ParameterError(
                f"frames_per_beat must be a Fraction, got {self.frames_per_beat!r}"
            )
        _positive_frames(self.frames_per_beat)

    @classmethod
    def parse(cls, text: str) -> FrameClick:
        """A click from its ``F-e`` label (see :func:`parse_click`)."""
        return cls(parse_click(text))

    @classmethod
    def from_bpm(cls, bpm: Number, rate: FrameRate) -> FrameClick:
        """The exact (not rounded) click of a tempo at a frame rate.

        >>> from ictus.timebase.rates import FPS_24
        >>> str(FrameClick.from_bpm(100, FPS_24))
        '14-3+'
        """
        return cls(bpm_to_frames(bpm, rate))

    @property
    def on_grid(self) -> bool:
        """Whether the click is a whole number of eighth-frames (its label is exact).

        >>> FrameClick(Fraction(49, 4)).on_grid, FrameClick(Fraction(72, 5)).on_grid
        (True, False)
        """
        return (self.frames_per_beat * _EIGHTHS).denominator == 1

    def bpm(self, rate: FrameRate) -> Fraction:
        """Exact tempo at a frame rate (see :func:`click_to_bpm`)."""
        return click_to_bpm(self.frames_per_beat, rate)

    def seconds_per_beat(self, rate: FrameRate) -> Fraction:
        """Exact beat length in seconds: ``frames_per_beat / fps``.

        >>> from ictus.timebase.rates import FPS_24
        >>> FrameClick(Fraction(12)).seconds_per_beat(FPS_24)
        Fraction(1, 2)
        """
        return self.frames_per_beat / rate.fps

    def __str__(self) -> str:
        return format_click(self.frames_per_beat)
