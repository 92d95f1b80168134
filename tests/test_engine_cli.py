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


def test_loop_keeps_playing_until_stopped(song):
    proc = subprocess.Popen(
        [ICTUS, "play", str(song), "-b", "null", "-q", "--loop", "verse"],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **NO_JACK},
    )
    time.sleep(3.0)  # the null backend plays the whole song in well under a second
    assert proc.poll() is None
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130 and "Traceback" not in err


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
        (["-b", "null", "--scale", "fast"], ["--scale"], 2),
        (["-b", "null", "--period", "-1"], ["--period"], 2),
        (["-b", "jack"], ["cannot reach the JACK server", "--backend portaudio"], 1),
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
    assert "no JACK server answers" in proc.stdout
    assert "portaudio" in proc.stdout and "null" in proc.stdout
