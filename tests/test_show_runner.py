"""The show runner's control API on the null backend (blocks pulled by the test), the
``[control]`` table of a show file, and the show display on a terminal."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ictus.engine import EventKind, State
from ictus.engine.backends.null import NullBackend
from ictus.errors import ParameterError, ParseError
from ictus.show import load_show
from ictus.show.model import Control, Trigger, TriggerKind
from ictus.show.runner import ShowRunner
from showkit import make_show, speech_cache  # noqa: F401  (autouse)
from terminal import Terminal

ICTUS = str(Path(sys.executable).parent / "ictus")
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")
PERIOD = 256


def test_go_plays_from_the_count_in_and_time_left_counts_down(tmp_path: Path) -> None:
    backend = NullBackend(rate=48000, period=PERIOD)
    with ShowRunner(load_show(make_show(tmp_path)), backend) as runner:
        cued = runner.status()
        assert (cued.song, cued.playing, cued.index) == ("four", False, 0)
        # song four: bar 1 at 2 s, its stems 16.5 s from there: the song's last frame
        assert cued.seconds_left == 18.5
        assert cued.advance == "seven 3 s after the end"
        # "last time" at the chorus, bar 7: six bars of 2 s after bar 1 (at 2 s)
        assert (cued.next_cue, cued.next_cue_in) == ("last time", 14.0)
        with pytest.raises(ParameterError, match="no song is playing"):
            runner.vamp()
        runner.go()
        for _ in range(100):
            backend.pull()
        time.sleep(0.05)  # the runner's thread sees the song on the stage
        status = runner.status()
        assert status.playing and status.engine is not None
        assert status.engine.state is State.PLAYING
        assert status.seconds_left == (888000 - 100 * PERIOD) / 48000
        assert status.next_cue_in == (672000 - 100 * PERIOD) / 48000
        runner.go()  # playing: go does nothing
        runner.stop()
        backend.pull()
        runner.go()  # again from the count-in
        backend.pull()
        loaded = runner.loaded(0)
        assert loaded is not None
        starts = [c for c in loaded.engine.transport.history if c.kind is EventKind.START]
        assert [c.frame for c in starts] == [0, 0]


def test_next_and_previous_stop_and_move_the_cue_within_the_setlist(tmp_path: Path) -> None:
    backend = NullBackend(rate=48000, period=PERIOD)
    with ShowRunner(load_show(make_show(tmp_path)), backend) as runner:
        runner.previous()
        assert runner.status().song == "four"
        runner.next()
        assert (runner.status().song, runner.status().next_song) == ("seven", None)
        assert runner.status().advance == "last song"
        runner.next()
        assert runner.status().index == 1
        runner.go()
        for _ in range(20):
            backend.pull()
        time.sleep(0.05)
        assert runner.status().song == "seven" and runner.status().playing
        runner.previous()
        backend.pull()
        assert runner.status().song == "four" and not runner.status().playing
        assert not np.any(backend.pull())  # stopped: silence


def test_song_numbers_outside_the_setlist_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"song number must be 1\.\.2, got 3"):
        ShowRunner(load_show(make_show(tmp_path)), NullBackend(), start=2)


CONTROL = (
    "[control]\ngo = { control = 64 }\nvamp = [{ note = 36, channel = 10 }, { program = 3 }]\n"
)


def test_control_table_maps_midi_to_controls(tmp_path: Path) -> None:
    show = load_show(make_show(tmp_path, extra=CONTROL))
    assert show.controls == (
        (Trigger(TriggerKind.CONTROL, 64), Control.GO),
        (Trigger(TriggerKind.NOTE, 36, 10), Control.VAMP),
        (Trigger(TriggerKind.PROGRAM, 3), Control.VAMP),
    )


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("[control]\nplay = { control = 64 }\n", "control.play", "unknown key"),
        ("[control]\ngo = { control = 64, note = 3 }\n", "control.go", "exactly one of"),
        ("[control]\ngo = { control = 128 }\n", "control.go", "0..127"),
        ("[control]\ngo = { note = 3, channel = 17 }\n", "control.go", "1..16"),
        ("[control]\ngo = { note = 3 }\nstop = { note = 3 }\n", "control.stop", "already means go"),
    ],
)
def test_control_mistakes_name_their_line(
    tmp_path: Path, text: str, where: str, words: str
) -> None:
    path = make_show(tmp_path, extra=text)
    with pytest.raises(ParseError) as info:
        load_show(path)
    message = info.value.display()
    assert f"{where}:" in message and words in message
    line = next(
        i + 1
        for i, t in enumerate(path.read_text().splitlines())
        if t.startswith(where.split(".")[1])
    )
    assert f"show.toml:{line}:" in message


def test_show_run_on_a_terminal_shows_the_setlist_and_obeys_keys(tmp_path: Path) -> None:
    show = make_show(tmp_path)
    with Terminal([ICTUS, "show", "run", str(show), "-b", "null"], os.environ) as term:

        def wait_for(text: str) -> None:
            term.wait_for(re.escape(text), 20, last=30)

        wait_for("four: cued")
        screen = term.text(30)
        assert "1. four" in screen and "2. seven" in screen and "to the end: 0:19" in screen
        term.press(b"g")
        wait_for("four: playing")
        wait_for("part count-in")
        term.press(b"n")
        wait_for("seven: cued")
        term.press(b"q")
        assert term.proc.wait(timeout=10) == 0
        assert "Traceback" not in term.text()


def test_jump_lands_on_the_next_bar_line_with_its_midi(tmp_path: Path) -> None:
    """Song four (120 bpm 4/4: a bar is 96000 frames, bar 1 at 96000 after the count-in
    bar): a jump to the chorus asked in bar 2 happens on bar 3's line, and the chorus's
    program change goes out on that very frame."""
    backend = NullBackend(rate=48000, period=PERIOD)
    with ShowRunner(load_show(make_show(tmp_path)), backend) as runner:
        runner.go()
        backend.pull()
        time.sleep(0.05)
        clock0 = backend.clock - PERIOD  # the block the song started in
        while backend.clock < clock0 + 2 * 96000 + 1000:  # into bar 2
            backend.pull()
        runner.jump("chorus")
        while backend.clock < clock0 + 4 * 96000:
            backend.pull()
        loaded = runner.loaded(0)
        assert loaded is not None
        (jump,) = [c for c in loaded.engine.transport.history if c.kind is EventKind.JUMP]
        assert jump.clock == clock0 + 3 * 96000  # bar 3's line: count-in, bars 1 and 2
        sent = list(loaded.midi.sent)
        # "3:2" (bar 3 beat 2) is jumped over; the chorus's program change is on the line
        assert sent == [(jump.clock, bytes([0xC1, 12]))]


def test_a_stop_releases_the_notes_sounding(tmp_path: Path) -> None:
    """A note at bar 3 lasting a second; stopped 0.2 s into it: its note-off goes out on
    the stop's frame, not a second later (or never)."""
    path = make_show(tmp_path)
    text = path.read_text().replace(
        'midi = [{ at = "chorus"',
        'midi = [{ at = 3, note = 40, length_ms = 1000 }, { at = "chorus"',
    )
    path.write_text(text)
    backend = NullBackend(rate=48000, period=PERIOD)
    with ShowRunner(load_show(path), backend) as runner:
        runner.go()
        backend.pull()
        time.sleep(0.05)
        clock0 = backend.clock - PERIOD
        bar3 = clock0 + 3 * 96000  # count-in, bars 1 and 2
        while backend.clock < bar3 + 9600:
            backend.pull()
        runner.stop()
        backend.pull()
        loaded = runner.loaded(0)
        assert loaded is not None
        (stop,) = [c for c in loaded.engine.transport.history if c.kind is EventKind.STOP]
        notes = [(t, m) for t, m in loaded.midi.sent if m[0] & 0xE0 == 0x80]
        assert notes == [(bar3, bytes([0x90, 40, 100])), (stop.clock, bytes([0x80, 40, 0]))]


def test_go_in_the_gap_before_an_auto_advance_starts_the_next_song_now(tmp_path: Path) -> None:
    backend = NullBackend(rate=48000, period=PERIOD)
    with ShowRunner(load_show(make_show(tmp_path)), backend) as runner:
        runner.go()
        backend.pull()
        time.sleep(0.05)
        clock0 = backend.clock - PERIOD
        while backend.clock < clock0 + 888000 + 48000:  # the end, and a second of the gap
            backend.pull()
        time.sleep(0.05)
        runner.go()
        at = backend.clock
        backend.pull()
        time.sleep(0.05)
        assert runner.status().song == "seven" and runner.status().playing
        seven = runner.loaded(1)
        assert seven is not None
        (start,) = [c for c in seven.engine.transport.history if c.kind is EventKind.START]
        assert start.clock == at  # now, not 3 s after the end


def foh_truth(folder: Path) -> np.ndarray:
    """Front of house of song four from the files: bass x0.5 plus the pad, float32 in
    the routing's row order (bass, pad left, pad right); (2, frames) from bar 1."""
    bass, _ = soundfile.read(folder / "bass.wav", dtype="float32", always_2d=True)
    pad, _ = soundfile.read(folder / "pad.flac", dtype="float32", always_2d=True)
    half = bass[:, 0] * np.float32(0.5)
    return np.stack([half + pad[:, 0], half + pad[:, 1]])


def test_after_an_xrun_the_stems_go_on_from_the_transport_position(tmp_path: Path) -> None:
    """The backend's clock jumps, as JACK's does around an xrun: ahead over the periods
    lost (1, 3 and 7 periods, an odd 1000 frames, and 3 in the count-in just before
    bar 1, where the stems start), and back (the same period again, three periods).
    Front of house (the stems alone) plays, from the very first block after each
    jump, the stem files' samples at the transport's position (the song frame of that
    clock: count-in bar, then bar 1 at 96000), bit for bit: the lost frames are the
    only ones missing, no block is silence while a reader refills (no underrun)."""
    path = make_show(tmp_path)
    truth = foh_truth(tmp_path)
    bar1 = 96000
    # frames the clock jumps by before block number k (negative: back)
    jumps = {352: 3 * PERIOD, 782: PERIOD, 900: -PERIOD, 901: PERIOD, 1172: 7 * PERIOD}
    jumps |= {1400: -3 * PERIOD, 1563: 1000}
    backend = NullBackend(rate=48000, period=PERIOD)
    # read-ahead of the whole song: what is checked is where the stems read from, not
    # whether a reader keeps up with a test pulling blocks faster than real time
    with ShowRunner(load_show(path), backend, read_ahead=20 * 48000) as runner:
        runner.go()
        played: list[tuple[int, np.ndarray]] = []
        clock0 = backend.clock
        for k in range(1950):
            lost = jumps.get(k, 0)
            at = backend.clock + lost
            played.append((at - clock0, backend.pull(skip=lost)[:, :2].copy()))
        loaded = runner.loaded(0)
        assert loaded is not None
        skips = [c for c in loaded.engine.transport.history if c.kind is EventKind.SKIP]
        underruns = [stem.underruns for stem in loaded.plan.stems]
    assert [(c.clock - clock0, c.detail) for c in skips] == [
        (played[k][0], lost) for k, lost in sorted(jumps.items())
    ]
    assert underruns == [0, 0]
    for frame, block in played:
        want = np.zeros((len(block), 2), np.float32)
        lo, hi = max(frame, bar1), frame + len(block)
        if hi > lo:
            want[lo - frame :] = truth[:, lo - bar1 : hi - bar1].T
        assert np.array_equal(block, want), frame
