"""MusicXML scores (``.musicxml``, ``.xml``, compressed ``.mxl``) read as tempo maps.

The score is parsed by music21 (imported only when a score is read: it takes seconds to
load) and played in performance order: repeats and voltas are expanded by music21's own
``expandRepeats``. Each measure becomes one bar of the map:

- **Meters** come from the time signatures. A measure that holds less (or more) music
  than its time signature -- a pickup (anacrusis), the short bar before a repeat -- gets
  a meter that fits what it holds: one beat of pickup in 4/4 is a bar of 1/4, an eighth
  in 6/8 a bar of 1/8. What a measure holds is read from the XML (notes placed by
  ``<backup>`` and ``<forward>``; the bar ends where its last note ends), not from
  music21, which counts drawn offsets as time. When the parts
  disagree (a damaged score), the time signature wins if one part with notes fills it
  exactly; otherwise what most parts hold (ties: the longest).
- **Where a direction acts**: at its place among the notes. A direction's ``<offset>``
  only moves the drawing (MusicXML 4.0) unless it says ``sound="yes"``; it never changes
  a bar's length. An ``<offset>`` inside ``<sound>`` is playback and counts.
- **Tempo** comes from metronome marks (``<metronome>``, with their beat unit: a dotted
  quarter becomes ``Tempo(bpm, 3/8)``, which clicks dotted quarters where a bar holds a
  whole number of them; ``ca 72``, ``c. 72`` are 72; two beat units and no number are a
  metric modulation) and from ``<sound tempo>`` (quarter notes per minute), which is
  the playback tempo. At one place the tempo is, in order: the ``<sound tempo>`` in the
  direction of a printed mark (in the mark's unit), a ``<sound tempo>`` on its own, the
  printed number, a ``<sound tempo>`` that came with words only. A mark inside a bar
  changes the tempo right there (a section tempo step). A score without any tempo mark
  is read at 120 BPM, with a warning.
- **a tempo / Tempo primo**: a number printed with them wins. ``a tempo`` alone returns
  to the tempo before the last ramp; ``Tempo I``/``Tempo primo`` alone to the first tempo
  of the movement. A movement starts at the first bar, after a final barline (that
  closes no repeat), where measure numbers start again at 1, and where a new time
  signature comes with a tempo word (Allegro, Adagio, Presto, ...) on its downbeat.
- **Ramps**: ``rit.``, ``ritard.``, ``rall.``, ``allarg.`` (slower) and ``accel.``,
  ``string.`` (faster), long forms and phrases (``poco rit.``, ``rit. e dim.``) too,
  start a ramp at the bar where the words are, ending on the downbeat of the bar of the
  next tempo mark (tempo linear in beats, the ``beats`` shape). A ramp keeps its
  direction: when that mark lies the way the words go, the ramp reaches it; when it goes
  the other way or is level (or the next word is ``a tempo``/``Tempo I``), the ramp moves
  by :data:`RAMP_AMOUNT` (10 %; ``poco``: :data:`POCO_RAMP_AMOUNT`, 5 %) and the new
  tempo then starts at its place. A ramp word with nothing after it (or a mark in the
  same bar) changes nothing and says so in a warning.
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
from typing import Any, NamedTuple
from xml.etree import ElementTree

from ictus.errors import IctusError, IctusWarning, ParameterError, ParseError, SourcePos
from ictus.formats.clickfile import HEADERS
from ictus.formats.score_marks import Direction, Measure, part_measures
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

#: How far a ramp word moves the tempo when the mark after it goes the other way (or is
#: "a tempo"): rit./rall./allarg. end 10 % slower, accel./string. 10 % faster; "poco rit."
#: and "poco accel." half of that.
RAMP_AMOUNT = Fraction(1, 10)
POCO_RAMP_AMOUNT = Fraction(1, 20)

# gradual tempo changes; "riten." / "ritenuto" are sudden, so "rit" must end the word
_SLOWER_RE = re.compile(
    r"(?<![a-z])(rit|ritard|ritardando|rall|rallent|rallentando|allarg|allargando)(?![a-z])",
    re.IGNORECASE,
)
_FASTER_RE = re.compile(
    r"(?<![a-z])(accel|accelerando|string\.|stringendo)(?![a-z])", re.IGNORECASE
)
_POCO_RE = re.compile(
    r"(?<![a-z])poco\s+(rit|ritard|rall|rallent|allarg|accel|string)", re.IGNORECASE
)
_A_TEMPO_RE = re.compile(r"(?<![a-z])[aà]\s*tempo(?![a-z])", re.IGNORECASE)
_TEMPO_PRIMO_RE = re.compile(
    r"\btempo\s+(?:i|1|primo|1mo|1º|1o)(?![a-z])|\b(?:primo|1[º°o]?)\s+tempo\b",
    re.IGNORECASE,
)
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
_KIND_ORDER = {
    "movement": -1,
    "label": 0,
    "tempo": 1,
    "modulation": 1,
    "a-tempo": 2,
    "tempo-primo": 2,
    "ramp": 3,
}


@dataclass
class _Bar:
    """One bar in performance order: its name in the score, meter, and events."""

    number: str
    meter: Meter
    events: list[_Event] = field(default_factory=list)

    @property
    def length(self) -> Fraction:
        return self.meter.bar_quarters


class _RampWord(NamedTuple):
    """A gradual change as written: its words, -1 slower or +1 faster, default amount."""

    text: str
    way: int
    amount: Fraction


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
    root, data, name = _xml_source(path)
    _check_repeats(root, path)
    notes: list[str] = []
    score = _music21_score(root, path)
    try:
        bar_list, title = _score_bars(score, root, expand_repeats, notes.append)
    except _TempoMarkError as err:
        raise _locate(err, data, name) from None
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
    return _xml_source(path)[0]


def _xml_source(path: str) -> tuple[ElementTree.Element, bytes, str]:
    """The root element, the XML's bytes and the name to give them (the archive's
    member after the ``.mxl`` file's own)."""
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
    return root, data, name


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
    score: Any, root: ElementTree.Element, expand: bool, warn: Callable[[str], None]
) -> tuple[list[_Bar], str | None]:
    """The bars of ``score`` in performance order, and its title.

    music21 gives the measures in performance order and their time signatures; how long
    each measure is and what its directions say comes from the XML itself
    (:mod:`ictus.formats.score_marks`), matched by the measure's place in the written part.
    """
    title = _title(score)
    xml_parts = [part_measures(p) for p in root.iter("part")]
    written = _WrittenPart.of(score, xml_parts)
    bars: list[_Bar] = []
    misfits: list[str] = []
    current = None
    previous: int | None = None
    carry: list[Direction] = []
    for m in _played_measures(score, expand, warn):
        k = written.index_of(m)
        ts = m.timeSignature or written.signature_of(k) or current
        if ts is None:
            warn("no time signature; reading 4/4")
            ts = _common_time()
        new_signature = current is not None and ts is not current and m.timeSignature is not None
        current = ts
        held = [ms[k] for ms in xml_parts if k is not None and k < len(ms)]
        bar = _Bar(_measure_name(m), _bar_meter(m, _meter_of_signature(ts), held, misfits))
        carry = _place_directions(bar, held, carry)
        if bars and _starts_movement(bars[-1], bar, held, previous, xml_parts, new_signature):
            bar.events.append(_Event(Fraction(0), "movement"))
        bars.append(bar)
        previous = k
    if misfits:
        shown = ", ".join(misfits[:5]) + (", ..." if len(misfits) > 5 else "")
        warn(
            f"measure {shown}: the notes fill no meter (a notation error?); "
            "read with the time signature's length"
        )
    for bar in bars:
        _resolve_tempos(bar)
        bar.events.sort(key=lambda e: (e.offset, _KIND_ORDER[e.kind]))
    return bars, title


def _title(score: Any) -> str | None:
    """The score's title (else its movement's name), on one line."""
    title = None
    metadata = score.metadata
    if metadata is not None:
        title = metadata.title or metadata.movementName
    if title:
        title = " ".join(str(title).split()) or None
    return title


def _common_time() -> Any:
    from music21 import meter

    return meter.TimeSignature("4/4")


@dataclass(frozen=True)
class _WrittenPart:
    """The measures of the first part as written (before repeats are expanded).

    ``same_count``: music21 made as many measures as the XML has, so a played measure
    finds its written one by the index it was tagged with; else by its number.
    ``signatures``: the time signature in force in each written measure, so that a
    repeat jumping back across a meter change still finds the right one.
    """

    same_count: bool
    by_number: dict[tuple[int, str], int]
    signatures: dict[int, Any]

    @classmethod
    def of(cls, score: Any, xml_parts: list[list[Measure]]) -> _WrittenPart:
        from music21 import stream

        written = list(score.parts) or [score]
        measures = list(written[0].getElementsByClass(stream.Measure))
        by_number: dict[tuple[int, str], int] = {}
        for index, m in enumerate(measures):
            m.ictus_written = index  # survives the copies expandRepeats makes
            by_number.setdefault(_measure_key(m), index)
        signatures: dict[int, Any] = {}
        running = None
        for index, m in enumerate(measures):
            if m.timeSignature is not None:
                running = m.timeSignature
            if running is not None:
                signatures[index] = running
        same_count = bool(xml_parts) and len(xml_parts[0]) == len(measures)
        return cls(same_count, by_number, signatures)

    def index_of(self, m: Any) -> int | None:
        """Where played measure ``m`` is written (None when it cannot be matched)."""
        if not self.same_count:  # music21 made other measures than the XML has
            return self.by_number.get(_measure_key(m))
        k: int | None = getattr(m, "ictus_written", None)
        return k

    def signature_of(self, k: int | None) -> Any:
        """The time signature in force in written measure ``k`` (None if none)."""
        return self.signatures.get(k) if k is not None else None


def _played_measures(score: Any, expand: bool, warn: Callable[[str], None]) -> list[Any]:
    """The first part's measures in performance order (as written when the repeats
    cannot be expanded, or ``expand`` is False)."""
    from music21 import stream

    played = score
    if expand:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                played = score.expandRepeats()
        except Exception as err:  # music21's expander raises several kinds
            warn(f"cannot expand the repeats ({_one_line(err)}); reading the bars as written")
    parts = list(played.parts) or [played]
    return list(parts[0].getElementsByClass(stream.Measure))


def _bar_meter(m: Any, nominal: Meter, held: list[Measure], misfits: list[str]) -> Meter:
    """The meter a measure is played in: the time signature's, or one its notes fill
    when they fill another length (a pickup, a cut bar); a length no meter fits keeps
    the signature's and is noted in ``misfits``."""
    played = Fraction(m.duration.quarterLength)
    length = _bar_length(held, nominal.bar_quarters) if held else played
    if length == nominal.bar_quarters or length <= 0:
        return nominal
    fitted = _meter_of_length(length, nominal.unit)
    if fitted is None:
        misfits.append(_measure_name(m))
        return nominal
    return fitted


def _place_directions(bar: _Bar, held: list[Measure], carried: list[Direction]) -> (
    list[Direction]
):
    """Add the directions of ``bar``'s measures, and those ``carried`` from the bar
    before on its downbeat; returns those drawn at or past its last bar line."""
    carry = []
    for d in carried:  # drawn at or past the last bar line: this downbeat
        _add_direction(bar, d, Fraction(0))
    for measure in held:
        for d in measure.directions:
            if d.offset < bar.length:
                _add_direction(bar, d, max(d.offset, Fraction(0)))
            else:
                carry.append(d)
    return carry


def _add_direction(bar: _Bar, d: Direction, offset: Fraction) -> None:
    """The events of one direction; tempo marks as ``(rank, Tempo)`` until resolved.

    Rank (lowest wins at one place): 0 a ``<sound tempo>`` in the direction of a printed
    metronome mark (its playback value, in the mark's unit), 1 a ``<sound tempo>`` on its
    own, 2 a printed metronome mark, 3 a ``<sound tempo>`` that came with words only.
    """
    if d.printed is not None:
        number, unit = d.printed
        if d.sound is not None:
            tempo = _written_tempo(d, d.sound * QUARTER / unit, unit, sound=True)
            bar.events.append(_Event(offset, "tempo", (0, tempo)))
        else:
            tempo = _written_tempo(d, number, unit, sound=False)
            bar.events.append(_Event(offset, "tempo", (2, tempo)))
    elif d.sound is not None:
        rank = 3 if d.words else 1
        bar.events.append(_Event(offset, "tempo", (rank, _written_tempo(d, d.sound, None))))
    elif d.modulation is not None:
        bar.events.append(_Event(offset, "modulation", d.modulation))
    for text in d.rehearsal:
        cue = _cue_text(text)
        if cue:
            bar.events.append(_Event(offset, "label", (cue, cue, 0)))
    if d.coda:
        bar.events.append(_Event(offset, "label", ("Coda", "Coda", 1)))
    for text in d.words:
        bar.events.extend(_word_events(_cue_text(text), offset))


class _TempoMarkError(ParameterError):
    """A tempo mark the model refuses, quoted as written, with a pattern that finds it
    in the file (the parsed tree keeps no line numbers)."""

    def __init__(self, message: str, pattern: bytes) -> None:
        super().__init__(message)
        self.pattern = pattern


def _written_tempo(
    d: Direction, bpm: Fraction, unit: Fraction | None, *, sound: bool = True
) -> Tempo:
    """``Tempo(bpm, unit)``, or an error that quotes the mark as the score writes it."""
    try:
        return Tempo(bpm, unit)
    except ParameterError:
        if sound:
            text = d.sound_text or ""
            quoted = f'<sound tempo="{text}">'
            pattern = rb"tempo\s*=\s*[\"']\s*" + re.escape(text.strip().encode())
        else:
            text = d.printed_text or ""
            quoted = f"<per-minute>{text}</per-minute>"
            pattern = rb"<per-minute>\s*" + re.escape(text.strip().encode())
        raise _TempoMarkError(
            f"{quoted}: a tempo must be between 0.001 and 100000 quarter notes a minute",
            pattern,
        ) from None


def _locate(err: _TempoMarkError, data: bytes, name: str) -> IctusError:
    """The error at the line and column of the first mark written as it quotes."""
    found = re.search(err.pattern, data)
    if found is None:
        return IctusError(f"{name}: {err}")
    line = data.count(b"\n", 0, found.start()) + 1
    column = found.start() - (data.rfind(b"\n", 0, found.start()) + 1) + 1
    return ParseError(str(err), SourcePos(name, line, column, _source_line(data, line)))


def _resolve_tempos(bar: _Bar) -> None:
    """One tempo per place: the best-ranked mark; a number beats "a tempo" or "Tempo I"
    and a metric modulation at the same place."""
    best: dict[Fraction, tuple[int, Tempo]] = {}
    for e in bar.events:
        if e.kind == "tempo" and (e.offset not in best or e.value[0] < best[e.offset][0]):
            best[e.offset] = e.value
    kept = [
        e
        for e in bar.events
        if e.kind != "tempo"
        and not (e.offset in best and e.kind in ("a-tempo", "tempo-primo", "modulation"))
    ]
    kept += [_Event(offset, "tempo", value[1]) for offset, value in best.items()]
    bar.events[:] = kept


_TEMPO_WORD_RE = re.compile(
    r"\b(allegr|adagi|andant|prest|larg|lento|moderato|vivace|grave|maestoso|marcia)",
    re.IGNORECASE,
)


def _starts_movement(
    before: _Bar,
    bar: _Bar,
    held: list[Measure],
    previous: int | None,
    xml_parts: list[list[Measure]],
    new_signature: bool,
) -> bool:
    """Whether ``bar`` starts a new movement (for "Tempo primo"): after a final barline,
    where the measure numbers start again, or where a new time signature comes with a
    tempo word (Allegro, Adagio, ...) on the downbeat."""
    if previous is not None and any(previous < len(ms) and ms[previous].final for ms in xml_parts):
        return True
    if _number(bar.number) <= 1 < _number(before.number):
        return True
    if new_signature:
        return any(
            d.offset == 0 and any(_TEMPO_WORD_RE.search(w) for w in d.words)
            for measure in held
            for d in measure.directions
        )
    return False


def _number(name: str) -> int:
    match = re.match(r"\d+", name)
    return int(match.group()) if match else 0


def _measure_key(m: Any) -> tuple[int, str]:
    return (int(m.number or 0), str(m.numberSuffix or ""))


def _measure_name(m: Any) -> str:
    return f"{m.number}{m.numberSuffix or ''}"


def _bar_length(held: list[Measure], nominal: Fraction) -> Fraction:
    """How long a bar is, from what each part holds in it.

    The time signature's length when one part with notes fills exactly that (another
    part's dropped or extra note is a notation error); else what most parts hold (ties:
    the longest), which reads pickups and short bars before a repeat. Empty parts and
    parts with only whole-measure rests count only in the majority.

    >>> full = Measure("1", Fraction(9, 2), True, ())
    >>> short = Measure("1", Fraction(4), True, ())
    >>> _bar_length([short, short, full, Measure("1", Fraction(7, 2), True, ())], Fraction(9, 2))
    Fraction(9, 2)
    >>> _bar_length([short, Measure("1", Fraction(1), True, ())], Fraction(4))
    Fraction(4, 1)
    >>> _bar_length([Measure("0", Fraction(1), True, ())] * 2, Fraction(3))
    Fraction(1, 1)
    """
    if any(m.length == nominal and m.real_notes for m in held):
        return nominal
    lengths = [m.length for m in held if m.length > 0]
    if not lengths:
        return nominal
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


def _word_events(text: str, offset: Fraction) -> list[_Event]:
    """Ramp words, returns to a tempo, and section names in a ``<words>`` direction."""
    if not text:
        return []
    events = []
    if _TEMPO_PRIMO_RE.search(text):
        events.append(_Event(offset, "tempo-primo"))
    elif _A_TEMPO_RE.search(text):
        events.append(_Event(offset, "a-tempo"))
    slower, faster = _SLOWER_RE.search(text), _FASTER_RE.search(text)
    if (slower or faster) and not events:
        # the first ramp word decides ("rit. ... accel." is rare and reads as rit.)
        first = min((m for m in (slower, faster) if m), key=lambda m: m.start())
        way = -1 if first is slower else 1
        amount = POCO_RAMP_AMOUNT if _POCO_RE.search(text) else RAMP_AMOUNT
        events.append(_Event(offset, "ramp", _RampWord(text, way, amount)))
    match = _SECTION_RE.match(text)
    if match is not None and match.group("word").lower() in SECTION_WORDS:
        name = match.group("word")
        if match.group("num"):
            name += "_" + match.group("num")
        events.append(_Event(offset, "label", (text, name, 1)))
    return events


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
    return _TempoReading(bars, warn).read()


def _opening_tempo(bars: list[_Bar], warn: Callable[[str], None]) -> Tempo | None:
    """The first tempo mark when it holds from the start: a mark in the first bar (or in
    the first full bar after a pickup); a later first mark leaves the bars before it at
    the default (None)."""
    marks = [(i, e) for i, bar in enumerate(bars) for e in bar.events if e.kind == "tempo"]
    if not marks:
        warn(f"no tempo mark in the score; reading {DEFAULT_BPM} BPM")
        return None
    i, first = marks[0]
    opening = 2 if _is_pickup(bars, 0) else 1
    if i < opening:
        opened: Tempo = first.value
        return opened
    warn(f"no tempo mark before measure {bars[i].number}; reading {DEFAULT_BPM} BPM until there")
    return None


class _TempoReading:
    """The tempo followed bar by bar through the score's events (see :data:`_STEPS`)."""

    def __init__(self, bars: list[_Bar], warn: Callable[[str], None]) -> None:
        self.bars = bars
        self.warn = warn
        opening = _opening_tempo(bars, warn)
        self.current = opening if opening is not None else Tempo(DEFAULT_BPM)
        self.first_tempo = opening  # for "Tempo I"
        self.downbeat: list[Tempo] = []
        self.changes: list[list[tuple[Fraction, Tempo]]] = [[] for _ in bars]
        self.ramps: list[_Ramp] = []
        # a ramp's words waiting for where it ends: (start bar, words, measure name)
        self.pending: tuple[int, _RampWord, str] | None = None
        self.before_ramp: Tempo | None = None
        self.movement_tempo = self.current  # "Tempo I" before any mark of the movement

    def read(self) -> tuple[list[Tempo], list[list[tuple[Fraction, Tempo]]], list[_Ramp]]:
        for i, bar in enumerate(self.bars):
            self.downbeat.append(self.current)
            for event in bar.events:
                step = _STEPS.get(event.kind)
                if step is not None:
                    step(self, i, event)
        if self.pending is not None:
            _, word, name = self.pending
            self.warn(f"{word.text!r} in measure {name}: no tempo mark follows it; no ramp")
        return self.downbeat, self.changes, self.ramps

    def set_tempo(self, i: int, offset: Fraction, value: Tempo) -> None:
        if value == self.current:
            return
        if offset == 0:
            self.downbeat[i] = value
        else:
            self.changes[i].append((offset, value))
        self.current = value

    def end_ramp(self, i: int, target: Tempo | None, why: str) -> None:
        """Close a pending ramp at bar ``i``: to ``target`` when it lies the way the words
        go, else by the default amount (and whatever comes next is then taken as is)."""
        if self.pending is None:
            return
        start, word, name = self.pending
        self.pending = None
        if start >= i:
            self.warn(f"{word.text!r} in measure {name}: {why} in the same bar; no ramp")
            return
        current = self.current
        way = word.way * (target.quarter_bpm - current.quarter_bpm) if target else 0
        end = (
            target
            if target is not None and way > 0
            else Tempo(current.bpm * (1 + word.way * word.amount), current.unit)
        )
        self.ramps.append(_Ramp(start, i, current, end))
        self.before_ramp = current
        self.current = end
        self.downbeat[i] = end

    def movement(self, i: int, event: _Event) -> None:
        self.first_tempo, self.movement_tempo = None, self.current

    def tempo(self, i: int, event: _Event) -> None:
        target: Tempo = event.value
        self._new_tempo(i, event.offset, target)

    def modulation(self, i: int, event: _Event) -> None:
        # the old unit lasts as long as the new one: tempo scales by new/old
        old, new = event.value
        self._new_tempo(i, event.offset, Tempo(self.current.quarter_bpm * new / old))

    def _new_tempo(self, i: int, offset: Fraction, target: Tempo) -> None:
        self.first_tempo = self.first_tempo or target
        self.end_ramp(i, target, "the next tempo mark is")
        self.set_tempo(i, offset, target)

    def ramp(self, i: int, event: _Event) -> None:
        if self.pending is None:
            start = i if event.offset == 0 or not self.changes[i] else i + 1
            self.pending = (start, event.value, self.bars[i].number)

    def a_tempo(self, i: int, event: _Event) -> None:
        # back to the tempo before the ramp (the one a pending ramp starts from)
        resume = self.current if self.pending is not None else self.before_ramp
        self.end_ramp(i, None, "'a tempo' is")
        if resume is not None:
            self.set_tempo(i, event.offset, resume)
        self.before_ramp = None

    def tempo_primo(self, i: int, event: _Event) -> None:
        self.end_ramp(i, None, "'Tempo I' is")
        self.set_tempo(i, event.offset, self.first_tempo or self.movement_tempo)


#: What each kind of event does to the tempo (labels do nothing to it).
_STEPS: dict[str, Callable[[_TempoReading, int, _Event], None]] = {
    "movement": _TempoReading.movement,
    "tempo": _TempoReading.tempo,
    "modulation": _TempoReading.modulation,
    "ramp": _TempoReading.ramp,
    "a-tempo": _TempoReading.a_tempo,
    "tempo-primo": _TempoReading.tempo_primo,
}


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
