"""Read a show file (TOML) into a :class:`~ictus.show.model.Show`, with errors at their line.

:mod:`tomllib` reports syntax errors with a line and column but gives no positions for
the values it returns, so :func:`key_positions` scans the text once for where every key
(table headers, ``key = value`` lines, keys inside inline tables and arrays of them)
stands; a value that fails validation is reported at its key:
``show.toml:14:1: songs.opener.stems.bass.gain: stem 'bass' gain must be ...``.

The format is described in docs/SHOW.md.

>>> text = 'setlist = ["a"]\\n[songs.a]\\nmap = "a.click"\\nstems.bass = { path = "b.wav" }\\n'
>>> pos = key_positions(text)
>>> pos[("songs", "a", "map")], pos[("songs", "a", "stems", "bass", "path")]
((3, 1), (4, 16))
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

from ictus.errors import IctusError, ParseError, SourcePos
from ictus.formats import read_map
from ictus.show.model import (
    Advance,
    ClickVariant,
    Control,
    ControlChange,
    MidiEvent,
    MidiMessage,
    Mix,
    Note,
    Output,
    ProgramChange,
    Show,
    Song,
    Speech,
    SpokenCue,
    Stem,
    Trigger,
    TriggerKind,
    parse_position,
)
from ictus.sounds import LEVELS, check_rate, voice_names
from ictus.timebase.numbers import exact_number

KeyPath = tuple[str | int, ...]
T = TypeVar("T")

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY = rf"(?:{_BARE}|{_QUOTED})(?:\s*\.\s*(?:{_BARE}|{_QUOTED}))*"
_HEADER_RE = re.compile(rf"^\s*(\[\[?)\s*({_KEY})\s*\]\]?")
_KEYLINE_RE = re.compile(rf"^\s*({_KEY})\s*=\s*")
_INLINE_KEY_RE = re.compile(rf"({_KEY})\s*=\s*")
_PART_RE = re.compile(rf"{_BARE}|{_QUOTED}")


def _split_key(key: str) -> tuple[str, ...]:
    parts = []
    for part in _PART_RE.findall(key):
        parts.append(part[1:-1] if part[0] in "\"'" else part)
    return tuple(parts)


def key_positions(text: str) -> dict[KeyPath, tuple[int, int]]:
    """Line and column (1-based) of every key of a TOML text, by its path.

    Array-of-tables entries and inline tables inside arrays get their index in the
    path (``("songs", "a", "cues", 1, "text")``).

    >>> pos = key_positions('[[x]]\\na = 1\\n[[x]]\\na = [{b = 1}, {b = 2}]\\n')
    >>> pos[("x", 1, "a", 1, "b")], pos[("x", 0, "a")]
    ((4, 16), (2, 1))
    """
    positions: dict[KeyPath, tuple[int, int]] = {}
    lines = text.splitlines()
    table: KeyPath = ()
    arrays: dict[KeyPath, int] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _HEADER_RE.match(line)
        if header and not _KEYLINE_RE.match(line):
            path: KeyPath = _split_key(header.group(2))
            if header.group(1) == "[[":
                index = arrays.get(path, 0)
                arrays[path] = index + 1
                positions.setdefault(path, (i + 1, header.start(2) + 1))
                path = (*path, index)
            table = path
            positions.setdefault(path, (i + 1, header.start(2) + 1))
            i += 1
            continue
        key = _KEYLINE_RE.match(line)
        if key:
            path = (*table, *_split_key(key.group(1)))
            positions[path] = (i + 1, key.start(1) + 1)
            i = _scan_value(lines, i, key.end(), path, positions)
        i += 1
    return positions


def _scan_value(
    lines: list[str], i: int, col: int, path: KeyPath, positions: dict[KeyPath, tuple[int, int]]
) -> int:
    """Record the keys inside an inline value from ``lines[i][col:]``; return its last line."""
    value = lines[i][col:]
    for quotes in ('"""', "'''"):
        if value.startswith(quotes):  # a multi-line string: skip to its end
            end = value.find(quotes, 3)
            while end < 0 and i + 1 < len(lines):
                i += 1
                end = lines[i].find(quotes)
            return i
    if not value.startswith(("[", "{")):
        return i  # a plain value on one line
    return _scan_nested(lines, i, col, path, positions)


@dataclass
class _Nest:
    """An open inline table (``{``) or array (``[``) while scanning a value."""

    table: bool
    path: KeyPath
    count: int = 0  # elements passed so far (arrays)


def _scan_nested(
    lines: list[str], i: int, col: int, path: KeyPath, positions: dict[KeyPath, tuple[int, int]]
) -> int:
    """Walk an inline table or array from ``lines[i][col]`` to its closing bracket."""
    stack: list[_Nest] = []
    pending: KeyPath = path
    while i < len(lines):
        line = lines[i]
        j = col
        while j < len(line):
            c = line[j]
            if c == "#":
                break
            if c in "\"'":
                i, j = _skip_string(lines, i, j)
                line = lines[i]
                continue
            if c in "[{":
                inside_array = bool(stack) and not stack[-1].table
                new = (*stack[-1].path, stack[-1].count) if inside_array else pending
                stack.append(_Nest(c == "{", new))
                j += 1
                continue
            if c in "]}":
                stack.pop()
                if not stack:
                    return i
                j += 1
                continue
            if c == "," and stack and not stack[-1].table:
                stack[-1].count += 1
            if stack and stack[-1].table:
                key = _INLINE_KEY_RE.match(line, j)
                if key and (j == 0 or not line[j - 1].isalnum()):
                    pending = (*stack[-1].path, *_split_key(key.group(1)))
                    positions[pending] = (i + 1, j + 1)
                    j = key.end()
                    continue
            if not stack and not c.isspace():
                return i  # a plain value on one line
            j += 1
        i += 1
        col = 0
    return i


def _skip_string(lines: list[str], i: int, j: int) -> tuple[int, int]:
    """Skip the string opening at ``lines[i][j]``; return (its last line, column after it).

    >>> _skip_string(['a = "x" # c'], 0, 4)
    (0, 7)
    >>> _skip_string(["'''one", "two''' ,"], 0, 0)
    (1, 6)
    """
    line = lines[i]
    c = line[j]
    if line.startswith(c * 3, j):
        end = line.find(c * 3, j + 3)
        while end < 0 and i + 1 < len(lines):
            i += 1
            line = lines[i]
            end = line.find(c * 3)
        return i, (end if end >= 0 else len(line)) + 3
    j += 1
    while j < len(line) and line[j] != c:
        j += 2 if c == '"' and line[j] == "\\" else 1
    return i, j + 1


def _dotted(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class _Reader:
    """Typed access to the parsed TOML, failing with the file, line and key."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines = text.splitlines()
        self.positions = key_positions(text)

    def fail(self, path: KeyPath, message: str) -> ParseError:
        lookup = path
        while lookup and lookup not in self.positions:
            lookup = lookup[:-1]
        line, column = self.positions.get(lookup, (1, 1))
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        where = f"{_dotted(path)}: " if path else ""
        return ParseError(f"{where}{message}", SourcePos(self.file, line, column, text))

    def table(self, data: Mapping[str, Any], path: KeyPath, allowed: set[str]) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(
                    (*path, key), f"unknown key; expected one of: {', '.join(sorted(allowed))}"
                )

    def get(
        self,
        data: Mapping[str, Any],
        path: KeyPath,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
    ) -> Any:
        if key not in data:
            if default is ...:
                raise self.fail(path, f"missing key {key!r}")
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            names = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
            raise self.fail((*path, key), f"must be {names}, got {value!r}")
        return value

    def checked(self, path: KeyPath, build: Callable[[], T]) -> T:
        """Run a model constructor; its ParameterError becomes an error at ``path``."""
        try:
            return build()
        except IctusError as err:
            raise self.fail(path, str(err)) from None


_KIND_NAMES = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


def load_show(path: str | os.PathLike[str]) -> Show:
    """Read and validate the show file at ``path`` (its maps are read too).

    Paths in the file are relative to the file's folder. Audio files are not opened
    here: :func:`~ictus.show.check_show` checks them.
    """
    file = os.fspath(path)
    try:
        raw = Path(file).read_bytes()
    except FileNotFoundError:
        raise IctusError(f"{file}: no such file") from None
    except OSError as err:
        raise IctusError(f"{file}: cannot read ({err.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise IctusError(f"{file}: not a text file (byte {err.start} is not UTF-8)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(err))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(err))
        if m is None:
            raise ParseError(f"{file}: {message}") from None
        line, column = int(m.group(1)), int(m.group(2))
        lines = text.splitlines()
        shown = lines[line - 1] if 0 < line <= len(lines) else ""
        raise ParseError(message, SourcePos(file, line, column, shown)) from None
    return _build(_Reader(file, text), data, Path(file).parent)


_TOP = {
    "title",
    "sample_rate",
    "allow_click_on_main",
    "setlist",
    "speech",
    "outputs",
    "clicks",
    "mixes",
    "songs",
    "control",
}


def _build(r: _Reader, data: dict[str, Any], base: Path) -> Show:
    r.table(data, (), _TOP)
    title = r.get(data, (), "title", str, None)
    rate = r.get(data, (), "sample_rate", int, 48000)
    r.checked(("sample_rate",), lambda: check_rate(rate))
    allow = r.get(data, (), "allow_click_on_main", str, None)

    outputs_data = r.get(data, (), "outputs", dict)
    outputs = tuple(_output(r, name, value) for name, value in outputs_data.items())
    if not outputs:
        raise r.fail(("outputs",), "a show needs at least one output")
    clicks_data = r.get(data, (), "clicks", dict, {})
    clicks = tuple(_click(r, name, value) for name, value in clicks_data.items())
    mixes_data = r.get(data, (), "mixes", dict)
    mixes = tuple(_mix(r, name, value) for name, value in mixes_data.items())
    speech = _speech(r, r.get(data, (), "speech", dict, {}), base)

    songs_data = r.get(data, (), "songs", dict)
    songs = tuple(_song(r, name, value, base) for name, value in songs_data.items())
    if not songs:
        raise r.fail(("songs",), "a show needs at least one song")
    setlist_data = r.get(data, (), "setlist", list, None)
    if setlist_data is None:
        setlist = tuple(s.name for s in songs)
    else:
        for k, name in enumerate(setlist_data):
            if name not in songs_data:
                raise r.fail(("setlist", k), f"no song {name!r}; songs: {', '.join(songs_data)}")
        setlist = tuple(setlist_data)
        if not setlist:
            raise r.fail(("setlist",), "the setlist is empty")
    controls = _controls(r, r.get(data, (), "control", dict, {}))
    return Show(
        path=Path(r.file),
        songs=songs,
        setlist=setlist,
        outputs=outputs,
        mixes=mixes,
        clicks=clicks,
        speech=speech,
        sample_rate=rate,
        title=title,
        allow_click_on_main=allow,
        controls=controls,
        key_lines=tuple(r.positions.items()),
    )


def _controls(r: _Reader, data: dict[str, Any]) -> tuple[tuple[Trigger, Control], ...]:
    """``[control]``: ``go = { control = 64, channel = 10 }``, a table or a list of them."""
    names = {c.value: c for c in Control}
    r.table(data, ("control",), set(names))
    found: list[tuple[Trigger, Control]] = []
    for name, value in data.items():
        items = value if isinstance(value, list) else [value]
        for k, item in enumerate(items):
            path: KeyPath = ("control", name, k) if isinstance(value, list) else ("control", name)
            if not isinstance(item, dict):
                raise r.fail(
                    path,
                    "a trigger is a table: { control = 64 }, { program = 3 }, "
                    "{ note = 36 }, with an optional channel",
                )
            r.table(item, path, {"control", "program", "note", "channel"})
            kinds = [kind for kind in TriggerKind if kind.value in item]
            if len(kinds) != 1:
                raise r.fail(path, "a trigger has exactly one of control, program or note")
            number = r.get(item, path, kinds[0].value, int)
            channel = r.get(item, path, "channel", int, None)
            trigger = r.checked(path, partial(Trigger, kinds[0], number, channel))
            for other, control in found:
                if other == trigger:
                    raise r.fail(path, f"the same message already means {control.value}")
            found.append((trigger, names[name]))
    return tuple(found)


def _output(r: _Reader, name: str, value: Any) -> Output:
    path: KeyPath = ("outputs", name)
    if not isinstance(value, dict):
        raise r.fail(path, "an output is a table: { channels = [1, 2], main = true }")
    r.table(value, path, {"channels", "main"})
    channels = r.get(value, path, "channels", (list, int))
    channels = [channels] if isinstance(channels, int) else channels
    main = r.get(value, path, "main", bool, False)
    return r.checked((*path, "channels"), lambda: Output(name, tuple(channels), main))


def _click(r: _Reader, name: str, value: Any) -> ClickVariant:
    path: KeyPath = ("clicks", name)
    if not isinstance(value, dict):
        raise r.fail(path, "a click variant is a table: { sub = 4, levels = [...] }")
    r.table(value, path, {"sub", "levels", "voice", "gain"})
    sub = r.get(value, path, "sub", (int, str), None)
    levels = tuple(r.get(value, path, "levels", list, list(LEVELS)))
    voice = r.get(value, path, "voice", str, "beep")
    if voice not in voice_names():
        raise r.fail(
            (*path, "voice"), f"unknown voice {voice!r}; choose one of: {', '.join(voice_names())}"
        )
    gain = r.get(value, path, "gain", (int, float), 1.0)
    return r.checked(path, lambda: ClickVariant(name, sub, levels, voice, gain))


def _mix(r: _Reader, name: str, value: Any) -> Mix:
    path: KeyPath = ("mixes", name)
    if not isinstance(value, dict):
        raise r.fail(path, 'a mix is a table: { click = "drummer", cues = 1.0, stems = 0.5 }')
    r.table(value, path, {"click", "click_gain", "cues", "stems", "stem_gains"})
    click = r.get(value, path, "click", (str, bool), None)
    click_name = "map" if click is True else (None if click is False else click)
    num = (int, float)
    stem_gains = r.get(value, path, "stem_gains", dict, {})
    for stem in stem_gains:
        r.get(stem_gains, (*path, "stem_gains"), stem, num)
    return r.checked(
        path,
        lambda: Mix(
            name,
            click_name,
            r.get(value, path, "click_gain", num, 1.0),
            r.get(value, path, "cues", num, 0.0),
            r.get(value, path, "stems", num, 0.0),
            tuple(stem_gains.items()),
        ),
    )


def _speech(r: _Reader, value: dict[str, Any], base: Path) -> Speech:
    path: KeyPath = ("speech",)
    r.table(value, path, {"voice", "samples", "count_in", "sections", "gain"})
    samples = r.get(value, path, "samples", str, None)
    gain = r.get(value, path, "gain", (int, float), 1.0)
    from ictus.show.model import check_gain

    r.checked((*path, "gain"), lambda: check_gain(gain, "speech gain"))
    return Speech(
        voice=r.get(value, path, "voice", str, "en"),
        samples=None if samples is None else base / samples,
        count_in=r.get(value, path, "count_in", bool, True),
        sections=r.get(value, path, "sections", bool, True),
        gain=float(gain),
    )


_SONG_KEYS = {"map", "stems", "cues", "midi", "vamps", "timecode_hour", "advance"}


def _song(r: _Reader, name: str, value: Any, base: Path) -> Song:
    path: KeyPath = ("songs", name)
    if not isinstance(value, dict):
        raise r.fail(path, 'a song is a table with at least map = "file"')
    r.table(value, path, _SONG_KEYS)
    map_file = base / r.get(value, path, "map", str)
    try:
        tempo_map = read_map(map_file)
    except IctusError as err:
        raise r.fail((*path, "map"), str(err)) from None
    stems_data = r.get(value, path, "stems", dict, {})
    stems = tuple(
        _stem(r, (*path, "stems", stem), stem, spec, base) for stem, spec in stems_data.items()
    )
    cues = []
    for k, cue in enumerate(r.get(value, path, "cues", list, [])):
        cpath: KeyPath = (*path, "cues", k)
        if not isinstance(cue, dict):
            raise r.fail(cpath, 'a cue is a table: { at = "chorus", text = "last time" }')
        r.table(cue, cpath, {"at", "text"})
        at = r.get(cue, cpath, "at", (str, int))
        text = r.get(cue, cpath, "text", str)
        cues.append(r.checked((*cpath, "at"), partial(_spoken_cue, at, text)))
    midi = [
        _midi(r, (*path, "midi", k), event)
        for k, event in enumerate(r.get(value, path, "midi", list, []))
    ]
    vamps = r.get(value, path, "vamps", list, [])
    for k, vamp in enumerate(vamps):
        r.checked((*path, "vamps", k), partial(tempo_map.section_index, vamp))
    hour = r.get(value, path, "timecode_hour", int, None)
    if hour is not None and not 0 <= hour <= 23:
        raise r.fail((*path, "timecode_hour"), f"must be an hour 0..23, got {hour}")
    advance_value = r.get(value, path, "advance", (str, int, float), "go")
    if isinstance(advance_value, str):
        if advance_value != "go":
            raise r.fail((*path, "advance"), f'must be "go" or seconds, got {advance_value!r}')
        advance, seconds = Advance.WAIT_FOR_GO, Fraction(0)
    else:
        if not 0 <= advance_value <= 3600:
            raise r.fail((*path, "advance"), f"must be 0..3600 seconds, got {advance_value}")
        advance = Advance.AUTO
        seconds = r.checked((*path, "advance"), partial(exact_number, advance_value, "advance"))
    song = r.checked(
        path,
        lambda: Song(
            name,
            map_file,
            tempo_map,
            stems,
            tuple(cues),
            tuple(midi),
            tuple(vamps),
            hour,
            advance,
            seconds,
        ),
    )
    from ictus.show.positions import resolve

    for k, cue in enumerate(song.cues):
        r.checked((*path, "cues", k, "at"), partial(resolve, tempo_map, cue.at))
    for k, event in enumerate(song.midi):
        r.checked((*path, "midi", k, "at"), partial(resolve, tempo_map, event.at))
    return song


def _stem(r: _Reader, path: KeyPath, name: str, spec: Any, base: Path) -> Stem:
    if isinstance(spec, str):
        return r.checked(path, lambda: Stem(name, base / spec))
    if not isinstance(spec, dict):
        raise r.fail(path, 'a stem is a file name or { path = "file.wav", gain = 1.0 }')
    r.table(spec, path, {"path", "gain", "channels"})
    file = base / r.get(spec, path, "path", str)
    gain = r.get(spec, path, "gain", (int, float), 1.0)
    channels = r.get(spec, path, "channels", (list, int), None)
    if isinstance(channels, int):
        channels = [channels]
    return r.checked(
        path, lambda: Stem(name, file, gain, None if channels is None else tuple(channels))
    )


def _midi(r: _Reader, path: KeyPath, event: Any) -> MidiEvent:
    if not isinstance(event, dict):
        raise r.fail(path, 'a MIDI event is a table: { at = "chorus", program = 5 }')
    r.table(
        event,
        path,
        {"at", "program", "control", "value", "note", "velocity", "channel", "length_ms"},
    )
    at = r.get(event, path, "at", (str, int))
    channel = r.get(event, path, "channel", int, 1)
    kinds = [k for k in ("program", "control", "note") if k in event]
    if len(kinds) != 1:
        raise r.fail(path, "a MIDI event has exactly one of program, control or note")
    message: Callable[[], MidiMessage]
    if kinds[0] == "program":
        program = r.get(event, path, "program", int)
        message = partial(ProgramChange, program, channel)
    elif kinds[0] == "control":
        control = r.get(event, path, "control", int)
        cc_value = r.get(event, path, "value", int)
        message = partial(ControlChange, control, cc_value, channel)
    else:
        note = r.get(event, path, "note", int)
        velocity = r.get(event, path, "velocity", int, 100)
        length = r.get(event, path, "length_ms", (int, float), 100)
        message = partial(Note, note, velocity, channel, length)
    built = cast(MidiMessage, r.checked((*path, kinds[0]), message))
    return r.checked((*path, "at"), partial(_midi_event, at, built))


def _spoken_cue(at: str | int, text: str) -> SpokenCue:
    return SpokenCue(parse_position(at), text)


def _midi_event(at: str | int, message: MidiMessage) -> MidiEvent:
    return MidiEvent(parse_position(at), message)
