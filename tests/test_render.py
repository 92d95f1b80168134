"""Rendering: every click starts exactly at round(time * rate), in every format and layout.

The truth here is computed independently of ictus: click times come from a small exact
model (``Fraction`` arithmetic) written in this file, and renders use a one-sample
impulse as the click sound, so every click is one nonzero sample at a known position
with a known amplitude.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction as F
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ictus.errors import IctusError
from ictus.formats import parse_click
from ictus.render import BlockMixer, Overs, OversWarning, render_file
from ictus.render.writer import PcmWav
from ictus.sounds import Voice, load_voice, synth_voice
from ictus.tempomap import build_grid
from inprocess import run_ictus
from terminal import as_at_a_terminal

ICTUS = str(Path(sys.executable).parent / "ictus")
RATES = (44100, 48000, 96000, 192000)
IMPULSE = 0.5


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``ictus ARGS`` through the script's entry point, in-process (see tests/inprocess.py;
    :func:`test_the_installed_script_renders_as_run_does` holds it to the script)."""
    return run_ictus(*args, cwd=cwd)


def ok(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = run(*args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def impulse_file(folder: Path, rate: int, value: float = IMPULSE) -> Path:
    path = folder / f"impulse{rate}.wav"
    soundfile.write(path, np.array([value], dtype=np.float32), rate, subtype="FLOAT")
    return path


# --------------------------------------------------------------- the reference model


@dataclass(frozen=True)
class Ref:
    """One section, the way a musician would describe it, in exact numbers."""

    label: str
    bars: int
    beat_offsets: tuple[F, ...]  # quarter notes from the bar line
    bar_quarters: F
    quarter_bpm: F
    pattern: str  # X accent, x normal, . silent; one per beat
    sub: int = 1
    volume: F = F(1)
    sub_volume: F = F(1)
    mute: bool = False


def plain(label: str, bars: int, count: int, unit: int, bpm: str | int, **kw: object) -> Ref:
    """``count/unit`` clicked on every pulse at ``bpm`` quarter notes per minute."""
    pulse = F(4, unit)
    pattern = kw.pop("pattern", "X" + "x" * (count - 1))
    return Ref(label, bars, tuple(i * pulse for i in range(count)), count * pulse, F(bpm),
               pattern, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Click:
    time: F
    level: str
    amp: F
    bar: int
    beat: int
    sub: int
    tempo: F
    section: str


def reference(
    sections: list[Ref],
    *,
    count_in: int = 0,
    count_in_volume: F = F(1),
    scale: F = F(1),
    start_bar: int = 1,
) -> tuple[list[Click], F]:
    """Every click (silent ones too) and the total duration, exactly."""
    clicks: list[Click] = []
    at, bar_no = F(0), 1
    start_time, start_section = None, None
    for s in sections:
        spq = 60 / s.quarter_bpm
        ends = (*s.beat_offsets[1:], s.bar_quarters)
        for b in range(s.bars):
            if bar_no + b == start_bar:
                start_time, start_section = at + b * s.bar_quarters * spq, s
            for k, (off, end) in enumerate(zip(s.beat_offsets, ends, strict=True)):
                for j in range(s.sub):
                    q = b * s.bar_quarters + off + (end - off) * j / s.sub
                    if s.mute:
                        level = "silent"
                    elif j:
                        level = "sub"
                    else:
                        level = {"X": "accent", "x": "normal", ".": "silent"}[s.pattern[k]]
                    amp = s.volume * (s.sub_volume if j else 1)
                    clicks.append(Click(at + q * spq, level, amp, bar_no + b, k + 1, j,
                                        s.quarter_bpm, s.label))
        at += s.bars * s.bar_quarters * spq
        bar_no += s.bars
    assert start_time is not None and start_section is not None
    clicks = [replace(c, time=c.time - start_time) for c in clicks if c.bar >= start_bar]
    total = at - start_time
    if count_in:
        first = start_section
        spq = 60 / first.quarter_bpm
        lead = count_in * first.bar_quarters * spq
        ci = [Click((b * first.bar_quarters + off) * spq, "accent" if k == 0 else "normal",
                    count_in_volume, b - count_in + 1, k + 1, 0, first.quarter_bpm, "count-in")
              for b in range(count_in) for k, off in enumerate(first.beat_offsets)]
        clicks = ci + [replace(c, time=c.time + lead) for c in clicks]
        total += lead
    clicks = [replace(c, time=c.time / scale, tempo=c.tempo * scale) for c in clicks]
    return clicks, total / scale


def expected_onsets(clicks: list[Click], rate: int, gains: dict[str, float] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Sample index and amplitude of every audible click, for the impulse voice."""
    idx, amp = [], []
    for c in clicks:
        if c.level == "silent":
            continue
        exact = c.time * rate
        # the test data must not sit on a rounding tie (float time could go either way)
        assert abs(exact - int(exact) - F(1, 2)) > F(1, 10**6), (c, rate)
        idx.append(round(exact))
        amp.append(IMPULSE * float(c.amp) * (gains or {}).get(c.level, 1.0))
    assert len(set(idx)) == len(idx), "test data: two clicks on one sample"
    return np.array(idx, dtype=np.int64), np.array(amp)


def check_impulses(data: np.ndarray, idx: np.ndarray, amp: np.ndarray, tol: float = 1e-6) -> None:
    """``data`` (frames,) has exactly the impulses ``idx`` with amplitudes ``amp``."""
    found = np.flatnonzero(data)
    missing = sorted(set(idx.tolist()) - set(found.tolist()))[:5]
    extra = sorted(set(found.tolist()) - set(idx.tolist()))[:5]
    assert not missing and not extra, f"missing onsets {missing}, unexpected onsets {extra}"
    np.testing.assert_allclose(data[idx], amp, rtol=tol, atol=tol)


# The maps: .click text and the same music described for the reference model.
MAPS: dict[str, tuple[str, list[Ref], dict[str, object]]] = {
    "4/4 at 133.33": (
        "a: 6 4/4 133.33\n",
        [plain("a", 6, 4, 4, "133.33")],
        {},
    ),
    "7/8 (2+2+3) e=312": (
        "b: 5 7/8 (2+2+3) e=312\n",
        [Ref("b", 5, (F(0), F(1), F(2)), F(7, 2), F(156), "Xxx")],
        {},
    ),
    "6/8 q.=92": (
        "c: 4 6/8 q.=92\n",
        [Ref("c", 4, (F(0), F(3, 2)), F(3), F(138), "Xx")],
        {},
    ),
    "3/4 sub=3": (
        "d: 3 3/4 100 sub=3 sub-vol=0.5\n",
        [plain("d", 3, 3, 4, 100, sub=3, sub_volume=F(1, 2))],
        {},
    ),
    "count-in": (
        "count-in: 2 bars vol=0.6\ne: 3 5/4 111.5\n",
        [plain("e", 3, 5, 4, "111.5")],
        {"count_in": 2, "count_in_volume": F(3, 5)},
    ),
    "mute and pattern": (
        "f: 2 4/4 120 X.x.\ng: 2 4/4 120 mute\nh: 2 3/4 90 vol=0.8\n",
        [plain("f", 2, 4, 4, 120, pattern="X.x."), plain("g", 2, 4, 4, 120, mute=True),
         plain("h", 2, 3, 4, 90, volume=F(4, 5))],
        {},
    ),
    "scale 0.9": (
        "scale: 0.9\na: 3 4/4 133.33\nb: 2 7/8 (2+2+3) e=312\n",
        [plain("a", 3, 4, 4, "133.33"), Ref("b", 2, (F(0), F(1), F(2)), F(7, 2), F(156), "Xxx")],
        {"scale": F(9, 10)},
    ),
    "everything": (
        "title: All\ncount-in: 1 bar\nscale: 0.9\n"
        "a: 3 4/4 133.33\n"
        "b: 2 7/8 (2+2+3) e=312\n"
        "c: 2 6/8 q.=92 sub=3\n"
        "m: 1 4/4 120 mute\n"
        "p: 2 4/4 97 X.x. vol=0.8\n"
        "d: 2 3/4 100 sub=2 sub-vol=0.5\n",
        [plain("a", 3, 4, 4, "133.33"),
         Ref("b", 2, (F(0), F(1), F(2)), F(7, 2), F(156), "Xxx"),
         Ref("c", 2, (F(0), F(3, 2)), F(3), F(138), "Xx", sub=3),
         plain("m", 1, 4, 4, 120, mute=True),
         plain("p", 2, 4, 4, 97, pattern="X.x.", volume=F(4, 5)),
         plain("d", 2, 3, 4, 100, sub=2, sub_volume=F(1, 2))],
        {"count_in": 1, "scale": F(9, 10)},
    ),
}
MAP_NAMES = list(MAPS)


def reference_for(name: str, **extra: object) -> tuple[list[Click], F]:
    _, sections, kw = MAPS[name]
    return reference(sections, **{**kw, **extra})  # type: ignore[arg-type]


def write_map(folder: Path, name: str) -> Path:
    path = folder / "song.click"
    path.write_text(MAPS[name][0])
    return path


# ------------------------------------------------------------ onsets: Python API


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("name", MAP_NAMES)
def test_api_onsets_exact(tmp_path: Path, name: str, rate: int) -> None:
    clicks, duration = reference_for(name)
    grid = build_grid(parse_click(MAPS[name][0], "song.click"))
    voice = load_voice([impulse_file(tmp_path, rate)], rate)
    out = tmp_path / "out.wav"
    frames = render_file(grid, out, voice=voice, rate=rate, bit_depth="32f")
    data, file_rate = soundfile.read(out, dtype="float64")
    assert file_rate == rate and len(data) == frames
    idx, amp = expected_onsets(clicks, rate)
    check_impulses(data, idx, amp)
    # the file covers the whole map (and not much more)
    end = round(duration * rate)
    assert end <= frames <= end + rate // 10


def test_api_gains_and_channels(tmp_path: Path) -> None:
    rate = 48000
    clicks, _ = reference_for("everything")
    gains_db = {"accent": 0.0, "normal": -3.0, "sub": -9.0}
    gains = {k: 10 ** (v / 20) for k, v in gains_db.items()}
    grid = build_grid(parse_click(MAPS["everything"][0]))
    voice = load_voice([impulse_file(tmp_path, rate)], rate)
    out = tmp_path / "out.wav"
    render_file(grid, out, voice=voice, rate=rate, bit_depth="32f", channels=3, click_on=[2],
                gains=gains)
    data, _ = soundfile.read(out, dtype="float64", always_2d=True)
    assert data.shape[1] == 3
    assert not data[:, :2].any()
    idx, amp = expected_onsets(clicks, rate, gains)
    check_impulses(data[:, 2], idx, amp)


@pytest.mark.parametrize("block", [64, 1000, 65536])
def test_api_block_size_does_not_change_the_file(tmp_path: Path, block: int) -> None:
    rate = 44100
    grid = build_grid(parse_click(MAPS["everything"][0]))
    voice = synth_voice("woodblock", rate)
    ref = tmp_path / "ref.wav"
    render_file(grid, ref, voice=voice, rate=rate, bit_depth="24")
    out = tmp_path / "out.wav"
    seen: list[tuple[int, int]] = []
    frames = render_file(grid, out, voice=voice, rate=rate, bit_depth="24", block=block,
                         progress=lambda done, total: seen.append((done, total)))
    a, _ = soundfile.read(ref, dtype="int32")
    b, _ = soundfile.read(out, dtype="int32")
    assert np.array_equal(a, b)
    assert seen and seen[-1] == (frames, frames)
    assert all(d2 > d1 for (d1, _), (d2, _) in itertools.pairwise(seen))


def test_every_click_sound_is_complete_in_the_file(tmp_path: Path) -> None:
    """A long accent sample near the end of the map must not be cut off by the file's end.

    Four bars of 4/4 at 240 with sub=4: the last accent is at 3 s, the map ends at 4 s,
    and the accent sample is 2 s long, so the file must run to at least 5 s.
    """
    rate = 48000
    accent = np.full(2 * rate, 0.25, dtype=np.float32)
    short = np.array([0.5], dtype=np.float32)
    voice = Voice("long accent", rate, accent, short, short)
    grid = build_grid(parse_click("a: 4 4/4 240 sub=4\n"))
    out = tmp_path / "out.wav"
    frames = render_file(grid, out, voice=voice, rate=rate, bit_depth="32f")
    last_accent = round(F(3) * rate)
    assert frames >= last_accent + len(accent)
    data, _ = soundfile.read(out, dtype="float32")
    assert np.all(data[last_accent:last_accent + len(accent)] >= 0.25 - 1e-6)


# ------------------------------------------------------------ onsets: command line


@pytest.mark.parametrize("name", MAP_NAMES)
def test_cli_onsets_exact(tmp_path: Path, name: str) -> None:
    rate = RATES[MAP_NAMES.index(name) % len(RATES)]
    song = write_map(tmp_path, name)
    imp = impulse_file(tmp_path, rate)
    ok("render", str(song), "-o", str(tmp_path / "out.wav"), "--sound-file", str(imp),
       "--bit-depth", "32f", "--sample-rate", str(rate))
    data, file_rate = soundfile.read(tmp_path / "out.wav", dtype="float64")
    assert file_rate == rate
    clicks, duration = reference_for(name)
    idx, amp = expected_onsets(clicks, rate)
    check_impulses(data, idx, amp)
    assert len(data) >= round(duration * rate)
    # `ictus beats` at the same rate: every row matches the model, and the sample column
    # of the audible rows is exactly where the rendered file has its clicks
    rows = list(csv.DictReader(io.StringIO(ok("beats", str(song), "-r", str(rate)).stdout)))
    got = [(int(r["sample"]), int(r["bar"]), int(r["beat"]), int(r["sub"]), r["level"],
            r["section"]) for r in rows]
    want = [(round(c.time * rate), c.bar, c.beat, c.sub, c.level, c.section) for c in clicks]
    assert got == want
    audible = [int(r["sample"]) for r in rows if r["level"] != "silent"]
    assert audible == np.flatnonzero(data).tolist()


def test_cli_scale_option_and_percent(tmp_path: Path) -> None:
    """--scale 0.9 and --scale 90% on a map without a scale header: 10% slower."""
    rate = 96000
    song = tmp_path / "song.click"
    song.write_text("a: 3 4/4 133.33\nb: 2 7/8 (2+2+3) e=312\n")
    imp = impulse_file(tmp_path, rate)
    clicks, _ = reference_for("scale 0.9")
    idx, amp = expected_onsets(clicks, rate)
    for scale in ("0.9", "90%"):
        out = tmp_path / f"out{scale.strip('%')}.wav"
        ok("render", str(song), "-o", str(out), "--sound-file", str(imp), "--bit-depth", "32f",
           "-r", str(rate), "--scale", scale)
        check_impulses(soundfile.read(out, dtype="float64")[0], idx, amp)


def test_cli_count_in_option_from_label_and_bar(tmp_path: Path) -> None:
    rate = 48000
    text = "a: 2 4/4 133.33\nb: 3 7/8 (2+2+3) e=312\nc: 2 3/4 100\n"
    sections = [plain("a", 2, 4, 4, "133.33"),
                Ref("b", 3, (F(0), F(1), F(2)), F(7, 2), F(156), "Xxx"),
                plain("c", 2, 3, 4, 100)]
    song = tmp_path / "song.click"
    song.write_text(text)
    imp = impulse_file(tmp_path, rate)
    cases = [
        (["--count-in", "2"], {"count_in": 2}),
        (["--from-label", "b", "--count-in", "1"], {"count_in": 1, "start_bar": 3}),
        (["--from-bar", "4"], {"start_bar": 4}),
        (["--from-bar", "6", "--count-in", "1 bar"], {"start_bar": 6, "count_in": 1}),
    ]
    for i, (opts, kw) in enumerate(cases):
        out = tmp_path / f"out{i}.wav"
        ok("render", str(song), "-o", str(out), "--sound-file", str(imp), "--bit-depth", "32f",
           "-r", str(rate), *opts)
        clicks, _ = reference(sections, **kw)  # type: ignore[arg-type]
        idx, amp = expected_onsets(clicks, rate)
        check_impulses(soundfile.read(out, dtype="float64")[0], idx, amp)


def test_cli_gain(tmp_path: Path) -> None:
    rate = 44100
    song = write_map(tmp_path, "everything")
    imp = impulse_file(tmp_path, rate)
    out = tmp_path / "out.wav"
    ok("render", str(song), "-o", str(out), "--sound-file", str(imp), "--bit-depth", "32f",
       "-r", str(rate), "--gain", "accent=0,normal=-3,sub=-9")
    clicks, _ = reference_for("everything")
    gains = {"accent": 1.0, "normal": 10 ** (-3 / 20), "sub": 10 ** (-9 / 20)}
    idx, amp = expected_onsets(clicks, rate, gains)
    check_impulses(soundfile.read(out, dtype="float64")[0], idx, amp)


def test_cli_sound_files_per_level(tmp_path: Path) -> None:
    """ACCENT,NORMAL[,SUB]: two files give accent and normal; sub uses the normal file."""
    rate = 48000
    song = write_map(tmp_path, "3/4 sub=3")
    acc = tmp_path / "acc.wav"
    nor = tmp_path / "nor.wav"
    soundfile.write(acc, np.array([0.75], dtype=np.float32), rate, subtype="FLOAT")
    soundfile.write(nor, np.array([-0.25], dtype=np.float32), rate, subtype="FLOAT")
    out = tmp_path / "out.wav"
    ok("render", str(song), "-o", str(out), "--sound-file", f"{acc},{nor}", "--bit-depth",
       "32f", "-r", str(rate))
    data = soundfile.read(out, dtype="float64")[0]
    clicks, _ = reference_for("3/4 sub=3")
    idx, _ = expected_onsets(clicks, rate)
    per_level = {"accent": 0.75, "normal": -0.25, "sub": -0.25 * 0.5}
    amp = [per_level[c.level] for c in clicks if c.level != "silent"]
    check_impulses(data, idx, np.array(amp))


@pytest.mark.parametrize("rate", RATES)
def test_beats_sample_column(tmp_path: Path, rate: int) -> None:
    song = write_map(tmp_path, "everything")
    proc = ok("beats", str(song), "--sample-rate", str(rate))
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    clicks, _ = reference_for("everything")
    assert len(rows) == len(clicks)
    for row, c in zip(rows, clicks, strict=True):
        assert int(row["sample"]) == round(c.time * rate), (row, c)
        assert abs(F(row["time_s"]) - c.time) < F(1, 10**9)
        assert len(row["time_s"].split(".")[1]) >= 9
        assert (int(row["bar"]), int(row["beat"]), int(row["sub"])) == (c.bar, c.beat, c.sub)
        assert row["level"] == c.level
        assert float(row["tempo_bpm"]) == pytest.approx(float(c.tempo), abs=1e-6)
        assert row["section"] == c.section


# ----------------------------------------------------------------- formats and layout


def test_wav_16_bit_full_scale_coding(tmp_path: Path) -> None:
    """Integer files hold round(x * 32767) (or 8388607 for 24 bits), clipped at full scale."""
    rate = 48000
    values = np.array([1.0, -1.0, 0.5, -0.25, 0.3, 0.123457, -0.876543, 0.0], dtype=np.float32)
    sample = tmp_path / "shape.wav"
    soundfile.write(sample, values, rate, subtype="FLOAT")
    song = tmp_path / "song.click"
    song.write_text("a: 1 4/4 120\n")  # clicks at 0, 0.5, 1, 1.5 s: no overlaps
    starts = [0, 24000, 48000, 72000]
    for depth, full, dtype, shift in (("16", 32767, "int16", 0), ("24", 8388607, "int32", 8)):
        out = tmp_path / f"out{depth}.wav"
        ok("render", str(song), "-o", str(out), "--sound-file", str(sample), "--bit-depth", depth,
           "-r", str(rate))
        info = soundfile.info(out)
        assert info.subtype == f"PCM_{depth}"
        data, _ = soundfile.read(out, dtype=dtype)
        data = data.astype(np.int64) >> shift
        want = np.round(values.astype(np.float64) * full).astype(np.int64)
        # 16 bits: exactly round(x * 32767). 24 bits: the float32 signal path may be one
        # step (2**-23, -138 dB) off the exact product, as in libsndfile's own conversion
        lsb = 0 if depth == "16" else 1
        for s in starts:
            got = data[s:s + len(values)]
            assert np.abs(got - want).max() <= lsb, (depth, got.tolist(), want.tolist())
            assert got[0] == full and got[1] == -full
        mask = np.ones(len(data), dtype=bool)
        for s in starts:
            mask[s:s + len(values)] = False
        assert not data[mask].any()


@pytest.mark.parametrize(
    ("ext", "opts", "fmt", "subtype", "rate"),
    [
        ("wav", ["--bit-depth", "16"], "WAV", "PCM_16", 44100),
        ("wav", [], "WAV", "PCM_24", 48000),
        ("wav", ["--bit-depth", "32f"], "WAV", "FLOAT", 88200),
        ("flac", ["--bit-depth", "16"], "FLAC", "PCM_16", 96000),
        ("flac", [], "FLAC", "PCM_24", 192000),
        ("aiff", [], "AIFF", "PCM_24", 176400),
    ],
)
def test_lossless_formats_exact(tmp_path: Path, ext: str, opts: list[str], fmt: str,
                                subtype: str, rate: int) -> None:
    song = write_map(tmp_path, "everything")
    imp = impulse_file(tmp_path, rate)
    out = tmp_path / f"out.{ext}"
    ok("render", str(song), "-o", str(out), "--sound-file", str(imp), "-r", str(rate), *opts)
    info = soundfile.info(out)
    assert (info.format, info.subtype, info.samplerate, info.channels) == (fmt, subtype, rate, 1)
    clicks, duration = reference_for("everything")
    assert info.frames >= round(duration * rate)
    data = soundfile.read(out, dtype="float64")[0]
    idx, amp = expected_onsets(clicks, rate)
    # integer coding: 0.5 * gain rounded to the nearest step of the format
    full = 32767 if subtype == "PCM_16" else 8388607
    step = 1.0 / (full + 1)
    check_impulses(data, idx, np.round(amp * full) * step, tol=step / 2)


def test_format_option_overrides_extension(tmp_path: Path) -> None:
    song = write_map(tmp_path, "3/4 sub=3")
    ok("render", str(song), "-o", str(tmp_path / "click.audio"), "--format", "flac")
    assert soundfile.info(tmp_path / "click.audio").format == "FLAC"
    ok("render", str(song), "-o", str(tmp_path / "click.aif"))
    assert soundfile.info(tmp_path / "click.aif").format == "AIFF"


def onset_envelope(data: np.ndarray, rate: int) -> np.ndarray:
    """Frame energy in 2 ms frames."""
    hop = rate // 500
    n = len(data) // hop
    return (data[: n * hop].reshape(n, hop) ** 2).sum(axis=1)


@pytest.mark.parametrize(("ext", "fmt", "subtype", "rate"), [
    ("ogg", "OGG", "VORBIS", 96000),
    ("mp3", "MP3", "MPEG_LAYER_III", 44100),
])
def test_lossy_formats(tmp_path: Path, ext: str, fmt: str, subtype: str, rate: int) -> None:
    if fmt not in soundfile.available_formats():
        pytest.skip(f"this libsndfile cannot write {fmt}")
    song = tmp_path / "song.click"
    song.write_text("a: 4 4/4 100\n")  # 9.6 s, a click every 0.6 s
    out = tmp_path / f"out.{ext}"
    ok("render", str(song), "-o", str(out), "-r", str(rate), "--sound", "woodblock")
    info = soundfile.info(out)
    assert (info.format, info.subtype, info.samplerate, info.channels) == (fmt, subtype, rate, 1)
    assert info.duration == pytest.approx(9.6, abs=0.1)
    data = soundfile.read(out, dtype="float64")[0]
    env = onset_envelope(data, rate)
    # every click is heard near its time (lossy codecs add a few ms of delay)
    for k in range(16):
        t = k * 0.6
        near = env[int(t * 500): int(t * 500) + 15]  # 30 ms after the click's time
        assert near.max() > 0.05 * env.max(), f"click {k} at {t} s is missing"
        between = env[int((t + 0.25) * 500): int((t + 0.5) * 500)]
        assert between.max() < 0.01 * env.max(), f"noise between clicks {k} and {k + 1}"


@pytest.mark.parametrize(("channels", "click_on"), [(2, None), (8, "7,8")])
def test_channels(tmp_path: Path, channels: int, click_on: str | None) -> None:
    rate = 48000
    song = write_map(tmp_path, "mute and pattern")
    imp = impulse_file(tmp_path, rate)
    out = tmp_path / "out.wav"
    opts = ["--click-on", click_on] if click_on else []
    ok("render", str(song), "-o", str(out), "--sound-file", str(imp), "--bit-depth", "32f",
       "--channels", str(channels), *opts)
    data, _ = soundfile.read(out, dtype="float64", always_2d=True)
    assert data.shape[1] == channels
    targets = [int(c) - 1 for c in click_on.split(",")] if click_on else list(range(channels))
    clicks, _ = reference_for("mute and pattern")
    idx, amp = expected_onsets(clicks, rate)
    for ch in range(channels):
        if ch in targets:
            check_impulses(data[:, ch], idx, amp)
        else:
            assert not data[:, ch].any(), f"channel {ch + 1} should be silent"


# ------------------------------------------------------------------- the block mixer


def direct_mix(clicks: list[Click], voice: Voice, rate: int, length: int) -> np.ndarray:
    """The expected mono signal, built click by click in float64 from the reference."""
    y = np.zeros(length)
    sounds = {"accent": voice.accent, "normal": voice.normal, "sub": voice.sub}
    for c in clicks:
        if c.level == "silent":
            continue
        s = round(c.time * rate)
        snd = sounds[c.level].astype(np.float64) * float(c.amp)
        n = min(len(snd), length - s)
        y[s:s + n] += snd[:n]
    return y


@pytest.fixture(scope="module")
def mixer_setup() -> tuple[BlockMixer, np.ndarray]:
    rate = 48000
    grid = build_grid(parse_click(MAPS["everything"][0]))
    voice = synth_voice("woodblock", rate)
    mixer = BlockMixer(grid, voice, rate=rate, channels=3, click_on=[0, 2])
    reference_signal = direct_mix(reference_for("everything")[0], voice, rate, mixer.length)
    return mixer, reference_signal


@pytest.mark.parametrize("block", [64, 256, 1000, 65536])
def test_mixer_block_size_invariance(mixer_setup: tuple[BlockMixer, np.ndarray],
                                     block: int) -> None:
    mixer, ref = mixer_setup
    total = mixer.length
    assert total >= len(ref)
    one = np.full((total, 3), np.nan, dtype=np.float32)
    mixer.mix(0, one)
    np.testing.assert_allclose(one[:, 0], ref, atol=1e-6)
    assert np.array_equal(one[:, 0], one[:, 2])
    assert not one[:, 1].any()
    pieces = []
    for frame0 in range(0, total, block):
        out = np.full((min(block, total - frame0), 3), np.nan, dtype=np.float32)
        sounded = mixer.mix(frame0, out)
        if not sounded:
            assert not out.any()
        pieces.append(out)
    assert np.array_equal(np.concatenate(pieces), one)


def test_mixer_random_jumps(mixer_setup: tuple[BlockMixer, np.ndarray]) -> None:
    mixer, ref = mixer_setup
    pad = 5000
    padded = np.concatenate([np.zeros(pad), ref, np.zeros(pad + 70000)])
    whole = np.zeros((mixer.length, 3), dtype=np.float32)
    mixer.mix(0, whole)
    exact = np.concatenate([np.zeros(pad, np.float32), whole[:, 0],
                            np.zeros(pad + 70000, np.float32)])
    rng = np.random.default_rng(20240611)
    for _ in range(400):
        frame0 = int(rng.integers(-pad, mixer.length + pad))
        frames = int(rng.choice([1, 17, 64, 256, 1000, 4096, 65536]))
        out = np.full((frames, 3), np.nan, dtype=np.float32)
        mixer.mix(frame0, out)
        want = exact[frame0 + pad: frame0 + pad + frames]
        assert np.array_equal(out[:, 0], want), (frame0, frames)
        assert np.array_equal(out[:, 2], want)
        assert not out[:, 1].any()
        np.testing.assert_allclose(out[:, 0], padded[frame0 + pad: frame0 + pad + frames],
                                   atol=1e-6)


# ---------------------------------------------------------------- memory on long maps


def test_one_hour_render_memory(tmp_path: Path) -> None:
    song = tmp_path / "hour.click"
    song.write_text("count-in: 1 bar\nlong: 900 4/4 120 sub=4\nslow: 450 4/4 60 sub=2\n")
    out = tmp_path / "hour.wav"
    code = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(p.stderr)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, ICTUS, "render", str(song), "-o",
                           str(out), "-r", "48000", "--bit-depth", "16"],
                          capture_output=True, text=True, timeout=240, check=False)
    rc, maxrss_kib = map(int, proc.stdout.split())
    assert rc == 0, proc.stderr
    info = soundfile.info(out)
    assert info.frames >= round(F(3602) * 48000)
    out.unlink()
    assert maxrss_kib < 150 * 1024, f"peak RSS {maxrss_kib / 1024:.0f} MB"


# ----------------------------------------------------------------------- atomic write


class Boom(Exception):
    pass


def fail_after(monkeypatch: pytest.MonkeyPatch, where: str, after: int,
               exc: BaseException) -> dict[str, int]:
    """Make the mixer (every entry point the writer may use) or the file write raise."""
    calls = {"n": 0}

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def failing(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] > after:
                raise exc
            return original(*args, **kwargs)

        return failing

    if where == "mixer":
        for name in ("mix", "mix_mono", "mix_runs"):
            if hasattr(BlockMixer, name):
                monkeypatch.setattr(BlockMixer, name, wrap(getattr(BlockMixer, name)))
    else:  # libsndfile's writer, and the plain PCM WAV one (ictus.render.writer.PcmWav)
        monkeypatch.setattr(soundfile.SoundFile, "write", wrap(soundfile.SoundFile.write))
        monkeypatch.setattr(PcmWav, "write", wrap(PcmWav.write))
        monkeypatch.setattr(PcmWav, "place", wrap(PcmWav.place))
    return calls


@pytest.mark.parametrize("exc", [Boom("mixer broke"), RuntimeError("mixer broke"),
                                 KeyboardInterrupt()])
@pytest.mark.parametrize("existing", [False, True])
@pytest.mark.parametrize("where", ["mixer", "write"])
@pytest.mark.parametrize("block", [4096, 1 << 17], ids=["blocks", "runs"])
def test_render_failing_midway_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             exc: BaseException, existing: bool,
                                             where: str, block: int) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "click.wav"
    if existing:
        out.write_bytes(b"the previous take")
    grid = build_grid(parse_click("a: 40 4/4 120\n"))
    calls = fail_after(monkeypatch, where, 5, exc)
    with pytest.raises((type(exc), IctusError)):
        render_file(grid, out, voice=synth_voice("beep", 48000), rate=48000, block=block)
    assert calls["n"] == 6  # it failed midway, after five blocks (or groups of runs)
    if existing:
        assert sorted(os.listdir(out_dir)) == ["click.wav"]
        assert out.read_bytes() == b"the previous take"
    else:
        assert os.listdir(out_dir) == []


def start_long_render(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    song = tmp_path / "long.click"
    song.write_text("long: 3600 4/4 120 sub=4\n")  # two hours: never finishes in time
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = subprocess.Popen(
        [ICTUS, "render", str(song), "-o", str(out_dir / "click.wav")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=as_at_a_terminal,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        parts = list(out_dir.iterdir())
        if parts and parts[0].stat().st_size > 4 << 20:
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the render did not start writing")
    return proc, out_dir


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_render_leaves_nothing(tmp_path: Path, sig: signal.Signals) -> None:
    proc, out_dir = start_long_render(tmp_path)
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert "Traceback" not in err
    assert list(out_dir.iterdir()) == [], f"left behind after {sig.name}"


def run_in_full_disk(tmp_path: Path, command: str, prepare: str = "") -> tuple[str, str, int]:
    """Run ``command`` with DIR on a 256 KiB tmpfs, in a private mount namespace."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to mount a small tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    # the script unmounts at its end: inside a chroot (the fresh-clone test) the root is
    # no mount point, its propagation cannot be made private, and the mount would
    # otherwise outlive the namespace on the host
    script = (f"mount -t tmpfs -o size=256k tmpfs {disk} || exit 99\n{prepare}\n"
              f"{command}\necho \"rc=$?\"\necho '--- listing'\nls -A {disk}\n"
              f"for f in {disk}/*; do [ -f \"$f\" ] && cat \"$f\"; done\n"
              f"umount {disk}\ntrue\n")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True,
                          text=True, timeout=120, check=False)
    if "propagation" in proc.stderr:
        proc = subprocess.run(["unshare", "-m", "--propagation", "unchanged", "sh", "-c",
                               script], capture_output=True, text=True, timeout=120,
                              check=False)
    assert proc.returncode == 0, proc.stderr
    head, _, listing = proc.stdout.partition("--- listing\n")
    rc = int(head.strip().splitlines()[-1].removeprefix("rc="))
    return listing, proc.stderr, rc


def test_full_disk_render(tmp_path: Path) -> None:
    song = tmp_path / "song.click"
    song.write_text("a: 100 4/4 120\n")  # 200 s: megabytes of audio
    listing, err, rc = run_in_full_disk(
        tmp_path, f"{ICTUS} render {song} -o {tmp_path}/disk/x.wav")
    assert rc != 0
    assert "disk full" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert listing == ""


def test_full_disk_keeps_existing_file(tmp_path: Path) -> None:
    song = tmp_path / "song.click"
    song.write_text("a: 100 4/4 120\n")
    listing, err, rc = run_in_full_disk(
        tmp_path, f"{ICTUS} render {song} -o {tmp_path}/disk/x.wav",
        prepare=f"printf 'old take' > {tmp_path}/disk/x.wav")
    assert rc != 0
    assert "disk full" in err and "Traceback" not in err
    assert listing == "x.wav\nold take"


def test_the_installed_script_renders_as_run_does(tmp_path: Path) -> None:
    """The tests above call the script's entry point in-process; the installed script, as a
    subprocess, writes the same file and says the same (a render and a beats listing)."""
    song = tmp_path / "song.click"
    song.write_text("count-in: 1 bar\na: 2 7/8 (2+2+3) 140-100 sub=2\n")
    for name in ("script", "here"):
        args = ("render", str(song), "-o", str(tmp_path / f"{name}.wav"), "--bit-depth", "24")
        if name == "script":
            proc = subprocess.run([ICTUS, *args], capture_output=True, text=True, timeout=120)
        else:
            proc = run(*args)
        assert proc.returncode == 0, proc.stderr
        said = (proc.stdout + proc.stderr).replace(f"{name}.wav", "OUT.wav")
        if name == "script":
            script_said = said
    assert said == script_said
    assert (tmp_path / "script.wav").read_bytes() == (tmp_path / "here.wav").read_bytes()
    args = ("beats", str(song), "-r", "44100")
    script = subprocess.run([ICTUS, *args], capture_output=True, text=True, timeout=120)
    here = run(*args)
    assert (script.returncode, script.stdout, script.stderr) == (
        here.returncode, here.stdout, here.stderr,
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(width=st.sampled_from([2, 3]), channels=st.integers(1, 5),
       frames=st.integers(0, 41), rate=st.sampled_from([8000, 44100, 48000, 96000, 384000]),
       seed=st.integers(0, 2**32 - 1))
def test_plain_wav_is_byte_for_byte_what_libsndfile_writes(
        tmp_path_factory: pytest.TempPathFactory, width: int, channels: int, frames: int,
        rate: int, seed: int) -> None:
    """ictus writes 16/24-bit WAV itself (start-up); libsndfile, writing the same samples,
    is the reference for every byte: header, samples, the pad byte of odd-sized data."""
    folder = tmp_path_factory.mktemp("wav")
    rng = np.random.default_rng(seed)
    if width == 2:
        samples = rng.integers(-32768, 32768, (frames, channels)).astype(np.int16)
    else:  # the router's 24-bit samples: in the top three bytes of an int32
        samples = (rng.integers(-(1 << 23), 1 << 23, (frames, channels)) << 8).astype(np.int32)
    samples[rng.random(frames) < 0.5] = 0  # silence between "clicks"
    ours, theirs = folder / "ours.wav", folder / "theirs.wav"
    reserve = frames if seed % 2 else None  # reserved: only the sounding rows written
    with PcmWav(str(ours), rate=rate, channels=channels, width=width, frames=reserve) as wav:
        for block in (samples[: frames // 2], samples[frames // 2:]):  # as render_file
            sounding = np.flatnonzero(block.any(axis=1))
            wav.write(block, [(int(i), int(i) + 1) for i in sounding])
    subtype = "PCM_16" if width == 2 else "PCM_24"
    soundfile.write(theirs, samples, rate, subtype=subtype, format="WAV")
    assert ours.read_bytes() == theirs.read_bytes()


@pytest.mark.parametrize("depth", ["16", "24"])
@pytest.mark.parametrize("block", [1001, 1 << 17], ids=["blocks", "runs"])
def test_a_render_is_the_file_libsndfile_would_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, depth: str, block: int) -> None:
    """The whole render, written by ictus's WAV writer and then (with it switched off)
    by libsndfile: the same bytes (in blocks of an odd size, or run by run, on three
    channels)."""
    import ictus.render.writer as writer

    grid = build_grid(parse_click("2 7/8 133.33 sub=3\n"))
    ours, theirs = tmp_path / "ours.wav", tmp_path / "theirs.wav"
    args = dict(voice=synth_voice("beep", 44100), rate=44100, bit_depth=depth, channels=3,
                click_on=[0, 2], block=block)
    frames = render_file(grid, ours, **args)  # type: ignore[arg-type]
    monkeypatch.setattr(writer, "_PCM_WIDTH", {})
    assert render_file(grid, theirs, **args) == frames  # type: ignore[arg-type]
    assert ours.read_bytes() == theirs.read_bytes()



def test_without_reserving_every_sample_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the file system (or the OS) cannot reserve a file, the silence is written
    too: the same file."""
    grid = build_grid(parse_click("3 4/4 97\n"))
    args = dict(voice=synth_voice("beep", 48000), rate=48000, bit_depth="24", block=777)
    reserved, written = tmp_path / "reserved.wav", tmp_path / "written.wav"
    render_file(grid, reserved, **args)  # type: ignore[arg-type]
    monkeypatch.delattr(os, "posix_fallocate")
    render_file(grid, written, **args)  # type: ignore[arg-type]
    assert reserved.read_bytes() == written.read_bytes()


# ------------------------------------------------------- run by run into a reserved file


def _long_voice(rate: int, seconds: float, seed: int) -> Voice:
    """A voice longer than the gap between clicks, so that clicks overlap and add up."""
    rng = np.random.default_rng(seed)
    n = max(1, round(seconds * rate))
    levels = [(rng.random(n).astype(np.float32) - np.float32(0.5)) * np.float32(0.6)
              for _ in range(3)]
    return Voice("long", rate, *levels)


@settings(max_examples=40, deadline=None)
@given(text=st.sampled_from([
           "2 4/4 120\n", "count-in: 1 bar\na: 2 7/8 (2+2+3) e=312 sub=3\n",
           "3 4/4 250 sub=4 sub-vol=0.5\nb: 2 5/4 61 poly=3,5\n",
           "2 3/4 100 X.x vol=0.7\nm: 1 4/4 120 mute\n2 6/8 q.=92 sub=2\n"]),
       sound=st.sampled_from(["beep", "rim", "long 0.3", "long 1.7", "impulse"]),
       rate=st.sampled_from([8000, 44100, 48000]), depth=st.sampled_from(["16", "24"]),
       channels=st.integers(1, 3), block=st.sampled_from([3001, 1 << 13, 1 << 17]),
       seed=st.integers(0, 2**16))
@example(text="3 4/4 250 sub=4 sub-vol=0.5\nb: 2 5/4 61 poly=3,5\n", sound="long 0.3",
         rate=8000, depth="24", channels=3, block=1 << 17, seed=1)  # runs of 51 clicks
def test_run_by_run_is_the_block_loop_and_libsndfile(
        tmp_path_factory: pytest.TempPathFactory, text: str, sound: str, rate: int,
        depth: str, channels: int, block: int, seed: int) -> None:
    """The reserved WAV written run by run (the clicks only, many at a numpy call) is the
    file of the block loop and the file libsndfile writes from every sample, byte for
    byte: isolated clicks, overlapping ones (a voice longer than the beat), layers, a
    count-in, mutes and gains, on one to three channels."""
    import ictus.render.writer as writer

    folder = tmp_path_factory.mktemp("runs")
    if sound.startswith("long"):
        voice = _long_voice(rate, float(sound.split()[1]), seed)
    elif sound == "impulse":
        one = np.array([0.9], dtype=np.float32)
        voice = Voice("impulse", rate, one, one * np.float32(0.5), one * np.float32(0.25))
    else:
        voice = synth_voice(sound, rate)
    grid = build_grid(parse_click(text))
    click_on = [channels - 1] if channels > 1 and seed % 2 else None
    args: dict[str, Any] = dict(voice=voice, rate=rate, bit_depth=depth, channels=channels,
                                click_on=click_on, block=block,
                                gains={"accent": 1.25, "sub": 0.5}, overs=Overs.WARN)
    runs, blocks, theirs = folder / "runs.wav", folder / "blocks.wav", folder / "theirs.wav"
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as mp:
        warnings.simplefilter("ignore", OversWarning)  # overs are clipped, as the rule says
        frames = render_file(grid, runs, **args)
        mp.setattr(writer, "_place_runs", lambda *a: False)
        assert render_file(grid, blocks, **args) == frames
        mp.setattr(writer, "_PCM_WIDTH", {})
        assert render_file(grid, theirs, **args) == frames
    assert runs.read_bytes() == blocks.read_bytes() == theirs.read_bytes()
