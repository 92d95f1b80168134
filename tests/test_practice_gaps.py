"""Timing with a gap click: notes with the click and notes in the muted bars, apart.

The truth is the synthetic player's own deviations (src/ictus/practice/takes.py), sorted
into gap and clicked bars by arithmetic on the map written here (120 bpm 4/4: a bar is
2 s; one count-in bar, so bar ``n`` starts at ``2 n`` s), not by the grid's own list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
import soundfile

from ictus.formats import parse_click
from ictus.practice.takes import Take, make_take
from ictus.practice.timing import analyze
from ictus.tempomap import build_grid

pytest.importorskip("librosa")
from ictus.practice.onsets import detect_onsets

ICTUS = str(Path(sys.executable).parent / "ictus")
DRILL = "count-in: 1 bar\nverse: 8 4/4 120 gap=2:2\n"
GAP_BARS = {3, 4, 7, 8}  # play 2, mute 2, from bar 1
WITHIN = 0.002  # the figure for every reported deviation


@pytest.fixture(scope="module")
def take() -> Take:
    # ahead by 8 ms with the click, 22 ms behind without it
    grid = build_grid(parse_click(DRILL))
    return make_take(
        grid, offset=0.4, seed=15, spread=0.005, push={"verse": -0.008}, gap_push=0.030
    )


def _truth(take: Take) -> tuple[np.ndarray, np.ndarray]:
    bars = np.floor(take.clicks / 2.0 + 1e-9).astype(int)
    return np.isin(bars, sorted(GAP_BARS)), bars


def test_gap_and_clicked_means_are_the_players(take: Take) -> None:
    grid = build_grid(parse_click(DRILL))
    report = analyze(detect_onsets(take.audio, take.rate), grid, offset=0.4)
    in_gap, bars = _truth(take)
    g = report.gaps
    assert g is not None and set(g.bars) == GAP_BARS
    assert (g.clicked.count, g.gaps.count) == (int((~in_gap).sum()), int(in_gap.sum()))
    assert abs(g.clicked.mean - take.deviations[~in_gap].mean()) < WITHIN
    assert abs(g.gaps.mean - take.deviations[in_gap].mean()) < WITHIN
    assert abs(g.gaps.spread - take.deviations[in_gap].std()) < WITHIN
    # drift in the gaps: deviation against seconds since the gap's first bar began
    since = take.clicks[in_gap] - 2.0 * np.where(bars[in_gap] < 7, 3, 7)
    fit = scipy.stats.linregress(since, take.deviations[in_gap])
    assert g.drift is not None
    assert abs(g.drift.rate - fit.slope) < 0.001  # within 1 ms per second
    assert abs(g.drift.start - fit.intercept) < WITHIN
    assert [n.gap for n in report.notes] == [bool(x) for x in in_gap]


def test_a_map_without_gaps_reports_none() -> None:
    grid = build_grid(parse_click("a: 2 4/4 120\n"))
    assert analyze(grid.time + 0.01, grid, offset=0.0).gaps is None


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ICTUS, *args], capture_output=True, text=True, cwd=cwd, timeout=60,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip


def test_analyze_shows_both_lines_json_and_plot(take: Take, tmp_path: Path) -> None:
    (tmp_path / "drill.click").write_text(DRILL)
    soundfile.write(tmp_path / "take.wav", take.audio, take.rate)
    args = ["--offset", "0.4", "--json", "r.json", "--plot", "t.svg"]
    proc = _run("analyze", "take.wav", "--map", "drill.click", *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    in_gap, _ = _truth(take)
    lines = proc.stdout.splitlines()
    clicked = [x for x in lines if x.strip().startswith("with the click:")]
    gaps = [x for x in lines if x.strip().startswith("in the gaps (4 bars):")]
    assert len(clicked) == 1 and len(gaps) == 1, proc.stdout
    assert f"{int((~in_gap).sum())} notes" in clicked[0] and "ms per second of gap" in gaps[0]
    data = json.loads((tmp_path / "r.json").read_text())["gaps"]
    assert data["bars"] == sorted(GAP_BARS)
    assert abs(data["clicked"]["mean_ms"] - take.deviations[~in_gap].mean() * 1000) < 2
    assert abs(data["gaps"]["mean_ms"] - take.deviations[in_gap].mean() * 1000) < 2
    # matplotlib writes each text as a comment: the gap bars' legend is there
    assert "gap bars +" in (tmp_path / "t.svg").read_text()


def test_practice_takes_the_trainer_flags(tmp_path: Path) -> None:
    """The null backend has no input: the drill plays to its end and the silent take
    has no notes, which is all it can say without a player (a take through the engine
    is test_take_recorder.py's and test_practice_live.py's)."""
    (tmp_path / "s.click").write_text("a: 4 4/4 480\n")
    args = ["-b", "null", "--take", "t.wav", "--gap", "2:2", "--speed-trainer", "+4/1..500"]
    proc = _run("practice", "s.click", *args, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "stopped at the end of the map" in proc.stderr
    assert "error: no notes found" in proc.stderr
    assert not soundfile.read(tmp_path / "t.wav")[0].any()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--seed", "3"], "--seed goes with --gap"),
        (["--gap", "2:0"], "--gap: gap: bars muted"),
        (["--gap", "2:2", "--seed", "1"], "--seed chooses the bars of --gap SHARE%"),
        (["--speed-trainer", "fast"], "--speed-trainer"),
    ],
)
def test_practice_trainer_mistakes_exit_2(tmp_path: Path, args: list[str], words: str) -> None:
    (tmp_path / "s.click").write_text("a: 1 4/4 120\n")
    proc = _run("practice", "s.click", "-b", "null", *args, cwd=tmp_path)
    assert proc.returncode == 2 and words in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
