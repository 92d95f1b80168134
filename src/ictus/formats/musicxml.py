"""MusicXML scores (``.musicxml``, ``.xml``, compressed ``.mxl``) read as tempo maps.

The score is parsed by music21 (imported only when a score is read: it takes seconds to
load) and played in performance order: repeats and voltas are expanded by music21's own
``expandRepeats``. Each measure becomes one bar of the map:

- **Meters** come from the time signatures. A measure that holds less (or more) music
  than its time signature -- a pickup (anacrusis), the short bar before a repeat -- gets
  a meter that fits what it holds: one beat of pickup in 4/4 is a bar of 1/4, an eighth
  in 6/8 a bar of 1/8.
- **Tempo** comes from metronome marks (``<metronome>``, with their beat unit: a dotted
  quarter becomes ``Tempo(bpm, 3/8)``, which clicks dotted quarters where a bar holds a
  whole number of them) and from ``<sound tempo="...">`` (quarter notes per minute).
  Where both sit at one place and disagree, the ``<sound>`` value wins: it is what the
  score's own playback plays. A mark inside a bar changes the tempo right there (a
  section tempo step). Words ``a tempo`` and ``Tempo I`` / ``Tempo primo`` return to the
  tempo before the last ramp and to the first tempo. A score without any tempo mark is
  read at 120 BPM, with a warning.
- **Ramps**: ``accel.``, ``rit.``, ``rall.``, ``stringendo``, ``allargando`` (and their
  long forms) start a ramp at the bar where the word is, reaching the next numeric tempo
  mark on the downbeat of that mark's bar (tempo linear in beats, the ``beats`` shape).
  A ramp word with no tempo mark after it (or ``a tempo`` first) changes nothing and
  says so in a warning.
- **Labels**: rehearsal marks and section words (``Verse``, ``Chorus``, ``Trio``,
  ``Coda``, ...) start a labelled section. Labels keep only ``[A-Za-z0-9_.-]`` and are
  made unique in performance order (``A``, then ``A_2`` for the second time through);
  the full text is kept as a cue.

Each run of bars with one meter and one tempo (or one ramp) becomes one
:class:`~ictus.tempomap.model.Section`. Things the reader had to guess are reported as
:class:`ScoreWarning` warnings (one per kind), never silently.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "tune.musicxml")
>>> _ = open(path, "w").write('''<?xml version="1.0"?>
... <score-partwise version="3.1"><part-list><score-part id="P1"><part-name>x</part-name>
... </score-part></part-list><part id="P1">
... <measure number="0" implicit="yes"><attributes><divisions>1</divisions>
... <time><beats>3</beats><beat-type>4</beat-type></time></attributes>
... <direction><direction-type><rehearsal>A</rehearsal></direction-type>
... <sound tempo="90"/></direction>
... <note><pitch><step>C</step><octave>4</octave></pitch><duration>1</duration></note>
... </measure>
... <measure number="1"><note><pitch><step>C</step><octave>4</octave></pitch>
... <duration>3</duration></note></measure>
... </part></score-partwise>''')
>>> tempo_map = read_musicxml(path)
>>> [(s.label, s.bars, str(s.meter), s.tempo.bpm) for s in tempo_map.sections]
[('A', 1, '1/4', Fraction(90, 1)), (None, 1, '3/4', Fraction(90, 1))]
"""

from __future__ import annotations

import re
import unicodedata
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any
from xml.etree import ElementTree

from ictus.errors import IctusError, IctusWarning, ParameterError, ParseError, SourcePos
from ictus.formats.clickfile import HEADERS
from ictus.limits import MAX_INPUT_BYTES, MAX_REPEATS, read_input
from ictus.tempomap.model import QUARTER, Cue, Meter, Section, Tempo, TempoMap

DEFAULT_BPM = 120

#: First words of a ``<words>`` direction that name a part of the piece.
SECTION_WORDS = frozenset(
    {
        "intro",
        "introduction",
        "verse",
        "prechorus",
        "pre-chorus",
        "chorus",
        "refrain",
        "bridge",
        "interlude",
        "solo",
        "break",
        "breakdown",
        "outro",
        "coda",
        "codetta",
        "trio",
        "tag",
        "vamp",
        "ritornello",
        "prelude",
        "postlude",
    }
)

# gradual tempo changes; "riten." / "ritenuto" are sudden, so "rit" must end the word
_RAMP_RE = re.compile(
    r"(?<![a-z])(accel|accelerando|stringendo|rit|ritard|ritardando|rall|rallentando|"
    r"allarg|allargando)(?![a-z])",
    re.IGNORECASE,
)
_A_TEMPO_RE = re.compile(r"^\W*a\s+tempo\b", re.IGNORECASE)
_TEMPO_PRIMO_RE = re.compile(r"\btempo\s+(?:i|1|primo|1mo|1º)(?![a-z])", re.IGNORECASE)
_SECTION_RE = re.compile(
    r"^\W*(?P<word>[A-Za-z][A-Za-z-]*)[.:]?(?:\s+(?P<num>\d+|[A-Z]|[IVX]+))?\b"
)
_ADDITIVE_RE = re.compile(r"^\d+/(\d+)(?:\+\d+/\1)+$")


class ScoreWarning(IctusWarning):
    """Something in a score that the reader read with a guess (named in the message)."""


# -- what one bar of the score holds, in plain data -------------------------------------


@dataclass(frozen=True)
class _Event:
    """Something at ``offset`` quarters into a bar.

    ``kind`` is ``tempo`` (value: ``(is_sound, Tempo)`` as found in a part, the chosen
    Tempo once the parts are merged), ``ramp`` (value: the words), ``a-tempo``,
    ``tempo-primo`` or ``label`` (value: (cue text, text for the label, priority)).
    """

    offset: Fraction
    kind: str
    value: Any = None


#: Order of events at one offset: a label first, then tempo, then words that use it.
_KIND_ORDER = {"label": 0, "tempo": 1, "a-tempo": 2, "tempo-primo": 2, "ramp": 3}


@dataclass
class _Bar:
    """One bar in performance order: its name in the score, meter, and events."""

    number: str
    meter: Meter
    events: list[_Event] = field(default_factory=list)

    @property
    def length(self) -> Fraction:
        return self.meter.bar_quarters


@dataclass(frozen=True)
class _Ramp:
    start: int  # first bar (index) of the ramp
    end: int  # bar (index) whose downbeat reaches ``target``
    begin: Tempo
    target: Tempo


# -- reading the file ----------------------------------------------------------------------


def read_musicxml(
    path: str, *, bars: int | None = None, expand_repeats: bool = True, **options: Any
) -> TempoMap:
    """Read a MusicXML score (``.musicxml``, ``.xml`` or compressed ``.mxl``) as a tempo map.

    Parameters
    ----------
    path : str
    bars : int >= 1, optional
        End the map after this many bars (counted in performance order).
    expand_repeats : bool, default True
        Play repeats and voltas in performance order; False reads the bars as written.

    Raises
    ------
    ParseError
        The file is not well-formed XML (with the line and column).
    IctusError
        The file is not a MusicXML score, a ``.mxl`` archive is damaged, or music21
        cannot read it; the message names the file.

    Warns
    -----
    ScoreWarning
        For every guess: no tempo mark (120 BPM), a ramp word without a tempo to reach,
        measures whose contents fit no meter, repeats music21 cannot expand.
    """
    if options:
        flags = ", ".join("--" + key.replace("_", "-") for key in options)
        raise ParameterError(f"{flags}: not an option for MusicXML scores (only --bars is)")
    if bars is not None and (isinstance(bars, bool) or not isinstance(bars, int) or bars < 1):
        raise ParameterError(f"--bars must be a whole number >= 1, got {bars!r}")
    root = _xml_root(path)
    _check_repeats(root, path)
    notes: list[str] = []
    score = _music21_score(root, path)
    bar_list, title = _score_bars(score, expand_repeats, notes.append)
    if not bar_list:
        raise IctusError(f"{path}: the score has no measures")
    if bars is not None:
        bar_list = bar_list[:bars]
    sections = _sections(bar_list, notes.append)
    for note in dict.fromkeys(notes):  # each message once, in order
        warnings.warn(f"{path}: {note}", ScoreWarning, stacklevel=2)
    return TempoMap(tuple(sections), title=title)


def _xml_root(path: str) -> ElementTree.Element:
    """The root element of a MusicXML file or of the score inside a ``.mxl`` archive."""
    try:
        data = read_input(path, "score")
    except IsADirectoryError:
        raise IctusError(f"{path}: is a folder, not a score") from None
    except OSError as err:
        raise IctusError(f"{path}: cannot read ({err.strerror})") from None
    name = path
    if data.startswith(b"PK"):
        data, inner = _unzip_score(data, path)
        name = f"{path}:{inner}"
    try:
        root = ElementTree.fromstring(data)
    except LookupError as err:  # <?xml encoding="..."?> names an encoding Python lacks
        raise IctusError(f"{name}: {err}; save the score as UTF-8") from None
    except ElementTree.ParseError as err:
        line, column = err.position
        text = _source_line(data, line)
        reason = str(err).split(":")[0]
        raise ParseError(
            f"not well-formed XML ({reason}), so not a MusicXML score ictus can read",
            SourcePos(name, line, column + 1, text),
        ) from None
    tag = root.tag.rsplit("}", 1)[-1]
    if tag == "score-timewise":
        raise IctusError(
            f"{path}: a score-timewise MusicXML file; save it as score-partwise "
            "(the usual kind) and read that"
        )
    if tag != "score-partwise":
        raise IctusError(
            f"{path}: not a MusicXML score (the XML's root element is <{tag}>, "
            "not <score-partwise>)"
        )
    return root


def _unzip_score(data: bytes, path: str) -> tuple[bytes, str]:
    """The score file inside a ``.mxl`` archive, found through META-INF/container.xml."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            inner = None
            if "META-INF/container.xml" in names:
                container = ElementTree.fromstring(archive.read("META-INF/container.xml"))
                for rootfile in container.iter():
                    if rootfile.tag.rsplit("}", 1)[-1] == "rootfile":
                        inner = rootfile.get("full-path")
                        break
            if inner is None:
                candidates = [
                    n
                    for n in names
                    if not n.startswith("META-INF/") and n.lower().endswith((".xml", ".musicxml"))
                ]
                if not candidates:
                    raise IctusError(f"{path}: the .mxl archive holds no MusicXML score")
                inner = candidates[0]
            # a zip bomb (1 MB that unpacks to gigabytes) is stopped at the input limit
            with archive.open(inner) as member:
                score = member.read(MAX_INPUT_BYTES + 1)
            if len(score) > MAX_INPUT_BYTES:
                raise IctusError(
                    f"{path}: the score inside the .mxl archive is more than "
                    f"{MAX_INPUT_BYTES >> 20} MB"
                )
            return score, inner
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        KeyError,
        ElementTree.ParseError,
        NotImplementedError,  # a compression method zipfile does not know
        RuntimeError,  # an encrypted member
        ValueError,
        OSError,
    ) as err:
        raise IctusError(
            f"{path}: a damaged or truncated .mxl archive ({_one_line(err)})"
        ) from None


def _source_line(data: bytes, line: int) -> str:
    """Line ``line`` of a text file for the caret display ("" for binary junk)."""
    lines = data.split(b"\n")
    if not 1 <= line <= len(lines):
        return ""
    text = lines[line - 1].decode("utf-8", "replace").rstrip("\r")
    if len(text) > 200 or any(not c.isprintable() and c != "\t" for c in text):
        return ""
    return text


def _check_repeats(root: ElementTree.Element, path: str) -> None:
    """Refuse ``<repeat times="100000">`` before music21 writes out every pass."""
    for element in root.iter():
        times = element.get("times")
        if times is None or element.tag.rsplit("}", 1)[-1] != "repeat":
            continue
        count = int(times) if times.strip().isdecimal() and len(times) < 10 else None
        if count is None or count > MAX_REPEATS:
            raise IctusError(
                f"{path}: a repeat played {times.strip()[:20]!r} times; "
                f"ictus plays a repeat at most {MAX_REPEATS} times"
            )


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _music21_score(root: ElementTree.Element, path: str) -> Any:
    """Let music21 build its Score from the XML tree we already checked."""
    try:
        from music21.musicxml import xmlToM21
    except ImportError:
        raise IctusError(f"{path}: reading MusicXML needs music21 (pip install music21)") from None

    make: Any = xmlToM21.MusicXMLImporter  # music21 leaves it untyped
    importer = make()
    try:
        with warnings.catch_warnings():
            # music21 warns about notation details a click track does not need
            warnings.simplefilter("ignore")
            importer.xmlRootToScore(root, importer.stream)
    except Exception as err:  # music21 raises many kinds for malformed MusicXML
        raise IctusError(
            f"{path}: music21 cannot read this MusicXML score "
            f"({type(err).__name__}: {_one_line(err)})"
        ) from None
    return importer.stream


# -- from a music21 score to plain bars -----------------------------------------------------


def _score_bars(
    score: Any, expand: bool, warn: Callable[[str], None]
) -> tuple[list[_Bar], str | None]:
    """The bars of ``score`` in performance order, and its title."""
    from music21 import expressions, meter, repeat, stream, tempo

    title = None
    metadata = score.metadata
    if metadata is not None:
        title = metadata.title or metadata.movementName
    if title:
        title = " ".join(str(title).split()) or None

    written = list(score.parts) or [score]
    # the meter of each written measure, so that a repeat jumping back across a meter
    # change still finds the right one (the copies of a measure keep its number)
    meter_of: dict[tuple[int, str], Any] = {}
    running = None
    for m in written[0].getElementsByClass(stream.Measure):
        ts = m.timeSignature
        if ts is not None:
            running = ts
        if running is not None:
            meter_of.setdefault(_measure_key(m), running)

    played = score
    if expand:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                played = score.expandRepeats()
        except Exception as err:  # music21's expander raises several kinds
            warn(f"cannot expand the repeats ({_one_line(err)}); reading the bars as written")
    parts = list(played.parts) or [played]
    measures = [list(p.getElementsByClass(stream.Measure)) for p in parts]
    count = len(measures[0])
    agreeing = [ms for ms in measures if len(ms) == count]
    if len(agreeing) < len(measures):
        warn("the parts have different numbers of bars; the bars follow the first part")

    bars: list[_Bar] = []
    misfits: list[str] = []
    current = None
    for i in range(count):
        first = agreeing[0][i]
        candidates = [first.timeSignature, meter_of.get(_measure_key(first)), current]
        candidates += [ms[i].timeSignature for ms in agreeing[1:]]
        ts = next((c for c in candidates if c is not None), None)
        if ts is None:
            warn("no time signature; reading 4/4")
            ts = meter.TimeSignature("4/4")
        current = ts
        nominal = _meter_of_signature(ts)
        length = _bar_length([Fraction(ms[i].duration.quarterLength) for ms in agreeing])
        bar_meter = nominal
        if length != nominal.bar_quarters and length > 0:
            fitted = _meter_of_length(length, nominal.unit)
            if fitted is None:
                misfits.append(_measure_name(first))
            else:
                bar_meter = fitted
        bars.append(_Bar(_measure_name(first), bar_meter))
    if misfits:
        shown = ", ".join(misfits[:5]) + (", ..." if len(misfits) > 5 else "")
        warn(
            f"measure {shown}: the notes fill no meter (a notation error?); "
            "read with the time signature's length"
        )

    positions: dict[tuple[int, Fraction], list[tuple[bool, Tempo]]] = {}
    for ms in agreeing:
        for i, m in enumerate(ms):
            wanted = (
                tempo.MetronomeMark,
                tempo.MetricModulation,
                expressions.RehearsalMark,
                expressions.TextExpression,
                repeat.Coda,
            )
            for el in m.recurse().getElementsByClass(wanted):
                try:
                    offset = Fraction(el.getOffsetInHierarchy(m))
                except Exception:  # music21 cannot place it in the measure: skip it
                    continue
                where = _place(bars, i, offset)
                if where is None:
                    continue
                for event in _events_of(el, where[1], tempo, expressions, repeat):
                    if event.kind == "tempo":
                        positions.setdefault(where, []).append(event.value)
                    else:
                        bars[where[0]].events.append(event)
    for (i, offset), marks in positions.items():
        # at one place: the playback value (<sound tempo>) over the printed one
        sounding = [t for is_sound, t in marks if is_sound]
        chosen = sounding[0] if sounding else marks[0][1]
        bars[i].events.append(_Event(offset, "tempo", chosen))
    for bar in bars:
        bar.events.sort(key=lambda e: (e.offset, _KIND_ORDER[e.kind]))
    return bars, title


def _measure_key(m: Any) -> tuple[int, str]:
    return (int(m.number or 0), str(m.numberSuffix or ""))


def _measure_name(m: Any) -> str:
    return f"{m.number}{m.numberSuffix or ''}"


def _bar_length(lengths: list[Fraction]) -> Fraction:
    """How long a bar is: what most parts hold (one part's notation error is outvoted)."""
    counts = Counter(lengths).most_common()
    best = counts[0][1]
    return max(value for value, n in counts if n == best)


def _meter_of_signature(ts: Any) -> Meter:
    count, unit = int(ts.numerator), int(ts.denominator)
    grouping = None
    match = _ADDITIVE_RE.match(str(ts.ratioString))
    if match is not None:
        grouping = tuple(int(part.split("/")[0]) for part in str(ts.ratioString).split("+"))
    try:
        return Meter(count, unit, grouping if grouping and len(grouping) > 1 else None)
    except ParameterError:
        # a signature ictus cannot click (such as 3/3): use its length in quarters
        fitted = _meter_of_length(Fraction(ts.barDuration.quarterLength), 4)
        return fitted or Meter(4, 4)


def _meter_of_length(length: Fraction, unit: int) -> Meter | None:
    """The meter with the smallest unit (from ``unit``, halving) that spans ``length``.

    >>> str(_meter_of_length(Fraction(1), 4)), str(_meter_of_length(Fraction(3, 2), 4))
    ('1/4', '3/8')
    >>> _meter_of_length(Fraction(95, 24), 4) is None
    True
    """
    while unit <= 64:
        count = length * unit / 4
        if count.denominator == 1 and count >= 1:
            return Meter(int(count), unit)
        unit *= 2
    return None


def _place(bars: list[_Bar], i: int, offset: Fraction) -> tuple[int, Fraction] | None:
    """(bar index, offset) of something at ``offset`` in measure ``i``; at or past the bar
    line it belongs to the next bar's downbeat."""
    offset = max(offset, Fraction(0))
    if offset < bars[i].length:
        return i, offset
    if i + 1 < len(bars):
        return i + 1, Fraction(0)
    return None


def _events_of(el: Any, offset: Fraction, tempo: Any, expressions: Any, repeat: Any) -> list[Any]:
    """The events of one music21 object: tempo marks as (is_sound, Tempo) values."""
    if isinstance(el, tempo.MetricModulation):
        mark = el.newMetronome
        found = _mark_tempo(mark) if mark is not None else None
        return [] if found is None else [_Event(offset, "tempo", (False, found))]
    if isinstance(el, tempo.MetronomeMark):
        found = _mark_tempo(el)
        if found is None:
            return []
        return [_Event(offset, "tempo", (el.numberSounding is not None, found))]
    if isinstance(el, expressions.RehearsalMark):
        text = _cue_text(str(el.content or ""))
        return [_Event(offset, "label", (text, text, 0))] if text else []
    if isinstance(el, repeat.Coda):
        text = _cue_text(el.getText() or "")
        if text.lower() == "coda":
            return [_Event(offset, "label", (text, text, 1))]
        return []
    if isinstance(el, expressions.TextExpression):
        return _word_events(_cue_text(str(el.content or "")), offset)
    return []


def _word_events(text: str, offset: Fraction) -> list[_Event]:
    """Ramp words, returns to a tempo, and section names in a ``<words>`` direction."""
    if not text:
        return []
    events = []
    if _A_TEMPO_RE.search(text):
        events.append(_Event(offset, "a-tempo"))
    if _TEMPO_PRIMO_RE.search(text):
        events.append(_Event(offset, "tempo-primo"))
    ramp = _RAMP_RE.search(text)
    if ramp is not None and not events:
        events.append(_Event(offset, "ramp", text))
    match = _SECTION_RE.match(text)
    if match is not None and match.group("word").lower() in SECTION_WORDS:
        name = match.group("word")
        if match.group("num"):
            name += "_" + match.group("num")
        events.append(_Event(offset, "label", (text, name, 1)))
    return events


def _mark_tempo(mark: Any) -> Tempo | None:
    """The Tempo of a metronome mark, or None when it has no number of its own."""
    number = mark.numberSounding
    if number is None and not mark.numberImplicit:
        # a number music21 made up from words such as "Allegro" is not the score's
        number = mark.number
    if number is None or number <= 0:
        return None
    unit = Fraction(mark.referent.quarterLength) / 4 if mark.referent is not None else QUARTER
    if unit <= 0:
        unit = QUARTER
    bpm = Fraction(number).limit_denominator(1000)
    if mark.numberSounding is not None:
        return Tempo(bpm)  # <sound tempo> counts quarter notes
    return Tempo(bpm, unit)


def _cue_text(text: str) -> str:
    """Text on one line without double quotes (what a Cue may hold)."""
    return " ".join(text.replace('"', "'").split())


def _label_text(text: str) -> str:
    """Only ``[A-Za-z0-9_.-]``: accents dropped, other runs become ``_``.

    >>> _label_text("Più mosso!"), _label_text("Verse 2"), _label_text("§")
    ('Piu_mosso', 'Verse_2', '')
    """
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", plain).strip("_.-")


# -- from bars to sections --------------------------------------------------------------


def _sections(bars: list[_Bar], warn: Callable[[str], None]) -> list[Section]:
    """Runs of bars with one meter and one tempo (or one ramp) become sections."""
    downbeat, changes, ramps = _tempo_timeline(bars, warn)
    ramp_of: list[int | None] = [None] * len(bars)
    for k, ramp in enumerate(ramps):
        for i in range(ramp.start, ramp.end):
            ramp_of[i] = k
    labels = _labels(bars)

    def after(i: int) -> Tempo:
        return changes[i][-1][1] if changes[i] else downbeat[i]

    starts = [
        i
        for i in range(len(bars))
        if i == 0
        or bars[i].meter != bars[i - 1].meter
        or ramp_of[i] != ramp_of[i - 1]
        or i in labels
        or (ramp_of[i] is None and downbeat[i] != after(i - 1))
    ]
    sections = []
    for a, b in zip(starts, [*starts[1:], len(bars)], strict=True):
        which = ramp_of[a]
        meter = bars[a].meter
        if which is None:
            steps, now = [], downbeat[a].quarter_bpm
            for i in range(a, b):
                for offset, t in changes[i]:
                    if t.quarter_bpm != now:
                        steps.append(((i - a) * meter.bar_quarters + offset, t.quarter_bpm))
                        now = t.quarter_bpm
            section = Section(b - a, downbeat[a], meter, steps=tuple(steps) or None)
        else:
            begin, end = _ramp_piece(bars, ramps[which], a, b)
            section = Section(b - a, begin, meter, tempo_end=end, ramp="beats")
        if a in labels:
            label, cues = labels[a]
            section = replace(
                section,
                label=label,
                cues=tuple(Cue(text, 1, _beat_at(section, off)) for off, text in cues),
            )
        sections.append(section)
    return sections


def _tempo_timeline(
    bars: list[_Bar], warn: Callable[[str], None]
) -> tuple[list[Tempo], list[list[tuple[Fraction, Tempo]]], list[_Ramp]]:
    """The tempo on each downbeat, the changes inside each bar, and the ramps."""
    marks = [(i, e) for i, bar in enumerate(bars) for e in bar.events if e.kind == "tempo"]
    current = Tempo(DEFAULT_BPM)
    first_tempo: Tempo | None = None  # for "Tempo I"
    if not marks:
        warn(f"no tempo mark in the score; reading {DEFAULT_BPM} BPM")
    else:
        i, first = marks[0]
        # a mark in the first bar (or in the first full bar after a pickup) holds from
        # the start; a later first mark leaves the bars before it at the default
        opening = 2 if _is_pickup(bars, 0) else 1
        if i < opening:
            current = first_tempo = first.value
        else:
            warn(
                f"no tempo mark before measure {bars[i].number}; "
                f"reading {DEFAULT_BPM} BPM until there"
            )
    downbeat: list[Tempo] = []
    changes: list[list[tuple[Fraction, Tempo]]] = [[] for _ in bars]
    ramps: list[_Ramp] = []
    pending: tuple[int, str, str] | None = None  # (start bar, words, measure name)
    before_ramp: Tempo | None = None

    def set_tempo(i: int, offset: Fraction, value: Tempo) -> None:
        nonlocal current
        if value == current:
            return
        if offset == 0:
            downbeat[i] = value
        else:
            changes[i].append((offset, value))
        current = value

    def cancel(i: int, why: str) -> None:
        nonlocal pending
        if pending is not None:
            warn(f"{pending[1]!r} in measure {pending[2]}: {why}; no ramp")
            pending = None

    for i, bar in enumerate(bars):
        downbeat.append(current)
        for event in bar.events:
            if event.kind == "tempo":
                target: Tempo = event.value
                first_tempo = first_tempo or target
                if pending is not None:
                    start, words, name = pending
                    pending = None
                    if start < i and target.quarter_bpm != current.quarter_bpm:
                        ramps.append(_Ramp(start, i, current, target))
                        before_ramp = current
                        current = target
                        downbeat[i] = target
                        continue
                    warn(
                        f"{words!r} in measure {name}: the next tempo mark is in the same "
                        "bar or at the same tempo; no ramp"
                    )
                set_tempo(i, event.offset, target)
            elif event.kind == "ramp":
                if pending is None:
                    start = i if event.offset == 0 or not changes[i] else i + 1
                    pending = (start, event.value, bar.number)
            elif event.kind == "a-tempo":
                cancel(i, f"'a tempo' in measure {bar.number} comes before any tempo mark")
                if before_ramp is not None:
                    set_tempo(i, event.offset, before_ramp)
                    before_ramp = None
            elif event.kind == "tempo-primo":
                cancel(i, f"'Tempo I' in measure {bar.number} comes before any tempo mark")
                if first_tempo is not None:
                    set_tempo(i, event.offset, first_tempo)
    cancel(len(bars), "no tempo mark follows it")
    return downbeat, changes, ramps


def _is_pickup(bars: list[_Bar], i: int) -> bool:
    return i + 1 < len(bars) and bars[i].length < bars[i + 1].length


def _ramp_piece(bars: list[_Bar], ramp: _Ramp, a: int, b: int) -> tuple[Tempo, Tempo]:
    """Start and end tempo of bars ``a..b`` of a ramp that a meter change splits.

    The ``beats`` shape is tempo linear in quarter notes, so consecutive pieces with the
    tempo interpolated at each split are the same ramp, exactly.
    """
    unit = ramp.begin.unit or QUARTER
    t0 = ramp.begin.bpm
    t1 = ramp.target.quarter_bpm * QUARTER / unit
    total = sum((bars[i].length for i in range(ramp.start, ramp.end)), Fraction(0))
    p0 = sum((bars[i].length for i in range(ramp.start, a)), Fraction(0))
    p1 = p0 + sum((bars[i].length for i in range(a, b)), Fraction(0))
    return Tempo(t0 + (t1 - t0) * p0 / total, unit), Tempo(t0 + (t1 - t0) * p1 / total, unit)


def _labels(bars: list[_Bar]) -> dict[int, tuple[str, list[tuple[Fraction, str]]]]:
    """Bar index -> (unique label, [(offset, cue text)]) for bars with labels."""
    used: set[str] = set()
    result: dict[int, tuple[str, list[tuple[Fraction, str]]]] = {}
    for i, bar in enumerate(bars):
        found = [e for e in bar.events if e.kind == "label"]
        if not found:
            continue
        cues: list[tuple[Fraction, str]] = []
        for e in found:
            if e.value[0] not in (text for _, text in cues):
                cues.append((e.offset, e.value[0]))
        best = min(found, key=lambda e: (e.value[2], e.offset))
        result[i] = (_unique(_label_text(best.value[1]) or "mark", used), cues)
    return result


def _unique(label: str, used: set[str]) -> str:
    """``label``, or ``label_2``, ``label_3``... if taken; never a .click header name."""
    if label.lower() in HEADERS:
        label += "_"
    name, n = label, 1
    while name in used:
        n += 1
        name = f"{label}_{n}"
    used.add(name)
    return name


def _beat_at(section: Section, offset: Fraction) -> int:
    """The beat (from 1) of ``section``'s bar that contains ``offset``."""
    return sum(1 for start in section.beat_offsets() if start <= offset)
