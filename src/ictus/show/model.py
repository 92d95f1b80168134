"""The show as typed values: songs, setlist, outputs, click variants and monitor mixes.

Everything here is frozen and checked when built; :mod:`ictus.show.showfile` builds it
from a TOML file (with errors that name the file, line and key), :func:`ictus.show.check_show`
checks what needs the disk (stems, maps) and the routing's safety.

>>> Output("foh", (1, 2), main=True).indexes
(0, 1)
>>> str(BarBeat(17, 3)), str(At("chorus"))
('17:3', 'chorus')
>>> ProgramChange(5, channel=2).raw()
b'\\xc1\\x05'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from pathlib import Path

from ictus.errors import ParameterError
from ictus.sounds import LEVELS
from ictus.tempomap import TempoMap
from ictus.timebase.numbers import exact_number

#: The exact words a show file must give to let click or cues reach a ``main`` output.
ALLOW_CLICK_ON_MAIN = "yes, click in front of house"

#: Largest linear gain in a mix (+12 dB): more is surely a typo.
MAX_GAIN = 4.0


def check_gain(value: object, what: str) -> float:
    """A linear gain 0..4 as a float.

    >>> check_gain(0.5, "gain"), check_gain(1, "gain")
    (0.5, 1.0)
    >>> check_gain(7, "stem gain")
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: stem gain must be a number 0..4 (linear), got 7
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= MAX_GAIN
    ):
        raise ParameterError(f"{what} must be a number 0..{MAX_GAIN:g} (linear), got {value!r}")
    return float(value)


def _check_int(value: object, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ParameterError(f"{what} must be a whole number {lo}..{hi}, got {value!r}")
    return value


# -- positions in a song ---------------------------------------------------------------


@dataclass(frozen=True)
class BarBeat:
    """A position by map bar (from 1) and beat in the bar (from 1)."""

    bar: int
    beat: int = 1

    def __post_init__(self) -> None:
        if self.bar < 1 or self.beat < 1:
            raise ParameterError(f"bar and beat count from 1, got {self.bar}:{self.beat}")

    def __str__(self) -> str:
        return f"{self.bar}:{self.beat}"


@dataclass(frozen=True)
class At:
    """A position by section label: the first downbeat of that section."""

    label: str

    def __str__(self) -> str:
        return self.label


Position = BarBeat | At


def parse_position(value: object) -> Position:
    """``17`` or ``"17"`` (bar), ``"17:3"`` (bar and beat), else a section label.

    >>> parse_position(17), parse_position("4:2"), parse_position("chorus")
    (BarBeat(bar=17, beat=1), BarBeat(bar=4, beat=2), At(label='chorus'))
    """
    if isinstance(value, bool):
        raise ParameterError(f"a position is a bar, bar:beat or a label, got {value!r}")
    if isinstance(value, int):
        return BarBeat(value)
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"a position is a bar, bar:beat or a label, got {value!r}")
    text = value.strip()
    bar, _, beat = text.partition(":")
    if bar.isdigit() and (not beat or beat.isdigit()):
        return BarBeat(int(bar), int(beat) if beat else 1)
    return At(text)


# -- MIDI events ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramChange:
    """A patch change: ``program`` 0..127 on MIDI ``channel`` 1..16."""

    program: int
    channel: int = 1

    def __post_init__(self) -> None:
        _check_int(self.program, 0, 127, "program")
        _check_int(self.channel, 1, 16, "MIDI channel")

    def raw(self) -> bytes:
        return bytes((0xC0 | (self.channel - 1), self.program))


@dataclass(frozen=True)
class ControlChange:
    """Controller ``control`` 0..127 set to ``value`` 0..127 (lighting, effects)."""

    control: int
    value: int
    channel: int = 1

    def __post_init__(self) -> None:
        _check_int(self.control, 0, 127, "controller")
        _check_int(self.value, 0, 127, "controller value")
        _check_int(self.channel, 1, 16, "MIDI channel")

    def raw(self) -> bytes:
        return bytes((0xB0 | (self.channel - 1), self.control, self.value))


@dataclass(frozen=True)
class Note:
    """A note ``note`` at ``velocity`` 1..127, released ``length_ms`` later (a trigger)."""

    note: int
    velocity: int = 100
    channel: int = 1
    length_ms: Fraction = Fraction(100)

    def __post_init__(self) -> None:
        _check_int(self.note, 0, 127, "note")
        _check_int(self.velocity, 1, 127, "velocity")
        _check_int(self.channel, 1, 16, "MIDI channel")
        # a user's number means its decimal value (the one number rule)
        object.__setattr__(self, "length_ms", exact_number(self.length_ms, "note length"))
        if not 1 <= self.length_ms <= 60_000:
            raise ParameterError(f"note length must be 1..60000 ms, got {self.length_ms!r}")

    def raw(self) -> bytes:
        """The note-on message (the note-off is :meth:`raw_off`)."""
        return bytes((0x90 | (self.channel - 1), self.note, self.velocity))

    def raw_off(self) -> bytes:
        return bytes((0x80 | (self.channel - 1), self.note, 0))


MidiMessage = ProgramChange | ControlChange | Note


@dataclass(frozen=True)
class MidiEvent:
    """A MIDI message sent at a position of the song."""

    at: Position
    message: MidiMessage


@dataclass(frozen=True)
class SpokenCue:
    """A text spoken so that it starts on the beat at ``at``."""

    at: Position
    text: str


# -- stems ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stem:
    """A backing track: an audio file that starts on the first downbeat of bar 1.

    ``channels`` picks the file's channels (1-based) in order; None takes them all.
    """

    name: str
    path: Path
    gain: float = 1.0
    channels: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        check_gain(self.gain, f"stem {self.name!r} gain")
        if self.channels is not None:
            if not self.channels:
                raise ParameterError(f"stem {self.name!r}: channels must not be empty")
            for ch in self.channels:
                _check_int(ch, 1, 64, f"stem {self.name!r} channel")


# -- songs ------------------------------------------------------------------------------


class SourceKind(Enum):
    """What a source of a mix is: the click (a variant), the spoken cues, or a stem."""

    CLICK = "click"
    CUES = "cues"
    STEM = "stem"


class Advance(Enum):
    """What happens at the end of a song."""

    WAIT_FOR_GO = "go"
    AUTO = "auto"


@dataclass(frozen=True)
class Song:
    """One song of the show: its tempo map, stems, cues, MIDI events and how it ends.

    ``advance`` is :attr:`Advance.WAIT_FOR_GO`, or :attr:`Advance.AUTO` with the next
    song starting ``advance_seconds`` after this one's end.
    """

    name: str
    map_path: Path
    tempo_map: TempoMap
    stems: tuple[Stem, ...] = ()
    cues: tuple[SpokenCue, ...] = ()
    midi: tuple[MidiEvent, ...] = ()
    vamps: tuple[str, ...] = ()
    timecode_hour: int | None = None
    advance: Advance = Advance.WAIT_FOR_GO
    advance_seconds: Fraction = Fraction(0)

    def __post_init__(self) -> None:
        labels = set(self.tempo_map.labels())
        for vamp in self.vamps:
            if vamp not in labels:
                raise ParameterError(f"vamp {vamp!r} is not a section label of {self.map_path}")
        seconds = exact_number(self.advance_seconds, "advance")
        object.__setattr__(self, "advance_seconds", seconds)
        if not 0 <= seconds <= 3600:
            raise ParameterError(f"advance must be 0..3600 seconds, got {float(seconds):g}")
        if self.timecode_hour is not None:
            _check_int(self.timecode_hour, 0, 23, "timecode hour")
        names = [s.name for s in self.stems]
        if len(set(names)) != len(names):
            raise ParameterError(f"song {self.name!r} has two stems of one name")


# -- outputs, click variants, mixes -----------------------------------------------------


@dataclass(frozen=True)
class Output:
    """A named output: device channels (1-based), one for mono, two for a pair.

    ``main`` marks front of house: click and cues never go there (see
    :data:`ALLOW_CLICK_ON_MAIN`).
    """

    name: str
    channels: tuple[int, ...]
    main: bool = False

    def __post_init__(self) -> None:
        if not self.channels:
            raise ParameterError(f"output {self.name!r} needs at least one channel")
        for ch in self.channels:
            _check_int(ch, 1, 64, f"output {self.name!r} channel")
        if len(set(self.channels)) != len(self.channels):
            raise ParameterError(f"output {self.name!r} names a channel twice")

    @property
    def indexes(self) -> tuple[int, ...]:
        """The channels 0-based."""
        return tuple(ch - 1 for ch in self.channels)


@dataclass(frozen=True)
class ClickVariant:
    """A performer's click: the map's click with its subdivisions, levels or sound changed.

    ``sub`` replaces every section's subdivision (4: sixteenths for the drummer);
    ``levels`` keeps only those levels (``("accent", "normal")``: quarters only for the
    singer); ``voice`` is a built-in voice name; ``gain`` scales it all.
    """

    name: str
    sub: int | str | None = None
    levels: tuple[str, ...] = LEVELS
    voice: str = "beep"
    gain: float = 1.0

    def __post_init__(self) -> None:
        if self.sub is not None and self.sub != "pulse":
            _check_int(self.sub, 1, 16, f"click {self.name!r} sub")
        bad = [lv for lv in self.levels if lv not in LEVELS]
        if bad:
            raise ParameterError(
                f"click {self.name!r}: unknown level {bad[0]!r}; choose from {', '.join(LEVELS)}"
            )
        check_gain(self.gain, f"click {self.name!r} gain")


#: The click variant a mix gets with ``click = true``: the map's own click.
MAP_CLICK = ClickVariant("map")


@dataclass(frozen=True)
class Mix:
    """What one output hears: a click variant, the spoken cues and the stems, with gains.

    ``stem_gains`` overrides ``stems`` (the gain for every stem) by stem name.
    """

    output: str
    click: str | None = None
    click_gain: float = 1.0
    cues: float = 0.0
    stems: float = 0.0
    stem_gains: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        check_gain(self.click_gain, f"mix {self.output!r} click_gain")
        check_gain(self.cues, f"mix {self.output!r} cues")
        check_gain(self.stems, f"mix {self.output!r} stems")
        for name, gain in self.stem_gains:
            check_gain(gain, f"mix {self.output!r} stem {name!r} gain")

    def stem_gain(self, stem: str) -> float:
        return dict(self.stem_gains).get(stem, self.stems)


@dataclass(frozen=True)
class Speech:
    """How counts and cues are spoken: an espeak-ng voice, or a folder of recordings."""

    voice: str = "en"
    samples: Path | None = None
    count_in: bool = True
    sections: bool = True
    gain: float = 1.0


# -- hands-free control -----------------------------------------------------------------


class Control(Enum):
    """What a performer can ask of a running show (keys, a foot switch, a pad)."""

    GO = "go"
    NEXT = "next"
    PREVIOUS = "previous"
    VAMP = "vamp"
    RELEASE = "release"
    STOP = "stop"


class TriggerKind(Enum):
    """The kind of incoming MIDI message a trigger listens for."""

    CONTROL = "control"
    PROGRAM = "program"
    NOTE = "note"


@dataclass(frozen=True)
class Trigger:
    """An incoming MIDI message that stands for a :class:`Control`.

    A control change counts when pressed (value 64 or more: a foot switch sends 127
    down, 0 up), a note when struck (note-on, velocity above 0), a program change
    always. ``channel`` 1..16, or None for any channel.

    >>> t = Trigger(TriggerKind.CONTROL, 64, channel=1)
    >>> pressed, up, other = bytes([0xB0, 64, 127]), bytes([0xB0, 64, 0]), bytes([0xB1, 64, 127])
    >>> t.matches(pressed), t.matches(up), t.matches(other)
    (True, False, False)
    >>> Trigger(TriggerKind.NOTE, 36).matches(bytes([0x99, 36, 100]))
    True
    """

    kind: TriggerKind
    number: int
    channel: int | None = None

    def __post_init__(self) -> None:
        _check_int(self.number, 0, 127, self.kind.value)
        if self.channel is not None:
            _check_int(self.channel, 1, 16, "MIDI channel")

    def matches(self, message: bytes) -> bool:
        if not message:
            return False
        status = message[0]
        if self.channel is not None and (status & 0x0F) != self.channel - 1:
            return False
        kind = status & 0xF0
        if self.kind is TriggerKind.PROGRAM:
            return kind == 0xC0 and len(message) >= 2 and message[1] == self.number
        if len(message) < 3 or message[1] != self.number:
            return False
        if self.kind is TriggerKind.CONTROL:
            return kind == 0xB0 and message[2] >= 64
        return kind == 0x90 and message[2] > 0


@dataclass(frozen=True)
class Show:
    """A whole show: songs by name, the setlist order, outputs, click variants, mixes."""

    path: Path
    songs: tuple[Song, ...]
    setlist: tuple[str, ...]
    outputs: tuple[Output, ...]
    mixes: tuple[Mix, ...]
    clicks: tuple[ClickVariant, ...] = ()
    speech: Speech = field(default_factory=Speech)
    sample_rate: int = 48000
    title: str | None = None
    #: The safety phrase exactly as given (None: click and cues never reach ``main``).
    allow_click_on_main: str | None = None
    #: Hands-free control: which incoming MIDI message does what.
    controls: tuple[tuple[Trigger, Control], ...] = ()
    #: Where each key stands in the file: ``(key path, (line, column))`` pairs.
    key_lines: tuple[tuple[tuple[str | int, ...], tuple[int, int]], ...] = field(
        default=(), compare=False, repr=False
    )

    def where(self, *key: str | int) -> str:
        """``file:line:column: dotted.key`` for messages (the nearest known key's line).

        >>> Show(Path("s.toml"), (), (), (), (), key_lines=((("outputs",), (4, 2)),)).where(
        ...     "outputs", "foh")
        's.toml:4:2: outputs.foh'
        """
        lines = dict(self.key_lines)
        lookup = key
        while lookup and lookup not in lines:
            lookup = lookup[:-1]
        line, column = lines.get(lookup, (1, 1))
        dotted = ""
        for part in key:
            dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else part)
        return f"{self.path}:{line}:{column}: {dotted}"

    def song(self, name: str) -> Song:
        for song in self.songs:
            if song.name == name:
                return song
        known = ", ".join(s.name for s in self.songs)
        raise ParameterError(f"no song {name!r} in the show; songs: {known}")

    def output(self, name: str) -> Output:
        for output in self.outputs:
            if output.name == name:
                return output
        known = ", ".join(o.name for o in self.outputs)
        raise ParameterError(f"no output {name!r}; outputs: {known}")

    def click(self, name: str) -> ClickVariant:
        if name == MAP_CLICK.name:
            return MAP_CLICK
        for variant in self.clicks:
            if variant.name == name:
                return variant
        known = ", ".join([MAP_CLICK.name, *(c.name for c in self.clicks)])
        raise ParameterError(f"no click variant {name!r}; variants: {known}")

    @property
    def channels(self) -> int:
        """Device channels the show needs: the highest channel any output uses."""
        return max(ch for output in self.outputs for ch in output.channels)

    @property
    def click_on_main_allowed(self) -> bool:
        return self.allow_click_on_main == ALLOW_CLICK_ON_MAIN

    def songs_in_order(self) -> tuple[Song, ...]:
        return tuple(self.song(name) for name in self.setlist)
