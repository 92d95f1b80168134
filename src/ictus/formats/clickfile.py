"""The ``.click`` text format (a superset of klick's tempo maps) and klick's own syntax.

One line per section::

    [label:] bars [meter [(grouping)]] tempo [pattern] [volume] [option=value ...] [# comment]

plus header lines (``title:``, ``count-in:``, ``scale:``, and ``start: 01:00:00:00 @ 23.976``:
the timecode and frame rate of bar 1's downbeat). A tempo may also be a film composer's
frame click ``F-e@RATE`` (``12-2@24``: 12 2/8 frames a beat at 24 fps, kept exact as
frames per beat). Every klick file is a valid
``.click`` file with the same meaning; :func:`parse_klick` accepts klick's syntax only.
:func:`format_click` writes a map back so that ``parse_click(format_click(m)) == m``.

>>> m = parse_click('''
... title: Example
... count-in: 1 bar
... intro:  4 4/4 96
... bridge: 3 7/8 (2+2+3) e=312 X.x sub=pulse
... outro:  4 104-72 ramp=time vol=0.8
... ''')
>>> [s.label for s in m.sections], m.count_in.bars, m.sections[1].beats_per_bar
(['intro', 'bridge', 'outro'], 1, 3)
>>> print(format_click(m))
title: Example
count-in: 1 bar
intro:  4 4/4 96
bridge: 3 7/8 (2+2+3) e=312 X.x sub=pulse
outro:  4 4/4 104-72 ramp=time vol=0.8
<BLANKLINE>
>>> parse_click("verse: 8 4/4 0", "song.click")
Traceback (most recent call last):
...
ictus.errors.ParseError: song.click:1:14: tempo must be greater than 0, got 0
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from fractions import Fraction
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ictus.errors import ParameterError, ParseError, SourcePos
from ictus.limits import MAX_DIGITS, find_long_number
from ictus.patterns import lazy
from ictus.tempomap.model import (
    RAMP_SHAPES,
    CountIn,
    Cue,
    Meter,
    Section,
    Tempo,
    TempoMap,
    parse_unit,
    unit_name,
)
from ictus.timebase.numbers import exact_number
from ictus.timebase.numbers import format_number as format_number  # its old home

if TYPE_CHECKING:  # loaded when a file uses them (start-up of a plain render: neither)
    from ictus.tempomap.trainers import GapCycle, GapShare, Layer, SpeedTrainer
    from ictus.timebase.timecode import Timecode

T = TypeVar("T")

#: Header keys: they look like labels, so no section may be called by these names.
HEADERS = ("title", "count-in", "scale", "start")
#: Named section options, for error messages and the README.
OPTIONS = (
    "vol",
    "sub",
    "sub-pattern",
    "sub-vol",
    "ramp",
    "pattern",
    "steps",
    "cue",
    "cue@BAR[.BEAT]",
    "mute",
    "gap",
    "seed",
    "trainer",
    "poly",
)

_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
_EXACT = rf"(?:{_NUM}|\d+/\d+)"
# a frame click F-e@RATE (12-2@24: 12 2/8 frames per beat at 24 fps) is a tempo too
_FRAME_CLICK = r"\d+-\d+@[0-9][0-9.]*[A-Za-z]*"
_TEMPO_RE = lazy(
    rf"^(?:(?P<unit>[whqes]\.?)=)?(?P<a>{_FRAME_CLICK}|{_EXACT})"
    rf"(?:-(?P<b>{_FRAME_CLICK}|{_EXACT})|(?P<list>(?:,{_EXACT})+))?$"
)
_KLICK_TEMPO_RE = lazy(rf"^(?P<a>{_NUM})(?:-(?P<b>{_NUM})|(?P<list>(?:,{_NUM})+))?$")
_METER_RE = lazy(r"^(\d+)/(\d+)(\(.*\))?$")
_GROUP_RE = lazy(r"^\(\s*(\d+(?:\s*\+\s*\d+)*)\s*\)$")
_PATTERN_RE = lazy(r"^[Xx.]+$")
_FLOAT_RE = lazy(rf"^{_NUM}$")
_INT_RE = lazy(r"^\d+$")
# letters and digits of any script (Refrän, Кода), as musicians name sections
_CLICK_LABEL_RE = lazy(r"^\w[\w.-]*\Z")
_KLICK_LABEL_RE = lazy(r"^[A-Za-z0-9_-]+$")
_CUE_AT_RE = lazy(r"^cue@(\d+)(?:\.(\d+))?$")


class _Token(NamedTuple):
    text: str
    column: int  # 1-based


class _Line:
    """One source line, its tokens, and a way to raise errors that point into it."""

    def __init__(self, filename: str, number: int, text: str) -> None:
        self.filename, self.number, self.text = filename, number, text

    def error(self, message: str, column: int) -> ParseError:
        return ParseError(message, SourcePos(self.filename, self.number, column, self.text))

    def tokens(self) -> list[_Token]:
        """Split on blanks, keeping ``"quoted text"`` and ``( groups )`` whole; drop comments."""
        text, out, i, n = self.text, [], 0, len(self.text)
        while i < n:
            if text[i] in " \t\r":
                i += 1
                continue
            if text[i] == "#":
                break
            start, depth, quote = i, 0, False
            while i < n:
                c = text[i]
                if quote:
                    quote = c != '"'
                elif c == '"':
                    quote = True
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                elif depth <= 0 and (c in " \t\r" or c == "#"):
                    break
                i += 1
            if quote:
                raise self.error('unterminated quoted text (missing ")', start + 1)
            if depth > 0:
                raise self.error("unclosed '(' in grouping", start + 1)
            out.append(_Token(text[start:i], start + 1))
        return out


def _lines(text: str, filename: str) -> Iterator[tuple[_Line, list[_Token]]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _Line(filename, number, raw.rstrip("\n"))
        tokens = line.tokens()
        if tokens:
            yield line, tokens


def _split_label(line: _Line, tokens: list[_Token]) -> tuple[_Token | None, list[_Token]]:
    """Take ``label:`` off the front (also ``label:8`` written without a blank)."""
    first = tokens[0]
    if ":" not in first.text:
        return None, tokens
    name, _, rest = first.text.partition(":")
    label = _Token(name, first.column)
    if rest:
        return label, [_Token(rest, first.column + len(name) + 1), *tokens[1:]]
    return label, tokens[1:]


def _tempo_of(text: str, unit: Fraction | None) -> Tempo:
    return Tempo(_fraction(text), unit)


def _fraction(text: str) -> Fraction:
    return exact_number(text, "number")


def _call(line: _Line, column: int, build: Callable[[], T]) -> T:
    """Run a model constructor; a ParameterError becomes a ParseError at ``column``."""
    try:
        return build()
    except ParameterError as err:
        raise line.error(str(err), column) from None


def _parse_tempo(
    line: _Line, token: _Token, klick: bool
) -> tuple[Tempo, Tempo | None, tuple[Fraction, ...] | None]:
    m = (_KLICK_TEMPO_RE if klick else _TEMPO_RE).match(token.text)
    if m is None:
        expected = "a tempo such as 120, 96-104 or 120,122,124,126"
        if not klick:
            expected += ", with an optional beat unit (q.=92, e=240)"
        raise line.error(f"expected {expected}, got {token.text!r}", token.column)
    unit = None
    if not klick and m.group("unit"):
        unit = parse_unit(m.group("unit"))
    elif "/" in m.group("a") or "/" in (m.group("b") or "") or "/" in (m.group("list") or ""):
        raise line.error("a fraction tempo (400/3) needs a beat unit: q=400/3", token.column)
    tempo = _call(line, token.column, lambda: tempo_value(m.group("a"), unit))
    end = None
    if m.group("b"):
        end = _call(line, token.column, lambda: tempo_value(m.group("b"), unit))
    tempi = None
    if m.group("list"):
        if "@" in m.group("a"):
            raise line.error("a per-beat tempo list takes BPM, not frame clicks", token.column)
        values = [tempo]
        for text in m.group("list")[1:].split(","):
            values.append(_call(line, token.column, partial(_tempo_of, text, unit)))
        tempi = tuple(v.quarter_bpm for v in values)
    return tempo, end, tempi


def tempo_value(text: str, unit: Fraction | None = None) -> Tempo:
    """A tempo from a BPM (``"117.5"``, ``"400/3"``) or a frame click (``"12-2@24"``).

    >>> tempo_value("12-2@24").bpm, frame_click_text(tempo_value("12-2@24"))
    (Fraction(5760, 49), '12-2@24')
    """
    if "@" not in text:
        try:
            value = _fraction(text)
        except (ValueError, ZeroDivisionError):
            raise ParameterError(f"tempo must be a number, got {text!r}") from None
        return Tempo(value, unit)
    from ictus.timebase import parse_click, parse_rate

    click, _, rate = text.partition("@")
    return Tempo.from_frame_click(parse_click(click), parse_rate(rate), unit)


def frame_click_text(tempo: Tempo) -> str:
    """``F-e@RATE`` for a frame-click tempo, else its BPM as :func:`format_number` writes it."""
    if tempo.frame_click is None:
        return format_number(tempo.bpm)
    from ictus.timebase import format_click as click_label

    frames, rate = tempo.frame_click
    return f"{click_label(frames)}@{rate.name}"


def _spaced_label_hint(tokens: list[_Token]) -> str:
    """``verse 1: 4 4/4 120`` is a label with a blank: suggest ``verse-1:``."""
    words: list[str] = []
    for tok in tokens[:6]:
        name, colon, _ = tok.text.partition(":")
        words.append(name)
        if colon:
            label = "-".join(words)
            if all(words) and _CLICK_LABEL_RE.match(label):
                return f"; a label has no blanks: write '{label}:'"
            return ""
    return ""


def _parse_section(line: _Line, tokens: list[_Token], klick: bool) -> Section:
    """``[label:] bars [meter [(grouping)]] tempo [pattern] [volume] [option=value ...]``.

    The parts are read left to right, so the first mistake on the line is the one reported.
    """
    label_tok, rest = _split_label(line, tokens)
    label = None if label_tok is None else _section_label(line, label_tok, klick)
    if not rest:
        raise line.error("expected the number of bars after the label", len(line.text) + 1)
    bars = _parse_bars(line, rest)
    if len(rest) == 1:
        raise line.error("expected a tempo after the number of bars", len(line.text) + 1)
    meter, after_meter = _parse_meter(line, rest[1:], klick)
    if not after_meter:
        raise line.error("expected a tempo after the meter", len(line.text) + 1)
    tempo_tok, *extras = after_meter
    tempo, tempo_end, tempi = _parse_tempo(line, tempo_tok, klick)

    # provisional section: knows the beats per bar that patterns and lists must match
    shape = _call(
        line,
        (tempo_tok if meter is None else rest[1]).column,
        lambda: Section(bars=bars, tempo=tempo, meter=Meter(4, 4) if meter is None else meter),
    )
    if tempi is not None:
        _check_tempo_list(line, tempo_tok, tempi, shape)
    settings = _Settings()
    for tok in extras:
        if "=" in tok.text:
            _take_option(line, tok, klick, settings)
        else:
            _take_word(line, tok, klick, settings)
    _check_pattern(line, settings, shape)
    _check_trainers(line, settings)
    return settings.apply(
        line, shape, rest[0].column, tempo_end=tempo_end, tempi=tempi, label=label
    )


def _section_label(line: _Line, label: _Token, klick: bool) -> str:
    if not (_KLICK_LABEL_RE if klick else _CLICK_LABEL_RE).match(label.text):
        allowed = (
            "letters, digits, '_' and '-'"
            if klick
            else "letters, digits, '_', '-' and '.' (not '-' or '.' first)"
        )
        raise line.error(f"a label may only use {allowed}, got {label.text!r}", label.column)
    return label.text


def _parse_bars(line: _Line, rest: list[_Token]) -> int:
    """The number of bars, the first word after the label (``rest`` for the label hint)."""
    bars_tok = rest[0]
    if not _INT_RE.match(bars_tok.text):
        raise line.error(
            f"expected the number of bars, got {bars_tok.text!r}{_spaced_label_hint(rest)}",
            bars_tok.column,
        )
    bars = int(bars_tok.text)
    if bars < 1:
        raise line.error("number of bars must be greater than 0", bars_tok.column)
    return bars


def _parse_meter(
    line: _Line, tokens: list[_Token], klick: bool
) -> tuple[Meter | None, list[_Token]]:
    """A meter (``7/8``), its grouping joined (``7/8(2+2+3)``) or as the next word; then the rest.

    ``None`` and all of ``tokens`` when the first word is not a meter (4/4 is meant).
    """
    tok, rest = tokens[0], tokens[1:]
    m = _METER_RE.match(tok.text)
    if m is None:
        return None, tokens
    group_text = m.group(3)
    if group_text is None and rest and rest[0].text.startswith("(") and not klick:
        group_text, rest = rest[0].text, rest[1:]
    grouping = None if group_text is None else _parse_grouping(line, tok, group_text, klick)
    meter = _call(line, tok.column, lambda: Meter(int(m.group(1)), int(m.group(2)), grouping))
    return meter, rest


def _parse_grouping(line: _Line, meter_tok: _Token, text: str, klick: bool) -> tuple[int, ...]:
    """``(2+2+3)``: the beats of a bar in pulses; errors point at the meter."""
    if klick:
        raise line.error("klick syntax has no groupings", meter_tok.column)
    gm = _GROUP_RE.match(text)
    if gm is None:
        raise line.error(f"expected a grouping such as (2+2+3), got {text!r}", meter_tok.column)
    return tuple(int(g) for g in re.split(r"\s*\+\s*", gm.group(1)))


def _check_tempo_list(
    line: _Line, tempo_tok: _Token, tempi: tuple[Fraction, ...], shape: Section
) -> None:
    """klick's per-beat tempo list has one tempo for every beat of the section."""
    want = shape.bars * shape.beats_per_bar
    if len(tempi) != want:
        raise line.error(
            f"per-beat tempo list has {len(tempi)} values, but {shape.bars} bars of "
            f"{shape.beats_per_bar} beats need {want}",
            tempo_tok.column,
        )


class _Settings:
    """What the words after the tempo set, each value with the column it was written at.

    A plain class (a dataclass costs a share of a short render's start-up to make)."""

    def __init__(self) -> None:
        self.fields: dict[str, tuple[object, int]] = {}
        self.cues: list[Cue] = []
        # klick's bare words follow the tempo in order: an accent pattern, then a volume
        self.pattern_may_follow = True
        self.volume_may_follow = True

    def set(self, name: str, value: object, tok: _Token) -> None:
        self.fields[name] = (value, tok.column)

    def end_bare_words(self) -> None:
        self.pattern_may_follow = self.volume_may_follow = False

    def apply(self, line: _Line, shape: Section, column: int, **changes: Any) -> Section:
        """``shape`` with these settings; a value the model refuses is reported where it
        was written (else at ``column``)."""
        kwargs: dict[str, Any] = {name: value for name, (value, _) in self.fields.items()}
        try:
            return replace(shape, **changes, cues=tuple(self.cues), **kwargs)
        except ParameterError as err:
            # point at the option the model refused, when we know which one it was
            # the longest name first: "sub-pattern" is meant before "sub"
            named = sorted(self.fields.items(), key=lambda item: -len(item[0]))
            at = next((c for name, (_, c) in named if name.replace("_", "-") in str(err)), column)
            raise line.error(str(err), at) from None


def _take_word(line: _Line, tok: _Token, klick: bool, settings: _Settings) -> None:
    """A bare word after the tempo: the accent pattern, the volume, or ``mute``."""
    text = tok.text
    if settings.pattern_may_follow and _PATTERN_RE.match(text):
        settings.pattern_may_follow = False
        settings.set("pattern", text, tok)
    elif (settings.pattern_may_follow or settings.volume_may_follow) and _FLOAT_RE.match(text):
        settings.end_bare_words()
        settings.set("volume", float(text), tok)
    elif text == "mute" and not klick:
        settings.set("mute", True, tok)
        settings.end_bare_words()
    else:
        raise _misplaced_word(line, tok, klick)


def _misplaced_word(line: _Line, tok: _Token, klick: bool) -> ParseError:
    text = tok.text
    if klick:
        return line.error(
            f"unexpected {text!r} (klick syntax: [label:] bars [meter] tempo [pattern] [volume])",
            tok.column,
        )
    if _PATTERN_RE.match(text) or _FLOAT_RE.match(text):
        return line.error(
            f"{text!r} must come right after the tempo (pattern, then volume); "
            "after options write pattern= or vol=",
            tok.column,
        )
    return line.error(
        f"unexpected {text!r}: expected an accent pattern (X.x.), a volume (0.8) "
        f"or an option ({', '.join(OPTIONS)})",
        tok.column,
    )


def _take_option(line: _Line, tok: _Token, klick: bool, settings: _Settings) -> None:
    """``option=value``: looked up in :data:`_OPTION_READERS` (``cue@BAR.BEAT`` by pattern)."""
    if klick:
        raise line.error(f"klick syntax has no options such as {tok.text!r}", tok.column)
    settings.end_bare_words()
    key, _, value = tok.text.partition("=")
    keyword = key.lower()  # VOL=0.8 is vol=0.8
    read = _OPTION_READERS.get(keyword) or (_cue_option if _CUE_AT_RE.match(keyword) else None)
    if read is None:
        raise line.error(f"unknown option {key!r}; options are: {', '.join(OPTIONS)}", tok.column)
    read(line, tok, keyword, value, settings)


def _volume(line: _Line, tok: _Token, value: str, example: str) -> float:
    if not _FLOAT_RE.match(value):
        raise line.error(f"expected a volume such as {example}, got {value!r}", tok.column)
    return float(value)


def _volume_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    into.set("volume", _volume(line, tok, value, "0.8"), tok)


def _sub_volume_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    into.set("sub_volume", _volume(line, tok, value, "0.5"), tok)


def _sub_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    if value != "pulse" and not _INT_RE.match(value):
        raise line.error(f"expected sub=2..16 or sub=pulse, got {value!r}", tok.column)
    into.set("sub", "pulse" if value == "pulse" else int(value), tok)


def _sub_pattern_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    if not _PATTERN_RE.match(value):
        raise line.error(
            f"a sub-pattern uses X (accent), x (as usual), . (silent), got {value!r}", tok.column
        )
    into.set("sub_pattern", value, tok)  # its length is checked against sub= by the model


def _ramp_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    if value not in RAMP_SHAPES:
        raise line.error(
            f"unknown ramp shape {value!r}; choose one of {', '.join(RAMP_SHAPES)}", tok.column
        )
    into.set("ramp", value, tok)


def _pattern_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    into.set("pattern", value, tok)  # checked with the bare pattern, once the meter is known


def _steps_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    into.set("steps", _parse_steps(line, tok, value), tok)


def _cue_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    into.cues.append(_parse_cue(line, tok, key, value))


_GAP_CYCLE_RE = lazy(r"^(\d+):(\d+)$")
_GAP_SHARE_RE = lazy(rf"^({_NUM})%$")


def parse_gap(text: str) -> GapCycle | GapShare:
    """``PLAY:MUTE`` (bars on, bars off, again) or ``SHARE%`` (that share of the bars,
    chosen by a seed: ``seed=``).

    >>> parse_gap("3:1"), parse_gap("12.5%")
    (GapCycle(play=3, mute=1), GapShare(share=Fraction(1, 8), seed=0))
    """
    from ictus.tempomap.trainers import GapCycle, GapShare

    cycle = _GAP_CYCLE_RE.match(text)
    if cycle is not None and max(len(cycle.group(1)), len(cycle.group(2))) <= 9:
        return GapCycle(int(cycle.group(1)), int(cycle.group(2)))
    share = _GAP_SHARE_RE.match(text)
    if share is not None:
        return GapShare(_fraction(share.group(1)) / 100)
    raise ParameterError(
        f"expected gap=PLAY:MUTE (bars, e.g. gap=3:1) or gap=SHARE% (e.g. gap=30%), got {text!r}"
    )


def _gap_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    into.set("gap", _call(line, tok.column, partial(parse_gap, value)), tok)


def _seed_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    """``seed=N``: which bars a ``gap=SHARE%`` mutes (checked once the gap is known)."""
    if not _INT_RE.match(value) or len(value) > 20:
        raise line.error(f"expected seed=N (a whole number), got {value!r}", tok.column)
    into.set("seed", int(value), tok)


_TRAINER_RE = lazy(rf"^(?P<step>[-+]{_NUM})(?:/(?P<every>\d+))?\.\.(?P<end>{_NUM})$")


def parse_trainer(text: str) -> SpeedTrainer:
    """``+STEP[/BARS]..END``: the tempo goes up by STEP every BARS bars (1 if not given)
    until END; ``-STEP`` goes down.

    >>> parse_trainer("+4/2..120")
    SpeedTrainer(step=Fraction(4, 1), every=2, end=Fraction(120, 1))
    >>> parse_trainer("+4..")
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: expected +STEP[/BARS]..END (e.g. +4/2..120: 4 BPM faster every 2 bars up to 120), got '+4..'
    """  # noqa: E501
    from ictus.tempomap.trainers import SpeedTrainer

    m = _TRAINER_RE.match(text)
    if m is None:
        raise ParameterError(
            f"expected +STEP[/BARS]..END (e.g. +4/2..120: 4 BPM faster every 2 bars up to "
            f"120), got {text!r}"
        )
    step = _fraction(m.group("step").lstrip("+-")) * (-1 if m.group("step")[0] == "-" else 1)
    every = int(m.group("every") or 1)
    return SpeedTrainer(step, every, _fraction(m.group("end")))


def format_trainer(trainer: SpeedTrainer) -> str:
    """The inverse of :func:`parse_trainer`.

    >>> from ictus.tempomap.trainers import SpeedTrainer
    >>> format_trainer(SpeedTrainer(Fraction(-5, 2), 1, Fraction(60)))
    '-2.5..60'
    """
    sign = "+" if trainer.step > 0 else "-"
    every = "" if trainer.every == 1 else f"/{trainer.every}"
    return f"{sign}{format_number(abs(trainer.step))}{every}..{format_number(trainer.end)}"


def _trainer_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    into.set("trainer", _call(line, tok.column, partial(parse_trainer, value)), tok)


_LAYER_RE = lazy(r"^(\d+)(?::([a-z][a-z0-9_-]*))?$")


def parse_layers(text: str) -> tuple[Layer, ...]:
    """``N[:SOUND],...``: layers of N clicks a bar, each on a sound of its own.

    >>> parse_layers("3:clave,5")
    (Layer(pulses=3, sound='clave'), Layer(pulses=5, sound=None))
    """
    from ictus.tempomap.trainers import Layer

    layers = []
    for part in text.split(","):
        m = _LAYER_RE.match(part)
        if m is None or len(m.group(1)) > 6:
            raise ParameterError(
                f"expected poly=N[:SOUND],... (e.g. poly=3 or poly=3:clave,5:cowbell), got {part!r}"
            )
        layers.append(Layer(int(m.group(1)), m.group(2)))
    return tuple(layers)


def _poly_option(line: _Line, tok: _Token, key: str, value: str, into: _Settings) -> None:
    into.set("layers", _call(line, tok.column, partial(parse_layers, value)), tok)


_OptionReader = Callable[[_Line, _Token, str, str, _Settings], None]
#: Each ``option=`` keyword (lower case) and what reads its value into the settings.
_OPTION_READERS: dict[str, _OptionReader] = {
    "vol": _volume_option,
    "volume": _volume_option,
    "sub-vol": _sub_volume_option,
    "sub": _sub_option,
    "sub-pattern": _sub_pattern_option,
    "ramp": _ramp_option,
    "pattern": _pattern_option,
    "steps": _steps_option,
    "cue": _cue_option,
    "gap": _gap_option,
    "seed": _seed_option,
    "trainer": _trainer_option,
    "poly": _poly_option,
}


def _check_pattern(line: _Line, settings: _Settings, shape: Section) -> None:
    """The accent pattern (bare or ``pattern=``) has one of X, x, . for each beat of a bar."""
    if "pattern" not in settings.fields:
        return
    pattern, column = settings.fields["pattern"]
    assert isinstance(pattern, str)
    if not _PATTERN_RE.match(pattern):
        raise line.error(
            f"an accent pattern uses X (accent), x (normal), . (silent), got {pattern!r}",
            column,
        )
    if len(pattern) != shape.beats_per_bar:
        raise line.error(
            f"accent pattern {pattern!r} has {len(pattern)} beats, but a bar of "
            f"{shape.meter} has {shape.beats_per_bar}",
            column,
        )


def _check_trainers(line: _Line, settings: _Settings) -> None:
    """``seed=`` goes with ``gap=SHARE%``; ``trainer=`` sets the steps, so not with ``steps=``."""
    fields = settings.fields
    if "seed" in fields:
        from ictus.tempomap.trainers import GapShare

        seed, column = fields.pop("seed")
        gap = fields.get("gap", (None, 0))[0]
        if not isinstance(gap, GapShare):
            raise line.error("seed= chooses the bars of gap=SHARE%: give gap=30% with it", column)
        assert isinstance(seed, int)
        fields["gap"] = (_call(line, column, lambda: GapShare(gap.share, seed)), column)
    if "trainer" in fields and "steps" in fields:
        raise line.error(
            "trainer= sets the tempo steps itself: give trainer= or steps=, not both",
            fields["steps"][1],
        )


_STEP_RE = lazy(rf"^({_EXACT}):({_EXACT})$")


def _parse_steps(line: _Line, tok: _Token, value: str) -> tuple[tuple[Fraction, Fraction], ...]:
    """``steps=2.5:130,5:140``: quarter-note position in the section, then quarter BPM."""
    steps = []
    for part in value.split(","):
        m = _STEP_RE.match(part)
        if m is None:
            raise line.error(
                f"expected steps=POSITION:TEMPO,... (quarter notes from the section start, "
                f"e.g. steps=2.5:130,5:140), got {part!r}",
                tok.column,
            )
        position = _call(line, tok.column, partial(_fraction, m.group(1)))
        steps.append((position, _call(line, tok.column, partial(_fraction, m.group(2)))))
    return tuple(steps)


def _parse_cue(line: _Line, tok: _Token, key: str, value: str) -> Cue:
    if len(value) < 2 or not (value.startswith('"') and value.endswith('"')):
        raise line.error('expected quoted cue text: cue="Verse"', tok.column)
    bar, beat = 1, 1
    m = _CUE_AT_RE.match(key)
    if m:
        bar = int(m.group(1))
        beat = int(m.group(2) or 1)
    cue = _call(line, tok.column, lambda: Cue(value[1:-1], bar, beat))
    return cue


_COUNT_IN_RE = lazy(r"^(\d+)\s*(bars?|beats?)$")


def _parse_header(line: _Line, key: _Token, rest: list[_Token], headers: dict[str, object]) -> None:
    """``title:``, ``count-in:``, ``scale:`` or ``start:``, each given at most once."""
    name = key.text.lower()
    if name in headers:
        raise line.error(f"{name}: given twice", key.column)
    if not rest:
        raise line.error(f"{name}: expected a value", len(line.text) + 1)
    start = rest[0].column - 1
    end = rest[-1].column - 1 + len(rest[-1].text)
    headers[name] = _HEADER_READERS[name](line, rest, line.text[start:end])


def _title_header(line: _Line, rest: list[_Token], value: str) -> str:
    # a title with '#' or parentheses is written in quotes; take one pair off
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _scale_header(line: _Line, rest: list[_Token], value: str) -> Fraction:
    """``scale: 0.9``, ``90%`` or ``2/3``: every tempo of the map times this factor."""
    text = value.strip()
    percent = text.endswith("%")
    number = text[:-1] if percent else text
    if not _FLOAT_RE.match(number) and not (re.match(r"^\d+/[1-9]\d*$", number)):
        raise line.error(
            f"scale: expected a factor such as 0.9, 90% or 2/3, got {text!r}", rest[0].column
        )
    factor = _fraction(number) / (100 if percent else 1)
    if not Fraction(1, 100) <= factor <= 100:
        raise line.error(f"scale: must be 0.01..100, got {text}", rest[0].column)
    return factor


def _start_header(line: _Line, rest: list[_Token], value: str) -> Timecode:
    return _parse_start(line, rest[0], value)


def _count_in_header(line: _Line, rest: list[_Token], value: str) -> CountIn:
    """``count-in: N bar(s) | N beat(s) | none``, then an optional ``vol=``."""
    volume = _count_in_volume(line, rest)
    phrase = " ".join(t.text for t in rest if not t.text.startswith("vol="))
    if phrase in ("none", "0", "off"):
        return CountIn()
    m = _COUNT_IN_RE.match(phrase)
    if m is None:
        raise line.error(
            f"count-in: expected '1 bar', '2 bars' or '4 beats', got {phrase!r}", rest[0].column
        )
    n = int(m.group(1))
    kind = "bars" if m.group(2).startswith("bar") else "beats"
    return _call(line, rest[0].column, lambda: CountIn(**{kind: n}, volume=volume))


def _count_in_volume(line: _Line, rest: list[_Token]) -> float:
    """The count-in's ``vol=`` (the last one given wins), 1.0 without one."""
    volume = 1.0
    for t in rest:
        if t.text.startswith("vol="):
            v = t.text[4:]
            if not _FLOAT_RE.match(v) or float(v) > 4:
                raise line.error(f"count-in volume must be 0..4, got {v!r}", t.column)
            volume = float(v)
    return volume


#: Each header (lower case) and what reads its value: the words after the colon, and
#: the line's text from the first word to the end of the last.
_HEADER_READERS: dict[str, Callable[[_Line, list[_Token], str], object]] = {
    "title": _title_header,
    "count-in": _count_in_header,
    "scale": _scale_header,
    "start": _start_header,
}


def parse_click(text: str, filename: str = "<string>") -> TempoMap:
    """Read a ``.click`` tempo map (klick's syntax is included).

    Raises
    ------
    ParseError
        With ``file:line:column``, the line and a caret, and what was expected.
    """
    return _parse(text, filename, klick=False)


def parse_klick(text: str, filename: str = "<string>") -> TempoMap:
    """Read a tempo map in klick's own syntax (no headers, no options, no groupings)."""
    return _parse(text, filename, klick=True)


_START_RE = lazy(r"^(?P<label>\S+)\s*@\s*(?P<rate>\S+)$")


def _parse_start(line: _Line, first: _Token, value: str) -> Timecode:
    """``start: 01:00:00:00 @ 23.976``: the timecode of the first downbeat and its rate."""
    from ictus.timebase.rates import parse_rate
    from ictus.timebase.timecode import Timecode

    m = _START_RE.match(value.strip())
    if m is None:
        raise line.error(
            f"start: expected TIMECODE @ RATE such as 01:00:00:00 @ 23.976, got {value!r}",
            first.column,
        )
    return _call(line, first.column, lambda: Timecode.parse(m["label"], parse_rate(m["rate"])))


def _is_header(label: _Token, rest: list[_Token]) -> bool:
    name = label.text.lower()
    if name == "start":
        # `start: 4 4/4 120` is still a section labelled "start"; the header is a timecode
        return bool(rest) and (":" in rest[0].text or "@" in rest[0].text)
    return name in HEADERS


def _refuse_long_numbers(text: str, filename: str) -> None:
    """No number is longer than the limit (``int()`` of 4,301 digits raises)."""
    at = find_long_number(text)
    if at is not None:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        line = text[start : end if end >= 0 else len(text)]
        raise ParseError(
            f"a number of more than {MAX_DIGITS} digits",
            SourcePos(filename, text.count("\n", 0, at) + 1, at - start + 1, line),
        )


def _parse(text: str, filename: str, klick: bool) -> TempoMap:
    _refuse_long_numbers(text, filename)
    sections: list[Section] = []
    headers: dict[str, object] = {}
    seen_labels: dict[str, int] = {}
    for line, tokens in _lines(text, filename):
        label_tok, rest = _split_label(line, tokens)
        if not klick and label_tok is not None and _is_header(label_tok, rest):
            _parse_header(line, label_tok, rest, headers)
            continue
        section = _parse_section(line, tokens, klick)
        if section.label is not None and not klick and section.label in seen_labels:
            assert label_tok is not None
            raise line.error(
                f"label {section.label!r} is already used on line {seen_labels[section.label]}",
                label_tok.column,
            )
        if section.label is not None:
            seen_labels[section.label] = line.number
        sections.append(section)
    if not sections:
        raise ParseError(
            "the tempo map has no sections (expected lines like 'intro: 4 4/4 120')",
            SourcePos(filename, 1, 1, text.splitlines()[0] if text.strip() else ""),
        )
    title = headers.get("title")
    count_in = headers.get("count-in", CountIn())
    scale = headers.get("scale", Fraction(1))
    start = headers.get("start")
    assert title is None or isinstance(title, str)
    assert isinstance(count_in, CountIn) and isinstance(scale, Fraction)
    if start is not None:
        from ictus.timebase.timecode import Timecode

        assert isinstance(start, Timecode)
    return TempoMap(tuple(sections), title=title, count_in=count_in, scale=scale, start=start)


# -- writing -------------------------------------------------------------------------


def _format_tempo(section: Section, clicks: bool = True) -> str:
    unit = section.tempo.unit
    if section.tempi is not None:
        # tempi are kept as quarter-note tempos; write them back in the section's unit
        per_quarter = (unit / Fraction(1, 4)) if unit is not None else Fraction(1)
        values = [format_number(t / per_quarter) for t in section.tempi]
        if unit is not None:
            return f"{unit_name(unit)}=" + ",".join(values)
        prefix = "q=" if any("/" in v for v in values) else ""
        return prefix + ",".join(values)
    number = frame_click_text if clicks else (lambda t: format_number(t.bpm))
    values = [number(section.tempo)]
    if section.tempo_end is not None:
        values.append(number(section.tempo_end))
    text = "-".join(values)
    if unit is not None:
        return f"{unit_name(unit)}={text}"
    return ("q=" + text) if "/" in text else text


def _format_float(value: float) -> str:
    """Shortest positional digits that read back as the same float (no ``1e-05``)."""
    import numpy as np

    return str(np.format_float_positional(float(value), trim="-"))


def format_section(section: Section) -> str:
    """One section as a ``.click`` line (without the label)."""
    parts = [str(section.bars), str(section.meter), _format_tempo(section)]
    if section.pattern is not None:
        parts.append(section.pattern)
    if section.sub != 1:
        parts.append(f"sub={section.sub}")
    if section.sub_pattern is not None:
        parts.append(f"sub-pattern={section.sub_pattern}")
    if section.sub_volume != 1.0:
        parts.append(f"sub-vol={_format_float(section.sub_volume)}")
    if section.tempo_end is not None and section.ramp != "beats":
        parts.append(f"ramp={section.ramp}")
    if section.trainer is not None:
        parts.append(f"trainer={format_trainer(section.trainer)}")
    elif section.steps:
        steps = ",".join(f"{format_number(q)}:{format_number(t)}" for q, t in section.steps)
        parts.append(f"steps={steps}")
    if section.volume != 1.0:
        parts.append(f"vol={_format_float(section.volume)}")
    if section.mute:
        parts.append("mute")
    parts += _format_trainers(section)
    for cue in section.cues:
        at = (
            ""
            if (cue.bar, cue.beat) == (1, 1)
            else (f"@{cue.bar}" if cue.beat == 1 else f"@{cue.bar}.{cue.beat}")
        )
        parts.append(f'cue{at}="{cue.text}"')
    return " ".join(parts)


def _format_trainers(section: Section) -> list[str]:
    """The gap click's and the layers' options (the speed trainer goes with the tempo)."""
    parts = []
    if section.gap is not None:
        from ictus.tempomap.trainers import GapShare

        parts.append(f"gap={section.gap}")
        if isinstance(section.gap, GapShare) and section.gap.seed:
            parts.append(f"seed={section.gap.seed}")
    if section.layers:
        parts.append("poly=" + ",".join(str(layer) for layer in section.layers))
    return parts


def format_click(tempo_map: TempoMap) -> str:
    """Write ``tempo_map`` as ``.click`` text that :func:`parse_click` reads back equal."""
    out = []
    if tempo_map.title is not None:
        title = tempo_map.title
        needs_quotes = any(c in title for c in "#()") or title.startswith('"')
        out.append(f'title: "{title}"' if needs_quotes else f"title: {title}")
    ci = tempo_map.count_in
    if ci:
        n, kind = (ci.bars, "bar") if ci.bars else (ci.beats, "beat")
        vol = "" if ci.volume == 1.0 else f" vol={_format_float(ci.volume)}"
        out.append(f"count-in: {n} {kind}{'s' if n != 1 else ''}{vol}")
    if tempo_map.scale != 1:
        out.append(f"scale: {format_number(tempo_map.scale)}")
    if tempo_map.start is not None:
        out.append(f"start: {tempo_map.start} @ {tempo_map.start.rate.name}")
    width = max((len(s.label) + 1 for s in tempo_map.sections if s.label), default=0)
    for section in tempo_map.sections:
        head = f"{section.label}:" if section.label else ""
        out.append(
            (head.ljust(width) + " " + format_section(section)).strip()
            if width
            else format_section(section)
        )
    return "\n".join(out) + "\n"
