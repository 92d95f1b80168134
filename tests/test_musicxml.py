"""MusicXML import: real scores from music21's corpus checked against music21's own reading
(and the raw XML), small hand-written scores checked click by click against times worked
out here with Fractions and 50-digit logarithms, and broken files.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ictus.errors import IctusError, ParameterError, ParseError
from ictus.formats import format_click, parse_click, read_map
from ictus.formats.musicxml import ScoreWarning, read_musicxml
from ictus.tempomap import ClickGrid, Meter, Tempo, TempoMap, build_grid
from inprocess import Cli, Ran, script

ICTUS = str(Path(sys.executable).parent / "ictus")

# ---------------------------------------------------------------- music21's corpus

# Each chosen for what it exercises (checked by reading the files):
CORPUS = {
    # pickup of an eighth, repeats with first and second endings, a printed q=100 beside
    # a <sound tempo="120"> one quarter into bar 1, "TRIO" twice in performance order
    "joplin/maple_leaf_rag": dict(pickup=True, repeats=True),
    # 3/4 minuet with a pickup, repeats, voltas, short bars before each repeat sign, and
    # one part whose bar 35 holds 95/24 quarters (a notation error, outvoted by the rest)
    "haydn/opus1no1/movement4": dict(pickup=True, repeats=True),
    # chorale: pickups, 4/4 -> 3/4 -> 4/4, <sound tempo="100">, no repeats
    "bach/bwv171.6": dict(pickup=True, repeats=False),
    # 6/8 with a dotted-quarter metronome mark, repeats, 3/4 with a metric modulation
    "trecento/PMFC_06_8-In Verde Prato": dict(pickup=False, repeats=True),
    # 3/4 -> 9/8 -> 2/4 -> 3/4 with repeats, a "Ritornello", no tempo mark at all
    "trecento/PMFC_06_Giovanni-02-Apress_un_fiume_a": dict(pickup=False, repeats=True),
}


@dataclass
class Truth:
    """What a score says, in performance order: bars from music21 (repeats played out),
    lengths and tempo marks read from the XML by :func:`xml_reading` (independent of
    ictus's reader), words and rehearsal marks as music21 reports them."""

    path: str
    written_bars: int
    lengths: list[Fraction]  # quarters per bar
    signatures: list[tuple[int, int, Fraction]]  # numerator, denominator, bar length
    marks: dict[tuple[int, Fraction], Fraction]  # (bar index, offset) -> quarter BPM
    texts: list[tuple[int, str]]  # (bar index, text) of words and rehearsal marks


UNITS = {"whole": 4, "half": 2, "quarter": 1, "eighth": Fraction(1, 2), "16th": Fraction(1, 4)}


def xml_root(path: str) -> ElementTree.Element:
    data = Path(path).read_bytes()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(path) as z:
            inner = next(n for n in z.namelist() if not n.startswith("META-INF"))
            data = z.read(inner)
    return ElementTree.fromstring(data)


@dataclass
class Written:
    """One written measure, all parts: each part's (length, has notes), the signature's
    length, and the playback tempo chosen at each offset by issue 10's rules."""

    lengths: list[tuple[Fraction, bool]]
    nominal: Fraction
    marks: dict[Fraction, Fraction]

    @property
    def length(self) -> Fraction:
        if (self.nominal, True) in self.lengths:
            return self.nominal  # rule 5: a complete part matches the signature
        held = Counter(x for x, _ in self.lengths if x > 0).most_common()
        return max(x for x, n in held if n == held[0][1]) if held else self.nominal


def xml_reading(path: str) -> list[Written]:
    """The spec's reading, written here from MusicXML 4.0, not from ictus's code: a note
    (not a grace or chord note) moves time on, <backup>/<forward> move it, the bar ends
    where the last note ends (padding after it is no time of the bar's); a direction
    acts where it stands (a drawn <offset> moves nothing); the tempo at one place is the
    <sound> of a metronome's direction, else a lone <sound>, else a printed number, else
    a <sound> that came with words."""
    parts = xml_root(path).findall("part")
    out: list[Written] = []
    nominal = Fraction(4)
    divisions = [Fraction(1)] * len(parts)
    for k in range(len(parts[0].findall("measure"))):
        lengths, ranked = [], {}
        for p, part in enumerate(parts):
            m = part.findall("measure")[k]
            where = end = Fraction(0)
            notes = False
            for el in m:
                tag = el.tag
                if tag == "attributes" and el.find("divisions") is not None:
                    divisions[p] = Fraction(el.findtext("divisions"))
                if tag == "attributes" and el.find("time/beats") is not None and p == 0:
                    nominal = Fraction(
                        4 * int(el.findtext("time/beats")), int(el.findtext("time/beat-type"))
                    )
                division = divisions[p]
                if tag == "note" and el.find("chord") is None and el.find("grace") is None:
                    where += Fraction(el.findtext("duration")) / division
                    notes = notes or el.find("rest[@measure='yes']") is None
                    end = max(end, where)  # only notes end a bar: trailing space does not
                if tag == "backup":
                    where -= Fraction(el.findtext("duration")) / division
                if tag == "forward":
                    where += Fraction(el.findtext("duration")) / division
                if tag in ("direction", "sound"):
                    snd = el if tag == "sound" else el.find("sound")
                    metro = el.find("direction-type/metronome/per-minute")
                    sounding = (
                        Fraction(snd.get("tempo")) if snd is not None and snd.get("tempo") else None
                    )
                    number = None
                    if metro is not None:
                        number = Fraction(re.search(r"\d+", metro.text or "").group())
                        unit = Fraction(UNITS[el.findtext("direction-type/metronome/beat-unit")])
                        if el.find("direction-type/metronome/beat-unit-dot") is not None:
                            unit *= Fraction(3, 2)
                    if metro is not None and sounding:
                        rank, bpm = 0, sounding
                    elif sounding and el.find("direction-type/words") is None:
                        rank, bpm = 1, sounding
                    elif metro is not None:
                        rank, bpm = 2, number * unit
                    elif sounding:
                        rank, bpm = 3, sounding
                    else:
                        continue
                    if where not in ranked or rank < ranked[where][0]:
                        ranked[where] = (rank, bpm)
            lengths.append((end, notes))
        out.append(Written(lengths, nominal, {at: bpm for at, (_, bpm) in ranked.items()}))
    return out


@cache
def truth(name: str) -> Truth:
    from music21 import corpus, expressions, meter, stream

    path = str(corpus.getWork(name))
    written = xml_reading(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = corpus.parse(name)
        for k, m in enumerate(score.parts[0].getElementsByClass(stream.Measure)):
            m.test_index = k  # which written measure each played bar is
        played = score.expandRepeats()
    parts = [list(p.getElementsByClass(stream.Measure)) for p in played.parts]
    assert len({len(ms) for ms in parts}) == 1
    lengths, signatures = [], []
    marks: dict[tuple[int, Fraction], Fraction] = {}
    for i, m0 in enumerate(parts[0]):
        w = written[m0.test_index]
        lengths.append(w.length)
        ts = m0.timeSignature or m0.getContextByClass(meter.TimeSignature)
        signatures.append((ts.numerator, ts.denominator, Fraction(ts.barDuration.quarterLength)))
        marks.update({(i, at): bpm for at, bpm in w.marks.items()})
    texts = []
    for ms in parts:
        for i, m in enumerate(ms):
            for el in m.recurse():
                if isinstance(el, expressions.RehearsalMark | expressions.TextExpression):
                    texts.append((i, str(el.content)))
    return Truth(
        path,
        len(score.parts[0].getElementsByClass(stream.Measure)),
        lengths,
        signatures,
        marks,
        texts,
    )


@cache
def corpus_map(name: str) -> tuple[TempoMap, tuple[str, ...]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tempo_map = read_musicxml(truth(name).path)
    return tempo_map, tuple(str(w.message) for w in caught if w.category is ScoreWarning)


def bar_meters(tempo_map: TempoMap) -> list[Meter]:
    return [s.meter for s in tempo_map.sections for _ in range(s.bars)]


def downbeats(grid: ClickGrid) -> np.ndarray:
    """Index of the first click of each bar."""
    return np.flatnonzero(np.r_[True, grid.bar[1:] != grid.bar[:-1]])


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_bars_and_meters_equal_music21(name: str) -> None:
    t = truth(name)
    tempo_map, _ = corpus_map(name)
    assert tempo_map.total_bars == len(t.lengths)
    if CORPUS[name]["repeats"]:
        assert len(t.lengths) > t.written_bars  # the repeats really were played
    meters = bar_meters(tempo_map)
    short = 0
    for i, (m, length, (num, den, full)) in enumerate(
        zip(meters, t.lengths, t.signatures, strict=True)
    ):
        assert m.bar_quarters == length, f"bar {i + 1}"
        if length == full:
            assert (m.count, m.unit) == (num, den), f"bar {i + 1}"
        else:
            short += 1
            assert m.unit % den == 0, f"bar {i + 1}: {m} in {num}/{den}"
    assert (short > 0) == CORPUS[name]["pickup"]
    if CORPUS[name]["pickup"]:
        assert meters[0].bar_quarters < t.signatures[0][2]


def test_corpus_notation_error_is_outvoted() -> None:
    t = truth("haydn/opus1no1/movement4")
    meters = bar_meters(corpus_map("haydn/opus1no1/movement4")[0])
    from music21 import corpus, stream

    first_part = corpus.parse("haydn/opus1no1/movement4").expandRepeats().parts[0]
    odd = [
        i
        for i, m in enumerate(first_part.getElementsByClass(stream.Measure))
        if Fraction(m.duration.quarterLength) == Fraction(95, 24)
    ]
    assert odd  # violin I's measure 35 in every pass
    for i in odd:
        assert t.lengths[i] == 3
        assert str(meters[i]) == "3/4"


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_tempo_marks_land_on_their_bars(name: str) -> None:
    t = truth(name)
    tempo_map, notes = corpus_map(name)
    grid = build_grid(tempo_map)
    starts = downbeats(grid)
    assert len(starts) == len(t.lengths)
    if not t.marks:
        assert any("no tempo mark" in n for n in notes)
        assert np.all(grid.tempo == 120)
        return
    places = sorted(t.marks)
    for k, (i, offset) in enumerate(places):
        if k + 1 < len(places) and places[k + 1][0] == i:
            continue  # another mark follows in the same bar: check that one
        if offset >= t.lengths[i]:
            i, offset = i + 1, Fraction(0)
        at = grid.position[starts[i]] + float(offset)
        # the first click at or after the mark (or the next downbeat)
        j = int(np.searchsorted(grid.position, at - 1e-9))
        assert grid.tempo[j] == pytest.approx(float(t.marks[places[k]]), abs=1e-9), (
            f"mark at bar {i + 1} + {offset} quarters"
        )


def test_corpus_maple_leaf_sections_labels_and_steps() -> None:
    t = truth("joplin/maple_leaf_rag")
    tempo_map, notes = corpus_map("joplin/maple_leaf_rag")
    assert notes == ()
    trio = [i for i, text in t.texts if text == "TRIO"]
    assert len(trio) == 2  # played twice
    firsts = {tempo_map.first_bar_of(k) - 1: s.label for k, s in enumerate(tempo_map.sections)}
    assert [firsts.get(i) for i in trio] == ["TRIO", "TRIO_2"]
    assert tempo_map.sections[0].meter == Meter(1, 8)  # an eighth of pickup in 2/4
    # printed q=100 at the pickup; a 16th into bar 2 "Tempo Di Marcia" with <sound
    # tempo="120"> and q=100 with its own <sound tempo="100">: the printed number's wins
    assert tempo_map.sections[0].tempo == Tempo(100)
    assert all(s.tempo == Tempo(100) and s.steps is None for s in tempo_map.sections)


def test_corpus_dotted_quarter_metronome_and_metric_modulation() -> None:
    tempo_map, _ = corpus_map("trecento/PMFC_06_8-In Verde Prato")
    first = tempo_map.sections[0]
    assert first.tempo == Tempo(110, Fraction(3, 8)) and first.meter == Meter(6, 8)
    assert first.beats_per_bar == 2  # dotted quarters, as the mark asks
    last = tempo_map.sections[-1]
    assert last.meter == Meter(3, 4) and last.tempo.quarter_bpm == Fraction(165 * 3, 2)


def test_corpus_ritornello_is_a_label() -> None:
    t = truth("trecento/PMFC_06_Giovanni-02-Apress_un_fiume_a")
    tempo_map, notes = corpus_map("trecento/PMFC_06_Giovanni-02-Apress_un_fiume_a")
    assert any("no tempo mark" in n for n in notes)
    at = {i for i, text in t.texts if text == "Ritornello"}
    labelled = [k for k, s in enumerate(tempo_map.sections) if s.label == "Ritornello"]
    assert len(labelled) == 1
    assert tempo_map.first_bar_of(labelled[0]) - 1 in at
    assert tempo_map.sections[labelled[0]].cues[0].text == "Ritornello"


def test_corpus_chorale_against_the_raw_xml() -> None:
    """bwv171.6 has no repeats: the written measures are the bars. Read the XML itself."""
    t = truth("bach/bwv171.6")
    tempo_map, notes = corpus_map("bach/bwv171.6")
    assert notes == ()
    with zipfile.ZipFile(t.path) as z:
        inner = next(n for n in z.namelist() if not n.startswith("META-INF"))
        root = ElementTree.fromstring(z.read(inner))
    part = root.find("part")
    assert part is not None
    measures = part.findall("measure")
    assert tempo_map.total_bars == len(measures) == 48
    meters = bar_meters(tempo_map)
    signature = None
    tempos = []
    for m, meter in zip(measures, meters, strict=True):
        time = m.find("attributes/time")
        if time is not None:
            signature = (int(time.findtext("beats", "")), int(time.findtext("beat-type", "")))
        assert signature is not None
        if meter.bar_quarters == Fraction(4 * signature[0], signature[1]):
            assert (meter.count, meter.unit) == signature
        tempos += [s.get("tempo") for s in m.iter("sound") if s.get("tempo")]
    assert tempos == ["100"]
    # one tempo throughout: the length is the exact sum of the bars at 100 BPM
    quarters = sum((m.bar_quarters for m in meters), Fraction(0))
    assert build_grid(tempo_map).duration == pytest.approx(float(quarters * 60 / 100), abs=1e-9)


# ------------------------------------------------------------ hand-written scores

DIV = 2  # divisions per quarter: an eighth is 1


def score(*measures: str, parts: int = 1, title: str = "Test") -> str:
    part_list = "".join(
        f'<score-part id="P{p}"><part-name>p{p}</part-name></score-part>'
        for p in range(1, parts + 1)
    )
    body = "".join(f'<part id="P{p}">{"".join(measures)}</part>' for p in range(1, parts + 1))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<score-partwise version="3.1">'
        f"<work><work-title>{title}</work-title></work>"
        f"<part-list>{part_list}</part-list>{body}</score-partwise>"
    )


def measure(number: str, *content: str, implicit: bool = False) -> str:
    flag = ' implicit="yes"' if implicit else ""
    return f'<measure number="{number}"{flag}>{"".join(content)}</measure>'


def time(beats: int, beat_type: int) -> str:
    return (
        f"<attributes><divisions>{DIV}</divisions><time><beats>{beats}</beats>"
        f"<beat-type>{beat_type}</beat-type></time></attributes>"
    )


def note(eighths: int) -> str:
    names = {1: "eighth", 2: "quarter", 3: "quarter", 4: "half", 6: "half", 8: "whole"}
    dot = "<dot/>" if eighths in (3, 6) else ""
    kind = f"<type>{names[eighths]}</type>{dot}" if eighths in names else ""
    return (
        f"<note><pitch><step>C</step><octave>4</octave></pitch>"
        f"<duration>{eighths}</duration>{kind}</note>"
    )


def sound(bpm: float) -> str:
    return f'<sound tempo="{bpm}"/>'


def metronome(bpm: int, unit: str = "quarter", dotted: bool = False) -> str:
    dot = "<beat-unit-dot/>" if dotted else ""
    return (
        "<direction><direction-type><metronome>"
        f"<beat-unit>{unit}</beat-unit>{dot}<per-minute>{bpm}</per-minute>"
        "</metronome></direction-type></direction>"
    )


def words(text: str) -> str:
    return f"<direction><direction-type><words>{text}</words></direction-type></direction>"


def rehearsal(text: str) -> str:
    return f"<direction><direction-type><rehearsal>{text}</rehearsal></direction-type></direction>"


def barline(where: str, *inner: str) -> str:
    return f'<barline location="{where}">{"".join(inner)}</barline>'


FORWARD = '<repeat direction="forward"/>'
BACKWARD = '<repeat direction="backward"/>'


def ending(number: int, kind: str) -> str:
    return f'<ending number="{number}" type="{kind}"/>'


# A tour of the reader: pickup, <sound tempo>, rehearsal marks, a repeat with two endings,
# 6/8 with a dotted-quarter metronome mark, accel. to the next mark, a section word and a
# <sound tempo> in the middle of a bar. Performance order: 0 1 2 1 3 4 5 6 7 8.
TOUR = score(
    measure("0", time(4, 4), sound(120), note(2), implicit=True),
    measure("1", barline("left", FORWARD), rehearsal("A"), note(8)),
    measure(
        "2",
        barline("left", ending(1, "start")),
        note(8),
        barline("right", ending(1, "stop"), BACKWARD),
    ),
    measure(
        "3",
        barline("left", ending(2, "start")),
        note(8),
        barline("right", ending(2, "discontinue")),
    ),
    measure("4", time(6, 8), rehearsal("B"), metronome(60, dotted=True), note(6)),
    measure("5", words("accel."), note(6)),
    measure("6", note(6)),
    measure("7", metronome(90, dotted=True), note(6)),
    measure("8", words("Chorus"), note(3), sound(150), note(3)),
    title="Tour",
)


def write(tmp_path: Path, text: str, name: str = "score.musicxml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read(path: Path, **options: Any) -> tuple[TempoMap, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tempo_map = read_musicxml(str(path), **options)
    return tempo_map, [str(w.message) for w in caught if w.category is ScoreWarning]


def ramp_seconds(q: Fraction, t0: Fraction, t1: Fraction, length: Fraction) -> mpmath.mpf:
    """Seconds into a tempo-linear-in-beats ramp (docs/REFERENCE.md section 2), 50 digits."""
    with mpmath.workdps(50):
        a = mpmath.mpf(t0.numerator) / t0.denominator
        b = mpmath.mpf(t1.numerator) / t1.denominator
        n = mpmath.mpf(length.numerator) / length.denominator
        x = mpmath.mpf(q.numerator) / q.denominator
        return 60 * n / (b - a) * mpmath.log((a + (b - a) * x / n) / a)


def test_tour_sections(tmp_path: Path) -> None:
    tempo_map, notes = read(write(tmp_path, TOUR))
    assert notes == []
    assert tempo_map.title == "Tour"
    q_dot = Fraction(3, 8)
    got = [
        (s.label, s.bars, str(s.meter), s.tempo, s.tempo_end, s.steps, [c.text for c in s.cues])
        for s in tempo_map.sections
    ]
    assert got == [
        (None, 1, "1/4", Tempo(120), None, None, []),
        ("A", 2, "4/4", Tempo(120), None, None, ["A"]),
        ("A_2", 2, "4/4", Tempo(120), None, None, ["A"]),
        ("B", 1, "6/8", Tempo(60, q_dot), None, None, ["B"]),
        (None, 2, "6/8", Tempo(60, q_dot), Tempo(90, q_dot), None, []),
        (None, 1, "6/8", Tempo(90, q_dot), None, None, []),
        (
            "Chorus",
            1,
            "6/8",
            Tempo(90, q_dot),
            None,
            ((Fraction(3, 2), Fraction(150)),),
            ["Chorus"],
        ),
    ]
    assert tempo_map.sections[4].ramp == "beats"


def test_tour_grid_is_exact(tmp_path: Path) -> None:
    """Every click of the tour, worked out here: Fractions, and mpmath for the ramp."""
    grid = build_grid(read(write(tmp_path, TOUR))[0])
    expected: list[tuple[Any, int, int]] = []  # (seconds, bar, beat)
    t = Fraction(0)
    expected.append((t, 1, 1))  # the pickup: one quarter at 120
    t += Fraction(1, 2)
    for bar in range(2, 6):  # 4/4 at 120, four bars (1, 2, 1, 3 as written)
        for beat in range(4):
            expected.append((t + beat * Fraction(1, 2), bar, beat + 1))
        t += 2
    # 6/8 at dotted quarter 60 = quarter 90: two beats of 1 s
    expected += [(t, 6, 1), (t + 1, 6, 2)]
    t += 2
    # accel over two bars (6 quarters) from quarter 90 to 135, beats at every 1.5 quarters
    for k in range(4):
        q = Fraction(3, 2) * k
        expected.append(
            (t + ramp_seconds(q, Fraction(90), Fraction(135), Fraction(6)), 7 + k // 2, k % 2 + 1)
        )
    t_ramp_end = t + ramp_seconds(Fraction(6), Fraction(90), Fraction(135), Fraction(6))
    # dotted quarter 90 = quarter 135: beats of 2/3 s
    expected += [(t_ramp_end, 9, 1), (t_ramp_end + Fraction(2, 3), 9, 2)]
    t_chorus = t_ramp_end + Fraction(4, 3)
    # first beat at 135, then <sound tempo="150"> (quarters) from the second beat
    expected += [(t_chorus, 10, 1), (t_chorus + Fraction(2, 3), 10, 2)]
    end = t_chorus + Fraction(2, 3) + Fraction(3, 2) * 60 / 150
    assert len(grid) == len(expected)
    for i, (when, bar, beat) in enumerate(expected):
        assert float(grid.time[i]) == pytest.approx(float(when), abs=1e-9), i
        assert (int(grid.bar[i]), int(grid.beat[i])) == (bar, beat), i
    assert grid.duration == pytest.approx(float(end), abs=1e-9)
    assert grid.tempo[-1] == 150
    assert [c.text for c in grid.cues] == ["A", "A", "B", "Chorus"]


def test_tour_as_mxl_with_and_without_container(tmp_path: Path) -> None:
    plain = read(write(tmp_path, TOUR))[0]
    for with_container in (True, False):
        path = tmp_path / f"tour{with_container}.mxl"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            if with_container:
                z.writestr(
                    "META-INF/container.xml",
                    '<?xml version="1.0"?><container><rootfiles>'
                    '<rootfile full-path="music/tour.xml"/></rootfiles></container>',
                )
                z.writestr("music/tour.xml", TOUR)
            else:
                z.writestr("tour.musicxml", TOUR)
        assert read(path)[0] == plain
        assert read_map(path) == plain  # the registry reaches the reader by extension


def test_tour_round_trips_through_click_text(tmp_path: Path) -> None:
    tempo_map = read(write(tmp_path, TOUR))[0]
    assert parse_click(format_click(tempo_map)) == tempo_map


def test_bars_option_and_written_order(tmp_path: Path) -> None:
    path = write(tmp_path, TOUR)
    assert read(path, bars=3)[0].total_bars == 3
    as_written = read(path, expand_repeats=False)[0]
    assert as_written.total_bars == 9
    assert [s.label for s in as_written.sections if s.label] == ["A", "B", "Chorus"]
    with pytest.raises(ParameterError, match="--bars"):
        read_musicxml(str(path), bars=0)
    with pytest.raises(ParameterError, match="--click-unit"):
        read_musicxml(str(path), click_unit="file")


def test_ramp_across_a_meter_change_is_one_ramp(tmp_path: Path) -> None:
    """rit. over a 4/4 and a 3/4 bar: two sections, one ramp (7 quarters, 120 -> 80)."""
    text = score(
        measure("1", time(4, 4), sound(120), note(8)),
        measure("2", words("poco rit."), note(8)),
        measure("3", time(3, 4), note(6)),
        measure("4", time(4, 4), sound(80), note(8)),
    )
    tempo_map, notes = read(write(tmp_path, text))
    assert notes == []
    ramp = tempo_map.sections[1:3]
    assert [(s.bars, str(s.meter)) for s in ramp] == [(1, "4/4"), (1, "3/4")]
    assert ramp[0].tempo == Tempo(120) and ramp[1].tempo_end == Tempo(80)
    assert ramp[0].tempo_end == ramp[1].tempo == Tempo(120 - Fraction(40 * 4, 7))
    grid = build_grid(tempo_map)
    start = 2  # bar 1 lasts 2 s
    for i in np.flatnonzero((grid.bar >= 2) & (grid.bar <= 3)):
        q = Fraction(grid.position[i]).limit_denominator(8) - 4
        want = start + ramp_seconds(q, Fraction(120), Fraction(80), Fraction(7))
        assert float(grid.time[i]) == pytest.approx(float(want), abs=1e-9)
    assert grid.tempo[grid.bar == 4][0] == 80


def test_a_tempo_tempo_primo_and_half_note_marks(tmp_path: Path) -> None:
    text = score(
        measure("1", time(2, 2), metronome(50, "half"), note(8)),
        measure("2", words("rit."), note(8)),
        measure("3", metronome(30, "half"), note(8)),
        measure("4", words("a tempo"), note(8)),
        measure("5", words("Più mosso"), metronome(70, "half"), note(8)),
        measure("6", words("Tempo I"), note(8)),
    )
    tempo_map, notes = read(write(tmp_path, text))
    assert notes == []
    half = Fraction(1, 2)
    got = [(s.bars, s.tempo, s.tempo_end) for s in tempo_map.sections]
    assert got == [
        (1, Tempo(50, half), None),
        (1, Tempo(50, half), Tempo(30, half)),
        (1, Tempo(30, half), None),
        (1, Tempo(50, half), None),
        (1, Tempo(70, half), None),
        (1, Tempo(50, half), None),
    ]
    assert all(s.beats_per_bar == 2 for s in tempo_map.sections)  # alla breve: two halves


def test_guesses_are_warned(tmp_path: Path) -> None:
    no_tempo = score(measure("1", time(3, 4), note(6)), measure("2", note(6)))
    tempo_map, notes = read(write(tmp_path, no_tempo, "a.musicxml"))
    assert tempo_map.sections[0].tempo == Tempo(120)
    assert len(notes) == 1 and "no tempo mark in the score; reading 120 BPM" in notes[0]
    assert notes[0].startswith(str(tmp_path / "a.musicxml"))

    late = score(
        measure("1", time(4, 4), note(8)),
        measure("2", note(8)),
        measure("3", sound(90), note(8)),
        measure("4", words("rit."), note(8)),
        measure("5", words("a tempo"), note(8)),
        measure("6", words("accel."), note(8)),
    )
    tempo_map, notes = read(write(tmp_path, late, "b.musicxml"))
    # rit. then "a tempo": 10 % slower over bar 4 (the default amount), then back to 90
    assert [(s.bars, s.tempo, s.tempo_end) for s in tempo_map.sections] == [
        (2, Tempo(120), None),
        (1, Tempo(90), None),
        (1, Tempo(90), Tempo(81)),
        (2, Tempo(90), None),
    ]
    assert len(notes) == 2
    assert "no tempo mark before measure 3" in notes[0]
    assert "'accel.' in measure 6: no tempo mark follows it" in notes[1]
    with pytest.warns(ScoreWarning, match="no tempo mark"):
        read_musicxml(str(tmp_path / "a.musicxml"))


def test_labels_from_words_and_rehearsal_marks(tmp_path: Path) -> None:
    text = score(
        measure("1", time(4, 4), sound(100), words("Intro"), note(8)),
        measure("2", words("Verse 2"), note(8)),
        measure("3", note(4), rehearsal("Più mosso!"), note(4)),
        measure("4", words("cresc."), words("Title"), note(8)),
        measure("5", words("CHORUS"), rehearsal("C"), note(8)),
        parts=2,  # every direction twice: one label and one cue each
    )
    tempo_map, notes = read(write(tmp_path, text))
    assert notes == []
    got = [(s.label, s.bars, [(c.text, c.beat) for c in s.cues]) for s in tempo_map.sections]
    assert got == [
        ("Intro", 1, [("Intro", 1)]),
        ("Verse_2", 1, [("Verse 2", 1)]),
        ("Piu_mosso", 2, [("Più mosso!", 3)]),  # "Title" is not a section word
        ("C", 1, [("CHORUS", 1), ("C", 1)]),  # the rehearsal mark names it
    ]


def test_sound_tempo_wins_over_a_printed_mark_at_the_same_place(tmp_path: Path) -> None:
    text = score(
        measure("1", time(4, 4), metronome(100), sound(120), note(8)),
        measure("2", note(4), metronome(60, "half"), sound(96), note(4)),
        measure("3", metronome(72), note(8)),  # printed alone: it counts
    )
    tempo_map, notes = read(write(tmp_path, text))
    assert notes == []
    assert [(s.tempo, s.steps) for s in tempo_map.sections] == [
        (Tempo(120), ((Fraction(6), Fraction(96)),)),
        (Tempo(72), None),
    ]


def test_multi_part_tempo_in_second_part_only(tmp_path: Path) -> None:
    p1 = [measure("1", time(3, 4), note(6)), measure("2", note(6))]
    p2 = [measure("1", time(3, 4), note(6)), measure("2", metronome(72), note(6))]
    text = (
        '<?xml version="1.0"?><score-partwise version="3.1"><part-list>'
        '<score-part id="P1"><part-name>a</part-name></score-part>'
        '<score-part id="P2"><part-name>b</part-name></score-part></part-list>'
        f'<part id="P1">{"".join(p1)}</part><part id="P2">{"".join(p2)}</part></score-partwise>'
    )
    tempo_map, notes = read(write(tmp_path, text))
    assert [(s.bars, s.tempo) for s in tempo_map.sections] == [(1, Tempo(120)), (1, Tempo(72))]
    assert "no tempo mark before measure 2" in notes[0]


# --------------------------------------------------- generated scores (hypothesis)

METERS = [(2, 4), (3, 4), (4, 4), (6, 8), (5, 8), (7, 8), (2, 2), (3, 8)]


@st.composite
def generated(
    draw: st.DrawFn,
) -> tuple[str, list[tuple[Fraction, Fraction, str | None, Fraction]]]:
    """A score and, per bar: length (quarters), downbeat tempo, label, exact seconds."""
    n = draw(st.integers(1, 7))
    first_bpm = draw(st.integers(30, 240))
    bars, xml, bpm, signature = [], [], Fraction(first_bpm), None
    for i in range(n):
        new_signature = draw(st.sampled_from(METERS)) if i == 0 or draw(st.booleans()) else None
        signature = new_signature or signature
        assert signature is not None
        eighths = signature[0] * 8 // signature[1]
        pickup = i == 0 and n > 1 and draw(st.booleans())
        if pickup:
            eighths = draw(st.integers(1, eighths - 1))
        content = [time(*new_signature)] if new_signature else []
        if i == 0:
            content.append(sound(first_bpm))
        elif draw(st.booleans()):
            bpm = Fraction(draw(st.integers(30, 240)))
            content.append(sound(int(bpm)))
        label = None
        if draw(st.integers(0, 3)) == 0:
            label = f"M{i}"
            content.append(rehearsal(label))
        downbeat = bpm
        split = draw(st.integers(0, eighths - 1)) if eighths > 1 else 0
        content += [note(1)] * split
        if split and draw(st.booleans()):
            bpm = Fraction(draw(st.integers(30, 240)))
            content.append(sound(int(bpm)))
        content += [note(1)] * (eighths - split)
        xml.append(measure(str(i), *content, implicit=pickup))
        length, at = Fraction(eighths, 2), Fraction(split, 2)
        seconds = at * 60 / downbeat + (length - at) * 60 / bpm
        bars.append((length, downbeat, label, seconds))
    return score(*xml), bars


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=generated())
def test_generated_scores(tmp_path: Path, case: tuple[str, list[Any]]) -> None:
    text, bars = case
    tempo_map, _ = read(write(tmp_path, text))
    meters = bar_meters(tempo_map)
    assert [m.bar_quarters for m in meters] == [length for length, _, _, _ in bars]
    grid = build_grid(tempo_map)
    starts = downbeats(grid)
    assert grid.tempo[starts].tolist() == [float(bpm) for _, bpm, _, _ in bars]
    labels = {tempo_map.first_bar_of(k): s.label for k, s in enumerate(tempo_map.sections)}
    assert [labels.get(i + 1) for i in range(len(bars))] == [label for _, _, label, _ in bars]
    # every downbeat and the end: each bar's quarters at its tempos, summed exactly here
    ends = np.cumsum([Fraction(0), *(seconds for *_, seconds in bars)])
    assert grid.time[starts].tolist() == pytest.approx([float(t) for t in ends[:-1]], abs=1e-9)
    assert grid.duration == pytest.approx(float(ends[-1]), abs=1e-9)
    assert parse_click(format_click(tempo_map)) == tempo_map


# ----------------------------------------------------------------------- bad files


def truncated_mxl(tmp_path: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("score.musicxml", TOUR)
    data = buffer.getvalue()
    return data[: len(data) // 2]


BAD: dict[str, tuple[bytes, type[IctusError], str]] = {
    "text.musicxml": (b"hello, not XML at all\n", ParseError, r"text\.musicxml:1:1: .*XML"),
    "empty.xml": (b"", ParseError, r"empty\.xml:1:1: "),
    "html.xml": (b"<html><body>hi</body></html>", IctusError, r"html\.xml: not a MusicXML score"),
    "cut.musicxml": (TOUR[: len(TOUR) // 2].encode(), ParseError, r"cut\.musicxml:2:\d+: "),
    "timewise.xml": (
        b'<?xml version="1.0"?><score-timewise version="3.1"/>',
        IctusError,
        r"timewise\.xml: a score-timewise",
    ),
    "noparts.musicxml": (
        b'<?xml version="1.0"?><score-partwise version="3.1"><part-list/></score-partwise>',
        IctusError,
        r"noparts\.musicxml: the score has no measures",
    ),
    "binary.mxl": (bytes(range(256)) * 4, ParseError, r"binary\.mxl:\d+:\d+: "),
    "junk.mxl": (b"PK\x03\x04 this is no zip", IctusError, r"junk\.mxl: a damaged or truncated"),
    "empty-zip.mxl": (b"PK\x05\x06" + bytes(18), IctusError, r"empty-zip\.mxl: .*no MusicXML"),
}


def beats_fails_on(path: Path, ran: Ran) -> None:
    assert ran.code == 1
    assert ran.out == ""
    assert "Traceback" not in ran.err
    assert ran.err.startswith(f"ictus: error: {path}")


@pytest.mark.parametrize("name", [*BAD, "truncated.mxl"])
def test_bad_files_fail_with_one_line_naming_the_file(
    tmp_path: Path, name: str, ictus_cli: Cli
) -> None:
    if name == "truncated.mxl":
        data, kind, pattern = truncated_mxl(tmp_path), IctusError, r"truncated\.mxl: a damaged"
    else:
        data, kind, pattern = BAD[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(kind) as caught:
        read_musicxml(str(path))
    message = str(caught.value)
    assert "\n" not in message
    assert re.match(re.escape(str(tmp_path)) + "/" + pattern, message), message
    beats_fails_on(path, ictus_cli("beats", str(path)))


@pytest.mark.parametrize("name", ["binary.mxl", "noparts.musicxml"])
def test_the_installed_script_refuses_a_bad_file_the_same(
    tmp_path: Path, name: str, ictus_cli: Cli
) -> None:
    """A sample of the above through the installed script, as a subprocess: the same
    answer as the in-process runs (a parse error with its place, and a reader's error)."""
    path = tmp_path / name
    path.write_bytes(BAD[name][0])
    ran = script("beats", str(path))
    beats_fails_on(path, ran)
    assert ran == ictus_cli("beats", str(path))


def test_without_music21_the_error_says_what_to_install(tmp_path: Path) -> None:
    path = write(tmp_path, TOUR)
    code = (
        "import sys; sys.modules['music21'] = None\n"  # as if it were not installed
        "from ictus.formats.musicxml import read_musicxml\n"
        "from ictus.errors import IctusError\n"
        "try:\n"
        f"    read_musicxml({str(path)!r})\n"
        "except IctusError as err:\n"
        "    print(err)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout == f"{path}: reading MusicXML needs music21 (pip install music21)\n"


def test_cli_beats_of_a_score(tmp_path: Path) -> None:
    path = write(tmp_path, TOUR)
    proc = subprocess.run(
        [ICTUS, "beats", str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    rows = proc.stdout.splitlines()[1:]
    grid = build_grid(read(path)[0])
    assert len(rows) == len(grid)
    assert [r.split(",")[8] for r in rows[:3]] == ["", "A", "A"]
    assert proc.stderr == ""
