"""Hit points: the moments in picture the music must catch, read from spotting lists.

A :class:`Hit` holds its time in exact seconds after the **cue start** (the first
downbeat, ``--start``), a label, a weight (how much it matters when fitting a tempo) and
the grid it may land on: ``beat``, ``8th``, ``16th`` or ``triplet`` (eighth-note
triplets), all relative to the click's beat.

Readers (:func:`read_hits` picks one from the content, or by ``fmt``):

``csv``
    A header row, then one hit a row. Columns (any order, case ignored): ``timecode``
    (a label on the picture's clock, e.g. ``01:00:04:00``) or ``seconds`` (seconds after
    the cue start) or ``frame`` (an absolute frame count); optional ``label``,
    ``weight`` (default 1), ``grid`` (default ``beat``) and ``colour`` (streamer colour).
``reaper``
    REAPER's Region/Marker Manager CSV (``#,Name,Start,End,Length``); ``Start`` as a
    timecode (absolute), or as ``m:ss.sss`` / seconds (after the cue start). Bars.beats
    positions are refused: they need REAPER's tempo map.
``protools``
    Pro Tools "Export Session Info as Text" (the MARKERS LISTING part). Timecode
    locations are used as they are; other time formats go through the sample
    reference, the session's sample rate and its start timecode.
``avid``
    Media Composer's marker list (tab separated: user, timecode, track, colour, comment).
``edl``
    Locators in an EDL: ``* LOC: 01:00:04:00 RED text`` (Avid) or Resolve's
    ``|C:... |M:name`` notes under an event (at the event's record-in).

Examples
--------
>>> from ictus.timebase import FPS_24
>>> hits = parse_hits("timecode,label,grid\\n01:00:04:00,door slam,8th\\n", rate=FPS_24,
...                   start="01:00:00:00")
>>> hits[0].time, hits[0].label, hits[0].divisions
(Fraction(4, 1), 'door slam', 2)
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from pathlib import Path

from ictus.errors import IctusError, ParameterError, ParseError, SourcePos
from ictus.limits import MAX_DURATION_S, MAX_HITS, check_number_text, read_input
from ictus.timebase import FrameRate, exact_number, frames_to_seconds, parse_rate, parse_timecode

#: Grids a hit may land on: how many equal parts of the beat.
GRIDS: dict[str, int] = {"beat": 1, "8th": 2, "16th": 4, "triplet": 3}
_GRID_NAMES = {
    "beat": "beat",
    "beats": "beat",
    "quarter": "beat",
    "q": "beat",
    "1": "beat",
    "8th": "8th",
    "8": "8th",
    "eighth": "8th",
    "eighths": "8th",
    "e": "8th",
    "16th": "16th",
    "16": "16th",
    "sixteenth": "16th",
    "sixteenths": "16th",
    "s": "16th",
    "triplet": "triplet",
    "triplets": "triplet",
    "trip": "triplet",
    "3": "triplet",
}

#: Streamer colours a hit may ask for (others fall back to the convention).
COLOURS = ("green", "yellow", "red", "white", "blue", "cyan", "magenta", "orange")

#: Hit-list formats :func:`parse_hits` reads.
FORMATS = ("csv", "reaper", "protools", "avid", "edl")

_TIMECODE = re.compile(r"\d{1,2}:\d{2}:\d{2}[:;.]\d{2}")
_CLOCK = re.compile(r"(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d*)?|\.\d+)")


def parse_grid(text: str) -> str:
    """The canonical grid name: ``beat``, ``8th``, ``16th`` or ``triplet``.

    >>> parse_grid("Eighth"), parse_grid("16"), parse_grid("trip")
    ('8th', '16th', 'triplet')
    """
    name = _GRID_NAMES.get(text.strip().lower())
    if name is None:
        raise ParameterError(f"unknown grid {text!r}; choose one of: {', '.join(GRIDS)}")
    return name


@dataclass(frozen=True)
class Hit:
    """One hit point.

    Parameters
    ----------
    time
        Exact seconds after the cue start (negative: before it, in the warning clicks).
    label
        What happens on screen.
    weight
        How much the hit counts when fitting (>= 0; 0 shows the hit but ignores it).
    grid
        Where it may land: ``beat``, ``8th``, ``16th`` or ``triplet``.
    colour
        Streamer colour, or None for the convention (see :mod:`ictus.film.streamers`).
    line
        Source line, for messages (not compared).
    """

    time: Fraction
    label: str = ""
    weight: Fraction = Fraction(1)
    grid: str = "beat"
    colour: str | None = None
    line: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        # the one number rule: Hit(60.06) is 3003/50 s, not the float's binary value
        if not isinstance(self.time, Fraction):
            object.__setattr__(self, "time", exact_number(self.time, "hit time"))
        if not isinstance(self.weight, Fraction):
            object.__setattr__(self, "weight", exact_number(self.weight, "hit weight"))
        if self.weight < 0:
            raise ParameterError(f"hit weight must be >= 0, got {self.weight}")
        if self.grid not in GRIDS:
            object.__setattr__(self, "grid", parse_grid(self.grid))
        if self.colour is not None and self.colour not in COLOURS:
            raise ParameterError(
                f"unknown streamer colour {self.colour!r}; choose one of: {', '.join(COLOURS)}"
            )

    @property
    def divisions(self) -> int:
        """Equal parts of the beat the hit may land on (1, 2, 3 or 4)."""
        return GRIDS[self.grid]


# -- reading --------------------------------------------------------------------------


class _Source:
    """Where the hits come from, for messages that point at the bad spot."""

    def __init__(self, filename: str, text: str) -> None:
        self.filename = filename
        self.lines = text.splitlines()

    def error(self, message: str, line: int, needle: str = "") -> ParseError:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        column = text.find(needle) + 1 if needle and needle in text else 1
        return ParseError(message, SourcePos(self.filename, line, column, text))


class _Clock:
    """Turns the times a file holds into seconds after the cue start."""

    def __init__(self, rate: FrameRate, start_frame: int) -> None:
        self.rate = rate
        self.start_frame = start_frame
        self.start = frames_to_seconds(start_frame, rate)

    def timecode(self, label: str) -> Fraction:
        return frames_to_seconds(parse_timecode(label, self.rate), self.rate) - self.start

    def frame(self, text: str) -> Fraction:
        if not text.strip().isdigit():
            raise ParameterError(f"expected a frame count, got {text!r}")
        return frames_to_seconds(int(text), self.rate) - self.start


def clock_seconds(text: str) -> Fraction:
    """Exact seconds of ``"4.5"``, ``"0:04.500"`` or ``"1:02:03.25"``.

    >>> clock_seconds("1:02:03.25"), clock_seconds("0:04.5"), clock_seconds("12")
    (Fraction(14893, 4), Fraction(9, 2), Fraction(12, 1))
    """
    m = _CLOCK.fullmatch(text.strip())
    if m is None:
        raise ParameterError(f"expected seconds such as 4.5 or 0:04.500, got {text!r}")
    hours, minutes, seconds = m.group(1), m.group(2), m.group(3)
    check_number_text(text, "seconds")
    total = Fraction(seconds)
    if minutes is not None:
        if total >= 60:
            raise ParameterError(f"seconds must be below 60 in {text!r}")
        total += 60 * int(minutes)
    if hours is not None:
        total += 3600 * int(hours)
    return total


def _hit(
    src: _Source,
    line: int,
    needle: str,
    make: Callable[[], Fraction],
    **fields: object,
) -> Hit:
    try:
        return Hit(make(), **fields, line=line)  # type: ignore[arg-type]
    except ParameterError as err:
        raise src.error(str(err), line, needle) from None


def _read_csv(src: _Source, text: str, clock: _Clock, grid: str) -> list[Hit]:
    rows = list(csv.reader(io.StringIO(text)))
    first, where, kind = _csv_header(src, rows)
    read_time = {"timecode": clock.timecode, "frame": clock.frame}.get(kind, clock_seconds)
    hits = []
    for number, row in enumerate(rows[first + 1 :], start=first + 2):
        if not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            i = where.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        value = cell(kind)
        if not value:
            raise src.error(f"missing {kind}", number)
        weight = _csv_weight(src, number, cell("weight") or "1")
        grid_text = cell("grid") or grid
        colour = cell("colour").lower() or None
        hits.append(
            _hit(
                src,
                number,
                value,
                partial(read_time, value),
                label=cell("label"),
                weight=weight,
                grid=grid_text,
                colour=colour,
            )
        )
    return hits


def _csv_header(src: _Source, rows: list[list[str]]) -> tuple[int, dict[str, int], str]:
    """The header row of a CSV hit list: its index, each column's place, the time column."""
    first = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if first is None:
        raise src.error("the hit list is empty (expected a header row such as timecode,label)", 1)
    header = [c.strip().lower() for c in rows[first]]
    names = {"color": "colour", "time": "seconds", "tc": "timecode", "name": "label"}
    header = [names.get(c, c) for c in header]
    where = {name: i for i, name in enumerate(header)}
    time_cols = [c for c in ("timecode", "seconds", "frame") if c in where]
    if len(time_cols) != 1:
        raise src.error(
            "the header row needs one time column: timecode, seconds or frame "
            f"(found: {', '.join(header) or 'nothing'})",
            first + 1,
        )
    return first, where, time_cols[0]


def _csv_weight(src: _Source, number: int, weight_text: str) -> Fraction:
    try:
        check_number_text(weight_text, "weight")
        return Fraction(weight_text)
    except (ValueError, ZeroDivisionError):
        raise src.error(
            f"weight must be a number, got {weight_text!r}", number, weight_text
        ) from None


def _reaper_time(text: str, clock: _Clock) -> Fraction:
    value = text.strip()
    if _TIMECODE.fullmatch(value):
        return clock.timecode(value)
    if re.fullmatch(r"\d+\.\d+\.\d+", value):
        raise ParameterError(
            f"{value!r} is a bars.beats position; set REAPER's time format to timecode "
            "or seconds before exporting the markers"
        )
    return clock_seconds(value)


def _read_reaper(src: _Source, text: str, clock: _Clock, grid: str) -> list[Hit]:
    rows = list(csv.reader(io.StringIO(text)))
    header = [c.strip().lower() for c in rows[0]]
    if "start" not in header:
        raise src.error("a REAPER marker list needs a Start column", 1)
    i_start = header.index("start")
    i_name = header.index("name") if "name" in header else None
    hits = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row) or len(row) <= i_start:
            continue
        value = row[i_start].strip()
        label = row[i_name].strip() if i_name is not None and i_name < len(row) else ""
        hits.append(
            _hit(src, number, value, partial(_reaper_time, value, clock), label=label, grid=grid)
        )
    return hits


_PT_FORMATS = {
    "23.976": "23.976",
    "24": "24",
    "25": "25",
    "29.97": "29.97ndf",
    "29.97 drop": "29.97df",
    "30": "30",
    "48": "48",
    "50": "50",
    "59.94": "59.94ndf",
    "59.94 drop": "59.94df",
    "60": "60",
}


def _read_protools(src: _Source, text: str, clock: _Clock, grid: str) -> list[Hit]:
    lines = src.lines
    info = _protools_info(lines)
    _check_protools_rate(src, info, clock)
    start = next((i for i, x in enumerate(lines) if "M A R K E R S" in x), None)
    if start is None or start + 1 >= len(lines):
        raise src.error("no MARKERS LISTING in this Pro Tools session text", 1)
    header = [c.strip().upper() for c in lines[start + 1].split("\t")]
    if "LOCATION" not in header:
        raise src.error("the MARKERS LISTING has no LOCATION column", start + 2)
    col = {name: i for i, name in enumerate(header)}
    sample_rate = info.get("SAMPLE RATE")
    session_start = info.get("SESSION START TIMECODE")
    hits = []
    for number in range(start + 3, len(lines) + 1):
        line = lines[number - 1]
        if not line.strip():
            break
        cells = [c.strip() for c in line.split("\t")]

        def cell(name: str, cells: list[str] = cells) -> str:
            i = col.get(name)
            return cells[i] if i is not None and i < len(cells) else ""

        location = cell("LOCATION")
        label = " - ".join(x for x in (cell("NAME"), cell("COMMENTS")) if x)
        when = partial(
            _protools_time,
            clock,
            sample_rate,
            session_start,
            location,
            cell("TIME REFERENCE"),
            cell("UNITS"),
        )
        hits.append(_hit(src, number, location, when, label=label, grid=grid))
    return hits


def _protools_info(lines: list[str]) -> dict[str, str]:
    """The session text's ``KEY:<tab>value`` header lines (upper-case keys only)."""
    info: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":\t")
        if sep and key.isupper():
            info[key.strip()] = value.strip()
    return info


def _check_protools_rate(src: _Source, info: dict[str, str], clock: _Clock) -> None:
    """Refuse a session whose timecode format is not the frame rate given."""
    fmt_text = info.get("TIMECODE FORMAT", "").lower().replace("frame", "").strip()
    if not fmt_text:
        return
    name = _PT_FORMATS.get(fmt_text.replace("  ", " "))
    if name is not None and parse_rate(name) != clock.rate:
        raise src.error(
            f"the session is {info['TIMECODE FORMAT']} but the frame rate given is "
            f"{clock.rate.name}; use --fps {name}",
            next(i for i, x in enumerate(src.lines, 1) if x.startswith("TIMECODE FORMAT")),
        )


def _protools_time(
    clock: _Clock,
    sample_rate: str | None,
    session_start: str | None,
    location: str,
    reference: str,
    units: str,
) -> Fraction:
    """A marker's time: its timecode, or its sample count from the session start."""
    if _TIMECODE.fullmatch(location):
        return clock.timecode(location)
    if units.lower() != "samples" or not reference.isdigit():
        raise ParameterError(f"cannot read the marker location {location!r}")
    if not sample_rate or not session_start:
        raise ParameterError(
            "markers not in timecode need the SAMPLE RATE and SESSION START TIMECODE "
            "lines of the session text"
        )
    try:
        rate_hz = Fraction(sample_rate) if len(sample_rate) < 20 else Fraction(0)
    except ValueError:
        rate_hz = Fraction(0)
    if rate_hz <= 0:
        raise ParameterError(f"the session's SAMPLE RATE {sample_rate!r} is not a rate")
    offset = Fraction(int(reference)) / rate_hz
    return clock.timecode(session_start) + offset


def _read_avid(src: _Source, text: str, clock: _Clock, grid: str) -> list[Hit]:
    hits = []
    for number, line in enumerate(src.lines, start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) < 2 or not _TIMECODE.fullmatch(cells[1]):
            raise src.error(
                "expected an Avid marker line: user, timecode, track, colour, comment "
                "(separated by tabs)",
                number,
            )
        colour = cells[3].lower() if len(cells) > 3 else ""
        label = cells[4] if len(cells) > 4 else ""
        hits.append(
            _hit(
                src,
                number,
                cells[1],
                partial(clock.timecode, cells[1]),
                label=label,
                grid=grid,
                colour=colour if colour in COLOURS else None,
            )
        )
    return hits


_LOC = re.compile(r"\*\s*LOC:\s*(\S+)\s*(.*)$", re.IGNORECASE)
_EVENT = re.compile(r"^\d{3,}\s.*?(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$")
_RESOLVE = re.compile(r"\|C:(\S*)\s*\|M:(.*?)\s*(?:\|D:\d+)?\s*$")


def _read_edl(src: _Source, text: str, clock: _Clock, grid: str) -> list[Hit]:
    hits = []
    record_in: str | None = None
    for number, line in enumerate(src.lines, start=1):
        stripped = line.strip()
        event = _EVENT.match(stripped)
        if event and _TIMECODE.fullmatch(event.group(3)):
            record_in = event.group(3)
            continue
        loc = _LOC.match(stripped)
        if loc:
            label_tc, rest = loc.group(1), loc.group(2).strip()
            word, _, comment = rest.partition(" ")
            colour = word.lower() if word.lower() in COLOURS else None
            label = comment.strip() if colour or word.lower() == "black" else rest
            hits.append(
                _hit(
                    src,
                    number,
                    label_tc,
                    partial(clock.timecode, label_tc),
                    label=label,
                    grid=grid,
                    colour=colour,
                )
            )
            continue
        resolve = _RESOLVE.search(stripped)
        if resolve and record_in is not None:
            colour_name = resolve.group(1).lower().removeprefix("resolvecolor")
            hits.append(
                _hit(
                    src,
                    number,
                    "|M:",
                    partial(clock.timecode, record_in),
                    label=resolve.group(2),
                    grid=grid,
                    colour=colour_name if colour_name in COLOURS else None,
                )
            )
    if not hits:
        raise src.error("no locators (* LOC: lines or |M: markers) in this EDL", 1)
    return hits


_READERS = {
    "csv": _read_csv,
    "reaper": _read_reaper,
    "protools": _read_protools,
    "avid": _read_avid,
    "edl": _read_edl,
}


def detect_format(text: str) -> str:
    """Which hit-list format ``text`` is in, from its content.

    >>> detect_format("#,Name,Start,End,Length\\nM1,Hit,0:04.000,,\\n")
    'reaper'
    >>> detect_format("TITLE: Reel 1\\n* LOC: 01:00:04:00 RED hit\\n")
    'edl'
    """
    head = text.lstrip("\ufeff")
    first = next((x for x in head.splitlines() if x.strip()), "")
    if "M A R K E R S" in head or first.startswith("SESSION NAME:"):
        return "protools"
    if first.replace(" ", "").lower().startswith("#,name"):
        return "reaper"
    if first.startswith(("TITLE:", "FCM:")) or re.search(r"^\s*\*\s*LOC:", head, re.M):
        return "edl"
    cells = first.split("\t")
    if len(cells) >= 4 and _TIMECODE.fullmatch(cells[1].strip()):
        return "avid"
    return "csv"


def parse_hits(
    text: str,
    filename: str = "<string>",
    *,
    rate: FrameRate,
    start: str | int = 0,
    fmt: str | None = None,
    grid: str = "beat",
    allow_early: bool = False,
) -> list[Hit]:
    """Read hits from text, sorted by time.

    Parameters
    ----------
    text, filename
        The file's content and its name (for messages).
    rate
        The picture's frame rate: timecodes are labels at this rate.
    start
        The cue start, a timecode label or an absolute frame count; hit times are
        seconds after it.
    fmt
        One of :data:`FORMATS`; default: :func:`detect_format`.
    grid
        The grid of hits that do not name one.
    allow_early
        Accept hits before the cue start (a click sheet or video shows them in the
        warning clicks); fitting a tempo does not.

    Raises
    ------
    ParseError
        With file:line:column for a bad row; also for hits before the cue start.
    """
    name = fmt or detect_format(text)
    if name not in _READERS:
        raise ParameterError(
            f"unknown hit-list format {fmt!r}; choose one of: {', '.join(FORMATS)}"
        )
    start_frame = start if isinstance(start, int) else parse_timecode(start, rate)
    default_grid = parse_grid(grid)
    src = _Source(filename, text.lstrip("\ufeff"))
    # a CSV cell above the csv module's limit (128 KB) is no hit list's; say so in one line
    csv.field_size_limit(1 << 17)
    try:
        hits = _READERS[name](src, text.lstrip("\ufeff"), _Clock(rate, start_frame), default_grid)
    except csv.Error as err:
        raise ParseError(f"{filename}: not a readable CSV file ({err})") from None
    if not hits:
        raise ParseError(f"{filename}: no hits in this file")
    if len(hits) > MAX_HITS:
        raise ParseError(f"{filename}: {len(hits):,} hits, more than ictus's limit of {MAX_HITS:,}")
    far = next((h for h in hits if abs(h.time) > MAX_DURATION_S), None)
    if far is not None:
        raise src.error(
            f"hit {far.label!r} is {float(far.time) / 3600:,.0f} h from the cue start, "
            f"beyond ictus's limit of {MAX_DURATION_S // 3600} h",
            far.line,
        )
    early = next((h for h in hits if h.time < 0), None)
    if early is not None and not allow_early:
        raise src.error(
            f"hit {early.label!r} is {float(-early.time):.3f} s before the cue start", early.line
        )
    return sorted(hits, key=lambda h: h.time)


def read_hits(
    path: str | Path,
    *,
    rate: FrameRate,
    start: str | int = 0,
    fmt: str | None = None,
    grid: str = "beat",
    allow_early: bool = False,
) -> list[Hit]:
    """Read a hit list from a file (see :func:`parse_hits`)."""
    from ictus.atomic import note_input

    note_input(path)  # no output of this command may replace it
    try:
        data = read_input(str(path), "hit list")  # /dev/zero is refused, not read
    except FileNotFoundError:
        raise IctusError(f"{path}: no such file") from None
    except OSError as err:
        raise IctusError(f"{path}: cannot read ({err.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Pro Tools on Windows and older Avid exports write Latin-1
        text = data.decode("latin-1")
    return parse_hits(
        text, str(path), rate=rate, start=start, fmt=fmt, grid=grid, allow_early=allow_early
    )
