"""A show run live against a real JACK server, a recording peer and a foot switch.

The recorder (``jackserver.Recorder``, plus a MIDI input here) is another JACK client
that keeps what arrives at each frame time. The truths it is held to come from outside
the runner: the stem files read with soundfile and mixed with numpy (float32, the
routing's order), bar lines from arithmetic (120 bpm 4/4: a bar is 96000 frames at 48
kHz; 240 bpm: 48000), and ``ictus show render`` run as its own process. The foot
switch is a third JACK client, in a process of its own, sending MIDI.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from ictus.engine import EventKind
from ictus.engine.backends.jack import JackBackend
from ictus.show import load_show
from ictus.show.live import JackMidi
from ictus.show.model import Control
from ictus.show.runner import ShowRunner
from jackserver import JackServer, Recorder
from showkit import MAPS, speech_cache, write_stem  # noqa: F401  (autouse)

pytestmark = pytest.mark.jack

ICTUS = str(Path(sys.executable).parent / "ictus")
RATE = 48000
BAR_FOUR = 96000  # a 4/4 bar at 120 bpm
BAR_FAST = 48000  # a 4/4 bar at 240 bpm
FOH, DRUMS = (0, 1), (2, 3)

SHOW = """\
title = "Run show"
sample_rate = 48000
setlist = ["four", "fast"]

[outputs]
foh   = { channels = [1, 2], main = true }
drums = { channels = [3, 4] }
keys  = { channels = [5] }

[clicks]
drummer = { sub = 4, voice = "hihat" }

[mixes.foh]
stems = 1.0

[mixes.drums]
click = "drummer"
cues = 0.5
stems = 0.5

[mixes.keys]
cues = 1.0
stems = 0.25

[control]
go = { control = 64 }
vamp = { note = 36, channel = 10 }
release = { note = 38, channel = 10 }
stop = { program = 5 }

[songs.four]
map = "four.click"
advance = 3
cues = [{ at = "chorus", text = "last time" }]
midi = [{ at = "chorus", program = 12, channel = 2 }, { at = "3:2", control = 20, value = 127 }]
stems.bass = { path = "bass.wav", gain = 0.5 }
stems.pad = { path = "pad.flac" }

[songs.fast]
map = "fast.click"
vamps = ["vamp"]
midi = [{ at = 1, program = 7 }]
stems.loop = "loop.wav"
"""

FAST = "title: Fast\ncount-in: 1 bar\nintro: 2 4/4 240\nvamp: 1 4/4 240\nout: 2 4/4 240\n"


def make_run_show(folder: Path) -> Path:
    (folder / "four.click").write_text(MAPS["four.click"])
    (folder / "fast.click").write_text(FAST)
    write_stem(folder / "bass.wav", 16.5, RATE, 1, 1)
    write_stem(folder / "pad.flac", 16.5, RATE, 2, 2)
    write_stem(folder / "loop.wav", 5.5, RATE, 1, 3)
    path = folder / "show.toml"
    path.write_text(SHOW)
    return path


def stems_on_foh(folder: Path) -> np.ndarray:
    """What front of house must hear, from the files: bass x0.5 on both sides plus the
    pad, float32 in the routing's row order (bass, pad left, pad right); (2, frames)."""
    bass, _ = soundfile.read(folder / "bass.wav", dtype="float32", always_2d=True)
    pad, _ = soundfile.read(folder / "pad.flac", dtype="float32", always_2d=True)
    half = bass[:, 0] * np.float32(0.5)
    return np.stack([half + pad[:, 0], half + pad[:, 1]])


def rendered(folder: Path, song: str) -> dict[str, np.ndarray]:
    """``ictus show render``'s files of one song, (channels, frames) each."""
    out = folder / "render"
    proc = subprocess.run(
        [ICTUS, "show", "render", str(folder / "show.toml"), "-o", str(out), "--song", song, "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (sub,) = [p for p in out.iterdir() if p.name.endswith(song)]
    return {
        p.stem: np.ascontiguousarray(soundfile.read(p, dtype="float32", always_2d=True)[0].T)
        for p in sub.glob("*.wav")
    }


class MidiRecorder(Recorder):
    """The recorder with a MIDI input too: ``(frame time, bytes)`` of each message."""

    def __init__(self, server: JackServer, channels: int, seconds: float, name: str) -> None:
        self.events: list[tuple[int, bytes]] = []
        self.midi: Any = None
        super().__init__(server, channels, seconds, name=name)
        self.midi = self.client.midi_inports.register("midi_in")

    def _process(self, frames: int) -> None:
        super()._process(frames)
        if self.midi is not None and self._armed:
            t = self.client.last_frame_time
            for offset, data in self.midi.incoming_midi_events():
                self.events.append((t + offset, bytes(data)))


def first_sound(x: np.ndarray) -> int:
    found = np.flatnonzero(x)
    assert len(found), "no sound at all"
    return int(found[0])


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


# ------------------------------------------ ictus show run, recorded, against the truth


def test_show_run_plays_what_render_writes_stems_on_bar_one_midi_on_its_bar(tmp_path):
    """``ictus show run`` in freewheel into the recorder, both songs (the first
    auto-advances after 3 s): every output is ``ictus show render``'s file sample for
    sample; front of house is the stems and nothing else, bit for bit; the stems start
    on bar 1's sample; the MIDI arrives on its bar's frame; the second song starts
    exactly 3 s after the first one's last frame."""
    show = make_run_show(tmp_path)
    four, fast = rendered(tmp_path, "four"), rendered(tmp_path, "fast")
    length = four["foh"].shape[1]
    # the longest thing in song four: the stems, from bar 1 (2 s) for 16.5 s
    assert length == 2 * RATE + round(16.5 * RATE)

    server = JackServer().start()
    # armed before ictus starts (its start-up may take seconds on a busy machine)
    rec = MidiRecorder(server, 5, 60, name="rec-show")
    proc = None
    freewheel = False
    try:
        rec.arm()
        proc = subprocess.Popen(
            [
                ICTUS,
                "show",
                "run",
                str(show),
                "-b",
                "jack",
                "--client-name",
                "ictus-show-fw",
                "--connect",
                rec.name,
                "--midi-connect",
                rec.name,
                "--read-ahead",
                "30",
            ],
            env=server.env,
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(lambda: rec.client.get_all_connections(rec.ports[4]), 30, "ictus to connect")
        rec.client.set_freewheel(True)
        freewheel = True
        _, err = proc.communicate(timeout=120)
        rec.client.set_freewheel(False)
        freewheel = False
        assert proc.returncode == 0, err
        assert "underrun" not in err, err
    finally:
        if freewheel:
            rec.client.set_freewheel(False)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        rec.close()
        server.stop()

    data = rec.data
    assert rec.origin is not None
    start = first_sound(data[DRUMS[0]]) - first_sound(four["drums"][0])
    assert start >= 0
    # song four, output by output, sample for sample
    for name, channels in (("foh", FOH), ("drums", DRUMS), ("keys", (4,))):
        played = data[list(channels), start : start + length]
        assert np.array_equal(played, four[name]), name
    # front of house: the stems alone (no click, no spoken count), starting on bar 1
    foh = data[list(FOH), start : start + length]
    assert not foh[:, :BAR_FOUR].any()
    truth = stems_on_foh(tmp_path)
    assert np.array_equal(foh[:, BAR_FOUR:], truth)
    assert first_sound(foh[0]) == BAR_FOUR and truth[0, 0] != 0
    # MIDI on the frames of bar 3 beat 2 and of the chorus (bar 7), count-in a bar ahead
    midi = [(t - rec.origin - start, m) for t, m in rec.events]
    assert (BAR_FOUR + 2 * BAR_FOUR + BAR_FOUR // 4, bytes([0xB0, 20, 127])) in midi
    assert (BAR_FOUR + 6 * BAR_FOUR, bytes([0xC1, 12])) in midi
    # song two starts 3 s after song four's last frame, and is its render too
    second = start + length + 3 * RATE
    assert not data[:, start + length : second].any()
    assert first_sound(data[DRUMS[0], start + length :]) + start + length == second + first_sound(
        fast["drums"][0]
    )
    n = fast["drums"].shape[1]
    assert second + n + RATE <= rec.capacity, "ictus took too long to start: raise the capacity"
    for name, channels in (("foh", FOH), ("drums", DRUMS), ("keys", (4,))):
        assert np.array_equal(data[list(channels), second : second + n], fast[name]), name
    assert (BAR_FAST, bytes([0xC0, 7])) in [(t - rec.origin - second, m) for t, m in rec.events]
    assert not data[:, second + n :].any()


def test_a_bad_show_is_refused_before_anything_plays(tmp_path):
    show = make_run_show(tmp_path)
    (tmp_path / "bass.wav").unlink()
    text = show.read_text().replace(
        "[mixes.foh]\nstems = 1.0", "[mixes.foh]\nstems = 1.0\ncues = 0.3"
    )
    show.write_text(text)
    for command in (["check"], ["run", "-b", "null"]):
        proc = subprocess.run(
            [ICTUS, "show", *command, str(show)], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 1
        lines = proc.stderr.splitlines()
        assert len(lines) == 2, proc.stderr
        assert all(line.startswith(f"ictus: error: {show}:") for line in lines)
        assert "cues would reach 'foh'" in proc.stderr and "bass.wav: no such file" in proc.stderr
        assert "Traceback" not in proc.stderr and not proc.stdout


# ----------------------------------------------------- live moves, in-process, real time


@pytest.fixture
def live(jack_server: JackServer, tmp_path: Path) -> Iterator[tuple[ShowRunner, MidiRecorder]]:
    show = load_show(make_run_show(tmp_path))
    rec = MidiRecorder(jack_server, 5, 30, name=f"rec-{tmp_path.name[-6:]}")
    midi = JackMidi()
    backend = JackBackend(client_name="ictus-show-rt", connect=[rec.name], on_client=midi.register)
    runner = ShowRunner(show, backend, midi=midi, read_ahead=20 * RATE)
    rec.arm()
    runner.open()
    try:
        yield runner, rec
    finally:
        runner.close()
        rec.close()


FOOT_SWITCH = textwrap.dedent("""
    import sys, collections, jack
    client = jack.Client("footswitch", no_start_server=True)
    port = client.midi_outports.register("out")
    pending = collections.deque()
    @client.set_process_callback
    def process(frames):
        port.clear_buffer()
        while pending:
            port.write_midi_event(0, pending.popleft())
    client.activate()
    client.connect(port, sys.argv[1])
    print("ready", flush=True)
    for line in sys.stdin:
        pending.append(bytes.fromhex(line.strip()))
""")


def history(runner: ShowRunner, index: int, kind: EventKind) -> list[Any]:
    loaded = runner.loaded(index)
    assert loaded is not None
    return [c for c in loaded.engine.transport.history if c.kind is kind]


def test_foot_switch_goes_vamps_releases_on_the_bar_line_and_stops(live, jack_server, tmp_path):
    """A foot switch (another JACK client, its own process) drives song two: go, vamp
    (the part loops on its bar lines), release (out on the next bar line), stop. The
    recording is the song's render cut and joined at exactly those bar lines."""
    runner, rec = live
    runner.cue(1)
    fast = rendered(tmp_path, "fast")["drums"]
    switch = subprocess.Popen(
        [sys.executable, "-c", FOOT_SWITCH, "ictus-show-rt:midi_in"],
        env=jack_server.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert switch.stdin is not None and switch.stdout is not None
    try:
        assert switch.stdout.readline().strip() == "ready"

        def press(hex_bytes: str) -> None:
            switch.stdin.write(hex_bytes + "\n")  # type: ignore[union-attr]
            switch.stdin.flush()  # type: ignore[union-attr]

        press("b0407f")  # CC 64 down: go
        wait_for(lambda: history(runner, 1, EventKind.START), 5, "go")
        press("992464")  # note 36 on channel 10: vamp
        wait_for(lambda: len(history(runner, 1, EventKind.LOOP)) >= 2, 10, "two wraps")
        press("992664")  # note 38: release
        wait_for(lambda: history(runner, 1, EventKind.JUMP), 5, "the way out")
        time.sleep(0.3)
        press("c005")  # program 5: stop
        wait_for(
            lambda: history(runner, 1, EventKind.STOP), 5, f"stop {runner.heard} {runner.failure}"
        )
        rec.wait_cycles(10)
    finally:
        switch.kill()
        switch.wait()
    heard = [control for _, control in runner.heard]
    assert heard == [Control.GO, Control.VAMP, Control.RELEASE, Control.STOP]

    (started,) = history(runner, 1, EventKind.START)
    wraps = history(runner, 1, EventKind.LOOP)
    (out,) = history(runner, 1, EventKind.JUMP)
    (stopped,) = history(runner, 1, EventKind.STOP)
    go_clock = runner.heard[0][0]
    # the press is acted on by the runner's thread (it polls every 5 ms): not
    # sample-exact, but at once
    assert 0 <= started.clock - go_clock <= RATE // 4
    print(f"\nfoot switch to sound: {1000 * (started.clock - go_clock) / RATE:.1f} ms")
    s = started.clock
    # count-in bar, intro 2 bars: the vamp (bar 3) ends 4 bars after the start
    vamp_end = 4 * BAR_FAST
    for k, wrap in enumerate(wraps):
        assert wrap.clock - s == vamp_end + k * BAR_FAST  # every wrap on the bar line
    passes = (out.clock - s - 3 * BAR_FAST) // BAR_FAST
    assert out.clock - s == 3 * BAR_FAST + passes * BAR_FAST  # out on a bar line
    assert passes == len(wraps) + 1
    # the recording: render up to the vamp's end, the vamp bar again per wrap, then out
    expected = [fast[:, :vamp_end]] + [fast[:, 3 * BAR_FAST : vamp_end]] * len(wraps)
    expected.append(fast[:, vamp_end : vamp_end + stopped.clock - out.clock])
    want = np.concatenate(expected, axis=1)
    assert rec.origin is not None
    a = s - rec.origin
    got = rec.data[list(DRUMS), a : a + want.shape[1]]
    keep = ~rec.suspect()[a : a + want.shape[1]]
    assert keep.mean() > 0.9
    assert np.array_equal(got[:, keep], want[:, keep])
    assert not rec.data[:, a + want.shape[1] : a + want.shape[1] + RATE // 2].any()  # stopped
    # the wraps played the stem from memory: the reader's refills were never waited for
    loaded = runner.loaded(1)
    assert loaded is not None and [s.underruns for s in loaded.plan.stems] == [0]


def test_stems_start_on_bar_one_and_stay_locked_through_a_locate(live, tmp_path):
    """Song one from go: front of house silent to bar 1's sample, then the stem files
    exactly; a locate to the chorus, and the stems play on from the chorus's frame,
    sample for sample, after the reader's refill."""
    runner, rec = live
    runner.go()
    wait_for(lambda: history(runner, 0, EventKind.START), 5, "go")
    loaded = runner.loaded(0)
    assert loaded is not None
    wait_for(lambda: loaded.engine.status().bar >= 2, 10, "bar 2")
    runner.locate("chorus")
    wait_for(lambda: history(runner, 0, EventKind.LOCATE), 5, "the locate")
    time.sleep(1.5)
    runner.stop()
    rec.wait_cycles(10)
    (started,) = history(runner, 0, EventKind.START)
    (moved,) = history(runner, 0, EventKind.LOCATE)
    assert rec.origin is not None
    a, m = started.clock - rec.origin, moved.clock - rec.origin
    suspect = rec.suspect()
    truth = stems_on_foh(tmp_path)
    foh = rec.data[list(FOH)]
    keep = ~suspect[a:m]
    assert keep.mean() > 0.9
    assert not foh[:, a : a + BAR_FOUR][:, keep[:BAR_FOUR]].any()  # the count-in: no click
    assert foh[0, a + BAR_FOUR] != 0 or suspect[a + BAR_FOUR]
    played = foh[:, a + BAR_FOUR : m]
    assert np.array_equal(
        played[:, keep[BAR_FOUR:]], truth[:, : m - a - BAR_FOUR][:, keep[BAR_FOUR:]]
    )
    # after the locate: the chorus (bar 7) from its first sample; silence while the
    # reader refills (counted as underruns), never a sample from anywhere else
    chorus = 6 * BAR_FOUR
    after = foh[:, m : m + RATE]
    sounding = np.flatnonzero(after[0])
    assert len(sounding) > RATE // 2
    gap = int(sounding[0])
    keep = ~suspect[m : m + RATE]
    want = truth[:, chorus : chorus + RATE]
    both = keep & (np.abs(after).sum(axis=0) > 0)
    assert np.array_equal(after[:, both], want[:, both])
    assert np.array_equal(after[:, gap:][:, keep[gap:]], want[:, gap:][:, keep[gap:]])
    print(f"\nrefill after the locate: {gap} frames ({1000 * gap / RATE:.1f} ms)")


def test_stems_go_on_from_the_transport_position_after_real_xruns(live, tmp_path):
    """The show's callback blocks for 20 ms (about four 256-frame periods) four times:
    in the count-in just before bar 1 and three times in the song. The server's
    clock jumps over the lost periods each time; front of house (the stems alone)
    goes on at once from the transport's position, which is the frame time less the
    song's start: what the recorder took there is the stem files' samples, bit for
    bit, and no stem counted an underrun (no block of silence while refilling)."""
    runner, rec = live
    loaded = runner.loaded(0)
    assert loaded is not None
    transport = loaded.engine.transport
    blocks = {"seen": 0}
    stalls = {370, 700, 1000, 1300}  # blocks from go; bar 1 is block 375

    def stall(now: int) -> None:  # in the callback, after the block's commands
        blocks["seen"] += 1
        if blocks["seen"] in stalls:
            time.sleep(0.02)

    transport.hook = stall
    runner.go()
    wait_for(lambda: blocks["seen"] > 1500, 20, "1500 blocks")
    runner.stop()
    rec.wait_cycles(10)
    transport.hook = None
    (started,) = history(runner, 0, EventKind.START)
    skips = history(runner, 0, EventKind.SKIP)
    (stopped,) = history(runner, 0, EventKind.STOP)
    assert len(skips) >= 3, "the server lost no periods: nothing was tested"
    assert [stem.underruns for stem in loaded.plan.stems] == [0, 0]
    assert rec.origin is not None
    a, z = started.clock - rec.origin, stopped.clock - rec.origin
    truth = stems_on_foh(tmp_path)
    foh = rec.data[list(FOH), a:z]
    want = np.zeros_like(foh)
    want[:, BAR_FOUR:] = truth[:, : z - a - BAR_FOUR]  # song frame = frame time - start
    keep = ~rec.suspect()[a:z]
    assert keep.mean() > 0.8
    assert np.array_equal(foh[:, keep], want[:, keep])
    for skip in skips:  # the half second after each jump was heard, and is the files'
        c = skip.clock - rec.origin - a
        after = slice(c, c + RATE // 2)
        assert keep[after].sum() > RATE // 4, skip
        assert np.array_equal(foh[:, after][:, keep[after]], want[:, after][:, keep[after]])
    print(f"\n{len(skips)} xruns, {sum(s.detail for s in skips)} frames lost, 0 underruns")


STEMS_ONLY = """\
title = "Stems only"
sample_rate = 48000
setlist = ["only"]

[speech]
count_in = false
sections = false

[outputs]
foh  = { channels = [1, 2], main = true }
band = { channels = [3, 4] }

[mixes.foh]
stems = 1.0

[mixes.band]
stems = 0.5

[songs.only]
map = "short.click"
stems.bed = "bed.wav"
"""


def test_a_show_of_stems_alone_plays_them_exactly_to_their_last_frame(jack_server, tmp_path):
    """No output carries a click or a word: the song's engine sends its click nowhere
    (no silent click stands in). Both outputs are the stem file, bit for bit (the band
    at half gain), from bar 1's frame (after a count-in bar of 1 s at 240 bpm) to its
    last frame, 1.25 s after the map's last bar, and the song ends on that frame."""
    (tmp_path / "short.click").write_text("count-in: 1 bar\nsong: 2 4/4 240\n")
    bed = write_stem(tmp_path / "bed.wav", 3.25, RATE, 2, 9)
    (tmp_path / "show.toml").write_text(STEMS_ONLY)
    bar1, bars_end = RATE, 3 * RATE  # a 4/4 bar at 240 bpm is a second
    rec = Recorder(jack_server, 4, 10, name=f"rec-{tmp_path.name[-6:]}")
    backend = JackBackend(client_name="ictus-stems-only", connect=[rec.name])
    runner = ShowRunner(load_show(tmp_path / "show.toml"), backend)
    rec.arm()
    runner.open()
    try:
        runner.go()
        assert runner.wait(15)
        rec.wait_cycles(int(0.6 * RATE) // jack_server.period)
        (started,) = history(runner, 0, EventKind.START)
        (ended,) = history(runner, 0, EventKind.END)
        loaded = runner.loaded(0)
        assert loaded is not None
        underruns = [stem.underruns for stem in loaded.plan.stems]
    finally:
        runner.close()
        rec.close()
    assert underruns == [0]
    last = bar1 + len(bed)
    assert last > bars_end and ended.clock - started.clock == last
    assert rec.origin is not None
    a = started.clock - rec.origin
    span = slice(a, a + last + RATE // 2)
    keep = ~rec.suspect()[span]
    assert keep.mean() > 0.8
    want = np.zeros((4, last + RATE // 2), np.float32)
    want[:2, bar1:last] = bed.T
    want[2:, bar1:last] = bed.T * np.float32(0.5)
    assert np.array_equal(rec.data[:, span][:, keep], want[:, keep])
    assert rec.data[0, a + bar1] != 0 or not keep[bar1]
