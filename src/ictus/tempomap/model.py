"""The tempo map: an immutable description of the music's bars, meters and tempos.

A :class:`TempoMap` knows nothing of audio or files. It is a tuple of
:class:`Section` values (bars of one meter at one tempo or ramp), plus a title, an
optional :class:`CountIn` and a whole-map tempo ``scale``. Every value is checked when
it is built, so a map that exists is a map that can be played.

Positions inside a bar are measured in quarter notes (exact :class:`~fractions.Fraction`),
because tempo is "quarter notes per minute" in MIDI files, DAWs and klick alike.

>>> verse = Section(bars=8, meter=Meter(4, 4), tempo=Tempo(96), label="verse")
>>> verse.beats_per_bar, verse.bar_quarters
(4, Fraction(4, 1))
>>> Section(bars=3, meter=Meter(7, 8, (2, 2, 3)), tempo=Tempo(312, EIGHTH)).beat_offsets()
(Fraction(0, 1), Fraction(1, 1), Fraction(2, 1))
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from decimal import Decimal, Inexact, localcontext
from enum import IntEnum
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from ictus.errors import ParameterError
from ictus.limits import MAX_PULSES
from ictus.patterns import lazy
from ictus.timebase.numbers import exact_number

if TYPE_CHECKING:  # loaded where a map uses them (start-up of a plain render: neither)
    from ictus.tempomap.trainers import Gap, Layer, SpeedTrainer
    from ictus.timebase.rates import FrameRate
    from ictus.timebase.timecode import Timecode

#: Ramp shapes (docs/REFERENCE.md section 2): how tempo moves from start to end.
RAMP_SHAPES: tuple[str, ...] = ("beats", "time", "period")
RampShape = Literal["beats", "time", "period"]


class Level(IntEnum):
    """How a click sounds. An ``IntEnum``: its value is the click's int8 code in a grid,
    and the sounding levels' values index a voice's sounds (accent, normal, sub).

    >>> Level.SUB.label, Level(3), [level.label for level in SOUNDING_LEVELS]
    ('sub', <Level.SILENT: 3>, ['accent', 'normal', 'sub'])
    """

    ACCENT = 0
    NORMAL = 1
    SUB = 2
    SILENT = 3

    @property
    def label(self) -> str:
        """The level's name as users write it (``accent``)."""
        return self.name.lower()


#: The levels that make a sound, in code order: a voice has one sound for each.
SOUNDING_LEVELS: tuple[Level, ...] = (Level.ACCENT, Level.NORMAL, Level.SUB)

#: Older names: the level names in code order, and the codes themselves.
LEVELS: tuple[str, ...] = tuple(level.label for level in Level)
ACCENT, NORMAL, SUB, SILENT = Level

#: Pattern characters, as in klick: accent, normal, silent.
PATTERN_CHARS = {"X": Level.ACCENT, "x": Level.NORMAL, ".": Level.SILENT}

QUARTER = Fraction(1, 4)
EIGHTH = Fraction(1, 8)
DOTTED_QUARTER = Fraction(3, 8)
HALF = Fraction(1, 2)

#: Beat-unit names used in tempo marks (``q.=92``): fraction of a whole note.
UNIT_NAMES: dict[str, Fraction] = {
    "w": Fraction(1),
    "h": Fraction(1, 2),
    "q": Fraction(1, 4),
    "e": Fraction(1, 8),
    "s": Fraction(1, 16),
}

_LABEL_RE = lazy(r"^\w[\w.-]*\Z")  # letters of any script: Refrän, Кода

#: Words a label cannot be: the .click format's header lines look like labels.
RESERVED_LABELS = frozenset({"title", "count-in", "scale"})

#: Tempo range in quarter notes per minute: beyond it no click track makes sense, and
#: the float seconds of the grid would lose their precision.
MIN_BPM, MAX_BPM = Fraction(1, 1000), Fraction(100_000)


def check_text(text: str, what: str) -> None:
    """Titles and cue texts are one printable line without double quotes."""
    if not isinstance(text, str):
        raise ParameterError(f"{what} must be text, got {text!r}")
    if not text or text != text.strip():
        raise ParameterError(f"{what} must be non-empty, without spaces at its ends: {text!r}")
    if '"' in text or not text.isprintable():
        raise ParameterError(
            f"{what} may not contain double quotes or control characters: {text!r}"
        )


def exact_text(value: Fraction) -> str:
    """A number as it is, never rounded: its decimal when that ends within 30 digits,
    else the fraction, else (very long) ``about`` its float.

    >>> exact_text(Fraction(1, 10000)), exact_text(Fraction(10**9)), exact_text(Fraction(1, 3))
    ('0.0001', '1000000000', '1/3')
    >>> exact_text(Fraction(10**100)), exact_text(Fraction(10**50 + 1, 3))
    ('1E+100', 'about 3.33333e+49')
    """
    with localcontext() as ctx:
        ctx.prec = 30
        ctx.traps[Inexact] = True
        try:
            exact = Decimal(value.numerator) / Decimal(value.denominator)
        except Inexact:
            text = f"{value.numerator}/{value.denominator}"
            return text if len(text) <= 30 else f"about {float(value):g}"
    text = format(exact, "f")
    return text if len(text) <= 30 else str(exact.normalize())


def check_tempo_range(bpm: Fraction, what: str = "tempo") -> Fraction:
    if not MIN_BPM <= bpm <= MAX_BPM:
        raise ParameterError(f"{what} must be between 0.001 and 100000 BPM, got {exact_text(bpm)}")
    return bpm


def unit_name(unit: Fraction) -> str:
    """The tempo-mark name of a beat unit (``Fraction(3, 8)`` is ``"q."``).

    >>> unit_name(Fraction(3, 8)), unit_name(Fraction(1, 8)), unit_name(Fraction(3, 4))
    ('q.', 'e', 'h.')
    """
    for name, value in UNIT_NAMES.items():
        if unit == value:
            return name
        if unit == value * Fraction(3, 2):
            return name + "."
    raise ParameterError(f"beat unit {unit} has no name (use w, h, q, e, s, optionally dotted)")


def parse_unit(name: str) -> Fraction:
    """Inverse of :func:`unit_name`: ``"q."`` -> ``Fraction(3, 8)``.

    >>> parse_unit("e"), parse_unit("h.")
    (Fraction(1, 8), Fraction(3, 4))
    """
    dotted = name.endswith(".")
    base = UNIT_NAMES.get(name[:-1] if dotted else name)
    if base is None:
        raise ParameterError(
            f"unknown beat unit {name!r}; use one of w, h, q, e, s, optionally dotted (q.)"
        )
    return base * Fraction(3, 2) if dotted else base


def _exact(value: object, what: str) -> Fraction:
    """A positive exact number by the one rule (:func:`ictus.timebase.exact_number`):
    ``133.33`` is 13333/100 whether written as text, Fraction or float."""
    if not isinstance(value, int | float | str | Fraction):
        raise ParameterError(f"{what} must be a number, got {value!r}")
    number = exact_number(value, what)
    if number <= 0:
        raise ParameterError(f"{what} must be greater than 0, got {value}")
    return number


@dataclass(frozen=True)
class Meter:
    """A time signature ``count/unit`` with an optional grouping of its pulses.

    ``Meter(7, 8, (2, 2, 3))`` is 7/8 felt as three uneven beats.

    >>> str(Meter(7, 8, (2, 2, 3))), Meter(6, 8).bar_quarters
    ('7/8 (2+2+3)', Fraction(3, 1))
    >>> Meter(4, 0)
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: meter denominator must be 1..64, got 4/0
    """

    count: int
    unit: int
    grouping: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.count, int) or self.count < 1:
            raise ParameterError(f"meter numerator must be >= 1, got {self.count}/{self.unit}")
        if not isinstance(self.unit, int) or not 1 <= self.unit <= 64:
            raise ParameterError(f"meter denominator must be 1..64, got {self.count}/{self.unit}")
        if self.count > MAX_PULSES:
            raise ParameterError(
                f"meter numerator must be at most {MAX_PULSES} (ictus's limit), "
                f"got {self.count}/{self.unit}"
            )
        if self.grouping is not None:
            grouping = tuple(self.grouping)
            object.__setattr__(self, "grouping", grouping)
            if not grouping or any(not isinstance(g, int) or g < 1 for g in grouping):
                raise ParameterError(f"grouping parts must be >= 1, got {grouping}")
            if sum(grouping) != self.count:
                joined = "+".join(map(str, grouping))
                raise ParameterError(
                    f"grouping {joined} adds up to {sum(grouping)}, "
                    f"but the meter {self.count}/{self.unit} has {self.count} pulses"
                )

    @property
    def pulse_quarters(self) -> Fraction:
        """Length of one 1/unit pulse in quarter notes."""
        return Fraction(4, self.unit)

    @property
    def bar_quarters(self) -> Fraction:
        """Length of one bar in quarter notes."""
        return self.count * self.pulse_quarters

    def _unit_beats(self, unit: Fraction | None) -> Fraction | None:
        """Beat length in quarters when a tempo's beat ``unit`` sets the click, else None."""
        # a quarter is what a plain number means already (as in Tempo)
        if unit is None or unit == QUARTER or self.grouping is not None:
            return None
        beat = unit / QUARTER
        if beat == self.pulse_quarters or (self.bar_quarters / beat).denominator != 1:
            return None
        return beat

    def beats_per_bar(self, unit: Fraction | None = None) -> int:
        """How many beats (clicks on the beat) a bar has, with a tempo in beat ``unit``.

        The grouping sets the beats; else a beat unit that divides the bar (``q.`` in
        6/8); else the meter's pulses (``None`` is a plain quarter-note tempo).

        >>> Meter(6, 8).beats_per_bar(), Meter(6, 8).beats_per_bar(DOTTED_QUARTER)
        (6, 2)
        >>> Meter(7, 8, (2, 2, 3)).beats_per_bar(EIGHTH)
        3
        """
        if self.grouping is not None:
            return len(self.grouping)
        beat = self._unit_beats(unit)
        if beat is not None:
            return int(self.bar_quarters / beat)
        return self.count

    def beat_offsets(self, unit: Fraction | None = None) -> tuple[Fraction, ...]:
        """Where each beat starts inside a bar (quarters from the bar line), as above.

        >>> Meter(7, 8, (2, 2, 3)).beat_offsets()
        (Fraction(0, 1), Fraction(1, 1), Fraction(2, 1))
        """
        pulse = self.pulse_quarters
        if self.grouping is not None:
            starts, at = [], 0
            for group in self.grouping:
                starts.append(at * pulse)
                at += group
            return tuple(starts)
        beat = self._unit_beats(unit) or pulse
        return tuple(i * beat for i in range(self.beats_per_bar(unit)))

    def __str__(self) -> str:
        text = f"{self.count}/{self.unit}"
        if self.grouping is not None:
            text += " (" + "+".join(map(str, self.grouping)) + ")"
        return text


@dataclass(frozen=True)
class Tempo:
    """A tempo mark: ``bpm`` beats per minute of a beat ``unit`` (a fraction of a whole note).

    ``unit=None`` (or a quarter, which is stored as None) means a plain number as in
    klick and MIDI: quarter notes per minute, with the click on the meter's pulses. A
    unit other than a quarter also moves the click onto that unit when a bar holds a
    whole number of them (``q.=92`` in 6/8 clicks two dotted quarters per bar).

    >>> Tempo(92, DOTTED_QUARTER).quarter_bpm
    Fraction(138, 1)
    >>> Tempo("133.33").quarter_bpm, Tempo(133.33).bpm   # a float by its digits, too
    (Fraction(13333, 100), Fraction(13333, 100))
    >>> Tempo(0)
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: tempo must be greater than 0, got 0

    A film composer's frame click (``12-2`` at 24 fps, 12 2/8 frames per beat) keeps
    its frames per beat and rate in ``frame_click`` so it can be written back as such:

    >>> from ictus.timebase import FPS_24
    >>> t = Tempo.from_frame_click(Fraction(49, 4), FPS_24)
    >>> t.bpm, t.frame_click[0]
    (Fraction(5760, 49), Fraction(49, 4))
    """

    bpm: Fraction
    unit: Fraction | None = None
    #: ``(frames per beat, frame rate)`` when the tempo was given as a frame click.
    frame_click: tuple[Fraction, FrameRate] | None = None

    def __init__(
        self,
        bpm: int | str | float | Fraction,
        unit: Fraction | None = None,
        frame_click: tuple[Fraction, FrameRate] | None = None,
    ) -> None:
        object.__setattr__(self, "bpm", _exact(bpm, "tempo"))
        check_tempo_range(self.bpm)
        if unit is not None:
            unit = _exact(unit, "beat unit")
            # a quarter is what a plain number means already: one spelling, one value
            if not Fraction(1, 64) <= unit <= 4:
                raise ParameterError(f"beat unit must be 1/64..4 whole notes, got {unit}")
            if unit == QUARTER:
                unit = None
        object.__setattr__(self, "unit", unit)
        check_tempo_range(self.quarter_bpm)
        if frame_click is not None:
            frame_click = _check_frame_click(frame_click, self.bpm)
        object.__setattr__(self, "frame_click", frame_click)

    @classmethod
    def from_frame_click(
        cls, frames_per_beat: Fraction, rate: FrameRate, unit: Fraction | None = None
    ) -> Tempo:
        """The exact tempo of a click of ``frames_per_beat`` (whole eighths) at ``rate``."""
        frames = _exact(frames_per_beat, "frames per beat")
        return cls(60 * rate.fps / frames, unit, (frames, rate))

    @property
    def quarter_bpm(self) -> Fraction:
        """The same tempo in quarter notes per minute."""
        unit = QUARTER if self.unit is None else self.unit
        return self.bpm * unit / QUARTER

    def scaled(self, factor: Fraction) -> Tempo:
        return Tempo(self.bpm * factor, self.unit)


def _check_frame_click(
    frame_click: tuple[Fraction, FrameRate], bpm: Fraction
) -> tuple[Fraction, FrameRate]:
    """A frame click must be whole eighth-frames (so ``F-e`` can say it) and match ``bpm``."""
    if not isinstance(frame_click, tuple) or len(frame_click) != 2:
        raise ParameterError(f"frame click must be (frames per beat, rate), got {frame_click!r}")
    from ictus.timebase.rates import FrameRate

    frames, rate = frame_click
    if not isinstance(rate, FrameRate):
        raise ParameterError(f"frame click rate must be a FrameRate, got {rate!r}")
    frames = _exact(frames, "frames per beat")
    if frames < 1 or (frames * 8).denominator != 1:
        raise ParameterError(
            f"a frame click is whole eighths of a frame, at least 1 frame, got {frames}"
        )
    if 60 * rate.fps / frames != bpm:
        raise ParameterError(
            f"tempo {bpm} is not the frame click of {frames} frames per beat at {rate.name}"
        )
    return frames, rate


@dataclass(frozen=True)
class Cue:
    """A text cue at ``bar`` and ``beat`` (1-based) of its section.

    >>> Cue("Verse")
    Cue(text='Verse', bar=1, beat=1)
    """

    text: str
    bar: int = 1
    beat: int = 1

    def __post_init__(self) -> None:
        if self.bar < 1 or self.beat < 1:
            raise ParameterError(
                f"cue position must count from 1, got bar {self.bar} beat {self.beat}"
            )
        check_text(self.text, "cue text")


#: ``sub`` is the number of equal parts per beat (1 = no subdivision), or ``"pulse"``
#: for the meter's own pulses inside grouped or compound beats.
Subdivision = int | Literal["pulse"]


@dataclass(frozen=True)
class Section:
    """Bars of one meter, at one tempo or ramp, with one accent pattern.

    Parameters
    ----------
    bars : int >= 1
    meter : Meter, default 4/4
    tempo : Tempo
        The tempo at the start (and throughout, without a ramp).
    tempo_end : Tempo or None
        Ramp target, reached on the downbeat *after* the section (klick's rule).
    ramp : {"beats", "time", "period"}
        How the tempo moves (docs/REFERENCE.md section 2).
    tempi : tuple of Fraction or None
        klick's per-beat tempo list: one quarter-note tempo per beat of the section.
    steps : tuple of (Fraction, Fraction) or None
        Tempo changes inside the section, anywhere (MIDI files put them mid-beat):
        ``(position, quarter_bpm)`` with positions in quarter notes from the section
        start, strictly increasing, inside the section. ``tempo`` holds until the first.
    pattern : str or None
        One of ``X`` (accent), ``x`` (normal), ``.`` (silent) per beat; default ``Xxx…``.
    sub : int in 1..16 or "pulse"
        Subdivisions per beat.
    sub_pattern : str or None
        One of ``X`` (accent), ``x`` (as usual), ``.`` (silent) for each click of a beat,
        the beat itself first (``sub=4`` with ``x..x``: the beat and its last sixteenth).
    sub_volume, volume : float in 0..4
        Gains for this section's subdivisions and for the whole section.
    mute : bool
        A gap: the bars pass in time but make no sound.
    label : str or None
    cues : tuple of Cue
    gap : GapCycle, GapShare or None
        A gap click: the bars it names pass in time without a sound
        (:mod:`ictus.tempomap.trainers`).
    trainer : SpeedTrainer or None
        A speed trainer from ``tempo``: it sets ``steps`` (any given are replaced),
        so every reader of steps sees its tempos.
    layers : tuple of Layer
        Polyrhythm layers: clicks spread evenly over each bar, each on its own sound.
    """

    bars: int
    tempo: Tempo
    meter: Meter = field(default_factory=lambda: Meter(4, 4))
    tempo_end: Tempo | None = None
    ramp: str = "beats"
    tempi: tuple[Fraction, ...] | None = None
    steps: tuple[tuple[Fraction, Fraction], ...] | None = None
    pattern: str | None = None
    sub: Subdivision = 1
    sub_pattern: str | None = None
    sub_volume: float = 1.0
    volume: float = 1.0
    mute: bool = False
    label: str | None = None
    cues: tuple[Cue, ...] = ()
    gap: Gap | None = None
    trainer: SpeedTrainer | None = None
    layers: tuple[Layer, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.bars, int) or isinstance(self.bars, bool) or self.bars < 1:
            raise ParameterError(f"number of bars must be greater than 0, got {self.bars}")
        if self.ramp not in RAMP_SHAPES:
            raise ParameterError(
                f"unknown ramp shape {self.ramp!r}; choose one of {', '.join(RAMP_SHAPES)}"
            )
        if self.tempo_end is not None and self.tempo_end.unit != self.tempo.unit:
            raise ParameterError("a ramp's start and end tempo must use the same beat unit")
        if self.tempi is not None:
            self._check_tempi()
        self._check_trainers()
        if self.steps is not None:
            self._check_steps()
        if self.pattern is not None:
            self._check_pattern()
        self._check_sound()
        self._check_label()
        object.__setattr__(self, "cues", tuple(self.cues))
        self._check_cues()

    def _check_tempi(self) -> None:
        """klick's per-beat list: exact tempi in range, one for every beat, and no ramp."""
        assert self.tempi is not None
        if self.tempo_end is not None:
            raise ParameterError("a section has either a ramp or a per-beat tempo list, not both")
        tempi = tuple(check_tempo_range(_exact(t, "tempo")) for t in self.tempi)
        object.__setattr__(self, "tempi", tempi)
        want = self.bars * self.beats_per_bar
        if len(tempi) != want:
            raise ParameterError(
                f"per-beat tempo list has {len(tempi)} values, but {self.bars} bars of "
                f"{self.beats_per_bar} beats need {want}"
            )

    def _check_trainers(self) -> None:
        """The gap and layers are of their types; a speed trainer becomes tempo steps."""
        plain = isinstance(self.layers, tuple) and not self.layers
        if plain and self.gap is None and self.trainer is None:
            return  # none (most sections): the trainers' module need not load
        from ictus.tempomap.trainers import GapCycle, GapShare, SpeedTrainer, check_layers

        if self.gap is not None and not isinstance(self.gap, GapCycle | GapShare):
            raise ParameterError(f"gap must be a GapCycle or GapShare, got {self.gap!r}")
        object.__setattr__(self, "layers", check_layers(self.layers))
        trainer = self.trainer
        if trainer is None:
            return
        if not isinstance(trainer, SpeedTrainer):
            raise ParameterError(f"trainer must be a SpeedTrainer, got {trainer!r}")
        if self.tempo_end is not None or self.tempi is not None:
            raise ParameterError(
                "a speed trainer starts from one tempo: it cannot have a ramp or a per-beat list"
            )
        start = self.tempo.bpm
        trainer.check_start(start)
        per_quarter = (self.tempo.unit or QUARTER) / QUARTER
        check_tempo_range(trainer.end * per_quarter, "trainer end tempo")
        steps: list[tuple[Fraction, Fraction]] = []
        before = start
        for bar in range(trainer.every, self.bars, trainer.every):
            tempo = trainer.tempo_of_bar(start, bar)
            if tempo == before:
                break  # the end is reached: it holds
            steps.append((bar * self.bar_quarters, tempo * per_quarter))
            before = tempo
        object.__setattr__(self, "steps", tuple(steps) or None)

    def gap_bars(self) -> tuple[int, ...]:
        """The 0-based bars of the section its gap click mutes (none without a gap).

        >>> from ictus.tempomap.trainers import GapCycle
        >>> Section(6, Tempo(120), gap=GapCycle(2, 1)).gap_bars()
        (2, 5)
        """
        if self.gap is None:
            return ()
        # asked for every status of the live display: drawn once per (immutable) section
        bars: tuple[int, ...] | None = self.__dict__.get("_gap_bars")
        if bars is None:
            bars = self.gap.muted_bars(self.bars)
            object.__setattr__(self, "_gap_bars", bars)
        return bars

    def _check_pattern(self) -> None:
        """One of X, x, . for each beat of a bar."""
        assert self.pattern is not None
        if set(self.pattern) - set(PATTERN_CHARS):
            raise ParameterError(
                f"accent pattern {self.pattern!r} may only use X (accent), x (normal), . (silent)"
            )
        if len(self.pattern) != self.beats_per_bar:
            raise ParameterError(
                f"accent pattern {self.pattern!r} has {len(self.pattern)} beats, "
                f"but a bar of {self.meter} has {self.beats_per_bar}"
            )

    def _check_sound(self) -> None:
        """The subdivision and the two gains."""
        if self.sub != "pulse" and (
            not isinstance(self.sub, int) or isinstance(self.sub, bool) or not 1 <= self.sub <= 16
        ):
            raise ParameterError(f"subdivision must be 1..16 or 'pulse', got {self.sub!r}")
        if self.sub_pattern is not None:
            if self.sub == "pulse" or set(self.sub_pattern) - set(PATTERN_CHARS):
                raise ParameterError(
                    f"sub-pattern {self.sub_pattern!r} uses X, x and . with sub=2..16"
                )
            if len(self.sub_pattern) != self.sub:
                raise ParameterError(
                    f"sub-pattern {self.sub_pattern!r} has {len(self.sub_pattern)} clicks, "
                    f"but sub={self.sub} makes {self.sub} a beat"
                )
        for name in ("volume", "sub_volume"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value <= 4 or math.isnan(value):
                raise ParameterError(f"{name.replace('_', '-')} must be 0..4, got {value!r}")

    def _check_label(self) -> None:
        if self.label is None:
            return
        if not isinstance(self.label, str) or not _LABEL_RE.match(self.label):
            raise ParameterError(
                f"label {self.label!r} may only use letters, digits, '_', '-' and '.'"
            )
        if self.label.lower() in RESERVED_LABELS:
            raise ParameterError(
                f"{self.label!r} cannot be a label: it is a header word of the .click format"
            )

    def _check_cues(self) -> None:
        """Every cue falls on a beat inside the section."""
        for cue in self.cues:
            if cue.bar > self.bars or cue.beat > self.beats_per_bar:
                raise ParameterError(
                    f"cue {cue.text!r} at bar {cue.bar} beat {cue.beat} lies outside the section "
                    f"({self.bars} bars of {self.beats_per_bar} beats)"
                )

    def _check_steps(self) -> None:
        assert self.steps is not None
        if self.tempo_end is not None or self.tempi is not None:
            raise ParameterError("tempo steps cannot be combined with a ramp or a per-beat list")
        steps = tuple(
            (
                _exact(q, "tempo step position") if q != 0 else Fraction(0),
                check_tempo_range(_exact(t, "tempo")),
            )
            for q, t in self.steps
        )
        object.__setattr__(self, "steps", steps)
        previous = Fraction(0)
        for q, _ in steps:
            if not previous < q < self.length_quarters:
                raise ParameterError(
                    f"tempo step at {q} quarters must lie after {previous} and inside the "
                    f"section (0..{self.length_quarters})"
                )
            previous = q

    # -- the shape of one bar -------------------------------------------------------

    @property
    def beats_per_bar(self) -> int:
        """How many beats (clicks on the beat) one bar has."""
        return self.meter.beats_per_bar(self.tempo.unit)

    @property
    def bar_quarters(self) -> Fraction:
        return self.meter.bar_quarters

    @property
    def length_quarters(self) -> Fraction:
        return self.bars * self.meter.bar_quarters

    def beat_offsets(self) -> tuple[Fraction, ...]:
        """Where each beat starts inside a bar, in quarter notes from the bar line."""
        return self.meter.beat_offsets(self.tempo.unit)

    def beat_levels(self) -> tuple[int, ...]:
        """Level code of each beat of a bar, from the pattern (default: accent, then normal)."""
        if self.pattern is None:
            return (Level.ACCENT,) + (Level.NORMAL,) * (self.beats_per_bar - 1)
        return tuple(PATTERN_CHARS[c] for c in self.pattern)

    def sub_offsets(self) -> tuple[tuple[Fraction, ...], ...]:
        """For each beat, the offsets (quarters from the beat) of its clicks, 0 first."""
        offsets = self.beat_offsets()
        ends = (*offsets[1:], self.bar_quarters)
        result = []
        for start, end in zip(offsets, ends, strict=True):
            length = end - start
            if self.sub == "pulse":
                pulse = self.meter.pulse_quarters
                n = max(1, int(length / pulse))
                result.append(tuple(i * pulse for i in range(n)))
            else:
                result.append(tuple(length * i / self.sub for i in range(self.sub)))
        return tuple(result)

    @property
    def is_ramp(self) -> bool:
        return self.tempo_end is not None and self.tempo_end.quarter_bpm != self.tempo.quarter_bpm

    @property
    def start_quarter_bpm(self) -> Fraction:
        return self.tempi[0] if self.tempi else self.tempo.quarter_bpm

    @property
    def end_quarter_bpm(self) -> Fraction:
        """The tempo the section moves toward (its last step's tempo when stepped)."""
        if self.tempi:
            return self.tempi[-1]
        if self.steps:
            return self.steps[-1][1]
        return (self.tempo_end or self.tempo).quarter_bpm

    def quarter_tempos(self) -> tuple[Fraction, ...]:
        """Every tempo the section sets (start, end, steps, per-beat values)."""
        return (
            self.start_quarter_bpm,
            self.end_quarter_bpm,
            *(self.tempi or ()),
            *(t for _, t in self.steps or ()),
        )


@dataclass(frozen=True)
class CountIn:
    """Clicks before the music: ``bars`` whole bars, or ``beats`` single beats, at the
    first tempo and meter, at their own ``volume``.

    >>> CountIn(bars=1).bars, CountIn(beats=2).beats
    (1, 2)
    """

    bars: int = 0
    beats: int = 0
    volume: float = 1.0

    def __post_init__(self) -> None:
        if self.bars < 0 or self.beats < 0 or (self.bars and self.beats):
            raise ParameterError("a count-in is a number of bars or a number of beats (>= 0)")
        if self.bars > 64 or self.beats > 256:
            raise ParameterError("a count-in is at most 64 bars or 256 beats")
        if not 0 <= self.volume <= 4:
            raise ParameterError(f"count-in volume must be 0..4, got {self.volume}")

    def __bool__(self) -> bool:
        return bool(self.bars or self.beats)


@dataclass(frozen=True)
class TempoMap:
    """A whole song or cue: sections in order, plus title, count-in and tempo scale.

    >>> m = TempoMap((Section(4, Tempo(120), label="intro"), Section(2, Tempo(90))))
    >>> m.total_bars, m.section_index("intro"), m.bar_start(5)
    (6, 0, (1, 0))
    """

    sections: tuple[Section, ...]
    title: str | None = None
    count_in: CountIn = field(default_factory=CountIn)
    scale: Fraction = Fraction(1)
    #: Timecode (and frame rate) of the first downbeat, so every click has a timecode.
    start: Timecode | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(self.sections))
        if self.start is not None:
            from ictus.timebase.timecode import Timecode

            if not isinstance(self.start, Timecode):
                raise ParameterError(f"map start must be a Timecode, got {self.start!r}")
        if not self.sections:
            raise ParameterError("a tempo map needs at least one section")
        object.__setattr__(self, "scale", _exact(self.scale, "tempo scale"))
        if not Fraction(1, 100) <= self.scale <= 100:
            raise ParameterError(f"tempo scale must be 0.01..100, got {float(self.scale)}")
        if self.title is not None:
            check_text(self.title, "title")

    @property
    def total_bars(self) -> int:
        return sum(s.bars for s in self.sections)

    def labels(self) -> list[str]:
        return [s.label for s in self.sections if s.label]

    def section_index(self, label: str) -> int:
        """Index of the first section labelled ``label``; ParameterError names the choices."""
        for i, section in enumerate(self.sections):
            if section.label == label:
                return i
        known = ", ".join(self.labels()) or "(this map has no labels)"
        raise ParameterError(f"no section is labelled {label!r}; labels: {known}")

    def bar_start(self, bar: int) -> tuple[int, int]:
        """(section index, bar offset in it) of the 1-based ``bar`` of the whole map."""
        if not 1 <= bar <= self.total_bars:
            raise ParameterError(f"bar {bar} is outside the map (bars 1..{self.total_bars})")
        first = 1
        for i, section in enumerate(self.sections):
            if bar < first + section.bars:
                return i, bar - first
            first += section.bars
        raise AssertionError("unreachable")

    def first_bar_of(self, index: int) -> int:
        """1-based map bar number where section ``index`` starts.

        The starts are summed once per map: asked for every section (as the grid
        does), a sum per call would be quadratic in the number of sections.
        """
        firsts: tuple[int, ...] | None = self.__dict__.get("_first_bars")
        if firsts is None:
            firsts = tuple(itertools.accumulate((s.bars for s in self.sections), initial=1))
            object.__setattr__(self, "_first_bars", firsts)
        return firsts[index]

    def with_scale(self, scale: Fraction | float | str) -> TempoMap:
        """The same map with every tempo multiplied by ``scale`` (0.9 = 10 % slower)."""
        return replace(self, scale=_exact(scale, "tempo scale"))

    def with_count_in(self, count_in: CountIn) -> TempoMap:
        return replace(self, count_in=count_in)
