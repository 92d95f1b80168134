"""LTC on the live engine's outputs, recorded from a real JACK server and read by libltc.

A private JACK server (dummy driver) runs in freewheel, so no cycle is late; a recording
client (tests/jackserver.py, not ictus) keeps every sample by frame time; Debian's libltc
(through ctypes, the decoder of tests/test_ltc.py) reads the LTC channel. Truth: libltc's
labels; exact frame starts ``bar1 + k * rate / fps`` (Fraction), with bar 1 found in the
recording from the click channel, which must be the offline render sample for sample;
after a locate, the place the click channel shows the new bar starting.
"""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from ictus.engine import Engine, Route
from ictus.engine.backends.jack import JackBackend
from ictus.engine.backends.null import NullBackend
from ictus.engine.timecode import LtcTrack
from ictus.formats import parse_click
from ictus.render import render_file
from ictus.sounds import synth_voice
from ictus.sync import LtcSignal
from ictus.tempomap import CountIn, build_grid
from ictus.timebase import FPS_25, FPS_29_97_DF, FrameRate, format_timecode, frames_per_day
from jackserver import Expected, JackServer, Recorder, have_jackd
from test_ltc import Decoded, frame_start_edge, libltc_decode

RATE = 48000
VOICE = synth_voice("woodblock", RATE)
ICTUS = str(Path(sys.executable).parent / "ictus")
TEXT = """\
start: 01:00:00:00 @ 25
count-in: 1 bar
intro:  2 4/4 120
verse:  4 4/4 133.33
chorus: 4 4/4 96-140 ramp=time
coda:   2 3/4 120
"""
SONG = parse_click(TEXT)

#: the largest distance of a frame start from its ideal place, per rate (for the docs)
WORST: dict[str, Fraction] = {}

jack = pytest.mark.skipif(not have_jackd(), reason="jackd is not installed")


def bar_sample(tempo_map: Any, bar: int, count_in: bool = True) -> int:
    """Grid sample of ``bar``'s downbeat (from the grid, itself from the timeline)."""
    grid = build_grid(tempo_map if count_in else tempo_map.with_count_in(CountIn()))
    return int(grid.samples(RATE)[np.flatnonzero(grid.bar == bar)[0]])


def decode(ltc: np.ndarray, rate: FrameRate) -> tuple[list[Decoded], list[int]]:
    """libltc's frames in ``ltc`` and the sample of each one's first edge.

    The edge closes the previous frame's sync word (test_ltc's ``frame_start_edge``);
    the first frame after a hold has no sync word before it: then its edge is the one
    rise within 3 samples of libltc's ``off_start`` (which libltc times from that edge).
    """
    spf = Fraction(RATE) / rate.fps
    frames = libltc_decode(ltc, float(spf))
    half = float(spf / 160)
    edges = []
    for d in frames:
        try:
            edges.append(frame_start_edge(ltc, d.off_start, half))
        except AssertionError:
            lo = max(d.off_start - 3, 1)
            x = ltc[lo - 1 : d.off_start + 4]
            rises = lo + np.flatnonzero((x[1:] > 0) & (x[:-1] <= 0))
            assert len(rises) == 1, (d.label(rate), d.off_start, rises)
            edges.append(int(rises[0]))
    return frames, edges


def check_stretch(
    frames: list[Decoded],
    edges: list[int],
    rate: FrameRate,
    start: int,
    zero: Fraction,
    lo: int,
    hi: int,
    suspect: np.ndarray | None = None,
) -> int:
    """Between recording samples ``lo`` and ``hi`` every whole LTC frame must be read,
    labelled ``start + k`` and starting within half a sample of ``zero + k * spf``, where
    ``zero`` is where the start label's frame begins (the recording's sample, exact).
    Frames touching a ``suspect`` sample (the recorder's mask: cycles around an xrun
    while not in freewheel) are left out. Returns how many frames were checked;
    ``WORST`` keeps the largest distance seen."""
    spf = Fraction(RATE) / rate.fps
    days = frames_per_day(rate)
    first = -((zero - lo) // spf)  # the first frame starting at or after lo
    last = (hi - zero) // spf - 1  # the last one ending by hi

    def doubtful(k: int) -> bool:
        if suspect is None:
            return False
        a, b = int(zero + k * spf) - 2, int(zero + (k + 1) * spf) + 3
        return bool(suspect[max(a, 0) : b].any())

    frames_due = [k for k in range(first, last + 1) if not doubtful(k)]
    assert len(frames_due) > 0.9 * (last + 1 - first), "too much of the recording suspect"
    want = [format_timecode((start + k) % days, rate) for k in frames_due]
    got = {}
    for d, edge in zip(frames, edges, strict=True):
        if lo <= edge < hi:
            k = round((edge - zero) / spf)
            if doubtful(k):
                continue
            # the target is 1 sample; ictus rounds each start to the nearest sample
            error = abs(edge - (zero + k * spf))
            assert error <= Fraction(1, 2), (d.label(rate), edge, k)
            WORST[rate.name] = max(WORST.get(rate.name, Fraction(0)), error)
            assert d.label(rate) == format_timecode((start + k) % days, rate)
            assert d.drop_frame == rate.drop_frame
            got[k] = d.label(rate)
    assert [got.get(k) for k in frames_due] == want
    return len(want)


# ------------------------------------------------------------ no allocation, null backend


def test_the_callback_renders_ltc_without_allocating_arrays():
    ltc = LtcTrack(FPS_29_97_DF, "00:59:59;00", channels=2)
    backend = NullBackend(rate=RATE, period=256)
    engine = Engine(
        SONG, backend, voice=VOICE, channels=3, click_on=[0], sources=[Route(ltc, (1, 2))]
    )
    with engine:
        engine.start()
        for _ in range(50):
            backend.pull()
        plan = engine.transport.snapshot.plan
        out = np.zeros((2, 4096), np.float32).T  # as the source mixer hands it over
        frame = engine.transport.snapshot.frame
        ltc.render(plan, frame, out)  # warm: the frames' bit tables are cached
        tracemalloc.start()
        try:
            for k in range(1, 200):  # blocks on and on, and a jump back now and then
                ltc.render(plan, frame + 4096 * (k % 9), out)
            current, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for k in range(1, 200):
                ltc.render(plan, frame + 4096 * (k % 9), out)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # one array of a block's samples would be 16 kB (float32) to 32 kB (int64); what
    # is left is Python's own small objects (views, ints, numpy scalars)
    assert peak - current < 4096, peak - current
    assert np.array_equal(out[:, 0], out[:, 1]) and out.any()


# ------------------------------------------------------------ ictus play --ltc, freewheel


@jack
@pytest.mark.jack
def test_play_puts_ltc_on_its_output_frame_for_frame(tmp_path):
    song = tmp_path / "song.click"
    song.write_text(TEXT)
    seconds = float(build_grid(SONG).samples(RATE)[-1]) / RATE + 5
    server = JackServer().start()
    rec = Recorder(server, 2, seconds + 40, name="rec-ltc")
    freewheel = False
    proc = None
    try:
        rec.arm()
        proc = subprocess.Popen(
            [ICTUS, "play", str(song), "-b", "jack", "--client-name", "ictus-ltc",
             "--connect", rec.name, "-c", "2", "--ltc", "2", "-q"],
            env=server.env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not rec.client.get_all_connections(rec.ports[1]):
            assert time.monotonic() < deadline, "ictus did not connect"
            time.sleep(0.01)
        rec.client.set_freewheel(True)
        freewheel = True
        _, err = proc.communicate(timeout=240)
        rec.client.set_freewheel(False)
        freewheel = False
        assert proc.returncode == 0, err
    finally:
        if freewheel:
            rec.client.set_freewheel(False)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        rec.close()
        server.stop()
    click, ltc = rec.data
    # the click alone on output 1 (--ltc keeps it off 2), the render's sample for sample:
    # so the render's sample 0 (the count-in's first click) is at grid0, bar 1 where the
    # grid has it after that
    path = tmp_path / "click.wav"
    render_file(build_grid(SONG), path, voice=VOICE, rate=RATE, bit_depth="32f")
    ref, _ = soundfile.read(path, dtype="float32")
    grid0 = int(np.flatnonzero(click)[0] - np.flatnonzero(ref)[0])
    # ictus plays in real time until the freewheel begins: an xrun there (a busy
    # machine) leaves cycles the recorder may have read wrong, which it marks
    suspect = rec.suspect()
    keep = ~suspect[grid0 : grid0 + len(ref)]
    assert np.array_equal(click[grid0 : grid0 + len(ref)][keep], ref[keep])
    bar1 = grid0 + bar_sample(SONG, 1)
    end = int(np.flatnonzero(ltc)[-1]) + 1
    frames, edges = decode(ltc, FPS_25)
    start = frames_per_day(FPS_25) // 24  # 01:00:00:00, the map's start:
    # every frame from the count-in's second (00:59:58:01) to the end, on its sample:
    # libltc cannot read a frame that starts out of silence (it times a frame from the
    # edge before it), so the first one, 00:59:58:00, is checked by its samples below
    checked = check_stretch(
        frames, edges, FPS_25, start, Fraction(bar1), grid0 + 1, end, suspect
    )
    assert checked >= 0.9 * ((end - grid0) // 1920 - 2)
    assert WORST["25"] == 0  # 1920 samples a frame: every start exactly on its sample
    assert frames[0].label(FPS_25) == "00:59:58:01"
    assert not ltc[:grid0].any()
    signal = LtcSignal(FPS_25, RATE)
    assert np.array_equal(ltc[grid0 : grid0 + 1920], signal.render(-96000, 1920, start))


# ------------------------------------------------------------ a locate, in process


@jack
@pytest.mark.jack
@pytest.mark.parametrize("rate", [FPS_25, FPS_29_97_DF], ids=lambda r: r.name)
def test_after_a_locate_ltc_is_right_from_the_next_frame(rate, tmp_path):
    server = JackServer().start()
    rec = Recorder(server, 2, 150, name="rec-loc")
    backend = JackBackend(client_name="ictus-loc", connect=[rec.name], server=server.name)
    start_label = "10:00:00;00" if rate.drop_frame else "10:00:00:00"
    ltc = LtcTrack(rate, start_label)
    engine = Engine(
        SONG, backend, voice=VOICE, channels=2, click_on=[0], sources=[Route(ltc, (1,))]
    )
    freewheel = False
    try:
        engine.open()
        rec.arm()
        rec.wait_cycles(4)
        rec.client.set_freewheel(True)
        freewheel = True
        engine.start()
        deadline = time.monotonic() + 60
        while engine.status().bar < 4 or engine.status().count_in:
            assert time.monotonic() < deadline
            time.sleep(0.001)
        engine.locate(9)  # into the chorus's ramp
        while engine.transport.snapshot.playing or engine.status().state == "playing":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        rec.client.set_freewheel(False)
        freewheel = False
        history = list(engine.transport.history)
    finally:
        if freewheel:
            rec.client.set_freewheel(False)
        engine.close()
        rec.close()
        server.stop()
    kinds = [e[0] for e in history]
    assert kinds[:2] == ["start", "locate"] and "end" in kinds, kinds
    started, located, ended = history[0][1], history[1][1], history[kinds.index("end")][1]
    origin = rec.origin
    assert origin is not None
    s, p, e = started - origin, located - origin, ended - origin
    # the click channel is what the event log says (fresh mixers from each plan): so the
    # start and the locate are where these clocks put them
    expected = Expected(history, VOICE)
    got = rec.data[0, s:e]
    want = expected.block(started, e - s, 2)[:, 0]
    assert np.array_equal(got, want)
    assert not rec.data[0, s - 2000 : s].any() and got[:100].any()  # the count-in's click
    # and from the locate's sample on, the render's bar 9 plays (the whole map rendered
    # without count-in, from bar 9's downbeat)
    path = tmp_path / "whole.wav"
    bare = SONG.with_count_in(CountIn())
    render_file(build_grid(bare), path, voice=VOICE, rate=RATE, bit_depth="32f")
    ref, _ = soundfile.read(path, dtype="float32")
    b9 = bar_sample(SONG, 9, count_in=False)
    assert np.array_equal(rec.data[0, p : p + RATE], ref[b9 : b9 + RATE])
    codes, edges = decode(rec.data[1, : e + 10], rate)
    label0 = {FPS_25: 10 * 3600 * 25, FPS_29_97_DF: 1078920}[rate]  # 10:00:00;00 at 29.97 DF
    # before the locate: bar 1 is the count-in's length after the start
    bar1 = Fraction(s + bar_sample(SONG, 1))
    before = check_stretch(codes, edges, rate, label0, bar1, s + 1, p)
    # after it: bar 9's map frame plays at p, so the start label's frame is that far back
    zero = Fraction(p - bar_sample(SONG, 9, count_in=False))
    after = check_stretch(codes, edges, rate, label0, zero, p, e)
    assert before > 50 and after > 100
    print(f"\nLTC {rate.name}: {before} + {after} frames, worst start {float(WORST[rate.name])}")
    # nothing read between the locate and the first whole frame after it
    spf = Fraction(RATE) / rate.fps
    next_start = zero + (-((zero - p) // spf)) * spf
    assert not [x for x in edges if p <= x < next_start - 1]


# ------------------------------------------------------------ the command line's mistakes


@pytest.mark.parametrize(
    ("text", "args", "words"),
    [
        (TEXT, ["--ltc", "3"], "--ltc: expected distinct outputs of 1..2"),
        (TEXT, ["--ltc", "2,2"], "--ltc: expected distinct outputs"),
        (TEXT, ["--ltc", "2", "--ltc-fps", "60"], "--ltc-fps: LTC runs at"),
        ("a: 2 4/4 120\n", ["--ltc", "2"], "--ltc needs --ltc-fps"),
        (TEXT, ["--ltc-fps", "25"], "--ltc-fps and --start-tc need --ltc"),
        (TEXT, ["--ltc", "2", "--click-on", "2"], "output 2 cannot carry both"),
        (TEXT, ["--ltc", "1,2"], "LTC takes every output"),
        (TEXT, ["--ltc", "2", "--ltc-fps", "24"], "the map starts at 01:00:00:00 (25 fps)"),
        (TEXT, ["--ltc", "2", "--start-tc", "25:00:00:00"], "--start-tc"),
    ],
)
def test_ltc_option_mistakes_exit_2(tmp_path, text, args, words):
    song = tmp_path / "song.click"
    song.write_text(text)
    done = subprocess.run(
        [ICTUS, "play", str(song), "-b", "null", "-c", "2", *args],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
