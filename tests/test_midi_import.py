"""Tests for reading MIDI tempo maps (ictus.formats.midi.read_midi).

Truth comes from a route other than the reader's: :func:`truth` below reads the file with
mido's own parser, merges *all* tracks itself and computes every bar line's time with
exact fractions (microseconds per quarter x ticks / PPQ). Hypothesis writes random files
with mido (random PPQ, tempo and meter events in random tracks, tempo changes inside
beats) and compares the grid of what ``read_midi`` made with that truth.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from dataclasses import dataclass
from fractions import Fraction as F
from functools import cache
from pathlib import Path

import mido
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ictus.errors import IctusError, ParameterError
from ictus.formats import format_click, parse_click, read_map
from ictus.formats.midi import MidiFileError, MidiWarning, read_midi
from ictus.tempomap import TempoMap, build_grid

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "midi"
REAL_FILES = sorted(DATA.glob("*.mid"))
MICROSECOND = 1e-6


# -- the independent truth ----------------------------------------------------------


@dataclass
class Truth:
    bar_ticks: list[int]  # bar lines of the map, its end included
    meters: list[tuple[int, int]]  # meter of each bar
    seconds: list[F]  # exact time of each bar line
    ppq: int


def merged(mid: mido.MidiFile) -> list[tuple[int, int, int, mido.Message]]:
    """(tick, track, index, message) of every message of every track, in playing order."""
    out = []
    for t, track in enumerate(mid.tracks):
        tick = 0
        for i, msg in enumerate(track):
            tick += msg.time
            out.append((tick, t, i, msg))
    out.sort(key=lambda e: (e[0], e[1], e[2]))
    return out


@cache  # a pure rule, asked once per tempo event of a long file (thousands of times)
def typed(uspq: int) -> F:
    """Issue 9.4's rule, by brute force: the decimal with the fewest places (0-3) that a
    writer rounding or cutting 60e6/d to whole microseconds stores as ``uspq``; the
    nearest of those to 60e6/uspq; else 60e6/uspq itself."""
    exact = F(60_000_000, uspq)
    for places in range(4):
        scale = 10**places
        centre = round(exact * scale)
        fits = [
            F(k, scale)
            for k in range(centre - 3, centre + 4)
            if k > 0 and uspq - F(1, 2) <= F(60_000_000 * scale, k) < uspq + 1
        ]
        if fits:
            return min(fits, key=lambda d: (abs(d - exact), d))
    return exact


def test_typed_tempo_rule_examples():
    # issue 9.4's DAW file: 112 and 126 BPM stored as 535714 and 476190 us
    assert typed(535714) == 112 and typed(476190) == 126
    assert typed(450000) == F(400, 3)  # exactly 133.333... us: stays exact
    assert typed(450011) == F(13333, 100)
    assert typed(545454) == 110  # a writer that cuts: 545454.54 -> 545454
    assert typed(500001) == F(60_000_000, 500001)  # nothing with 3 places fits


def exact_seconds(tempos: dict[int, int], ppq: int, ticks: list, raw: bool = False) -> list[F]:
    """Exact seconds at each tick: a sum of whole tempo segments, then the part segment.
    Tempos as typed (issue 9.4), or the raw microseconds with ``raw``.

    The sums of whole segments are kept as they grow (exact fractions: the same sums in
    any order), so a long file's thousands of bar lines cost one segment each.
    """
    change_ticks = sorted(tempos)

    def per_quarter(start: int) -> F:
        return F(tempos[start], 1_000_000) if raw else 60 / typed(tempos[start])

    at_change = [F(0)]  # exact seconds at each tempo change
    for start, stop in itertools.pairwise(change_ticks):
        at_change.append(at_change[-1] + F(stop - start, ppq) * per_quarter(start))
    out = []
    for tick in ticks:
        k = bisect.bisect_left(change_ticks, tick) - 1  # the last change before the tick
        if k < 0:
            out.append(F(0))
            continue
        start = change_ticks[k]
        out.append(at_change[k] + F(tick - start, ppq) * per_quarter(start))
    return out


def truth(
    path: Path | str,
    bars: int | None = None,
    track0_only: bool = False,
    mid: mido.MidiFile | None = None,
) -> Truth:
    """Bar lines and their exact times, read with mido and plain arithmetic (``mid``: the
    file as mido has already read it)."""
    mid = mid or mido.MidiFile(str(path), clip=True)
    ppq = mid.ticks_per_beat
    events = merged(mid)
    tempos = {0: 500_000}
    meters = {0: (4, 4)}
    last_start, last_end = -1, 0
    for tick, track, _, msg in events:
        if msg.type == "set_tempo" and (track == 0 or not track0_only):
            tempos[tick] = msg.tempo
        elif msg.type == "time_signature":
            meters[tick] = (msg.numerator, msg.denominator)
        if (msg.type == "note_on" and msg.velocity > 0) or msg.type in (
            "text",
            "marker",
            "cue_marker",
        ):
            last_start = max(last_start, tick)
        last_end = max(last_end, tick)
    bar_ticks, bar_meters = [0], []
    meter = meters[0]
    while True:
        start = bar_ticks[-1]
        if start in meters:
            meter = meters[start]
        done = len(bar_meters) >= bars if bars else start >= last_end and start > last_start
        if bar_meters and done:
            break
        length = F(meter[0] * 4 * ppq, meter[1])
        assert length.denominator == 1
        nxt = start + int(length)
        # every meter change in these files sits on a bar line
        assert not any(start < t < nxt for t in meters), (path, start)
        bar_ticks.append(nxt)
        bar_meters.append(meter)
    return Truth(bar_ticks, bar_meters, exact_seconds(tempos, ppq, bar_ticks), ppq)


def downbeats(tempo_map) -> np.ndarray:
    grid = build_grid(tempo_map)
    first = (grid.beat == 1) & (grid.sub == 0) & (grid.bar >= 1)
    return np.append(grid.time[first], grid.duration)


def bar_meters(tempo_map) -> list[tuple[int, int]]:
    return [(s.meter.count, s.meter.unit) for s in tempo_map.sections for _ in range(s.bars)]


def quiet_read(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the real files are valid: no warning expected
        return read_midi(path, **options)


# -- real files ---------------------------------------------------------------------


def test_the_real_files_are_there():
    names = {p.name for p in REAL_FILES}
    assert "bartok__concerto_for_orchestra_1.mid" in names and len(names) >= 5


@cache
def real_file(path: Path) -> tuple[TempoMap, Truth, dict[int, int]]:
    """A real file read once for the tests below (parsing the long ones is most of their
    time): the map ``read_midi`` makes, the truth, and the file's raw tempos (mido)."""
    mid = mido.MidiFile(str(path), clip=True)
    tempos = {0: 500_000}
    for tick, _, _, msg in merged(mid):
        if msg.type == "set_tempo":
            tempos[tick] = msg.tempo
    return quiet_read(path), truth(path, mid=mid), tempos


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.stem[:30])
def test_real_file_downbeats_within_a_microsecond(path):
    tempo_map, expected, _ = real_file(path)
    got = downbeats(tempo_map)
    assert bar_meters(tempo_map) == expected.meters
    assert len(got) == len(expected.seconds)
    error = np.max(np.abs(got - np.array([float(s) for s in expected.seconds])))
    assert error < MICROSECOND, f"{path.name}: {error * 1e6:.4f} us"


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.stem[:30])
def test_typed_tempos_differ_from_raw_ticks_by_under_a_microsecond_per_quarter(path):
    """The stated cost of reading tempos as typed: < 1 us per quarter note elapsed."""
    tempo_map, expected, tempos = real_file(path)
    raw = exact_seconds(tempos, expected.ppq, expected.bar_ticks, raw=True)
    got = downbeats(tempo_map)
    for tick, seconds, at in zip(expected.bar_ticks, raw, got, strict=True):
        assert abs(at - float(seconds)) < tick / expected.ppq * MICROSECOND + 1e-9
    typed_values = {typed(u) for u in tempos.values()}
    decimals = {t for t in typed_values if (t * 1000).denominator == 1}
    assert len(decimals) >= len(typed_values) // 3  # most DAW tempos were typed as decimals


def test_tempo_in_track_1_is_read_and_a_track_0_reader_would_be_wrong():
    # Sor: the tempo map lives in track 1; a reader of track 0 alone drifts by seconds
    path = DATA / "Valid_MultiTrack_Middle_Sor_Fantaisie_No2_Op4.mid"
    all_tracks = truth(path)
    track0 = truth(path, track0_only=True)
    got = downbeats(quiet_read(path))
    assert abs(got[-1] - float(all_tracks.seconds[-1])) < MICROSECOND
    assert abs(float(track0.seconds[-1]) - float(all_tracks.seconds[-1])) > 1.0


def test_pickup_bars_and_markers_of_gfr66():
    path = DATA / "Valid_MultiTrack_Middle_gfr66-h-jwhc.mid"
    tempo_map = quiet_read(path)
    assert tempo_map.title == "Jewels"
    meters = bar_meters(tempo_map)
    assert meters[:4] == [(4, 4), (1, 4), (3, 4), (3, 4)]
    assert meters.count((1, 4)) == 6
    labels = {
        s.label: tempo_map.first_bar_of(i) for i, s in enumerate(tempo_map.sections) if s.label
    }
    assert labels == {"Setup_Measure": 1, "Verse_1_Moderato": 2, "Verse_2": 20, "Verse_3": 38}
    verse1 = tempo_map.sections[tempo_map.section_index("Verse_1_Moderato")]
    assert [c.text for c in verse1.cues] == ["Verse 1/(Moderato)"]  # the original text
    verse2 = tempo_map.sections[tempo_map.section_index("Verse_2")]
    assert [c.text for c in verse2.cues] == ["Verse 2"]


def test_bartok_tempo_changes_inside_beats_become_steps():
    path = DATA / "bartok__concerto_for_orchestra_1.mid"
    tempo_map = quiet_read(path)
    mid = mido.MidiFile(str(path))
    ppq = mid.ticks_per_beat
    inside = [tick for tick, _, _, msg in merged(mid) if msg.type == "set_tempo" and tick % ppq]
    assert len(inside) > 20  # the file really changes tempo between quarter notes
    steps = [q for s in tempo_map.sections for q, _ in s.steps or ()]
    assert any(q.denominator > 1 for q in steps)


def test_the_map_reads_back_from_its_click_text_unchanged():
    for path in REAL_FILES:
        tempo_map = quiet_read(path)
        again = parse_click(format_click(tempo_map))
        assert again == tempo_map, path.name


def test_bars_option_cuts_and_extends():
    path = DATA / "Valid_MultiTrack_Middle_gfr66-h-jwhc.mid"
    for n in (1, 5, 200):
        tempo_map = quiet_read(path, bars=n)
        expected = truth(path, bars=n)
        assert tempo_map.total_bars == n
        got = downbeats(tempo_map)
        assert np.max(np.abs(got - np.array([float(s) for s in expected.seconds]))) < MICROSECOND


def test_read_map_dispatches_by_extension_with_options():
    path = DATA / "debussy__childrens_corner_4.mid"
    assert read_map(path, bars=3).total_bars == 3
    with pytest.raises(ParameterError, match="click unit"):
        read_map(path, click_unit="beat")
    with pytest.raises(ParameterError, match="bars"):
        read_midi(path, bars=0)


# -- files made here ------------------------------------------------------------------


def save(tmp_path, tracks, ppq=480, kind=1, name="t.mid") -> str:
    path = str(tmp_path / name)
    mid = mido.MidiFile(type=kind, ticks_per_beat=ppq)
    for events in tracks:
        track = mido.MidiTrack()
        now = 0
        for tick, msg in sorted(events, key=lambda e: e[0]):
            track.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    mid.save(path)
    return path


def meta(kind, **kw):
    return mido.MetaMessage(kind, **kw)


def note(tick, length, n=60):
    return [
        (tick, mido.Message("note_on", note=n, velocity=90)),
        (tick + length, mido.Message("note_off", note=n)),
    ]


def test_no_tempo_is_120_and_no_meter_is_4_4(tmp_path):
    path = save(tmp_path, [note(0, 480 * 8)])
    tempo_map = quiet_read(path)
    assert [(s.bars, str(s.meter), s.tempo.bpm) for s in tempo_map.sections] == [(2, "4/4", 120)]
    assert build_grid(tempo_map).duration == 4.0


def test_a_tempo_change_inside_a_beat(tmp_path):
    # 100 BPM, then 150 BPM a third of the way into beat 2 (PPQ 96: tick 128)
    path = save(
        tmp_path,
        [
            [(0, meta("set_tempo", tempo=600_000))],
            [(128, meta("set_tempo", tempo=400_000))],
            note(0, 96 * 8),
        ],
        ppq=96,
    )
    tempo_map = quiet_read(path)
    (section,) = tempo_map.sections
    assert section.steps == ((F(4, 3), F(150)),)
    grid = build_grid(tempo_map)
    beat2, beat3 = grid.time[1], grid.time[2]
    assert beat2 == pytest.approx(0.6, abs=1e-12)
    assert beat3 == pytest.approx(0.6 + 0.2 + F(2, 3) * 0.4, abs=1e-12)


def test_a_time_signature_inside_a_bar_makes_a_short_bar(tmp_path):
    # 4/4, then 2/4 three quarters into bar 2: bar 2 is cut to 3/4, then 2/4 bars
    events = [(0, meta("time_signature", numerator=4, denominator=4))]
    events.append((480 * 4 + 480 * 3, meta("time_signature", numerator=2, denominator=4)))
    path = save(tmp_path, [events + note(0, 480 * 11)])
    tempo_map = quiet_read(path)
    assert bar_meters(tempo_map) == [(4, 4), (3, 4), (2, 4), (2, 4)]
    # a quarter and a half into a 4/4 bar: 3/8 (the /4 unit cannot say it)
    events = [(480 + 240, meta("time_signature", numerator=3, denominator=4))]
    path = save(tmp_path, [events + note(0, 480 * 5)], name="u.mid")
    assert bar_meters(quiet_read(path))[:2] == [(3, 8), (3, 4)]


def test_a_time_signature_between_ticks_of_any_meter_moves_with_a_warning(tmp_path):
    events = [(7, meta("time_signature", numerator=3, denominator=4))]
    path = save(tmp_path, [events + note(0, 480 * 8)], ppq=480)
    with pytest.warns(MidiWarning, match="moved to the next bar line"):
        tempo_map = read_midi(path)
    assert bar_meters(tempo_map)[:2] == [(4, 4), (3, 4)]


def test_same_tick_events_later_track_wins(tmp_path):
    path = save(
        tmp_path,
        [
            [
                (0, meta("set_tempo", tempo=500_000)),
                (0, meta("time_signature", numerator=4, denominator=4)),
            ],
            [
                (0, meta("set_tempo", tempo=750_000)),
                (0, meta("time_signature", numerator=3, denominator=4)),
            ],
            note(0, 480 * 6),
        ],
    )
    tempo_map = quiet_read(path)
    assert (str(tempo_map.sections[0].meter), tempo_map.sections[0].tempo.bpm) == ("3/4", 80)


def test_the_end_is_the_bar_of_the_last_event(tmp_path):
    # a note-off on the bar line ends the map there; a note-on there needs its bar
    assert quiet_read(save(tmp_path, [note(0, 480 * 4)])).total_bars == 1
    assert quiet_read(save(tmp_path, [note(480 * 4, 1)], name="b.mid")).total_bars == 2
    # end-of-track counts: a DAW's silent bars at the end are kept
    path = save(tmp_path, [[*note(0, 10), (480 * 12, meta("end_of_track"))]], name="c.mid")
    assert quiet_read(path).total_bars == 3
    # a marker on the last bar line starts a bar of its own
    path = save(
        tmp_path, [[*note(0, 480 * 4), (480 * 4, meta("marker", text="End"))]], name="d.mid"
    )
    tempo_map = quiet_read(path)
    assert tempo_map.total_bars == 2 and tempo_map.sections[-1].label == "End"
    # an empty file is one bar
    assert quiet_read(save(tmp_path, [[]], name="e.mid")).total_bars == 1


def test_markers_cues_and_rehearsal_text(tmp_path):
    bar = 480 * 4
    conductor = [
        (0, meta("track_name", name="My Song")),
        (0, meta("text", text="Copyright 1999 somebody")),  # not a place in the music
        (0, meta("marker", text="Intro")),
        (bar * 2, meta("text", text="[B]")),  # rehearsal letter
        (bar * 2 + 480, meta("cue_marker", text='Horns "in"')),
        (bar * 3 + 240, meta("marker", text="mid-bar")),  # not on a bar line: a cue
        (bar * 4, meta("marker", text="Intro")),  # a second Intro
        (bar * 5, meta("marker", text="title")),  # a .click header word
        (bar * 6, meta("marker", text="Chorus 2 (loud!)")),
    ]
    other = [(bar * 6, meta("text", text="A")), *note(0, bar * 7)]  # text outside track 0
    tempo_map = quiet_read(save(tmp_path, [conductor, other]))
    assert tempo_map.title == "My Song"
    labels = [(tempo_map.first_bar_of(i), s.label) for i, s in enumerate(tempo_map.sections)]
    assert labels == [
        (1, "Intro"),
        (3, "B"),
        (5, "Intro-2"),
        (6, "title_"),
        (7, "Chorus_2_loud"),
    ]
    cues = {
        (tempo_map.first_bar_of(i) + c.bar - 1, c.beat, c.text)
        for i, s in enumerate(tempo_map.sections)
        for c in s.cues
    }
    assert cues == {
        (3, 1, "[B]"),
        (3, 2, "Horns 'in'"),
        (4, 1, "mid-bar"),
        (5, 1, "Intro"),
        (6, 1, "title"),
        (7, 1, "Chorus 2 (loud!)"),
    }
    assert parse_click(format_click(tempo_map)) == tempo_map


def test_non_ascii_marker_text_utf8_and_latin1(tmp_path):
    bar = 1920
    path = str(tmp_path / "u.mid")
    mid = mido.MidiFile(charset="utf-8")
    mid.tracks.append(
        mido.MidiTrack([meta("marker", text="Été ♪"), meta("end_of_track", time=bar)])
    )
    mid.save(path)
    tempo_map = quiet_read(path)
    assert tempo_map.sections[0].label == "Ete"
    assert tempo_map.sections[0].cues[0].text == "Été ♪"
    mid.charset = "latin-1"
    mid.tracks[0][0] = meta("marker", text="Café")
    mid.save(path)
    assert quiet_read(path).sections[0].cues[0].text == "Café"


@pytest.mark.parametrize(
    ("numerator", "denominator", "clocks", "file_beats"),
    [(6, 8, 36, 2), (6, 8, 12, 6), (4, 4, 24, 4), (2, 2, 48, 2), (4, 4, 12, 8), (12, 8, 36, 4)],
)
def test_clocks_per_click_with_click_unit_file(
    tmp_path, numerator, denominator, clocks, file_beats
):
    events = [
        (
            0,
            meta(
                "time_signature",
                numerator=numerator,
                denominator=denominator,
                clocks_per_click=clocks,
            ),
        ),
        (0, meta("set_tempo", tempo=652_174)),
    ]
    bar = numerator * 4 * 480 // denominator
    path = save(tmp_path, [events + note(0, bar * 2)])
    by_meter = quiet_read(path)
    by_file = quiet_read(path, click_unit="file")
    assert by_meter.sections[0].beats_per_bar == numerator
    assert by_file.sections[0].beats_per_bar == file_beats
    # the click moves, time does not
    assert build_grid(by_meter).duration == build_grid(by_file).duration
    grid = build_grid(by_file)
    beat = F(bar, file_beats) / 480 * F(652_174, 10**6)
    assert np.allclose(np.diff(grid.time), float(beat), atol=1e-12)


def test_clocks_per_click_without_a_note_value_warns(tmp_path):
    events = [(0, meta("time_signature", numerator=4, denominator=4, clocks_per_click=10))]
    path = save(tmp_path, [events + note(0, 1920)])
    with pytest.warns(MidiWarning, match="clocks_per_click 10"):
        tempo_map = read_midi(path, click_unit="file")
    assert tempo_map.sections[0].beats_per_bar == 4


@pytest.mark.parametrize(
    ("code", "fps"), [(24, F(24)), (25, F(25)), (29, F(30000, 1001)), (30, F(30))]
)
def test_smpte_division_times_come_from_the_ticks(tmp_path, code, fps):
    per_frame = 40
    division = ((256 - code) << 8) | per_frame
    signed = division - 0x10000  # mido writes the header field as a signed short
    ticks_per_second = fps * per_frame
    # the tempo at tick 0 sets the bars' quarter; a later tempo cannot move events
    events = [
        (0, meta("set_tempo", tempo=750_000)),
        (0, meta("time_signature", numerator=3, denominator=4)),
        (5000, meta("set_tempo", tempo=400_000)),
    ]
    path = str(tmp_path / "smpte.mid")
    track = mido.MidiTrack()
    now = 0
    last = int(ticks_per_second * 9)  # 9 seconds of notes: 4 bars of 3/4 at 80 BPM
    for tick, msg in sorted([*events, *note(0, last)], key=lambda e: e[0]):
        track.append(msg.copy(time=tick - now))
        now = tick
    mido.MidiFile(type=0, ticks_per_beat=signed, tracks=[track]).save(path)
    with pytest.warns(MidiWarning, match="SMPTE"):
        tempo_map = read_midi(path)
    # bars of 3/4 at 80 BPM (2.25 s): the later tempo event moved nothing
    assert tempo_map.total_bars == 4
    assert [s.tempo.bpm for s in tempo_map.sections] == [80]
    expected = [float(k * F(9, 4)) for k in range(5)]
    assert np.max(np.abs(downbeats(tempo_map) - expected)) < 1e-9


def test_type_2_is_refused_clearly(tmp_path):
    path = save(tmp_path, [note(0, 100), note(0, 100)], kind=2)
    with pytest.raises(MidiFileError) as err:
        read_midi(path)
    assert str(err.value).startswith(path) and "format 2" in str(err.value)
    assert "not supported" in str(err.value) and "\n" not in str(err.value)


def test_type_0_file(tmp_path):
    path = save(tmp_path, [[(0, meta("set_tempo", tempo=400_000)), *note(0, 480 * 8)]], kind=0)
    assert quiet_read(path).sections[0].tempo.bpm == 150


def test_count_in_written_by_ictus_comes_back(tmp_path):
    from ictus.formats.midi import write_midi

    for text in ("count-in: 2 bars\nv: 4 3/4 96\n", "count-in: 3 beats\nv: 4 6/8 q.=60\n"):
        tempo_map = parse_click(text)
        path = str(tmp_path / "ci.mid")
        write_midi(tempo_map, path)
        back = quiet_read(path, click_unit="file")
        assert back.count_in == tempo_map.count_in
        assert back.total_bars == 4
        a, b = build_grid(tempo_map), build_grid(back)
        assert np.max(np.abs(a.time - b.time)) < 1e-4
    # a marker that only looks like one, but the bars disagree: plain bars, no count-in
    bar = 1920
    events = [
        (0, meta("marker", text="count-in: 1 bar")),
        (bar, meta("time_signature", numerator=3, denominator=4)),
    ]
    back = quiet_read(save(tmp_path, [events + note(0, bar + 1440)], name="fake.mid"))
    assert not back.count_in and back.total_bars == 2 and back.sections[0].label == "count-in_1_bar"


# -- hypothesis: random files against the exact truth ------------------------------


@st.composite
def random_files(draw):
    ppq = draw(st.sampled_from([1, 24, 96, 120, 192, 384, 480, 960, 1000, 1536, 3840, 32767]))
    meters = draw(
        st.lists(
            st.tuples(
                st.integers(1, 4),  # bars
                st.integers(1, 13),
                st.sampled_from([1, 2, 4, 8, 16]),
            ),
            min_size=1,
            max_size=5,
        )
    )
    # keep bars on whole ticks at small PPQs
    meters = [(n, c, d) for n, c, d in meters if F(c * 4 * ppq, d).denominator == 1] or [(2, 4, 4)]
    n_tracks = draw(st.integers(1, 4))
    tracks: list[list] = [[] for _ in range(n_tracks)]
    tick = 0
    for bars, count, unit in meters:
        where = draw(st.integers(0, n_tracks - 1))
        tracks[where].append((tick, meta("time_signature", numerator=count, denominator=unit)))
        tick += bars * count * 4 * ppq // unit
    end = tick
    for _ in range(draw(st.integers(0, 12))):
        at = draw(st.integers(0, max(end - 1, 0)))  # anywhere: mid-beat, mid-bar
        tempo = draw(st.integers(200_000, 2_000_000))
        tracks[draw(st.integers(0, n_tracks - 1))].append((at, meta("set_tempo", tempo=tempo)))
    tracks[-1].extend(note(0, end))
    return ppq, tracks


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(random_files())
def test_random_files_match_exact_truth(tmp_path, case):
    ppq, tracks = case
    path = save(tmp_path, tracks, ppq=ppq, name="h.mid")
    tempo_map = quiet_read(path)
    expected = truth(path)
    assert bar_meters(tempo_map) == expected.meters
    got = downbeats(tempo_map)
    exact = np.array([float(s) for s in expected.seconds])
    assert len(got) == len(exact)
    assert np.max(np.abs(got - exact)) < MICROSECOND
    # and every beat, not just downbeats: the clicks between them are exact too
    grid = build_grid(tempo_map)
    tempos = {0: 500_000}
    for t, _, _, msg in merged(mido.MidiFile(path)):
        if msg.type == "set_tempo":
            tempos[t] = msg.tempo
    every = max(1, len(grid) // 50)
    ticks = [F(float(p)) * ppq for p in grid.position[::every]]  # dyadic: exact
    want = np.array([float(s) for s in exact_seconds(tempos, ppq, ticks)])
    assert np.max(np.abs(grid.time[::every] - want)) < MICROSECOND


def test_truth_routine_catches_a_wrong_time():
    # the oracle itself: 2 bars of 4/4, tempo 100 from bar 2 -> exact 2 + 2.4 s
    tempos = {0: 500_000, 1920: 600_000}
    assert exact_seconds(tempos, 480, [0, 1920, 3840]) == [0, 2, F(22, 5)]
    assert exact_seconds(tempos, 480, [3840], raw=True) == [F(22, 5)]
    assert math.isclose(float(exact_seconds(tempos, 480, [2880])[0]), 3.2)


def test_errors_are_ictus_errors_naming_the_file(tmp_path):
    missing = str(tmp_path / "nope.mid")
    with pytest.raises(IctusError, match=r"nope\.mid: no such file"):
        read_midi(missing)
    folder = tmp_path / "dir.mid"
    folder.mkdir()
    with pytest.raises(IctusError, match="is a folder"):
        read_midi(folder)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_marker_text_makes_a_valid_label_and_cue(text):
    from ictus.formats.midi.labels import cue_text, label_from_text
    from ictus.tempomap import Cue, Section, Tempo

    label = label_from_text(text)
    if label is not None:
        Section(1, Tempo(120), label=label)  # validates the label alphabet
        assert label.lower() not in ("title", "count-in", "scale")
        assert label_from_text(label) == label  # a label is left alone
    cue = cue_text(text)
    if cue:
        Cue(cue)
        assert len(cue.splitlines()) == 1 and cue == cue.strip()
