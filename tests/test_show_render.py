"""Offline show render: one file per output, click and cues only where routed."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ictus.show import ClickSource, ClickVariant, ShowError, Speaker, load_show, render_song
from ictus.tempomap import Section, Tempo, TempoMap
from showkit import make_show, speech_cache  # noqa: F401  (autouse)

RATE = 48000


def _tones(folder: Path) -> Speaker:
    """Recorded words that are all a 50 ms tone (the words' timing is test_show_speech's)."""
    folder.mkdir()
    t = np.arange(RATE // 20) / RATE
    tone = 0.3 * np.sin(2 * np.pi * 500 * t + 0.5)
    for name in ("one", "two", "three", "four", "verse", "chorus", "last-time", "stop"):
        soundfile.write(folder / f"{name}.wav", tone, RATE)
    return Speaker(RATE, samples=folder)


def _read(path: Path) -> np.ndarray:
    data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    return data


def test_main_gets_the_stems_exactly_from_bar_one(tmp_path: Path) -> None:
    show = load_show(make_show(tmp_path))
    out = render_song(show, "four", tmp_path / "out", speaker=_tones(tmp_path / "words"))
    assert sorted(p.name for p in out.values()) == ["drums.wav", "foh.wav", "keys.wav"]
    foh = _read(out["foh"])
    bass = _read(tmp_path / "bass.wav")[:, 0]
    pad = _read(tmp_path / "pad.flac")
    bar1 = 2 * RATE  # a count-in bar of 4/4 at 120
    # front of house: bass (stem gain 0.5) on both sides plus the stereo pad, from bar 1's
    # sample on, nothing else: bit for bit what the files hold
    want = np.zeros((bar1 + len(pad), 2), np.float32)
    want[bar1:] = bass[:, np.newaxis] * np.float32(0.5) + pad
    assert foh.shape == want.shape
    assert np.array_equal(foh, want)


def test_click_and_cues_only_on_their_outputs(tmp_path: Path) -> None:
    path = make_show(tmp_path)
    for name, channels in (("bass.wav", 1), ("pad.flac", 2)):  # silent stems
        soundfile.write(tmp_path / name, np.zeros((int(16.5 * RATE), channels)), RATE)
    show = load_show(path)
    out = render_song(show, "four", tmp_path / "out", speaker=_tones(tmp_path / "words"))
    foh, drums, keys = (_read(out[name]) for name in ("foh", "drums", "keys"))
    assert not foh.any()  # main: silence, bit for bit
    assert np.array_equal(drums[:, 0], drums[:, 1])
    # keys hears the cues only. Bar b starts at 2 + 2 (b - 1) s; the sections are intro
    # (bars 1-2), verse (3-6), chorus (7-8). Words: the count-in at 0, 0.5, 1, 1.5 s,
    # "verse" on bar 2 (4 s), "chorus" on bar 6 (12 s), "last time" on bar 7 (14 s)
    starts = [Fraction(k, 2) for k in range(4)] + [Fraction(4), Fraction(12), Fraction(14)]
    tone = np.zeros(len(keys), bool)
    for s in starts:
        tone[int(s * RATE) : int(s * RATE) + RATE // 20] = True
    assert np.flatnonzero(keys[:, 0]).size
    assert not keys[~tone].any()
    assert all(keys[int(s * RATE) + 100 : int(s * RATE) + 2000].any() for s in starts)
    # drums: the drummer's sixteenths (0.125 s apart at 120) plus half the cues
    click = drums[:, 0] - np.float32(0.5) * keys[:, 0]
    sixteenths = [Fraction(k, 8) for k in range(8 * 18)]  # 2 s count-in + 16 s
    near = np.zeros(len(click), bool)
    for s in sixteenths:
        near[int(s * RATE) : int(s * RATE) + RATE // 10] = True
    assert np.abs(click[~near]).max() < 1e-6
    for s in sixteenths[16:]:  # every sixteenth from bar 1 (the count-in clicks beats)
        assert np.abs(click[int(s * RATE) : int(s * RATE) + 480]).max() > 0.01, s


def test_singer_hears_quarters_only() -> None:
    tempo_map = TempoMap((Section(2, Tempo(120), sub=2),))
    singer = ClickSource(ClickVariant("singer", levels=("accent", "normal")), tempo_map, RATE)
    full = ClickSource(ClickVariant("map"), tempo_map, RATE)
    n = 4 * RATE
    ((quarters, _),) = singer.blocks(0, n)
    quarters = quarters.copy()
    ((eighths, _),) = full.blocks(0, n)

    def sounding(x: np.ndarray, at: Fraction) -> bool:
        return bool(np.abs(x[int(at * RATE) : int(at * RATE) + 480]).max() > 0.01)

    for k in range(16):
        at = Fraction(k, 4)  # eighths at 120: 0.25 s apart
        assert sounding(eighths, at)
        assert sounding(quarters, at) == (k % 2 == 0), at


def test_a_leaking_show_renders_nothing(tmp_path: Path) -> None:
    show = load_show(make_show(tmp_path, foh="cues = 1.0\n"))
    with pytest.raises(ShowError, match="would reach 'foh'"):
        render_song(show, "four", tmp_path / "out")
    assert not (tmp_path / "out").exists()
