"""The one routing path and the one clipping rule (issue 8 §2, issue 9.1).

Truth here is computed apart from ictus: routing as a float64 matrix product written in
this file, integer coding as ``round(x * full)`` clipped, peaks and first bars from
plain numpy over the rendered file and the map's bar length worked out by hand.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

from ictus.render import (
    FLOAT,
    LOSSY,
    PCM_16,
    PCM_24,
    BlockMixer,
    Router,
    Routing,
    click_peak,
)
from ictus.sounds import Voice, synth_voice
from ictus.tempomap import CountIn, Section, Tempo, TempoMap, build_grid
from inprocess import run_ictus

ICTUS = str(Path(sys.executable).parent / "ictus")
RATE = 48000


def script_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ICTUS, *args], capture_output=True, text=True, timeout=120,
                          check=False)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``ictus ARGS`` through the script's entry point, in-process (see tests/inprocess.py;
    :func:`test_the_installed_script_warns_as_run_does` holds it to the script)."""
    return run_ictus(*args)


def reference(blocks: list[np.ndarray], gains: np.ndarray) -> np.ndarray:
    """frames x channels in float64: sum over sources of gain * source."""
    return np.stack(blocks, axis=1).astype(np.float64) @ gains.astype(np.float64)


# ------------------------------------------------------------------------------ Router


@st.composite
def routing_cases(draw: st.DrawFn) -> tuple[np.ndarray, list[tuple[np.ndarray, list]]]:
    sources = draw(st.integers(1, 3))
    channels = draw(st.integers(1, 5))
    frames = draw(st.integers(1, 40))
    gain = st.sampled_from([0.0, 1.0, 0.5, -0.25, 2.0])
    gains = np.array([[draw(gain) for _ in range(channels)] for _ in range(sources)])
    blocks = []
    for _ in range(sources):
        x = np.zeros(frames, dtype=np.float32)
        spans = []
        for _ in range(draw(st.integers(0, 3))):
            a = draw(st.integers(0, frames - 1))
            b = draw(st.integers(a + 1, frames))
            x[a:b] = draw(st.lists(st.floats(-2, 2, width=32), min_size=b - a, max_size=b - a))
            spans.append((a, b))
        spans.sort()
        blocks.append((x, spans))
    return gains, blocks


@settings(max_examples=300, deadline=None)
@given(routing_cases())
def test_route_is_the_matrix_product(case: tuple[np.ndarray, list]) -> None:
    gains, blocks = case
    want = reference([x for x, _ in blocks], gains)
    router = Router(Routing(gains), FLOAT, max_frames=4)  # grows when a block is longer
    out = np.full((len(blocks[0][0]), gains.shape[1]), 7.0, dtype=np.float32)
    router.route(blocks, out)
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6)  # overs kept, not clipped


@settings(max_examples=200, deadline=None)
@given(routing_cases())
def test_integer_coding_rounds_and_clips(case: tuple[np.ndarray, list]) -> None:
    gains, blocks = case
    want = reference([x for x, _ in blocks], gains)
    for coding, full, shift in ((PCM_16, 32767, 0), (PCM_24, 8388607, 8)):
        out = np.empty((len(blocks[0][0]), gains.shape[1]), dtype=coding.dtype)
        Router(Routing(gains), coding).route(blocks, out)
        expect = np.clip(np.round(want * full), -full, full)
        # float32 products may land one step off the exact float64 one
        assert np.abs((out.astype(np.int64) >> shift) - expect).max() <= 1
        assert (out.astype(np.int64) & ((1 << shift) - 1) == 0).all()
    lossy = np.empty((len(blocks[0][0]), gains.shape[1]), dtype=np.float32)
    Router(Routing(gains), LOSSY).route(blocks, lossy)
    np.testing.assert_allclose(lossy, np.clip(want, -1, 1), rtol=1e-6, atol=1e-6)


def test_own_buffer_clears_what_it_wrote_last_time() -> None:
    """``block()`` clears only its dirty spans; every call must still equal a fresh mix."""
    rng = np.random.default_rng(5)
    gains = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])
    router = Router(Routing(gains), PCM_16, max_frames=64)
    for _ in range(200):
        frames = int(rng.integers(1, 65))
        blocks = []
        for _ in range(2):
            x = np.zeros(frames, dtype=np.float32)
            a = int(rng.integers(0, frames))
            b = int(rng.integers(a, frames + 1))
            x[a:b] = rng.uniform(-1.5, 1.5, b - a)
            blocks.append((x, [(a, b)] if b > a else []))
        got = router.block(blocks, frames)
        want = np.clip(np.round(reference([x for x, _ in blocks], gains) * 32767), -32767, 32767)
        assert np.abs(got.astype(np.int64) - want).max() <= 1


def test_identical_columns_are_mixed_once_and_silent_channels_stay_zero() -> None:
    routing = Routing.click(8, [6, 7])
    assert routing.columns == (((6, 7), ((0, 1.0),)),)
    x = np.array([0.0, 3.0, -3.0, 0.0], dtype=np.float32)
    out = np.empty((4, 8), dtype=np.float32)
    assert Router(routing).route([(x, [(1, 3)])], out)
    assert not out[:, :6].any()
    assert out[:, 6].tolist() == out[:, 7].tolist() == [0.0, 3.0, -3.0, 0.0]


# ---------------------------------------------------------------------- peak prediction


def rendered_mono(grid, voice: Voice, rate: int, gains: dict[str, float] | None = None
                  ) -> np.ndarray:
    """The click signal built here, click by click, in float64."""
    g = {"accent": 1.0, "normal": 1.0, "sub": 1.0, **(gains or {})}
    sounds = {0: voice.accent, 1: voice.normal, 2: voice.sub}
    starts = np.rint(grid.time * rate).astype(np.int64)
    n = int(starts.max()) + voice.max_length + 1
    y = np.zeros(n)
    names = ("accent", "normal", "sub")
    for s, level, vol in zip(starts, grid.level, grid.volume, strict=True):
        if level == 3:
            continue
        sound = sounds[int(level)].astype(np.float64)
        y[s:s + len(sound)] += float(vol) * g[names[int(level)]] * sound
    return y


@pytest.mark.parametrize(
    ("text", "sound"),
    [
        ("a: 2 4/4 100 sub=2 vol=4", "woodblock"),
        ("a: 2 4/4 100\nb: 2 4/4 100 vol=3\nc: 1 4/4 100 vol=4", "beep"),
        ("a: 4 4/4 300 sub=4 vol=1.5", "tock"),  # 50 ms apart: 80 ms sounds overlap
        ("a: 2 4/4 120", "rim"),
    ],
)
def test_predicted_peak_and_first_bar_match_the_signal(text: str, sound: str) -> None:
    from ictus.formats import parse_click

    tempo_map = parse_click(text + "\n")
    grid = build_grid(tempo_map)
    voice = synth_voice(sound, RATE)
    peak = click_peak(BlockMixer(grid, voice, rate=RATE))
    y = rendered_mono(grid, voice, RATE)
    assert peak.level == pytest.approx(np.abs(y).max(), rel=1e-5)
    over = np.flatnonzero(np.abs(y) > 1.0)
    if len(over):
        # bar of the last click starting at or before the first over sample
        starts = np.rint(grid.time * RATE)
        click = int(np.searchsorted(starts, over[0], side="right")) - 1
        assert peak.over and peak.bar == int(grid.bar[click])
    else:
        assert not peak.over


# --------------------------------------------------------------- what the user sees


WARNING = re.compile(r"peaks at ([+-]\d+\.\d\d) dBFS, over full scale from bar (\d+)")
BAR = 4 * 60 / 100 * RATE  # 4/4 at 100: 2.4 s a bar, worked out by hand


def render(tmp_path: Path, text: str, *options: str, name: str = "out.wav"
           ) -> tuple[subprocess.CompletedProcess[str], Path]:
    song = tmp_path / "song.click"
    song.write_text(text)
    out = tmp_path / name
    return run("render", str(song), "-o", str(out), "-r", str(RATE), *options), out


@pytest.mark.parametrize(
    ("text", "options", "first_bar"),
    [
        ("a: 2 4/4 100 sub=2 vol=4\n", (), 1),  # the issue's own map
        ("a: 2 4/4 100 sub=2 vol=2\n", (), 1),
        ("a: 2 4/4 100 sub=2\n", ("--sound", "rim", "--gain", "accent=+6"), 1),
        ("a: 2 4/4 100\nb: 1 4/4 100 vol=4\n", (), 3),
    ],
)
def test_overs_are_never_silent(tmp_path: Path, text: str, options: tuple[str, ...],
                                first_bar: int) -> None:
    proc, out = render(tmp_path, text, "--bit-depth", "32f", *options, name="float.wav")
    assert proc.returncode == 0, proc.stderr
    found = WARNING.search(proc.stderr)
    assert found, proc.stderr
    data, _ = soundfile.read(out, dtype="float64")
    peak = np.abs(data).max()
    # the float file keeps the overs, and the warning names its true peak and first bar
    assert peak > 1.0
    assert float(found[1]) == pytest.approx(20 * math.log10(peak), abs=0.006)
    first = int(np.flatnonzero(np.abs(data) > 1.0)[0])
    assert int(found[2]) == first // BAR + 1 == first_bar
    assert "keeps the overs" in proc.stderr
    # a 16-bit file clips them at full scale, and says so
    proc, out = render(tmp_path, text, "--bit-depth", "16", *options, name="int.wav")
    assert proc.returncode == 0 and "(16-bit) clips it" in proc.stderr
    ints, _ = soundfile.read(out, dtype="int16")
    assert np.abs(ints.astype(int)).max() == 32767
    assert np.count_nonzero(np.abs(ints.astype(int)) == 32767) == np.count_nonzero(
        np.abs(data) >= 32766.5 / 32767)


def test_gain_that_fits_says_nothing(tmp_path: Path) -> None:
    """Accent +6 dB on the default voice stays under full scale: no warning, no clip."""
    proc, out = render(tmp_path, "a: 2 4/4 100 sub=2\n", "--gain", "accent=+6",
                       "--bit-depth", "32f")
    assert proc.returncode == 0 and "warning" not in proc.stderr
    data, _ = soundfile.read(out, dtype="float64")
    assert 0.9 < np.abs(data).max() <= 1.0


def test_overs_fit_turns_the_click_down_just_enough(tmp_path: Path) -> None:
    text = "a: 2 4/4 100 sub=2 vol=4\n"
    _, loud = render(tmp_path, text, "--bit-depth", "32f", name="loud.wav")
    proc, out = render(tmp_path, text, "--bit-depth", "32f", "--overs", "fit", name="fit.wav")
    assert proc.returncode == 0 and "to fit (--overs fit)" in proc.stderr
    said = float(re.search(r"down (\d+\.\d\d) dB", proc.stderr)[1])  # type: ignore[index]
    a, _ = soundfile.read(loud, dtype="float64")
    b, _ = soundfile.read(out, dtype="float64")
    assert 0.9999 < np.abs(b).max() <= 1.0
    assert said == pytest.approx(20 * math.log10(np.abs(a).max()), abs=0.006)
    np.testing.assert_allclose(b, a / np.abs(a).max(), atol=1e-6)  # the same click, scaled


def test_overs_refuse_stops_and_writes_nothing(tmp_path: Path) -> None:
    proc, out = render(tmp_path, "a: 1 4/4 100 vol=4\n", "--overs", "refuse")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "turn it down by 6.0" in proc.stderr and not out.exists()
    bad = run("render", str(tmp_path / "song.click"), "-o", str(out), "--overs", "maybe")
    assert bad.returncode != 0 and "--overs: choose one of warn, fit, refuse" in bad.stderr


def test_play_warns_before_it_sounds(tmp_path: Path) -> None:
    song = tmp_path / "song.click"
    song.write_text("a: 1 4/4 300 vol=4\n")
    proc = script_run("play", str(song), "--backend", "null")  # a live engine: its own process
    assert proc.returncode == 0, proc.stderr
    assert "the live output (32-bit float) keeps the overs" in proc.stderr
    assert proc.stderr.index("warning") < proc.stderr.index("playing")
    refused = script_run("play", str(song), "--backend", "null", "--overs", "refuse")
    assert refused.returncode == 1 and "over full scale from bar 1" in refused.stderr


# ----------------------------------------------------------------------- count-in voice


def test_count_in_has_its_own_voice(tmp_path: Path) -> None:
    """With --count-in-sound beep, the count-in clicks are the beep's sounds and the
    song's clicks the woodblock's, each at its own sample."""
    proc, out = render(tmp_path, "a: 1 4/4 120\n", "--count-in", "1", "--count-in-sound",
                       "beep", "--bit-depth", "32f")
    assert proc.returncode == 0, proc.stderr
    data, _ = soundfile.read(out, dtype="float32")
    beep, wood = synth_voice("beep", RATE), synth_voice("woodblock", RATE)
    half = RATE // 2  # 120 BPM: a beat every 24000 samples
    for beat in range(8):
        voice = beep if beat < 4 else wood
        sound = voice.accent if beat % 4 == 0 else voice.normal
        at = beat * half
        np.testing.assert_array_equal(data[at:at + len(sound)], sound)


def test_count_in_mask_marks_only_the_count_in() -> None:
    grid = build_grid(TempoMap((Section(2, Tempo(90)),), count_in=CountIn(beats=3)))
    assert grid.count_in.tolist() == [True] * 3 + [False] * 8


# ------------------------------------------------------------------------ sample rates


@pytest.mark.parametrize("sound", ["clave", "hihat", "woodblock"])
def test_every_rate_in_the_range_renders(tmp_path: Path, sound: str) -> None:
    """The README's range, both ends, through the command line (8 kHz used to be refused
    by the voices while the renderer allowed it)."""
    song = tmp_path / "x.click"
    song.write_text("a: 1 4/4 120 sub=2\n")
    for rate in (8000, 384000):
        out = tmp_path / f"{sound}{rate}.wav"
        proc = run("render", str(song), "-o", str(out), "-r", str(rate), "--sound", sound,
                   "--count-in", "1")
        assert proc.returncode == 0, proc.stderr
        data, got = soundfile.read(out, dtype="float64")
        assert got == rate and np.all(np.isfinite(data)) and 0.05 < np.abs(data).max() < 1.0


@pytest.mark.parametrize("rate", ["7999", "384001"])
def test_one_message_for_a_rate_out_of_range(tmp_path: Path, rate: str) -> None:
    song = tmp_path / "x.click"
    song.write_text("a: 1 4/4 120\n")
    for args in (("render", str(song), "-o", str(tmp_path / "x.wav"), "-r", rate),
                 ("play", str(song), "-b", "null", "-r", rate)):
        proc = run(*args)
        # a bad option value is a usage mistake: status 2, as the README says
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr == f"ictus: error: sample rate must be 8000..384000 Hz, got {rate}\n"


def test_the_installed_script_warns_as_run_does(tmp_path: Path) -> None:
    """The tests above render in-process through the script's entry point; the installed
    script, as a subprocess, writes the same file and the same warning, and refuses the
    same way."""
    song = tmp_path / "song.click"
    song.write_text("a: 2 4/4 100 sub=2 vol=4\n")
    said = {}
    for name, runner in (("script", script_run), ("here", run)):
        proc = runner("render", str(song), "-o", str(tmp_path / f"{name}.wav"), "-r", "48000")
        assert proc.returncode == 0, proc.stderr
        said[name] = (proc.stdout + proc.stderr).replace(f"{name}.wav", "OUT.wav")
        refused = runner("render", str(song), "-o", str(tmp_path / "x.wav"), "--overs", "refuse")
        said[name + " refused"] = (refused.returncode, refused.stdout, refused.stderr)
    assert "over full scale from bar 1" in said["script"]
    assert said["script"] == said["here"]
    assert said["script refused"] == said["here refused"]
    assert (tmp_path / "script.wav").read_bytes() == (tmp_path / "here.wav").read_bytes()
