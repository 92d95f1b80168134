"""The practice trainers: gap click, speed trainer, polyrhythm layers.

Every expectation is written by hand from the music: click times as exact Fractions
(a bar of 4/4 at T lasts 240/T s), which bars are silent, the tempo of each bar; the
gap click's bars from SplitMix64's published reference outputs and the documented
shuffle, written again here; audio from the voices placed at ``rint(t * rate)``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

from ictus.errors import ParameterError, ParseError
from ictus.formats.clickfile import format_click, parse_click
from ictus.formats.jsonmap import from_json, to_json
from ictus.tempomap import Level, Section, Tempo, TempoMap, Timeline, build_grid
from ictus.tempomap.drills import faster_each_time
from ictus.tempomap.trainers import GapCycle, GapShare, Layer, SpeedTrainer

ICTUS = str(Path(sys.executable).parent / "ictus")
MASK = (1 << 64) - 1


def seconds(values: list[F]) -> np.ndarray:
    return np.array([float(v) for v in values])


# -- gap click ----------------------------------------------------------------------------


def test_gap_cycle_mutes_the_bars_it_names_and_keeps_their_time():
    grid = build_grid(parse_click("7 4/4 120 gap=2:1"))
    # 28 beats, every one at k/2 s, the silent ones too
    assert np.array_equal(grid.time, seconds([F(k, 2) for k in range(28)]))
    silent_bars = {3, 6}  # play 1 2, mute 3, play 4 5, mute 6, play 7
    expected = [
        Level.SILENT if bar in silent_bars else (Level.ACCENT if beat == 1 else Level.NORMAL)
        for bar in range(1, 8)
        for beat in range(1, 5)
    ]
    assert grid.level.tolist() == expected
    assert grid.gap_bars == frozenset(silent_bars)
    assert grid.duration == 14.0


def test_a_gap_silences_subdivisions_and_starts_again_in_each_section():
    m = parse_click("a: 3 4/4 120 sub=2 gap=1:1\nb: 2 3/4 90 gap=1:1")
    grid = build_grid(m)
    silent = sorted({int(b) for b, lv in zip(grid.bar, grid.level, strict=True) if lv == 3})
    assert silent == [2, 5]  # a's bar 2, b's bar 2 (map bar 5)
    assert grid.gap_bars == frozenset({2, 5})


def splitmix64_outputs(seed: int):
    """SplitMix64 as published (Steele, Lea, Flood 2014; Vigna's splitmix64.c)."""
    x = seed
    while True:
        x = (x + 0x9E3779B97F4A7C15) & MASK
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def test_splitmix_reproduces_the_published_reference_outputs():
    from ictus.tempomap.trainers import splitmix64

    # the first outputs for seed 1234567 quoted with the reference implementation
    reference = [
        6457827717110365317,
        3203168211198807973,
        9817491932198370423,
        4593380528125082431,
        16408922859458223821,
    ]
    state, got = 1234567, []
    for _ in range(5):
        state, out = splitmix64(state)
        got.append(out)
    assert got == reference
    outs = splitmix64_outputs(1234567)
    assert [next(outs) for _ in range(5)] == reference


def shuffled_bars(bars: int, percent: int, seed: int) -> list[int]:
    """The documented choice, written again: round(share * bars) bars (halves up), the
    head of a Fisher-Yates shuffle driven by SplitMix64."""
    k = (2 * percent * bars + 100) // 200
    order = list(range(bars))
    outs = splitmix64_outputs(seed)
    for i in range(k):
        j = i + next(outs) % (bars - i)
        order[i], order[j] = order[j], order[i]
    return sorted(order[:k])


@settings(max_examples=150, deadline=None)
@given(
    bars=st.integers(1, 300),
    percent=st.integers(1, 100),
    seed=st.integers(0, MASK),
)
def test_a_random_gap_mutes_exactly_its_share_the_same_bars_every_run(bars, percent, seed):
    gap = GapShare(F(percent, 100), seed)
    muted = gap.muted_bars(bars)
    assert len(muted) == int(F(percent * bars, 100) + F(1, 2))
    assert list(muted) == shuffled_bars(bars, percent, seed)
    assert GapShare(F(percent, 100), seed).muted_bars(bars) == muted  # every run
    assert len(set(muted)) == len(muted) and all(0 <= b < bars for b in muted)


def test_a_random_gap_in_the_grid_is_the_bars_the_seed_names():
    grid = build_grid(parse_click("20 4/4 120 gap=30% seed=7"))
    silent = {int(b) for b, lv in zip(grid.bar, grid.level, strict=True) if lv == 3}
    assert silent == {b + 1 for b in shuffled_bars(20, 30, 7)}
    assert len(silent) == 6
    assert len(grid) == 80  # the muted bars keep their clicks


def test_gap_values_are_checked():
    for bad in (lambda: GapCycle(0, 1), lambda: GapShare(F(0)), lambda: GapShare(F(3, 2))):
        with pytest.raises(ParameterError):
            bad()
    with pytest.raises(ParseError, match="1:19: seed= chooses the bars of gap=SHARE%"):
        parse_click("4 4/4 120 gap=1:1 seed=3")


# -- speed trainer ----------------------------------------------------------------------


def test_speed_trainer_tempo_per_bar_and_exact_bar_times():
    m = parse_click("9 4/4 80 trainer=+4/2..90")
    # bars 1-2 at 80, 3-4 at 84, 5-6 at 88, then 90 (capped, not 92) for good
    tempos = [F(80), F(80), F(84), F(84), F(88), F(88), F(90), F(90), F(90)]
    starts = [F(0)]
    for t in tempos:
        starts.append(starts[-1] + F(240) / t)
    assert Timeline(m).bar_times() == starts  # exact Fractions
    grid = build_grid(m)
    downbeats = grid.beat == 1
    assert grid.tempo[downbeats].tolist() == [float(t) for t in tempos]
    assert np.allclose(grid.time[downbeats], seconds(starts[:-1]), rtol=0, atol=1e-12)
    # the beats inside a bar: quarter k of bar b at start_b + k * 60 / T_b
    beat3 = [starts[b] + 2 * F(60) / tempos[b] for b in range(9)]
    assert np.allclose(grid.time[grid.beat == 3], seconds(beat3), rtol=0, atol=1e-12)


def test_speed_trainer_down_in_dotted_quarters():
    # 6/8 at q.=60: a bar is two dotted quarters, 2 s; -5 a bar down to 50
    m = parse_click("4 6/8 q.=60 trainer=-5..50")
    tempos = [F(60), F(55), F(50), F(50)]
    starts = [F(0)]
    for t in tempos:
        starts.append(starts[-1] + 2 * F(60) / t)
    assert Timeline(m).bar_times() == starts
    grid = build_grid(m)
    # the grid's tempo is in quarter notes: a dotted quarter is 3/2 of one
    assert grid.tempo[grid.beat == 1].tolist() == [float(t * F(3, 2)) for t in tempos]


def test_speed_trainer_refuses_what_it_cannot_do():
    with pytest.raises(ParseError, match="goes up from 80 but ends at 60"):
        parse_click("4 4/4 80 trainer=+4..60")
    with pytest.raises(ParseError, match="cannot have a ramp"):
        parse_click("4 4/4 80-90 trainer=+4..120")
    with pytest.raises(ParseError, match="give trainer= or steps="):
        parse_click("4 4/4 80 trainer=+4..120 steps=2:90")
    with pytest.raises(ParameterError):
        SpeedTrainer(F(0), 1, F(90))


def test_a_looped_section_written_out_faster_each_time():
    song = parse_click("intro: 1 4/4 100\nverse: 2 4/4 100 X.x.\nout: 1 4/4 70")
    drill = faster_each_time(song, "verse", SpeedTrainer(F(7), 2, F(120)), start=F(99))
    # repetition k at 99 + (k // 2) * 7, capped at 120: 99 99 106 106 113 113 120
    assert drill.tempos == tuple(F(t) for t in (99, 99, 106, 106, 113, 113, 120))
    sections = drill.tempo_map.sections
    assert [s.tempo.bpm for s in sections[1:-1]] == list(drill.tempos)
    assert all(s.pattern == "X.x." and s.bars == 2 for s in sections[1:-1])
    assert (drill.first, drill.loop) == ("verse", sections[-2].label)
    assert sections[0].label == "intro" and sections[-1].label == "out"


# -- polyrhythm layers ------------------------------------------------------------------


def test_layers_click_at_k_bar_over_n_and_leave_the_beats_alone():
    m = parse_click("2 4/4 120 poly=3:clave,5")
    grid = build_grid(m)
    plain = build_grid(parse_click("2 4/4 120"))
    for column in ("time", "bar", "beat", "sub", "level"):
        assert np.array_equal(getattr(grid, column), getattr(plain, column))
    bar = F(2)  # seconds
    want = sorted(
        [(b * bar + k * bar / 3, 0, k + 1) for b in range(2) for k in range(3)]
        + [(b * bar + k * bar / 5, 1, k + 1) for b in range(2) for k in range(5)],
        key=lambda x: (x[0], x[1]),
    )
    layers = grid.layers
    assert np.allclose(layers.time, seconds([t for t, _, _ in want]), rtol=0, atol=1e-12)
    assert layers.layer.tolist() == [v for _, v, _ in want]
    assert layers.pulse.tolist() == [p for _, _, p in want]
    assert grid.layer_voices == ((0, "clave"), (1, None))
    assert layers.level.tolist() == [1] * len(want)  # normal: the accent is the beat's


def test_layers_in_a_gap_bar_are_silent_too():
    grid = build_grid(parse_click("2 4/4 120 poly=3 gap=1:1"))
    assert grid.layers.level.tolist() == [1, 1, 1, 3, 3, 3]


# -- the format and JSON ----------------------------------------------------------------

gaps = st.one_of(
    st.none(),
    st.builds(GapCycle, st.integers(1, 9), st.integers(1, 9)),
    st.builds(
        GapShare, st.integers(1, 1000).map(lambda n: F(n, 1000)), st.integers(0, 10**6)
    ),
)
layers = st.lists(
    st.builds(Layer, st.integers(1, 16), st.sampled_from([None, "clave", "hihat"])),
    max_size=3,
).map(tuple)


@st.composite
def trainer_sections(draw) -> Section:
    start = draw(st.integers(40, 200))
    step = draw(st.sampled_from([F(1), F(5, 2), F(4), F(-3), F(-1, 2)]))
    end = start + step * draw(st.integers(0, 20))
    every = draw(st.integers(1, 4))
    trainer = SpeedTrainer(step, every, end) if end > 0 and draw(st.booleans()) else None
    sub = draw(st.integers(1, 4))
    marks = st.text(alphabet="Xx.", min_size=sub, max_size=sub)
    return Section(
        draw(st.integers(1, 40)),
        Tempo(start),
        label=draw(st.sampled_from([None, "drill"])),
        gap=draw(gaps),
        trainer=trainer,
        layers=draw(layers),
        sub=sub,
        sub_pattern=draw(st.one_of(st.none(), marks)),
    )


@settings(max_examples=120, deadline=None)
@given(section=trainer_sections())
def test_trainers_round_trip_through_the_format_and_json(section):
    m = TempoMap((section,))
    assert parse_click(format_click(m)) == m
    assert from_json(to_json(m)) == m


def test_json_spells_the_trainers_out():
    m = parse_click("d: 8 4/4 80 trainer=+4/2..96 gap=25% seed=3 poly=3:clave")
    section = json.loads(to_json(m))["sections"][0]
    assert section["trainer"] == {"step": "4", "every": 2, "end": "96"}
    assert section["gap"] == {"share": "0.25", "seed": 3}
    assert section["layers"] == [{"pulses": 3, "sound": "clave"}]
    assert "steps" not in section


# -- audio ------------------------------------------------------------------------------


def test_render_gap_bars_are_digital_silence_and_layers_land_on_their_samples(tmp_path):
    from ictus.render import render_file
    from ictus.sounds import synth_voice

    rate = 48000
    m = parse_click("4 4/4 120 gap=1:1 poly=7:clave")
    out = tmp_path / "drill.wav"
    voice = synth_voice("woodblock", rate)
    render_file(build_grid(m), str(out), voice=voice, rate=rate, bit_depth="32f")
    audio, got_rate = soundfile.read(out, dtype="float32")
    assert got_rate == rate and len(audio) == 8 * rate
    # bars 2 and 4 (2 s to 4 s, 6 s to 8 s): not one sample above zero
    assert not audio[2 * rate : 4 * rate].any()
    assert not audio[6 * rate : 8 * rate].any()
    # the sounding bars: every beat and every layer click at rint(t * rate), t exact
    want = np.zeros(8 * rate + rate, dtype=np.float64)
    clave = synth_voice("clave", rate)
    for bar in (0, 2):
        for beat in range(4):
            at = (F(bar * 2) + F(beat, 2)) * rate
            sound = voice.accent if beat == 0 else voice.normal
            want[int(at) : int(at) + len(sound)] += sound
        for k in range(7):
            t = F(bar * 2) + k * F(2, 7)
            at = int(np.rint(float(t * rate)))
            assert at == round(t * rate)  # no half-samples here: both roundings agree
            sound = clave.normal
            want[at : at + len(sound)] += sound
    assert np.allclose(audio, want[: len(audio)], rtol=0, atol=2e-7)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ICTUS, *args], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )


def test_render_flags_make_the_drill_and_mistakes_are_usage_errors(tmp_path):
    song = tmp_path / "groove.click"
    song.write_text("groove: 10 4/4 120\n")
    out = tmp_path / "g.wav"
    proc = run("render", str(song), "-o", str(out), "--gap", "30%", "--seed", "11", "-q",
               "--sample-rate", "8000", "--speed-trainer", "+60/5..180")
    assert proc.returncode == 0, proc.stderr
    audio, rate = soundfile.read(out, dtype="float32")
    # bars 1-5 at 120 (2 s), 6-10 at 180 (4/3 s)
    starts = [F(2) * b for b in range(6)] + [10 + F(4, 3) * b for b in range(1, 6)]
    muted = {b for b in shuffled_bars(10, 30, 11)}
    assert len(muted) == 3
    for b in range(10):
        span = audio[round(starts[b] * rate) : round(starts[b + 1] * rate)]
        assert span.any() != (b in muted), b
    for args, word in (
        (["--gap", "3"], "--gap"),
        (["--seed", "3"], "--seed goes with --gap"),
        (["--gap", "2:2", "--seed", "3"], "--seed chooses"),
        (["--speed-trainer", "80+4..60"], "give a step of -4"),
        (["--speed-trainer", "fast"], "--speed-trainer"),
    ):
        proc = run("render", str(song), "-o", str(out), *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and word in proc.stderr, proc.stderr


def test_an_unknown_layer_sound_is_one_line(tmp_path):
    song = tmp_path / "p.click"
    song.write_text("4 4/4 120 poly=3:gong\n")
    proc = run("render", str(song), "-o", str(tmp_path / "p.wav"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "poly layer: unknown sound 'gong'" in proc.stderr


def test_the_display_says_a_bar_is_a_gap_bar():
    from rich.console import Console

    from ictus.cli.display import render_status
    from ictus.engine import State, Status

    def screen(gap: bool) -> str:
        status = Status(State.PLAYING, 3, 2, 4, "drill", None, 120.0, 100.0, False,
                        None, None, 0.0, 0, 0, 48000, 256, "null", 0, None, gap=gap)
        console = Console(width=100, record=True)
        console.print(render_status(status))
        return console.export_text()

    assert "GAP" in screen(True) and "GAP" not in screen(False)


def test_play_takes_the_trainer_flags_and_plays_to_the_end(tmp_path):
    song = tmp_path / "groove.click"
    song.write_text("intro: 1 4/4 120\nverse: 2 4/4 120 poly=3\n")
    proc = run("play", str(song), "-b", "null", "-q", "--gap", "1:1", "--speed-trainer",
               "90+10..120", "--from-label", "verse")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    proc = run("play", str(song), "-b", "null", "--loop", "chorus", "--speed-trainer", "+4..130")
    assert proc.returncode == 1 and "no section is labelled 'chorus'" in proc.stderr


def test_a_speed_trainer_on_the_whole_map_needs_sections_at_one_tempo():
    from ictus.tempomap.drills import with_speed_trainer

    song = parse_click("a: 2 4/4 100\nb: 2 4/4 100-120")
    with pytest.raises(ParameterError, match="section b changes tempo by itself"):
        with_speed_trainer(song, SpeedTrainer(F(4), 1, F(130)))
    m = with_speed_trainer(parse_click("a: 3 4/4 100\nb: 2 3/4 90"), SpeedTrainer(F(5), 1, F(200)),
                           start=F(60))
    # every section from 60, +5 a bar: a at 60 65 70, b at 60 65
    tempos = build_grid(m).tempo[build_grid(m).beat == 1].tolist()
    assert tempos == [60.0, 65.0, 70.0, 60.0, 65.0]


# -- accents on subdivisions (sub-pattern=) -----------------------------------------------


def test_sub_pattern_sets_each_click_of_the_beat():
    grid = build_grid(parse_click("1 4/4 120 X.xx sub=4 sub-pattern=x.Xx"))
    # every sixteenth at k/8 s; per beat: the beat, silent, accent, sub
    assert np.array_equal(grid.time, seconds([F(k, 8) for k in range(16)]))
    A, N, S, Q = Level.ACCENT, Level.NORMAL, Level.SUB, Level.SILENT
    assert grid.level.tolist() == [
        A, Q, A, S,  # beat 1: X
        Q, Q, A, S,  # beat 2: silent (.), its accented sixteenth still sounds
        N, Q, A, S,  # beat 3: x
        N, Q, A, S,  # beat 4: x
    ]


def test_sub_pattern_round_trips_and_is_checked():
    m = parse_click("a: 2 6/8 q.=60 sub=3 sub-pattern=X.x")
    assert parse_click(format_click(m)) == m and from_json(to_json(m)) == m
    wrong = re.escape("1:17: sub-pattern 'x.x' has 3 clicks, but sub=4")
    with pytest.raises(ParseError, match=wrong):
        parse_click("1 4/4 120 sub=4 sub-pattern=x.x")
    with pytest.raises(ParseError, match=re.escape("with sub=2..16")):
        parse_click("1 4/4 120 sub=pulse sub-pattern=xx")
