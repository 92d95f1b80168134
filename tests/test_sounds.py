"""Tests for ictus.sounds: built-in voices, sample-file voices and level gains."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given
from hypothesis import strategies as st

from ictus.errors import AudioFileError, ParameterError
from ictus.sounds import (
    LEVELS,
    Voice,
    load_voice,
    parse_gains,
    synth_voice,
    voice_descriptions,
    voice_names,
)

RATES = (44100, 48000, 96000)
#: the whole range ictus works at, ends included (README: 8-384 kHz)
EXTREME_RATES = (8000, 11025, 16000, 22050, 32000, 384000)
REQUIRED_VOICES = ("beep", "woodblock", "cowbell", "rim", "hihat", "tock")


def rms_db(x: np.ndarray, rate: int, seconds: float) -> float:
    """RMS level in dB over the first ``seconds`` of a click (silence after it ends),
    computed here, apart from ictus's own loudness()."""
    n = round(seconds * rate)
    window = np.zeros(n)
    m = min(n, len(x))
    window[:m] = np.asarray(x[:m], dtype=np.float64)
    return 10 * math.log10(float(np.mean(window**2)))

ALL_VOICES = pytest.mark.parametrize("name", voice_names())
ALL_RATES = pytest.mark.parametrize("rate", RATES)


def spectrum(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude spectrum (zero-padded 8x; no window needed, the sounds start and end at 0)."""
    nfft = 1 << (8 * len(x) - 1).bit_length()
    mag = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64), nfft))
    return np.fft.rfftfreq(nfft, 1.0 / rate), mag


def centroid(x: np.ndarray, rate: int) -> float:
    freqs, mag = spectrum(x, rate)
    power = mag**2
    return float((freqs * power).sum() / power.sum())


def dominant_frequency(x: np.ndarray, rate: int) -> float:
    freqs, mag = spectrum(x * np.hanning(len(x)), rate)
    return float(freqs[np.argmax(mag)])


# --------------------------------------------------------------------------- catalogue


def test_levels() -> None:
    assert LEVELS == ("accent", "normal", "sub")


def test_voice_names_sorted_and_complete() -> None:
    names = voice_names()
    assert names == sorted(names)
    assert len(names) >= 6
    assert set(REQUIRED_VOICES) <= set(names)


def test_voice_descriptions_one_line_each() -> None:
    descriptions = voice_descriptions()
    assert list(descriptions) == voice_names()
    for text in descriptions.values():
        assert text and "\n" not in text and len(text) < 100


def test_unknown_voice_lists_valid_names() -> None:
    with pytest.raises(ParameterError) as err:
        synth_voice("foo", 48000)
    assert str(err.value) == "unknown sound 'foo'; choose one of: " + ", ".join(voice_names())
    assert str(err.value).startswith("unknown sound 'foo'; choose one of: beep, ")


@pytest.mark.parametrize("rate", [0, -44100, 7999, 384001, 48000.0, True, "48000"])
def test_synth_bad_rate(rate: object) -> None:
    with pytest.raises(ParameterError, match="sample rate"):
        synth_voice("beep", rate)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [7999, 384001])
def test_one_range_one_message(rate: int) -> None:
    """Voices, sample files and the renderer refuse a rate with the same words."""
    from ictus.render import render_file
    from ictus.tempomap import Section, Tempo, TempoMap, build_grid

    want = f"sample rate must be 8000..384000 Hz, got {rate}"
    with pytest.raises(ParameterError) as synth:
        synth_voice("beep", rate)
    with pytest.raises(ParameterError) as render:
        render_file(build_grid(TempoMap((Section(1, Tempo(120)),))), "x.wav",
                    voice=Voice("v", rate, [1.0], [1.0], [1.0]), rate=rate)
    assert str(synth.value) == str(render.value) == want


def test_synth_accepts_numpy_integer_rate() -> None:
    voice = synth_voice("beep", np.int64(48000))  # type: ignore[arg-type]
    assert voice.rate == 48000 and type(voice.rate) is int


def test_synth_is_cached() -> None:
    assert synth_voice("rim", 48000) is synth_voice("rim", 48000)


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 32000, 88200, 192000, 384000])
@ALL_VOICES
def test_other_rates_work(name: str, rate: int) -> None:
    """Every voice at every rate: finite, peak under full scale, the same loudness."""
    voice = synth_voice(name, rate)
    reference = synth_voice(name, 48000)
    for level in LEVELS:
        x = voice.level(level)
        assert np.all(np.isfinite(x))
        assert 0.05 < np.max(np.abs(x)) < 0.95
        for seconds in (0.020, 0.050):
            assert rms_db(x, rate, seconds) == pytest.approx(
                rms_db(reference.level(level), 48000, seconds), abs=0.5)


@pytest.mark.parametrize("rate", EXTREME_RATES)
@ALL_VOICES
def test_band_limited_at_the_ends_of_the_range(name: str, rate: int) -> None:
    """No aliasing at 8 kHz (where voices move down an octave or two) nor at 384 kHz."""
    voice = synth_voice(name, rate)
    for level in LEVELS:
        freqs, mag = spectrum(voice.level(level), rate)
        above = mag[freqs > 0.45 * rate].max()
        assert 20 * math.log10(above / mag.max()) < -60, (name, level)
    # the levels stay apart in pitch/brightness at the low end too
    c = [centroid(voice.level(level), rate) for level in LEVELS]
    assert c[0] > c[1] > c[2]


# ------------------------------------------------------------------------------ loudness


@pytest.mark.parametrize("seconds", [0.020, 0.050])
@pytest.mark.parametrize("rate", [8000, 48000, 96000])
def test_voices_are_loudness_matched(rate: int, seconds: float) -> None:
    """Switching voices keeps the level: RMS over the first 20 ms, and over the first
    50 ms, within 1.5 dB across all built-in voices, level by level."""
    for level in LEVELS:
        levels = {name: rms_db(synth_voice(name, rate).level(level), rate, seconds)
                  for name in voice_names()}
        spread = max(levels.values()) - min(levels.values())
        assert spread <= 1.5, (level, levels)


@pytest.mark.parametrize("seconds", [0.020, 0.050])
@ALL_VOICES
def test_accent_clearly_stronger(name: str, seconds: float) -> None:
    """The accent stands at least 4 dB over the beat (RMS, first 20 or 50 ms), and the
    sub under the beat."""
    voice = synth_voice(name, 48000)
    accent, normal, sub = (rms_db(voice.level(level), 48000, seconds) for level in LEVELS)
    assert accent - normal >= 4.0
    assert normal - sub >= 4.0


# --------------------------------------------------------------------- built-in voices


@ALL_RATES
@ALL_VOICES
def test_basic_form(name: str, rate: int) -> None:
    voice = synth_voice(name, rate)
    assert voice.name == name and voice.rate == rate
    for level in LEVELS:
        x = voice.level(level)
        assert x is getattr(voice, level)
        assert x.dtype == np.float32 and x.ndim == 1
        assert not x.flags.writeable
        assert np.all(np.isfinite(x))
        peak = float(np.max(np.abs(x)))
        assert 0.1 < peak < 0.95  # loudness-matched, so the peak depends on the voice
        assert 0.020 <= len(x) / rate <= 0.080
    assert voice.max_length == max(len(voice.level(level)) for level in LEVELS)


@ALL_RATES
@ALL_VOICES
def test_band_limited(name: str, rate: int) -> None:
    voice = synth_voice(name, rate)
    for level in LEVELS:
        freqs, mag = spectrum(voice.level(level), rate)
        above = mag[freqs > 0.45 * rate].max()
        level_db = 20 * math.log10(above / mag.max())
        assert level_db < -60, f"{name} {level}: {level_db:.1f} dB above 0.45*rate"


@ALL_RATES
@ALL_VOICES
def test_no_dc(name: str, rate: int) -> None:
    voice = synth_voice(name, rate)
    for level in LEVELS:
        x = voice.level(level).astype(np.float64)
        assert abs(x.mean()) < 1e-6 * np.abs(x).max()


@ALL_RATES
@ALL_VOICES
def test_ends_click_free_and_attack_sharp(name: str, rate: int) -> None:
    voice = synth_voice(name, rate)
    for level in LEVELS:
        x = np.abs(voice.level(level).astype(np.float64))
        peak = x.max()
        assert x[0] <= 1e-6 and x[-1] <= 1e-6
        # Raised-cosine attack, not a step: the second sample is still near silence
        # and the first tenth of a millisecond stays far below the peak...
        assert x[1] < 0.02 * peak
        assert x[: round(0.0001 * rate)].max() < 0.1 * peak
        # ...but the attack is fast: half the peak is reached within 2 ms.
        assert x[: round(0.002 * rate)].max() >= 0.5 * peak
        # The release fades out too: the last 0.1 ms is far below the peak.
        assert x[-round(0.0001 * rate) :].max() < 0.01 * peak


@ALL_RATES
@ALL_VOICES
def test_deterministic(name: str, rate: int) -> None:
    from ictus.sounds.voices import _synth_cached

    build = _synth_cached.__wrapped__  # bypass the cache: really synthesize twice
    first, second = build(name, rate), build(name, rate)
    for level in LEVELS:
        np.testing.assert_array_equal(first.level(level), second.level(level))
        np.testing.assert_array_equal(first.level(level), synth_voice(name, rate).level(level))


@ALL_RATES
@ALL_VOICES
def test_levels_distinguishable(name: str, rate: int) -> None:
    voice = synth_voice(name, rate)
    accent, normal, sub = (voice.level(level) for level in LEVELS)
    c_accent, c_normal, c_sub = (centroid(x, rate) for x in (accent, normal, sub))
    # Accent higher/brighter than normal, sub darker: centroids 3% apart at least.
    assert c_accent > 1.03 * c_normal > 1.03 * c_sub
    assert np.abs(accent).max() > np.abs(normal).max() > np.abs(sub).max()
    assert np.sum(accent.astype(float) ** 2) > np.sum(normal.astype(float) ** 2)
    assert len(accent) > len(normal) > len(sub)


@ALL_VOICES
def test_same_sound_at_every_rate(name: str) -> None:
    v48, v96 = synth_voice(name, 48000), synth_voice(name, 96000)
    v44 = synth_voice(name, 44100)
    for level in LEVELS:
        x48, x96 = v48.level(level), v96.level(level)
        assert len(x96) == 2 * len(x48)
        # Synthesized directly at each rate: every other 96 kHz sample is the 48 kHz one,
        # up to the scale of loudness normalisation (the sampled energies differ slightly).
        a, b = x48.astype(np.float64), x96[::2].astype(np.float64)
        correlation = np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b))
        assert correlation > 1 - 1e-6
        np.testing.assert_allclose(b, a, atol=0.05)
        x44 = v44.level(level)
        assert len(x44) / 44100 == pytest.approx(len(x48) / 48000, abs=2e-5)
        assert centroid(x44, 44100) == pytest.approx(centroid(x48, 48000), rel=0.01)


def test_levels_differ_in_pitch_for_tonal_voice() -> None:
    voice = synth_voice("beep", 48000)
    freqs = [dominant_frequency(voice.level(level), 48000) for level in LEVELS]
    assert freqs == pytest.approx([1500, 1000, 840], abs=25)


# ------------------------------------------------------------------------------- Voice


def test_voice_converts_and_freezes_without_touching_input() -> None:
    mine = np.array([0.0, 0.5, 0.0])
    voice = Voice("v", 44100, mine, [0.0, 0.25], np.zeros(4, dtype=np.float32))
    assert mine.flags.writeable  # the caller's array is copied, not frozen
    for level in LEVELS:
        x = voice.level(level)
        assert x.dtype == np.float32 and not x.flags.writeable
        with pytest.raises(ValueError):
            x[0] = 1.0
    mine[1] = 9.0
    assert voice.accent[1] == 0.5
    assert voice.max_length == 4
    with pytest.raises(AttributeError):
        voice.accent = np.zeros(3, np.float32)  # type: ignore[misc]


def test_voice_unknown_level() -> None:
    voice = synth_voice("beep", 48000)
    with pytest.raises(ParameterError, match="unknown level 'ghost'; choose one of: accent"):
        voice.level("ghost")


@pytest.mark.parametrize(
    "samples, message",
    [
        (np.zeros((2, 2)), "1-D"),
        (np.zeros(0), "no samples"),
        ([0.0, float("nan")], "non-finite"),
    ],
)
def test_voice_rejects_bad_samples(samples: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        Voice("v", 48000, samples, [0.0], [0.0])  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [0, -1, 4.5, True])
def test_voice_rejects_bad_rate(rate: object) -> None:
    with pytest.raises(ParameterError, match="sample rate"):
        Voice("v", rate, [0.0], [0.0], [0.0])  # type: ignore[arg-type]


# --------------------------------------------------------------------- sample files


def write(path: Path, data: np.ndarray, rate: int, subtype: str | None = None) -> Path:
    soundfile.write(path, data, rate, subtype=subtype)
    return path


def sine(rate: int, freq: float = 1000.0, seconds: float = 0.1) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return np.sin(2 * np.pi * freq * t)


@pytest.mark.parametrize("rate", [44100, 48000])
def test_one_sample_impulse_is_unchanged(tmp_path: Path, rate: int) -> None:
    path = write(tmp_path / "impulse.wav", np.array([0.5]), rate, "PCM_16")
    voice = load_voice([path], rate)
    for level in LEVELS:
        np.testing.assert_array_equal(voice.level(level), np.array([0.5], dtype=np.float32))


@pytest.mark.parametrize(
    "suffix, subtype",
    [
        (".wav", "PCM_16"),
        (".wav", "PCM_24"),
        (".wav", "FLOAT"),
        (".flac", "PCM_24"),
        (".aiff", "PCM_16"),
    ],
)
def test_same_rate_is_sample_exact(tmp_path: Path, suffix: str, subtype: str) -> None:
    impulse = np.zeros(64)
    impulse[10] = 0.75
    path = write(tmp_path / f"click{suffix}", impulse, 48000, subtype)
    np.testing.assert_array_equal(load_voice([path], 48000).accent, impulse.astype(np.float32))
    # Arbitrary float32 data survives bit for bit too.
    noise = np.random.default_rng(1).uniform(-1, 1, 300).astype(np.float32)
    path = write(tmp_path / "noise.wav", noise, 44100, "FLOAT")
    np.testing.assert_array_equal(load_voice([str(path)], 44100).normal, noise)


def test_stereo_is_mixed_to_mono_by_mean(tmp_path: Path) -> None:
    stereo = np.stack([np.full(32, 0.5), np.full(32, 0.25)], axis=1)
    path = write(tmp_path / "stereo.wav", stereo, 48000, "PCM_16")
    np.testing.assert_array_equal(load_voice([path], 48000).sub, np.full(32, 0.375, np.float32))


@pytest.mark.parametrize(
    "suffix, subtype, tolerance",
    [
        (".wav", "PCM_16", 0.01),
        (".flac", "PCM_16", 0.01),
        (".aiff", "PCM_16", 0.01),
        (".ogg", "VORBIS", 0.05),
    ],
)
@pytest.mark.parametrize("file_rate", [22050, 44100, 96000])
def test_formats_and_resampling(
    tmp_path: Path, suffix: str, subtype: str, tolerance: float, file_rate: int
) -> None:
    # Stereo 1 kHz sine, 0.6 left and 0.4 right: mono is 0.5 at 1 kHz, at any rate.
    s = sine(file_rate)
    path = write(
        tmp_path / f"tone{suffix}", np.stack([0.6 * s, 0.4 * s], axis=1), file_rate, subtype
    )
    voice = load_voice([path], 48000)
    x = voice.accent
    assert x.dtype == np.float32 and not x.flags.writeable
    assert abs(len(x) - round(len(s) * 48000 / file_rate)) <= 2
    middle = x[len(x) // 4 : 3 * len(x) // 4]
    assert np.abs(middle).max() == pytest.approx(0.5, abs=tolerance)
    assert dominant_frequency(middle, 48000) == pytest.approx(1000, abs=10)


def test_mp3(tmp_path: Path) -> None:
    if "MP3" not in soundfile.available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    s = sine(44100, seconds=0.3)
    path = write(tmp_path / "tone.mp3", 0.5 * s, 44100, "MPEG_LAYER_III")
    x = load_voice([path], 48000).accent
    middle = x[len(x) // 4 : 3 * len(x) // 4]
    assert dominant_frequency(middle, 48000) == pytest.approx(1000, abs=10)


def test_resampled_impulse_keeps_its_energy(tmp_path: Path) -> None:
    impulse = np.zeros(200)
    impulse[100] = 0.5
    path = write(tmp_path / "impulse.wav", impulse, 44100, "FLOAT")
    x = load_voice([path], 48000).accent.astype(np.float64)
    assert abs(len(x) - round(200 * 48000 / 44100)) <= 1
    assert 0.4 < np.abs(x).max() < 0.6
    assert abs(np.argmax(np.abs(x)) - 100 * 48000 / 44100) <= 1.5


def test_file_assignment_to_levels(tmp_path: Path) -> None:
    files = [
        write(tmp_path / f"{name}.wav", np.full(8 + i, value), 48000, "PCM_16")
        for i, (name, value) in enumerate([("a", 0.5), ("n", 0.25), ("s", 0.125)])
    ]
    one = load_voice(files[:1], 48000)
    assert [one.level(lv)[0] for lv in LEVELS] == [0.5, 0.5, 0.5]
    assert one.name == "a.wav"
    two = load_voice(files[:2], 48000)
    assert [two.level(lv)[0] for lv in LEVELS] == [0.5, 0.25, 0.25]
    assert two.max_length == 9
    three = load_voice(files, 48000)
    assert [three.level(lv)[0] for lv in LEVELS] == [0.5, 0.25, 0.125]
    assert [len(three.level(lv)) for lv in LEVELS] == [8, 9, 10]
    assert three.name == "a.wav,n.wav,s.wav"
    assert load_voice(files[0], 48000).accent[0] == 0.5  # a lone path is one file
    # The same file twice is read once and shared.
    same = load_voice([files[0], files[0]], 48000)
    assert same.accent is same.normal is same.sub


def assert_one_line_error(err: pytest.ExceptionInfo[AudioFileError], path: Path, why: str) -> None:
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message
    assert why in message
    assert "Traceback" not in message
    assert err.value.__cause__ is None


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.wav"
    with pytest.raises(AudioFileError) as err:
        load_voice([path], 48000)
    assert_one_line_error(err, path, "no such file")


def test_non_audio_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 20)
    with pytest.raises(AudioFileError) as err:
        load_voice([path], 48000)
    assert_one_line_error(err, path, "not a readable audio file")


def test_raw_extension_file(tmp_path: Path) -> None:
    path = tmp_path / "data.raw"
    path.write_bytes(b"\x00\x01" * 100)
    with pytest.raises(AudioFileError) as err:
        load_voice([path], 48000)
    assert_one_line_error(err, path, "not a readable audio file")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.touch()
    with pytest.raises(AudioFileError) as err:
        load_voice([path], 48000)
    assert_one_line_error(err, path, "empty")


def test_file_without_frames(tmp_path: Path) -> None:
    path = write(tmp_path / "silent.wav", np.zeros(0), 48000, "PCM_16")
    with pytest.raises(AudioFileError) as err:
        load_voice([path], 48000)
    assert_one_line_error(err, path, "no audio")


def test_non_finite_samples(tmp_path: Path) -> None:
    path = write(tmp_path / "nan.wav", np.array([0.0, np.nan, 0.0]), 48000, "FLOAT")
    with pytest.raises(AudioFileError) as err:
        load_voice([path], 48000)
    assert_one_line_error(err, path, "non-finite")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError) as err:
        load_voice([tmp_path], 48000)
    assert_one_line_error(err, tmp_path, "directory")


def test_bad_file_named_among_good_ones(tmp_path: Path) -> None:
    good = write(tmp_path / "good.wav", np.full(8, 0.5), 48000, "PCM_16")
    bad = tmp_path / "bad.flac"
    bad.write_text("nope")
    with pytest.raises(AudioFileError) as err:
        load_voice([good, good, bad], 48000)
    assert_one_line_error(err, bad, "not a readable audio file")
    assert "good.wav" not in str(err.value)


def test_path_count(tmp_path: Path) -> None:
    good = write(tmp_path / "good.wav", np.full(8, 0.5), 48000, "PCM_16")
    with pytest.raises(AudioFileError, match="too many sample files"):
        load_voice([good] * 4, 48000)
    with pytest.raises(AudioFileError, match="no sample files"):
        load_voice([], 48000)


@pytest.mark.parametrize("rate", [0, -48000, 44100.5, True])
def test_load_bad_rate(tmp_path: Path, rate: object) -> None:
    good = write(tmp_path / "good.wav", np.full(8, 0.5), 48000, "PCM_16")
    with pytest.raises(ParameterError, match="sample rate"):
        load_voice([good], rate)  # type: ignore[arg-type]


def test_audio_libraries_are_imported_lazily() -> None:
    code = "import sys, ictus.sounds\nprint('soundfile' in sys.modules, 'soxr' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------------------- gains


def test_parse_gains_example() -> None:
    gains = parse_gains("accent=0,normal=-3,sub=-9")
    assert list(gains) == list(LEVELS)
    assert gains["accent"] == 1.0
    assert gains["normal"] == pytest.approx(10 ** (-3 / 20))
    assert gains["sub"] == pytest.approx(10 ** (-9 / 20))


def test_parse_gains_forms() -> None:
    assert parse_gains(" Sub = -6.0dB ") == pytest.approx(
        {"accent": 1.0, "normal": 1.0, "sub": 10 ** (-6 / 20)}
    )
    assert parse_gains("normal=+3 dB")["normal"] == pytest.approx(10 ** (3 / 20))
    assert parse_gains("sub=off,normal=-inf") == {"accent": 1.0, "normal": 0.0, "sub": 0.0}
    assert parse_gains("accent=24")["accent"] == pytest.approx(10 ** (24 / 20))


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("accent", "expected level=dB"),
        ("accent=0,", "expected level=dB"),
        (",sub=-3", "expected level=dB"),
        ("accent=", "number of dB"),
        ("accent=loud", "number of dB"),
        ("beat=-3", "unknown level 'beat'"),
        ("sub=-3,sub=-6", "given twice"),
        ("sub=nan", "finite"),
        ("sub=inf", "finite"),
        ("normal=30", "at most"),
        ("accent=0;sub=-3", "number of dB"),
    ],
)
def test_parse_gains_errors(text: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        parse_gains(text)


def test_parse_gains_rejects_non_text() -> None:
    with pytest.raises(ParameterError):
        parse_gains(None)  # type: ignore[arg-type]


@given(
    st.dictionaries(
        st.sampled_from(LEVELS),
        st.floats(min_value=-120, max_value=24, allow_nan=False),
        min_size=1,
    )
)
def test_parse_gains_round_trip(db: dict[str, float]) -> None:
    gains = parse_gains(",".join(f"{level}={value!r}" for level, value in db.items()))
    for level in LEVELS:
        expected = 10 ** (db[level] / 20) if level in db else 1.0
        assert gains[level] == pytest.approx(expected, rel=1e-12)
