"""Tests for writing MIDI files (ictus.formats.midi.write_midi) and the round trip.

Truth is the map's own grid (``build_grid``, itself tested against 50-digit closed
forms) and an independent reader written here: mido's parser, then exact tick
arithmetic over every track (:func:`file_times`), not ``read_midi``. The round trip
``.click -> .mid -> .click`` must keep every bar, meter and label, and every click
within 0.1 ms (docs/REFERENCE.md section 3).
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from fractions import Fraction as F
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ictus.errors import ParameterError
from ictus.formats import format_click, parse_click, read_map, write_map
from ictus.formats.midi import MidiWarning, parse_levels, read_midi, write_midi
from ictus.tempomap import SILENT, CountIn, Meter, Section, Tempo, TempoMap, build_grid

TENTH_MS = 1e-4
ICTUS = str(Path(sys.executable).with_name("ictus"))


# -- the independent reader -------------------------------------------------------------


@dataclass
class FileView:
    ppq: int
    tempos: dict[int, int]  # tick -> microseconds per quarter (later events win)
    meters: dict[int, tuple[int, int, int]]  # tick -> (numerator, denominator, clocks)
    notes: list[tuple[int, int, int, int, str]]  # (tick, channel, note, velocity, track name)
    markers: list[tuple[int, str, str]]  # (tick, kind, text)
    end: int
    names: list[str]
    tempo_events: int

    def seconds(self, ticks) -> np.ndarray:
        """Exact seconds of each tick: whole tempo segments summed as fractions."""
        starts = sorted(self.tempos)
        at = [F(0)]
        for a, b in itertools.pairwise(starts):
            at.append(at[-1] + F(b - a, self.ppq) * F(self.tempos[a], 10**6))
        out = []
        for tick in ticks:
            k = bisect.bisect_right(starts, tick) - 1
            t = at[k] + F(tick - starts[k], self.ppq) * F(self.tempos[starts[k]], 10**6)
            out.append(float(t))
        return np.array(out)


def view(path) -> FileView:
    mid = mido.MidiFile(str(path))
    assert mid.type == 1
    tempos, meters, notes, markers, names = {}, {}, [], [], []
    end = 0
    count = 0
    for track in mid.tracks:
        tick, name = 0, ""
        for msg in track:
            tick += msg.time
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "set_tempo":
                tempos[tick] = msg.tempo
                count += 1
            elif msg.type == "time_signature":
                meters[tick] = (msg.numerator, msg.denominator, msg.clocks_per_click)
            elif msg.type == "note_on" and msg.velocity > 0:
                notes.append((tick, msg.channel, msg.note, msg.velocity, name))
            elif msg.type in ("marker", "cue_marker"):
                markers.append((tick, msg.type, msg.text))
        end = max(end, tick)
        names.append(name)
    tempos.setdefault(0, 500_000)
    notes.sort()
    return FileView(mid.ticks_per_beat, tempos, meters, notes, markers, end, names, count)


def exported_error(tempo_map: TempoMap, path, **options) -> tuple[float, FileView]:
    """Write, read back independently, return the worst click time error (s)."""
    write_midi(tempo_map, path, **options)
    file = view(path)
    grid = build_grid(tempo_map)
    audible = (grid.level != SILENT) & (grid.volume > 0)
    ticks = [n[0] for n in file.notes]
    assert len(ticks) == int(audible.sum())
    error = np.max(np.abs(file.seconds(ticks) - grid.time[audible]))
    # every beat, silent ones too, through the bar/beat positions of the file
    beats = grid.sub == 0
    lead = F(0)
    if tempo_map.count_in:
        lead = -F(float(grid.position[0]))
    beat_ticks = [round((F(float(p)) + lead) * file.ppq) for p in grid.position[beats]]
    error = max(error, np.max(np.abs(file.seconds(beat_ticks) - grid.time[beats])))
    return float(error), file


# -- maps ---------------------------------------------------------------------------------

THREE_SHAPES = """
title: Ramps
a: 2 4/4 100
beats: 4 4/4 100-142.503911475
b: 2 4/4 142.503911475
time: 4 4/4 100-140 ramp=time
c: 2 3/4 140
period: 4 3/4 100-150 ramp=period
d: 2 7/8 88
slow: 3 6/8 150-60 ramp=time sub=3
"""


def three_hours() -> TempoMap:
    kinds = [
        "32 4/4 90",
        "8 3/4 90-133.33",
        "8 7/8 133.33-72 ramp=time",
        "8 6/8 72-100 ramp=period",
        "16 5/4 q=400/3 X.xx.",
        "4 2/2 h=50 steps=1.5:101,3:99.5",
        "6 4/4 97 mute",
        "12 12/8 q.=61",
    ]
    cycle = build_grid(parse_click("\n".join(kinds) + "\n")).duration
    repeats = math.ceil(3 * 3600 / cycle)
    lines = ["title: Three hours"]
    lines += [f"part{i}: {kinds[i % len(kinds)]}" for i in range(repeats * len(kinds))]
    tempo_map = parse_click("\n".join(lines) + "\n")
    assert build_grid(tempo_map).duration > 3 * 3600
    return tempo_map


@pytest.fixture(scope="module")
def long_map() -> TempoMap:
    return three_hours()


# -- exported times -----------------------------------------------------------------------


def test_reference_ramp_ends_on_time(tmp_path):
    # docs/REFERENCE.md section 2: 100 BPM, the 16th beat 8.000 s later, in all three shapes
    for shape, end in (("beats", "142.503911475"), ("time", "140"), ("period", "150")):
        m = parse_click(f"r: 4 4/4 100-{end} ramp={shape}\nafter: 1 4/4 {end}\n")
        path = tmp_path / f"{shape}.mid"
        error, file = exported_error(m, path)
        assert error < TENTH_MS
        downbeat5 = file.seconds([16 * 960])[0]
        assert abs(downbeat5 - 8.0) < 2e-6, shape


def test_three_ramp_shapes_every_click_within_a_tenth_of_a_millisecond(tmp_path):
    m = parse_click(THREE_SHAPES)
    for steps in ("beat", "8th", "16th"):
        error, _ = exported_error(m, tmp_path / f"r{steps}.mid", ramp_steps=steps)
        assert error < 20e-6, (steps, error)  # measured: ~10 us
    # finer steps mean more tempo events
    coarse = view(tmp_path / "rbeat.mid").tempo_events
    fine = view(tmp_path / "r16th.mid").tempo_events
    assert fine > 2 * coarse


def test_step_tempo_is_the_exact_step_length_not_a_sample_of_the_ramp(tmp_path):
    # the tempo of each step makes the step last as long as the ramp over it: the file's
    # 17th beat is on time; sampling the tempo at each step start would be ~22 ms late
    m = parse_click("r: 4 4/4 100-142.503911475\nafter: 1 4/4 142.503911475\n")
    path = tmp_path / "r.mid"
    write_midi(m, path)
    file = view(path)
    assert abs(file.seconds([16 * 960])[0] - 8.0) < 2e-6
    sampled = sum(60 / (100 + 42.503911475 * k / 16) for k in range(16))
    assert sampled - 8.0 > 0.02  # what the file avoids


def test_error_diffusion_keeps_a_steady_90_bpm_on_time_for_three_hours(tmp_path):
    m = parse_click("long: 4050 4/4 90\n")  # 16200 beats = 3 h
    error, file = exported_error(m, tmp_path / "90.mid")
    assert error < 15e-6
    # a handful of +-1 us corrections, not one per beat
    assert 50 < file.tempo_events < 1000
    assert set(file.tempos.values()) == {666666, 666667}
    # one rounded tempo for the whole file would be 5.4 ms late at the end
    assert 16200 * (666667 - F(2_000_000, 3)) / 10**6 > 0.005


def test_three_hour_map_exports_on_time(tmp_path, long_map):
    error, file = exported_error(long_map, tmp_path / "long.mid")
    assert error < 20e-6, error
    assert file.names == ["Three hours", "click"]


def test_count_in_scale_and_silent_clicks(tmp_path):
    m = parse_click(
        "count-in: 2 bars vol=0.5\nscale: 0.9\na: 2 4/4 120 X.x. \nb: 2 3/4 80-100 mute\n"
        "c: 1 4/4 100 vol=0\n"
    )
    error, file = exported_error(m, tmp_path / "c.mid")
    assert error < 20e-6
    grid = build_grid(m)
    assert len(file.notes) == int(((grid.level != SILENT) & (grid.volume > 0)).sum())
    assert (0, "marker", "count-in: 2 bars") in file.markers
    assert file.notes[0][3] == round(127 * 0.5)  # count-in volume scales the velocity
    assert file.end == (8 + 8 + 6 + 4) * 960  # count-in, a, b (mute: bars kept), c


def test_ppq_and_clicks_between_ticks(tmp_path):
    m = parse_click("a: 2 4/4 100 sub=3\n")
    for ppq in (96, 480, 960, 3, 1536):
        error, file = exported_error(m, tmp_path / f"p{ppq}.mid", ppq=ppq)
        assert file.ppq == ppq and error < 20e-6
    m = parse_click("a: 2 4/4 100 sub=7\n")
    with pytest.warns(MidiWarning, match=r"between ticks at ppq=960.*ppq=6720"):
        write_midi(m, tmp_path / "seven.mid")
    error, _ = exported_error(m, tmp_path / "seven-exact.mid", ppq=6720)
    assert error < 20e-6


def test_notes_velocities_channel_and_tracks(tmp_path):
    m = parse_click("a: 1 4/4 120 sub=2 sub-vol=0.5\nb: 1 4/4 120 X.xx\n")
    path = tmp_path / "n.mid"
    write_midi(m, path)
    file = view(path)
    assert {(n[1], n[2]) for n in file.notes} == {(9, 76), (9, 77)}  # channel 10
    first_bar = [(n[2], n[3]) for n in file.notes[:8]]
    assert first_bar == [
        (76, 127),
        (77, 35),
        (77, 100),
        (77, 35),
        (77, 100),
        (77, 35),
        (77, 100),
        (77, 35),
    ]
    write_midi(
        m,
        path,
        notes={"accent": 75, "sub": 42},
        velocities={"normal": 64},
        channel=3,
        tracks_per_level=True,
    )
    file = view(path)
    assert file.names == ["", "click accent", "click normal", "click sub"]
    by_track = {name: {(n[2], n[3]) for n in file.notes if n[4] == name} for name in file.names[1:]}
    assert by_track == {
        "click accent": {(75, 127)},
        "click normal": {(77, 64)},
        "click sub": {(42, 35)},
    }
    assert {n[1] for n in file.notes} == {2}
    # the silent beat 2 of bar 2 has no note: 2 + 3 + ... count the accents and normals
    assert sum(1 for n in file.notes if n[4] != "click sub") == 4 + 3


def test_every_note_has_an_end(tmp_path):
    m = parse_click("a: 2 4/4 300 sub=4\n")
    path = tmp_path / "e.mid"
    write_midi(m, path)
    for track in mido.MidiFile(path).tracks[1:]:
        sounding: dict[int, int] = {}
        for msg in track:
            if msg.type == "note_on" and msg.velocity:
                assert msg.note not in sounding
                sounding[msg.note] = 1
            elif msg.type in ("note_off", "note_on"):
                sounding.pop(msg.note)
        assert not sounding


def test_meters_markers_and_cues(tmp_path):
    m = parse_click(
        "title: Song (A), take 2\n"
        'Intro: 2 6/8 q.=60 cue="Intro"\n'
        'Verse_1: 2 4/4 100 cue="Verse 1" cue@2.3="horns"\n'
        "3 7/8 (2+2+3) e=300\n"
        "Out: 1 2/2 h=50\n"
    )
    path = tmp_path / "m.mid"
    write_midi(m, path)
    file = view(path)
    assert file.meters == {
        0: (6, 8, 36),
        2 * 3 * 960: (4, 4, 24),
        2 * 3 * 960 + 8 * 960: (7, 8, 12),
        2 * 3 * 960 + 8 * 960 + 3 * 3.5 * 960: (2, 2, 48),
    }
    bar3 = 6 * 960
    assert sorted(file.markers) == [
        (0, "marker", "Intro"),
        (0, "marker", "Intro"),  # a cue that equals its label stays a cue (after it)
        (bar3, "marker", "Verse 1"),  # the label's own text, from its cue
        (bar3 + 4 * 960 + 2 * 960, "marker", "horns"),  # cues are markers too
        (bar3 + 8 * 960 + int(10.5 * 960), "marker", "Out"),
    ]
    assert mido.MidiFile(path).tracks[0][0].name == "Song (A), take 2"


def test_options_are_checked(tmp_path):
    m = parse_click("a: 1 4/4 120\n")
    path = tmp_path / "o.mid"
    for bad in (
        {"ppq": 0},
        {"ppq": 40000},
        {"ramp_steps": "32nd"},
        {"channel": 0},
        {"notes": {"loud": 60}},
        {"notes": {"accent": 128}},
        {"velocities": {"sub": 0}},
    ):
        with pytest.raises(ParameterError):
            write_midi(m, path, **bad)
    assert not path.exists()
    with pytest.raises(ParameterError, match="power of two"):
        write_midi(TempoMap((Section(1, Tempo(120), meter=Meter(4, 3)),)), path)
    with pytest.raises(ParameterError, match="cannot be stored"):
        write_midi(parse_click("a: 1 4/4 3\n"), path)
    with pytest.raises(ParameterError, match="between ticks"):
        write_midi(parse_click("a: 1 3/64 120\n"), path, ppq=100)
    assert not path.exists()
    assert parse_levels("normal=1", "--velocities") == {"normal": 1}
    with pytest.raises(ParameterError, match="--notes"):
        parse_levels("accent", "--notes")


def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path):
    path = tmp_path / "keep.mid"
    path.write_bytes(b"old")
    with pytest.raises(ParameterError):
        write_midi(parse_click("a: 1 4/4 2\n"), path)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["keep.mid"]


# -- the round trip -----------------------------------------------------------------------


def bars_and_meters(tempo_map: TempoMap) -> list[tuple[int, int]]:
    return [(s.meter.count, s.meter.unit) for s in tempo_map.sections for _ in range(s.bars)]


def labels(tempo_map: TempoMap) -> list[tuple[int, str]]:
    return [
        (tempo_map.first_bar_of(i), s.label) for i, s in enumerate(tempo_map.sections) if s.label
    ]


def round_trip(tempo_map: TempoMap, path, **read) -> tuple[TempoMap, float]:
    """``.click -> .mid -> .click``: the map read back, and the worst click error (s)."""
    write_map(tempo_map, path)
    click = Path(path).with_suffix(".click")
    write_map(read_map(path, **read), click)
    back = read_map(click)
    a, b = build_grid(tempo_map), build_grid(back)
    assert len(a) == len(b)
    assert np.array_equal(a.bar, b.bar) and np.array_equal(a.beat, b.beat)
    return back, float(np.max(np.abs(a.time - b.time)))


def test_round_trip_of_three_ramp_shapes(tmp_path):
    m = parse_click(THREE_SHAPES.replace(" sub=3", ""))
    back, error = round_trip(m, tmp_path / "r.mid")
    assert bars_and_meters(back) == bars_and_meters(m)
    assert labels(back) == labels(m)
    assert back.title == "Ramps"
    assert error < TENTH_MS, error


def test_round_trip_of_three_hours(tmp_path, long_map):
    back, error = round_trip(long_map, tmp_path / "long.mid", click_unit="file")
    assert bars_and_meters(back) == bars_and_meters(long_map)
    assert labels(back) == labels(long_map)
    assert error < TENTH_MS, error


def test_round_trip_keeps_count_in_cues_and_units(tmp_path):
    m = parse_click(
        "count-in: 1 bar\n"
        'Intro: 2 6/8 q.=60 cue@2.2="go"\n'  # a cue inside a bar: a marker read as a cue
        'Verse_1: 2 4/4 100 cue="Verse 1"\n'
        "B: 2 12/8 q.=70-80\n"
    )
    back, error = round_trip(m, tmp_path / "c.mid", click_unit="file")
    assert back.count_in == m.count_in
    assert labels(back) == labels(m)
    cues = [(i, c) for i, s in enumerate(back.sections) for c in s.cues]
    assert [c.text for _, c in cues] == ["go", "Verse 1"]
    assert error < TENTH_MS


# -- hypothesis: random maps ----------------------------------------------------------------


@st.composite
def random_maps(draw):
    sections = []
    for i in range(draw(st.integers(1, 5))):
        meter = draw(st.sampled_from([(4, 4), (3, 4), (2, 2), (6, 8), (7, 8), (5, 16), (1, 4)]))
        bars = draw(st.integers(1, 4))
        t0 = F(draw(st.integers(400, 2400)), 10)
        kind = draw(st.sampled_from(["constant", "ramp", "steps", "tempi"]))
        text = f"s{i}: {bars} {meter[0]}/{meter[1]} "
        if kind == "ramp":
            t1 = F(draw(st.integers(400, 2400)), 10)
            shape = draw(st.sampled_from(["beats", "time", "period"]))
            text += f"{float(t0):g}-{float(t1):g} ramp={shape}"
        elif kind == "tempi":
            n = bars * meter[0]
            values = [f"{draw(st.integers(40, 240))}" for _ in range(n)]
            text += ",".join(values)
        else:
            text += f"{float(t0):g}"
            if kind == "steps":
                length = bars * F(meter[0] * 4, meter[1])
                where = sorted({F(draw(st.integers(1, int(length * 8) - 1)), 8) for _ in range(3)})
                where = [q for q in where if 0 < q < length]
                if where:
                    text += " steps=" + ",".join(
                        f"{float(q):g}:{draw(st.integers(40, 240))}" for q in where
                    )
        sections.append(text)
    count_in = draw(st.sampled_from(["", "count-in: 1 bar\n", "count-in: 2 beats\n"]))
    return parse_click(count_in + "\n".join(sections) + "\n")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(random_maps(), st.sampled_from(["beat", "8th", "16th"]))
def test_random_maps_export_and_come_back(tmp_path, tempo_map, steps):
    path = tmp_path / "h.mid"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        error, _ = exported_error(tempo_map, path, ramp_steps=steps)
        assert error < 20e-6, error
        back = read_midi(path)
    assert bars_and_meters(back) == bars_and_meters(tempo_map)
    assert labels(back) == labels(tempo_map)
    a, b = build_grid(tempo_map), build_grid(back)
    assert len(a) == len(b)
    assert np.max(np.abs(a.time - b.time)) < TENTH_MS
    assert parse_click(format_click(back)) == back


# -- the command line -------------------------------------------------------------------------


def ictus(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ICTUS, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def test_command_line_end_to_end(tmp_path):
    (tmp_path / "song.click").write_text(
        "count-in: 1 bar\nintro: 2 4/4 96\nverse: 4 3/4 96-120 ramp=time\nout: 1 4/4 120\n"
    )
    result = ictus("convert", "song.click", "song.mid", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "wrote song.mid\n"
    file = view(tmp_path / "song.mid")
    assert len(file.notes) == 4 + 8 + 12 + 4

    result = ictus("beats", "song.mid", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert rows[0].startswith("index,time_s,sample,bar,beat")
    times = np.array([float(r.split(",")[1]) for r in rows[1:]])
    grid = build_grid(parse_click((tmp_path / "song.click").read_text()))
    assert len(times) == len(grid)
    assert np.max(np.abs(times - grid.time)) < TENTH_MS

    result = ictus("convert", "song.mid", "back.click", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    back = parse_click((tmp_path / "back.click").read_text())
    assert [s.label for s in back.sections if s.label] == ["intro", "verse", "out"]
    assert back.count_in == CountIn(bars=1)

    result = ictus("render", "song.mid", "-o", "click.wav", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    audio, rate = soundfile.read(tmp_path / "click.wav")
    assert abs(len(audio) / rate - grid.duration) < 0.05

    result = ictus("info", "song.mid", "--bars", "2", cwd=tmp_path)
    assert result.returncode == 0 and "intro" in result.stdout

    result = ictus("beats", "song.mid", "--click-unit", "sometimes", cwd=tmp_path)
    assert result.returncode == 1
    # (errors from reading a map name the file first)
    assert result.stderr.startswith("ictus: error: song.mid: click unit must be")
