"""Spoken counts and cues: every word starts on its beat (onset within 1 ms), in the
meter's grouping, from espeak-ng (cached) or from recordings."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given
from hypothesis import strategies as st

from ictus.show import Speaker, load_show, plan_song, render_song
from showkit import speech_cache  # noqa: F401  (autouse)

RATE = 48000
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")

SHOW = """\
sample_rate = 48000
{speech}
[outputs]
foh = {{ channels = [1, 2], main = true }}
talk = {{ channels = [3] }}

[mixes.talk]
cues = 1.0

[songs.four]
map = "four.click"
cues = [{{ at = "4:3", text = "last time" }}, {{ at = "5", text = "stop" }}]

[songs.seven]
map = "seven.click"
"""

# 4/4 at 60 (a beat is 1 s) with a count-in bar; 7/8 (2+2+3) at e=100 (a pulse is 0.6 s)
FOUR = "count-in: 1 bar\nintro: 2 4/4 60\nverse: 2 4/4 60\nend: 1 4/4 60\n"
SEVEN = "count-in: 1 bar\ngroove: 2 7/8 (2+2+3) e=100\nout: 1 7/8 (2+2+3) e=100\n"


def _show(tmp_path: Path, speech: str = "") -> Path:
    (tmp_path / "four.click").write_text(FOUR)
    (tmp_path / "seven.click").write_text(SEVEN)
    path = tmp_path / "show.toml"
    path.write_text(SHOW.format(speech=speech))
    return path


def _onsets_near(x: np.ndarray, beats: list[int], threshold: float = 0.002) -> list[int]:
    """For each expected beat, the first sample (within 50 ms either side) where the
    0.25 ms trailing RMS envelope rises above ``threshold``, having been below it for
    the 50 ms before: energy onset detection, independent of the code under test."""
    window = 12
    span = RATE // 20
    padded = np.concatenate([np.zeros(span), x.astype(np.float64)])  # silence before 0
    power = np.convolve(padded**2, np.ones(window) / window)[: len(padded)]
    loud = np.sqrt(power) > threshold
    found = []
    for beat in beats:
        lo, hi = beat, beat + 2 * span  # beat - span .. beat + span, in padded samples
        above = np.flatnonzero(loud[lo:hi])
        assert len(above), f"no onset near sample {beat}"
        onset = lo + int(above[0]) - span
        assert onset > beat - span, f"sound before the beat at {beat}: not a clean onset"
        found.append(onset)
    return found


def _frames(seconds: list[Fraction]) -> list[int]:
    return [int(s * RATE) for s in seconds]


@needs_espeak
def test_words_start_on_their_beats(tmp_path: Path) -> None:
    show = load_show(_show(tmp_path, '[speech]\nvoice = "en"\n'))
    speaker = Speaker(RATE, "en", cache_dir=tmp_path / "cache")

    four = render_song(show, "four", tmp_path / "four", speaker=speaker)
    talk, rate = soundfile.read(four["talk"], dtype="float32")
    assert rate == RATE
    # exact truth: the count-in at 0..3 s, bar b at 4 + 4 (b - 1) s; "verse" (bar 3)
    # spoken on bar 2, "end" (bar 5) on bar 4 beat 1, "last time" on 4:3, "stop" on bar 5
    words = plan_song(show, "four", speaker=speaker).words
    assert [w.text for w in words] == [
        "one",
        "two",
        "three",
        "four",
        "verse",
        "end",
        "last time",
        "stop",
    ]
    beats = _frames([Fraction(k) for k in (0, 1, 2, 3, 8, 16, 18, 20)])
    onsets = _onsets_near(talk, beats)
    errors_ms = [(o - b) / RATE * 1000 for o, b in zip(onsets, beats, strict=True)]
    print("onset errors (ms):", [round(e, 3) for e in errors_ms])
    assert max(abs(e) for e in errors_ms) <= 1.0, errors_ms

    seven = render_song(show, "seven", tmp_path / "seven", speaker=speaker)
    talk, _ = soundfile.read(seven["talk"], dtype="float32")
    words = plan_song(show, "seven", speaker=speaker).words
    assert [w.text for w in words] == [
        "one",
        "two",
        "one",
        "two",
        "one",
        "two",
        "three",
        "out",
    ]
    # pulses at 0.6 s; bar 1 at 4.2 s; "out" (bar 3) spoken on bar 2 at 4.2 + 4.2 s
    beats = _frames([Fraction(6, 10) * k for k in range(7)] + [Fraction(84, 10)])
    onsets = _onsets_near(talk, beats)
    errors_ms = [(o - b) / RATE * 1000 for o, b in zip(onsets, beats, strict=True)]
    print("onset errors (ms):", [round(e, 3) for e in errors_ms])
    assert max(abs(e) for e in errors_ms) <= 1.0, errors_ms
    # cues never reach front of house: the main output is silent, bit for bit
    foh, _ = soundfile.read(seven["foh"], dtype="float32")
    assert not foh.any()


@needs_espeak
def test_espeak_words_are_cached_per_voice_and_word(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = Speaker(RATE, "en", cache_dir=cache).word("last time")
    files = {p: p.stat().st_mtime_ns for p in cache.rglob("*.wav")}
    assert [p.parent.name for p in files] == ["en"]
    again = Speaker(RATE, "en", cache_dir=cache).word("last time")
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*.wav")} == files
    assert np.array_equal(first, again)
    Speaker(RATE, "de", cache_dir=cache).word("last time")
    assert len(list(cache.rglob("*.wav"))) == 2


def test_recorded_words_are_trimmed_to_their_onset(tmp_path: Path) -> None:
    # recordings at 44.1 kHz with 30 ms of room noise before the word
    words = tmp_path / "words"
    words.mkdir()
    rng = np.random.default_rng(5)
    for name in ("one", "two", "three", "four", "verse", "end", "last-time", "stop", "out"):
        t = np.arange(int(0.3 * 44100)) / 44100
        word = 0.6 * np.sin(2 * np.pi * 300 * t) * np.minimum(1, t / 0.002)
        noise = rng.normal(0, 1e-5, int(0.03 * 44100))
        soundfile.write(words / f"{name}.wav", np.concatenate([noise, word]), 44100)
    show = load_show(_show(tmp_path, '[speech]\nsamples = "words"\n'))
    out = render_song(show, "four", tmp_path / "out")
    talk, _ = soundfile.read(out["talk"], dtype="float32")
    beats = _frames([Fraction(k) for k in (0, 1, 2, 3, 8, 16, 18, 20)])
    onsets = _onsets_near(talk, beats)
    assert max(abs(o - b) for o, b in zip(onsets, beats, strict=True)) <= RATE // 1000


def test_a_missing_recording_is_a_check_error(tmp_path: Path) -> None:
    from ictus.show import ShowError, check_show

    (tmp_path / "words").mkdir()
    show = load_show(_show(tmp_path, '[speech]\nsamples = "words"\n'))
    with pytest.raises(ShowError, match=r"no recording of 'last time' in .*last-time\.wav"):
        check_show(show)


@pytest.mark.parametrize(
    ("count_in", "meter", "tempo", "want"),
    [
        # 4/4 at 90, two bars: eight beats 2/3 s apart, counted per bar
        ("2 bars", "4/4", "90", [("one two three four " * 2).split(), Fraction(2, 3)]),
        # 7/8 (2+2+3) at e=210, one bar: seven pulses 2/7 s apart, counted in groups
        (
            "1 bar",
            "7/8 (2+2+3)",
            "e=210",
            [["one", "two", "one", "two", "one", "two", "three"], Fraction(2, 7)],
        ),
        # two beats of 7/8 (2+2+3): the bar's first two groups
        ("2 beats", "7/8 (2+2+3)", "e=210", [["one", "two", "one", "two"], Fraction(2, 7)]),
        # 5/8 (3+2), a count-in bar
        ("1 bar", "5/8 (3+2)", "e=150", [["one", "two", "three", "one", "two"], Fraction(2, 5)]),
    ],
)
def test_count_in_words_and_frames(
    tmp_path: Path, count_in: str, meter: str, tempo: str, want: list
) -> None:
    from ictus.show.plan import spoken_words
    from ictus.tempomap import build_grid

    words, step = want
    (tmp_path / "four.click").write_text(f"count-in: {count_in}\na: 2 {meter} {tempo}\n")
    (tmp_path / "seven.click").write_text(SEVEN)
    path = tmp_path / "show.toml"
    path.write_text(
        SHOW.format(speech="").replace(', { at = "5", text = "stop" }', "").replace('"4:3"', '"2"')
    )
    show = load_show(path)
    song = show.song("four")
    spoken = spoken_words(show, song, build_grid(song.tempo_map), RATE)
    count = spoken[: len(words)]
    assert [w.text for w in count] == words
    assert [w.frame for w in count] == [round(k * step * RATE) for k in range(len(words))]
    # the first downbeat follows the count-in's last word by one step of its meter
    assert spoken[len(words)].text == "last time"


@given(
    st.lists(st.floats(-1, 1, allow_nan=False, width=32), min_size=1, max_size=300),
    st.integers(0, 50),
)
def test_trim_starts_at_the_onset(body: list[float], lead: int) -> None:
    from ictus.show.speech import ONSET_DB, WORD_PEAK, trim_word

    x = np.concatenate([np.zeros(lead), np.array(body, dtype=np.float64)])
    peak = np.abs(x).max()
    if peak == 0:
        return
    word = trim_word(x)
    loud = np.flatnonzero(np.abs(x) >= peak * 10 ** (ONSET_DB / 20))
    # the word is exactly the stretch from the first to the last loud sample, scaled
    want = (x[loud[0] : loud[-1] + 1] * (WORD_PEAK / peak)).astype(np.float32)
    assert np.array_equal(word, want)
    assert abs(word[0]) >= WORD_PEAK * 10 ** (ONSET_DB / 20) * (1 - 1e-6)
    assert np.isclose(np.abs(word).max(), WORD_PEAK)


@needs_espeak
def test_a_voice_espeak_lacks_is_a_check_error(tmp_path: Path) -> None:
    from ictus.show import ShowError, check_show

    show = load_show(_show(tmp_path, '[speech]\nvoice = "xx-nonesuch"\n'))
    with pytest.raises(ShowError) as info:
        check_show(show)
    problems = info.value.problems
    assert len(problems) == 2  # once for each song
    for problem in problems:
        assert ":3:1: speech.voice: espeak-ng could not speak" in problem
        assert "voice 'xx-nonesuch': Error: The specified espeak-ng voice does not exist" in problem
