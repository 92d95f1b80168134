"""Practice: timing analysis of takes with known deviations, tempo maps from drum loops.

The truth is what the synthetic recordings were built from (ictus.practice.takes moves
every note by a drawn amount and returns it; the drum loops return their beats), read by
other code than the analysis: scipy's linear regression for the drift, numpy means per
bar and section, mir_eval's beat F-measure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

# the practice extra (librosa brings scipy) and mir_eval (dev) as the independent reading
pytest.importorskip("librosa")
pytest.importorskip("mir_eval")

import mir_eval
import scipy.stats

from ictus.formats import format_click, parse_click, read_map
from ictus.practice.conform import (
    Bars,
    Follow,
    beats_to_map,
    f_measure,
    guess_bars,
    track_beats,
)
from ictus.practice.onsets import Detector, detect_onsets
from ictus.practice.takes import DRUM_LOOPS, SONG, Take, make_drum_loop, make_take
from ictus.practice.timing import Feel, analyze, find_offset
from ictus.tempomap import SILENT, ClickGrid, Meter, build_grid

ICTUS = str(Path(sys.executable).parent / "ictus")
TOOLS = Path(__file__).resolve().parents[1] / "tools"
GRID = build_grid(parse_click(SONG))
# what every reported deviation must meet (the acceptance figure)
WITHIN = 0.002


def _truth_by_click(take: Take) -> dict[float, float]:
    return {round(float(c), 6): float(d) for c, d in zip(take.clicks, take.deviations, strict=True)}


def _check_notes(take: Take, grid: ClickGrid, *, offset: float, shift: float = 0.0) -> None:
    onsets = detect_onsets(take.audio, take.rate)
    report = analyze(onsets, grid, offset=offset)
    truth = _truth_by_click(take)
    found = {round(n.click, 6): n.deviation for n in report.notes}
    assert set(found) == set(truth), "every played note is found, on its own click"
    errors = np.array([found[c] - (truth[c] - shift) for c in truth])
    assert np.abs(errors).max() < WITHIN, f"worst error {np.abs(errors).max() * 1000:.2f} ms"


# a player with a push in the chorus, a lag in the bridge, a drift and rests; and a harder
# room: louder noise, a longer tail
TAKES = [
    dict(seed=1, spread=0.012, push={"chorus": -0.015, "bridge": 0.01}, drift=0.004, rest=0.1),
    dict(seed=2, spread=0.02, noise_db=-35.0, rt60=0.8, wet=0.7, rest=0.2),
    dict(seed=3, spread=0.008, rate=44100, drift=-0.02),
]


@pytest.mark.parametrize("options", TAKES, ids=["pushes", "noisy-room", "drift"])
def test_every_deviation_within_2_ms_of_the_truth(options: dict[str, object]) -> None:
    take = make_take(GRID, offset=0.5, **options)  # type: ignore[arg-type]
    _check_notes(take, GRID, offset=0.5)


def test_aubio_finds_the_same_notes() -> None:
    pytest.importorskip("aubio")
    take = make_take(GRID, offset=0.3, seed=4)
    onsets = detect_onsets(take.audio, take.rate, detector=Detector.AUBIO)
    report = analyze(onsets, GRID, offset=0.3)
    truth = _truth_by_click(take)
    errors = [n.deviation - truth[round(n.click, 6)] for n in report.notes]
    assert len(errors) == len(truth)
    assert max(map(abs, errors)) < WITHIN


def test_auto_offset_centres_the_median_note() -> None:
    # the recording starts 1.234 s before the map; auto cannot tell a player who sits late
    # everywhere from a late recording, so it reads the median note as on the click
    take = make_take(GRID, offset=1.234, seed=5, spread=0.015)
    onsets = detect_onsets(take.audio, take.rate)
    median = float(np.median(take.deviations))
    offset = find_offset(onsets, GRID)
    assert abs(offset - (1.234 + median)) < WITHIN
    _check_notes(take, GRID, offset=offset, shift=median)


def test_drift_bars_and_sections_agree_with_the_truth() -> None:
    take = make_take(
        GRID, offset=0.5, seed=6, spread=0.006, push={"chorus": -0.02, "bridge": 0.015}, drift=0.01
    )
    report = analyze(detect_onsets(take.audio, take.rate), GRID, offset=0.5)
    fit = scipy.stats.linregress(take.clicks, take.deviations)
    assert report.drift is not None
    assert abs(report.drift.rate - fit.slope) * 60 < 0.0005  # within 0.5 ms per minute
    assert abs(report.drift.start - fit.intercept) < 0.001
    index = np.searchsorted(GRID.time, take.clicks)
    bars = GRID.bar[index]
    for b in report.bars:
        assert abs(b.timing.mean - take.deviations[bars == b.bar].mean()) < WITHIN
        assert abs(b.timing.spread - take.deviations[bars == b.bar].std()) < WITHIN
    labels = np.array(GRID.section_names)[GRID.section[index]]
    feel = {s.label: s.feel for s in report.sections}
    assert feel["chorus"] is Feel.AHEAD and feel["bridge"] is Feel.BEHIND
    for s in report.sections:
        assert abs(s.timing.mean - take.deviations[labels == s.label].mean()) < WITHIN
    assert abs(report.overall.spread - take.deviations.std()) < WITHIN
    assert report.missed == 0


def _run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ICTUS, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=240
    )


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's example recordings, made by the script in tools/."""
    out = tmp_path_factory.mktemp("practice")
    subprocess.run(
        [sys.executable, str(TOOLS / "make-practice-takes.py"), str(out)],
        check=True,
        timeout=240,
    )
    return out


def test_cli_analyze_writes_report_and_plots(examples: Path) -> None:
    result = _run(
        "analyze",
        "take.wav",
        "--map",
        "song.click",
        "--offset",
        "0.5",
        "--json",
        "report.json",
        "--plot",
        "timing.svg",
        cwd=examples,
    )
    assert result.returncode == 0, result.stderr
    assert "drift" in result.stdout and "chorus" in result.stdout
    data = json.loads((examples / "report.json").read_text())
    truth = np.loadtxt(examples / "take-truth.csv", delimiter=",", skiprows=1, ndmin=2)
    found = {round(n["click_s"], 4): n["deviation_ms"] for n in data["notes"]}
    assert len(found) == len(truth)
    for click, _, deviation_ms in truth:
        assert abs(found[round(click, 4)] - deviation_ms) < WITHIN * 1000
    assert data["detector"].startswith("librosa ")
    svg = (examples / "timing.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    png = _run("analyze", "take.wav", "-m", "song.click", "--plot", "t.png", cwd=examples)
    assert png.returncode == 0, png.stderr
    assert (examples / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["--offset", "soon"], 2, "--offset"),
        (["--plot", "x.gif"], 2, "--plot"),
        (["--detector", "madmom"], 2, "--detector"),
        (["--map", "missing.click"], 1, "missing.click"),
    ],
)
def test_cli_analyze_mistakes(examples: Path, args: list[str], code: int, text: str) -> None:
    result = _run("analyze", "take.wav", "--map", "song.click", *args, cwd=examples)
    assert result.returncode == code
    assert text in result.stderr and "Traceback" not in result.stderr


def test_cli_without_the_extra_names_it(tmp_path: Path, examples: Path) -> None:
    # a librosa that cannot be imported, as on a machine without the extra
    (tmp_path / "librosa").mkdir()
    (tmp_path / "librosa" / "__init__.py").write_text("raise ImportError('not here')\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    for args in (
        ["analyze", "take.wav", "--map", "song.click"],
        ["conform", "take.wav", "-o", "x.click"],
    ):
        result = _run(*args, cwd=examples, env=env)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert lines == ["ictus: error: librosa is not installed: pip install 'ictus[practice]'"]


# -- conform ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 60), min_size=0, max_size=40),
    st.lists(st.floats(0, 60), min_size=0, max_size=40),
)
def test_f_measure_agrees_with_mir_eval(est: list[float], ref: list[float]) -> None:
    # mir_eval ignores beats in the first 5 s unless trimmed; compare on its own terms
    e, r = np.unique(np.array(est)), np.unique(np.array(ref))
    # beats closer than 140 ms are not beats at 70 ms tolerance; keep the sets sparse
    e = e[np.r_[True, np.diff(e) > 0.15]] if len(e) else e
    r = r[np.r_[True, np.diff(r) > 0.15]] if len(r) else r
    ours = f_measure(e, r)
    if len(e) == 0 or len(r) == 0:
        assert ours == 0.0
        return
    assert ours == pytest.approx(mir_eval.beat.f_measure(r, e, f_measure_threshold=0.07))


FIGURES: dict[str, float] = {}


@pytest.mark.parametrize("name", sorted(DRUM_LOOPS))
def test_conform_gives_back_the_beats_of_drum_loops(name: str, tmp_path: Path) -> None:
    text, lead = DRUM_LOOPS[name]
    grid = build_grid(parse_click(text))
    audio, truth = make_drum_loop(grid, seed=1, lead=lead)
    beats = track_beats(audio, 44100)
    score = mir_eval.beat.f_measure(truth, beats.times, f_measure_threshold=0.07)
    FIGURES[name] = score
    assert score >= 0.95, f"{name}: F-measure {score:.3f}"
    assert f_measure(beats.times, truth) == pytest.approx(score)
    # the written map clicks on the tracked beats, read back from its text
    bars = guess_bars(beats)
    tempo_map = parse_click(format_click(beats_to_map(beats.times, bars)), "conformed.click")
    g = build_grid(tempo_map)
    clicks = g.time[(g.level != SILENT) & (g.sub == 0)]
    assert len(clicks) == len(beats.times)
    assert np.abs(clicks - beats.times).max() < 1e-4
    # and the bar lines are the kick's: the loop's downbeats, meter changes included
    truth_downs = truth[grid.beat[(grid.bar > 0) & (grid.sub == 0)] == 1]
    in_bars = np.array([n not in ("lead", "pickup") for n in g.section_names])
    downs = g.time[in_bars[g.section] & (g.level != SILENT) & (g.beat == 1) & (g.sub == 0)]
    downbeat_score = mir_eval.beat.f_measure(truth_downs, downs, f_measure_threshold=0.07)
    FIGURES[f"{name} downbeats"] = downbeat_score
    assert downbeat_score >= 0.95, f"{name}: downbeat F-measure {downbeat_score:.3f}"


def test_conform_finds_the_meter_changes() -> None:
    # the loops' own bars: 16 of 4/4 (8 steady, 8 ramping), 6 of 3/4, 4 of 4/4
    text, lead = DRUM_LOOPS["ramp-meter"]
    audio, _ = make_drum_loop(build_grid(parse_click(text)), seed=1, lead=lead)
    beats = track_beats(audio, 44100)
    tempo_map = beats_to_map(beats.times, guess_bars(beats))
    found = [(s.bars, str(s.meter)) for s in tempo_map.sections if s.label != "lead"]
    assert found == [(16, "4/4"), (6, "3/4"), (4, "4/4")]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.3, 1.2), min_size=3, max_size=40),
    st.floats(0, 5),
    st.sampled_from(["4/4", "3/4", "6/8", "7/8 (2+2+3)"]),
    st.integers(0, 6),
    st.sampled_from(list(Follow)),
)
def test_beats_to_map_clicks_land_on_the_beats(
    spans: list[float], start: float, meter_text: str, first: int, follow: Follow
) -> None:
    beats = start + np.concatenate([[0.0], np.cumsum(spans)])
    meter = parse_click(f"1 {meter_text} 120").sections[0].meter
    from ictus.practice.conform import beats_per_bar

    n = beats_per_bar(meter)
    bars = Bars(meter, n, first % len(beats), False)
    tempo_map = parse_click(format_click(beats_to_map(beats, bars, follow=follow)))
    grid = build_grid(tempo_map)
    clicks = grid.time[(grid.level != SILENT) & (grid.sub == 0)]
    in_bars = np.array([name not in ("lead", "pickup") for name in grid.section_names])
    downs = grid.time[in_bars[grid.section] & (grid.sub == 0) & (grid.beat == 1)]
    if follow is Follow.BEAT:
        assert len(clicks) == len(beats)
        assert np.abs(clicks - beats).max() < 1e-4
    # downbeats: exact in both modes (bar mode keeps the bar lines, evens the beats inside)
    truth_downs = beats[bars.first_downbeat % n :: n] if n else beats
    truth_downs = truth_downs[truth_downs <= beats[-1]]
    assert np.abs(downs[: len(truth_downs)] - truth_downs).max() < 1e-4
    assert [s.label for s in tempo_map.sections if s.mute] == (["lead"] if start >= 4e-5 else [])


def test_conform_cli_meter_first_downbeat_and_click(examples: Path) -> None:
    result = _run(
        "conform",
        "drums-six-eight.wav",
        "-o",
        "six.click",
        "--meter",
        "6/8",
        "--first-downbeat",
        "2.52",
        "--tempo",
        "70",
        "--click",
        "six-click.wav",
        cwd=examples,
    )
    assert result.returncode == 0, result.stderr
    assert "librosa" in result.stderr and "pulse clarity" in result.stderr
    tempo_map = read_map(examples / "six.click")
    song = next(s for s in tempo_map.sections if s.label == "song")
    assert song.meter == Meter(6, 8) and song.tempo.unit == Fraction(3, 8)
    truth = np.loadtxt(examples / "drums-six-eight.beats")
    grid = build_grid(tempo_map)
    downs = grid.time[(grid.level != SILENT) & (grid.beat == 1) & (grid.sub == 0)]
    bar_one = downs[np.argmin(np.abs(downs - 2.52))]
    assert abs(bar_one - truth[np.argmin(np.abs(truth - 2.52))]) < 0.001
    # the rendered click starts where the recording's beats are
    click, rate = soundfile.read(examples / "six-click.wav")
    first = np.flatnonzero(np.abs(click) > 1e-4)[0] / rate
    assert abs(first - truth[0]) < 0.001
    bad = _run("conform", "drums-six-eight.wav", "-o", "x.click", "--follow", "note", cwd=examples)
    assert bad.returncode == 2 and "--follow" in bad.stderr
    bad = _run("conform", "drums-six-eight.wav", "-o", "x.click", "--meter", "six", cwd=examples)
    assert bad.returncode == 2 and "--meter" in bad.stderr


def test_report_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """Print the F-measures (for docs/PRACTICE.md) after the loops ran."""
    with capsys.disabled():
        for name, score in sorted(FIGURES.items()):
            sys.stdout.write(f"\nF-measure at 70 ms, {name}: {score:.4f}")
    assert all(0 <= f <= 1 for f in FIGURES.values())


def test_guess_bars_takes_the_users_meter() -> None:
    grid = build_grid(parse_click("a: 6 3/4 120\n"))
    audio, truth = make_drum_loop(grid, seed=2, lead=0.4)
    beats = track_beats(audio, 44100)
    bars = guess_bars(beats, meter=Meter(3, 4), first_downbeat=truth[3] + 0.02)
    assert bars.first_downbeat % 3 == 0 and not bars.guessed
    assert str(guess_bars(beats).meter) == "3/4"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.3, 1.2), min_size=3, max_size=40),
    st.integers(0, 3),
    st.lists(st.sampled_from([2, 3, 4]), min_size=1, max_size=20),
    st.sampled_from(list(Follow)),
)
def test_guessed_bar_lengths_become_meter_changes(
    spans: list[float], pickup: int, lengths: list[int], follow: Follow
) -> None:
    beats = 0.5 + np.concatenate([[0.0], np.cumsum(spans)])
    pickup = min(pickup, len(beats) - 1)
    # the lengths must cover the beats after the pickup, the last bar cut by the end
    need = len(beats) - pickup
    while sum(lengths) < need:
        lengths = lengths + lengths
    bars = Bars(Meter(4, 4), 4, pickup, True, tuple(lengths))
    tempo_map = parse_click(format_click(beats_to_map(beats, bars, follow=follow)))
    grid = build_grid(tempo_map)
    played = (grid.level != SILENT) & (grid.sub == 0)
    if follow is Follow.BEAT:
        assert np.abs(grid.time[played] - beats).max() < 1e-4
    in_bars = np.array([n not in ("lead", "pickup") for n in grid.section_names])
    downs = grid.time[played & in_bars[grid.section] & (grid.beat == 1)]
    starts = pickup + np.cumsum([0, *lengths])
    truth = beats[starts[starts < len(beats)]]
    assert len(downs) == len(truth)
    assert np.abs(downs - truth).max() < 1e-4
