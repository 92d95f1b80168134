"""``ictus play`` and ``ictus devices`` as a user runs them, without a sound card.

The null backend plays into nothing as fast as it can, so these run in seconds; bad
input of every kind must end in one clear line and status 1, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jackserver import have_jackd, record_looping_play

ICTUS = str(Path(sys.executable).parent / "ictus")

SONG = """\
title: Song
count-in: 1 bar
intro:  2 4/4 120
verse:  4 4/4 120 X.x.
chorus: 4 4/4 132 sub=2
outro:  2 4/4 132-100 ramp=time
"""

# no JACK server of this name exists: nothing may start one either
NO_JACK = {"JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": "ictus-none-at-all"}


def ictus(*args: str, env: dict[str, str] | None = None, timeout: float = 60):
    return subprocess.run(
        [ICTUS, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **NO_JACK, **(env or {})},
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def song(tmp_path: Path) -> Path:
    path = tmp_path / "song.click"
    path.write_text(SONG)
    return path


def fails_cleanly(proc, *words: str, code: int = 1) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("ictus: error: "), proc.stderr
    for word in words:
        assert word in proc.stderr, (word, proc.stderr)


def test_play_without_a_terminal_plays_once_and_exits(song):
    t0 = time.monotonic()
    proc = ictus("play", str(song), "--backend", "null", "-c", "8", "--click-on", "7,8")
    assert proc.returncode == 0, proc.stderr
    assert "ictus: playing" in proc.stderr and "null (8 ch, 48000 Hz, 256 frames)" in proc.stderr
    assert time.monotonic() - t0 < 30  # the null backend does not wait for a clock


def test_the_backend_comes_from_the_environment(song):
    proc = ictus("play", str(song), "-q", "--from-label", "chorus", env={"ICTUS_BACKEND": "null"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_play_takes_the_map_and_sound_options_render_takes(song, tmp_path):
    import numpy as np
    import soundfile

    sample = tmp_path / "tick.wav"
    soundfile.write(sample, np.array([0.0, 0.5, 0.25], dtype=np.float32), 48000)
    proc = ictus(
        "play",
        str(song),
        "-b",
        "null",
        "-q",
        "--sound-file",
        str(sample),
        "--gain",
        "accent=0,normal=-6",
        "--scale",
        "90%",
        "--count-in",
        "2 beats",
        "--from-bar",
        "3",
        "--latency=-4.5",
        "--period",
        "128",
        "-r",
        "44100",
    )
    assert proc.returncode == 0, proc.stderr


#: ``--loop verse`` must play the verse's two bars again and again; the chorus after it
#: (another meter, tempo and subdivision) must never sound. At 180 BPM one 3/4 bar is
#: exactly 1 s = 48000 samples, so the loop is 96000 samples long with no rounding.
LOOPED = """\
intro:  1 4/4 240
verse:  2 3/4 180 Xx.
chorus: 2 4/4 90 sub=2
"""
#: The truth, written independently of the loop: the verse's bars played four times over
#: are four times as many bars of the same line, rendered offline by ``ictus render``.
LOOPED_TRUTH = "verse: 8 3/4 180 Xx.\n"


@pytest.mark.jack
@pytest.mark.skipif(not have_jackd(), reason="jackd is not installed (make test installs it)")
def test_loop_repeats_the_section_sample_for_sample(tmp_path):
    import numpy as np
    import soundfile

    song = tmp_path / "looped.click"
    song.write_text(LOOPED)
    truth_map = tmp_path / "truth.click"
    truth_map.write_text(LOOPED_TRUTH)
    out = tmp_path / "truth.wav"
    proc = ictus("render", str(truth_map), "-o", str(out), "--bit-depth", "32f", "-q")
    assert proc.returncode == 0, proc.stderr
    truth, rate = soundfile.read(out, dtype="float32")
    assert rate == 48000 and len(truth) == 8 * 48000  # 8 bars of 3/4 at 180: 8 s

    # a server of our own, run in freewheel: no xruns, and 10 s record in a moment;
    # the song without the loop lasts 2 s + 4 s from the verse: it must still play
    recorded = record_looping_play(song, 10.0, "loop", "--loop", "verse")
    sounding = np.flatnonzero(recorded)
    assert len(sounding), "nothing was recorded"
    offset = int(sounding[0]) - int(np.flatnonzero(truth)[0])
    assert offset >= 0
    assert offset + len(truth) <= len(recorded), "started too late to hold four loops"
    assert not recorded[:offset].any()
    # four times through the verse, every sample the offline render's
    segment = recorded[offset : offset + len(truth)]
    assert np.array_equal(segment, truth), float(np.abs(segment - truth).max())
    # and the recording goes on with the verse (a fifth time), never the chorus
    rest = recorded[offset + len(truth) :]
    assert np.array_equal(rest, truth[: len(rest)])


def test_help_shows_options_and_examples():
    proc = ictus("play", "--help")
    assert proc.returncode == 0
    for text in (
        "Examples:",
        "--backend",
        "--connect",
        "--latency",
        "--from-label",
        "--sound",
        "--reconnect",
        "--count-in",
        "--scale",
        "--click-on",
    ):
        assert text in proc.stdout, text
    assert "Examples:" in ictus("devices", "--help").stdout


# status 2 for a bad option value (a usage mistake, as the README says), else 1
@pytest.mark.parametrize(
    ("args", "words", "code"),
    [
        (["-b", "alsa"], ["--backend", "jack, portaudio, null"], 2),
        (["-b", "null", "--latency", "soon"], ["--latency", "soon"], 2),
        (["-b", "null", "--latency", "-10,0,5", "--click-on", "1,2"], ["latency"], 1),
        (["-b", "null", "--loop", "solo"], ["no section is labelled 'solo'", "verse"], 1),
        (["-b", "null", "--from-bar", "99"], ["bar 99 is outside the map"], 1),
        (["-b", "null", "--click-on", "9"], ["--click-on 9"], 2),
        # the engine can play with no click output (a show's stems), but for ictus play
        # an empty list is a mistake (an unset shell variable), not "all" nor "none"
        (["-b", "null", "--click-on", ""], ["--click-on names no output", "1..2"], 2),
        (["-b", "null", "--click-on", ","], ["--click-on names no output"], 2),
        (["-b", "null", "--scale", "fast"], ["--scale"], 2),
        (["-b", "null", "--period", "-1"], ["--period"], 2),
        (["-b", "jack"], ["no JACK server", "--backend portaudio", "ictus devices"], 1),
        (["-b", "portaudio", "-d", "no such device"], ["--device no such device"], 1),
    ],
)
def test_bad_input_is_one_clear_line(song, args, words, code):
    proc = ictus("play", str(song), *args, timeout=30)
    fails_cleanly(proc, *words, code=code)


def test_a_missing_map_is_one_clear_line(tmp_path):
    fails_cleanly(ictus("play", str(tmp_path / "nope.click"), "-b", "null"), "nope.click")


def test_a_click_file_error_points_at_the_line(tmp_path):
    bad = tmp_path / "bad.click"
    bad.write_text("verse: 8 4/4 0\n")
    fails_cleanly(ictus("play", str(bad), "-b", "null"), "bad.click:1:")


def test_devices_without_a_jack_server():
    proc = ictus("devices")
    assert proc.returncode == 0, proc.stderr
    assert "no JACK server named 'ictus-none-at-all' answers" in proc.stdout
    assert "portaudio" in proc.stdout and "null" in proc.stdout


def _portaudio_outputs() -> int | None:
    """PortAudio's own count of output devices (None: no PortAudio here)."""
    try:
        import sounddevice
    except (ImportError, OSError):
        return None
    return sum(1 for d in sounddevice.query_devices() if d["max_output_channels"] > 0)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        # ictus picks: it tried JACK, then PortAudio
        ((), ["no JACK server named 'ictus-none-at-all' is running", "PortAudio found no output"]),
        (("-b", "portaudio"), ["PortAudio found no output device"]),
    ],
)
def test_play_with_nowhere_to_play_says_what_was_tried_and_what_to_do(song, args, words):
    if _portaudio_outputs() != 0:
        pytest.skip("this machine has PortAudio output devices (or no PortAudio)")
    env = {k: v for k, v in os.environ.items() if k != "ICTUS_BACKEND"}
    proc = subprocess.run(
        [ICTUS, "play", str(song), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**env, **NO_JACK},
        timeout=60,
        check=False,
    )
    fails_cleanly(proc, *words, "ictus devices", "--backend null")
    assert "Error querying device" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
