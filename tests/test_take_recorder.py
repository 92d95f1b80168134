"""The engine's inputs without a sound card: the null backend hands the engine input
blocks we make, so what the take file holds and where the grid sits in it can be
checked against what we fed and what the engine played, frame by frame.

The JACK and PortAudio paths, with a player in another process, are in
test_practice_live.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ictus.engine import Engine, TakeRecorder
from ictus.engine.backends import Latency
from ictus.engine.backends.null import NullBackend
from ictus.errors import IctusError
from ictus.formats import parse_click
from ictus.practice.session import align
from ictus.sounds import Voice

ICTUS = str(Path(sys.executable).parent / "ictus")
TICK = Voice("tick", 8000, np.ones(1, np.float32), np.ones(1, np.float32), np.ones(1, np.float32))


def ramp(clock: int, n: int, channels: int) -> np.ndarray:
    """Input whose every sample says its own clock (exact in float32 below 2**24)."""
    t = np.arange(clock, clock + n, dtype=np.float32)
    return np.stack([t + 0.25 * c for c in range(channels)], axis=1)


def test_the_take_file_is_the_input_on_the_backend_clock(tmp_path):
    backend = NullBackend(rate=8000, period=64, inputs=2)
    recorder = TakeRecorder(channels=2, seconds=0.5)  # a small ring: it wraps many times
    song = parse_click("count-in: 1 bar\na: 2 4/4 120\n")
    with Engine(song, backend, voice=TICK, inputs=[recorder]) as engine:
        for _ in range(3):
            backend.pull(heard=ramp(backend.clock, 64, 2))  # not recording yet
        recorder.record_to(tmp_path / "take.wav")
        recorder.arm()
        first = backend.clock
        sound: list[int] = []
        engine.start()
        for k in range(200):
            skip = 192 if k == 50 else 0  # an xrun: three periods lost
            if k % 40 == 39:
                time.sleep(0.1)  # the writer drains: the ring (8192 frames) wraps
            out = backend.pull(heard=ramp(backend.clock + skip, 64, 2), skip=skip)
            sound.extend(backend.clock - 64 + int(i) for i in np.flatnonzero(out[:, 0]))
        recorder.disarm()
        history = list(engine.transport.history)
    recorder.finish()
    data, rate = soundfile.read(tmp_path / "take.wav", dtype="float32", always_2d=True)
    assert rate == 8000 and recorder.first_clock == first
    expected = ramp(first, len(data), 2)
    lost = slice(50 * 64, 50 * 64 + 192)
    expected[lost] = 0.0
    assert np.array_equal(data, expected)
    assert recorder.lost == 192 and len(data) == 203 * 64
    # the grid's first click sounded at the clock the alignment says
    a = align(history, first_clock=first, rate=8000, latency=Latency(3, 4))
    assert sound[0] == a.grid_clock
    assert a.offset == (a.grid_clock + 7 - first) / 8000
    assert a.bar_clock(1) == a.grid_clock + 2 * 8000  # a bar of 4/4 at 120 counts in


def test_a_writer_that_falls_a_ring_behind_fails_the_take(tmp_path):
    backend = NullBackend(rate=8000, period=64, inputs=1)
    recorder = TakeRecorder(seconds=0.5)
    with Engine(parse_click("a: 1 4/4 120\n"), backend, voice=TICK, inputs=[recorder]):
        recorder.record_to(tmp_path / "take.wav")
        recorder.arm()
        for _ in range(1000):  # 64000 frames at once, faster than the writer drains
            backend.pull()
    with pytest.raises(IctusError, match=r"the take lost \d+ frames: the file writer fell"):
        recorder.finish()


def test_a_failing_input_is_switched_off_and_the_click_goes_on():
    class Broken(TakeRecorder):
        def receive(self, block, clock):
            raise RuntimeError("no disk")

    backend = NullBackend(rate=8000, period=64, inputs=1)
    with Engine(parse_click("a: 1 4/4 120\n"), backend, voice=TICK, inputs=[Broken()]) as engine:
        engine.start()
        heard = [backend.pull().copy() for _ in range(260)]
    assert engine.input_failure == "RuntimeError('no disk')"
    assert sum(int(np.count_nonzero(b)) for b in heard) == 4  # every click of the bar


def test_the_take_keeps_its_place_through_a_played_take(tmp_path):
    """A take with known deviations, fed through the inputs a round trip late: the
    analysis placed by the engine gives every deviation back within 2 ms."""
    pytest.importorskip("librosa")
    from ictus.practice.onsets import detect_onsets
    from ictus.practice.recording import read_recording
    from ictus.practice.takes import make_take
    from ictus.practice.timing import analyze
    from ictus.tempomap import build_grid

    song = parse_click("count-in: 1 bar\nverse: 2 4/4 140\nchorus: 2 3/4 140-120\n")
    rate, period, trip = 48000, 256, 301  # a round trip that is no whole period
    take = make_take(build_grid(song), rate=rate, seed=5, push={"chorus": 0.008})
    backend = NullBackend(rate=rate, period=period, inputs=1)
    recorder = TakeRecorder()
    voice = Voice("tick", rate, *(np.ones(1, np.float32),) * 3)
    with Engine(song, backend, voice=voice, inputs=[recorder]) as engine:
        recorder.record_to(tmp_path / "take.wav")
        recorder.arm()
        engine.start()
        backend.pull()  # the start is applied in this block: grid frame 0 at its clock
        at = backend.clock - period + trip  # where the take's sample 0 comes in
        while backend.clock < at + len(take.audio):
            i = backend.clock - at
            block = np.zeros((period, 1), np.float32)
            lo, hi = max(i, 0), min(i + period, len(take.audio))
            if lo < hi:
                block[lo - i : hi - i, 0] = take.audio[lo:hi]
            backend.pull(heard=block)
        recorder.disarm()
        history = list(engine.transport.history)
    recorder.finish()
    assert recorder.first_clock is not None
    a = align(history, first_clock=recorder.first_clock, rate=rate, latency=Latency(trip, 0))
    audio, _ = read_recording(tmp_path / "take.wav")
    report = analyze(detect_onsets(audio, rate), a.plan.grid, offset=a.offset)
    got = {round(n.click, 4): n.deviation for n in report.notes}
    pairs = zip(take.clicks, take.deviations, strict=True)
    truth = {round(float(c), 4): float(d) for c, d in pairs}
    assert set(truth) <= set(got)
    worst = max(abs(got[c] - d) for c, d in truth.items())
    assert worst < 0.002, worst


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ICTUS, *args], capture_output=True, text=True, cwd=cwd, timeout=60,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--bars", "0"], "--bars: at least 1"),
        (["--input", "system:capture_1", "--input", "none"], "--input none"),
        (["--take", "take.mp3"], "--take: must end in .wav"),
        (["--round-trip", "soon"], "--round-trip: expected auto or milliseconds"),
        (["-b", "null", "--jack-transport", "master"], "--jack-transport needs --backend jack"),
    ],
)
def test_practice_mistakes_are_one_line_and_exit_2(tmp_path, args, words):
    (tmp_path / "song.click").write_text("a: 1 4/4 120\n")
    proc = run("practice", "song.click", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr


def test_practice_on_a_terminal_shows_the_bar_and_stops_on_q(tmp_path):
    """The null backend plays in real time on a terminal: the status line counts in,
    ``q`` stops, the take (silence here) is written next to the map and measured."""
    pytest.importorskip("librosa")
    from terminal import Terminal

    (tmp_path / "song.click").write_text("count-in: 1 bar\nverse: 8 4/4 240\n")
    take = tmp_path / "song-take-1.wav"
    args = [ICTUS, "practice", str(tmp_path / "song.click"), "-b", "null"]
    with Terminal(args, env=dict(os.environ)) as term:
        term.wait_for(r"count-in \d", timeout=20, last=400)
        term.wait_for(r"bar 1 beat \d +verse +240\.0 bpm +q stops", timeout=10)
        term.press(b"q")
        assert term.proc.wait(30) == 1
        time.sleep(0.2)  # the last words reach the pty
        said = term.text()
    assert "stopped at q; wrote the take to" in said
    assert f"error: no notes found in '{take}'" in said
    data, rate = soundfile.read(take)
    assert rate == 48000 and not data.any() and 1.0 * rate < len(data) < 8 * rate


def test_a_take_cut_short_counts_no_missed_clicks_after_it():
    from ictus.practice.timing import analyze
    from ictus.tempomap import build_grid

    grid = build_grid(parse_click("count-in: 1 bar\na: 3 4/4 120\n"))  # clicks every 0.5 s
    played = grid.time[(grid.bar >= 1) & (grid.bar <= 2)] + 0.003  # bars 1 and 2, 3 ms late
    noise = np.array([6.45, 6.95])  # after the stop (bar 3 never played to): noise
    onsets = np.sort(np.concatenate([played, noise]))
    whole = analyze(onsets, grid, offset=0.0)
    cut = analyze(onsets, grid, offset=0.0, until=float(grid.time[grid.bar == 3][0]))
    assert (whole.missed, whole.extra) == (2, 0)  # noise matched two of bar 3's clicks
    assert (cut.missed, cut.extra, cut.overall.count) == (0, 0, 8)
    assert cut.overall.mean == pytest.approx(0.003, abs=1e-12)


def test_a_clock_that_jumps_back_fails_the_take(tmp_path):
    recorder = TakeRecorder(seconds=1.0)
    recorder.open(rate=8000, inputs=1)
    recorder.record_to(tmp_path / "take.wav")
    recorder.arm()
    recorder.receive(np.ones((64, 1), np.float32), 1000)
    recorder.receive(np.ones((64, 1), np.float32), 10)  # a new server's clock
    with pytest.raises(IctusError, match="the take lost its place: the audio clock jumped"):
        recorder.finish()
    assert recorder.jumps == 1
