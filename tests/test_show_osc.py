"""``ictus show run --osc``: the setlist driven by a real OSC client, the show in its own
process (the default) and with ``--in-process``.

The peers are python-osc's own client (``SimpleUDPClient``) and servers on 127.0.0.1,
talking to ``ictus show run`` started as a command. Truths, from outside the show:
the show file's setlist and maps (song names, positions, the part a jump lands in, its
first bar, counted from the map text); the counts of what the test sent; and, through a
real JACK server (dummy driver) and a recording client, bar lines and click onsets from
exact arithmetic (``Fraction``: a 4/4 bar at 240 bpm is 48000 frames, a 3/4 beat at 180
bpm 16000) and ``ictus show render``'s file of the song, cut at those bar lines.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.udp_client import SimpleUDPClient

from ictus.engine.backends.null import NullBackend
from ictus.remote.osc import encode
from ictus.remote.setlist import ADDRESSES, SHOW_STATUS_FIELDS, WATCH, SetlistRemote
from ictus.show import load_show
from ictus.show.runner import ShowRunner
from jackserver import JackServer, Recorder
from showkit import speech_cache  # noqa: F401  (autouse)
from terminal import as_at_a_terminal
from test_osc import Subscriber
from test_show_run import ICTUS

RATE = 48000

SHOW = """\
title = "OSC show"
sample_rate = 48000
setlist = ["one", "two"]

[speech]
count_in = false
sections = false

[outputs]
foh  = { channels = [1], main = true }
band = { channels = [2] }

[mixes.band]
click = true

[songs.one]
map = "one.click"

[songs.two]
map = "two.click"
vamps = ["vamp"]
"""

# the parts a test tells apart by their samples have their own accent patterns
ONE = "count-in: 1 bar\nintro: 1 4/4 240\nverse: 2 4/4 240\nchorus: 2 4/4 240 X.X.\n"
TWO = "count-in: 1 bar\na: 1 3/4 180\nvamp: 1 3/4 180 Xx.\nout: 1 3/4 180 X.x\n"


def frames(seconds: Fraction) -> int:
    exact = seconds * RATE
    assert exact.denominator == 1
    return int(exact)


# from the map text: a 4/4 bar at 240 bpm, a 3/4 bar and beat at 180 bpm
BAR_ONE = frames(Fraction(4 * 60, 240))
BEAT_ONE = frames(Fraction(60, 240))
BAR_TWO = frames(Fraction(3 * 60, 180))
BEAT_TWO = frames(Fraction(60, 180))
CHORUS_BAR = 1 + 1 + 2  # bar 1 the intro, bars 2-3 the verse: the chorus is bar 4
CHORUS = 1 + 1 + 2  # the bars before it in the song, its count-in bar included
VAMP = (2 * BAR_TWO, 3 * BAR_TWO)  # song two: count-in, a, then the vamp bar


def make_osc_show(folder: Path) -> Path:
    (folder / "one.click").write_text(ONE)
    (folder / "two.click").write_text(TWO)
    path = folder / "show.toml"
    path.write_text(SHOW)
    return path


class Show:
    """``ictus show run SHOW --osc 0 ...`` as a process, its stderr read on a thread;
    ``port`` is the one it printed."""

    def __init__(self, show: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [ICTUS, "show", "run", str(show), "--osc", "0", *args],
            env=env or os.environ.copy(),
            preexec_fn=as_at_a_terminal,  # stopped with Ctrl-C
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        port = self.wait_line(r"OSC control on 127\.0\.0\.1:(\d+)", 60)
        self.port = int(port.group(1))
        self.client = SimpleUDPClient("127.0.0.1", self.port)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = re.search(pattern, line)
                if found:
                    return found
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no line {pattern!r} in {self.lines}")

    def send(self, address: str, *args: Any) -> None:
        self.client.send_message(address, list(args))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(5)
        return code


class Replies(Subscriber):
    """Where ``/ictus/show/status PORT`` replies go: :meth:`ask` sends one and returns
    the reply as a dict of :data:`SHOW_STATUS_FIELDS`."""

    def ask(self, show: Show) -> dict[str, Any]:
        seen = len(self.of("/ictus/show/status"))
        show.send("/ictus/show/status", self.port)
        deadline = time.monotonic() + 5
        while len(self.of("/ictus/show/status")) <= seen:
            assert time.monotonic() < deadline, "no status reply"
            time.sleep(0.005)
        reply = self.of("/ictus/show/status")[seen]
        return dict(zip(SHOW_STATUS_FIELDS, reply, strict=True))

    def until(self, show: Show, what: str, test: Any, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.ask(show)
            if test(status):
                return status
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {status}"
            time.sleep(0.02)


@pytest.fixture
def replies() -> Iterator[Replies]:
    sub = Replies()
    yield sub
    sub.close()


MODES = [pytest.param([], id="own-process"), pytest.param(["--in-process"], id="in-process")]


# --------------------------------------------------- null backend: status as the truth


@pytest.mark.parametrize("mode", MODES)
def test_each_control_moves_the_setlist(tmp_path, replies, mode):
    """next, previous and cue move the cue through the setlist; go plays; a jump lands
    in the chorus on its first bar; vamp loops song two's vamp part, release leaves it
    into the next part; stop stops. Subscribers get the status on each change."""
    pushes = Subscriber()
    show = Show(
        make_osc_show(tmp_path), "-b", "null", "--osc-send", f"127.0.0.1:{pushes.port}", *mode
    )
    try:
        show.wait_line("waits for go over OSC", 30)
        first = replies.ask(show)
        assert (first["position"], first["songs"], first["song"]) == (1, 2, "one")
        assert (first["state"], first["next_song"]) == ("cued", "two")
        assert first["then"] == "waits for go, then two"
        show.send("/ictus/show/next")
        status = replies.ask(show)
        assert (status["position"], status["song"], status["state"]) == (2, "two", "cued")
        assert (status["next_song"], status["then"]) == ("", "last song")
        time.sleep(3 * WATCH)  # held long enough for the subscribers' look
        show.send("/ictus/show/previous", 1.0)  # a button's press
        show.send("/ictus/show/next", 0.0)  # ... and a release: nothing
        assert replies.ask(show)["song"] == "one"
        show.send("/ictus/show/cue", "two")
        assert replies.ask(show)["song"] == "two"
        show.send("/ictus/show/cue", 1)
        assert replies.ask(show)["song"] == "one"

        # song one: go, and a jump to the chorus at the next bar line
        show.send("/ictus/show/go")
        replies.until(show, "song one playing", lambda s: s["state"] == "playing")
        show.send("/ictus/show/jump", "chorus")
        landed = replies.until(show, "the chorus", lambda s: s["part"] == "chorus")
        # landed on the chorus's first bar (its sample: the JACK test below)
        assert landed["bar"] == CHORUS_BAR, landed
        time.sleep(3 * WATCH)
        show.send("/ictus/show/stop")
        stopped = replies.until(show, "stop", lambda s: s["state"] == "cued")
        assert stopped["song"] == "one"

        # song two: go, vamp (its vamp part, ahead), release into "out"
        show.send("/ictus/show/next")
        show.send("/ictus/show/go")
        replies.until(show, "song two playing", lambda s: s["state"] == "playing")
        show.send("/ictus/show/vamp")
        looping = replies.until(show, "the vamp", lambda s: s["vamp"] == "vamp")
        assert looping["song"] == "two"
        seen = replies.until(show, "the vamp part", lambda s: s["part"] == "vamp")
        assert seen["vamp"] == "vamp"
        time.sleep(1.5)  # a bar and a half: it has wrapped at least once
        held = replies.ask(show)
        assert (held["part"], held["vamp"]) == ("vamp", "vamp"), held
        show.send("/ictus/show/release")
        out = replies.until(show, "out", lambda s: s["part"] == "out", timeout=5)
        assert (out["bar"], out["vamp"]) == (3, ""), out  # the bar after the vamp
        done = replies.until(show, "the end", lambda s: s["state"] == "finished")
        assert done["song"] == "two"
        deadline = time.monotonic() + 5
        while not any(m[3] == "finished" for m in pushes.of("/ictus/show/status")):
            assert time.monotonic() < deadline, "the end was not pushed"
            time.sleep(0.01)
    finally:
        code = show.stop()
        pushes.close()
    assert code == 130, show.lines
    assert not [x for x in show.lines if "Traceback" in x or "error" in x], show.lines
    pushed = [
        dict(zip(SHOW_STATUS_FIELDS, m, strict=True)) for m in pushes.of("/ictus/show/status")
    ]
    songs = [(p["song"], p["state"]) for p in pushed]
    # the changes that lasted a look (every WATCH seconds), in order
    assert songs[0] == ("one", "cued")
    assert ("two", "cued") in songs and ("one", "playing") in songs
    assert ("two", "playing") in songs and songs[-1] == ("two", "finished")
    assert any(p["part"] == "chorus" for p in pushed)
    assert any(p["vamp"] == "vamp" for p in pushed)


@pytest.mark.parametrize("mode", MODES)
def test_garbage_is_counted_and_ignored_and_the_show_plays_on(tmp_path, replies, mode):
    """Not OSC, wrong arguments, addresses the show does not have and controls the show
    refuses: each counted once as what it is, none stops the show, and the status
    reply says how many were ignored."""
    show = Show(make_osc_show(tmp_path), "-b", "null", *mode)
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        show.wait_line("waits for go over OSC", 30)
        refused = [
            ("/ictus/show/vamp",),  # nothing playing
            ("/ictus/show/jump", "chorus"),  # nothing playing
            ("/ictus/show/cue", 3),  # two songs
            ("/ictus/show/cue", "three"),
        ]
        malformed = [
            ("/ictus/show/jump",),
            ("/ictus/show/jump", 2.5),
            ("/ictus/show/cue", 0),
            ("/ictus/show/go", "now"),
            ("/ictus/show/locate", ""),
            ("/ictus/show/vamp", "a", "b"),
        ]
        unknown = [("/ictus/play",), ("/ictus/show/nope",), ("/ictus/show",)]
        for message in refused + malformed + unknown:
            show.send(*message)
        garbage = [b"", b"\x00\x01\x02", b"\xff" * 16, b"#bundle\x00" + bytes(8)]
        for data in garbage:
            raw.sendto(data, ("127.0.0.1", show.port))
        ignored = len(refused) + len(malformed) + len(unknown) + len(garbage)
        status = replies.until(show, "all counted", lambda s: s["osc_ignored"] >= ignored)
        assert status["osc_ignored"] == ignored
        assert (status["song"], status["state"]) == ("one", "cued")
        show.send("/ictus/show/go")
        playing = replies.until(show, "go", lambda s: s["state"] == "playing")
        show.send("/ictus/show/jump", "nowhere")  # refused: no such part
        show.send("/ictus/show/jump", 99)  # refused: the map has 5 bars
        after = replies.until(show, "two more", lambda s: s["osc_ignored"] == ignored + 2)
        assert after["state"] == "playing" and after["song"] == playing["song"]
    finally:
        raw.close()
        code = show.stop()
    assert code == 130
    counts = f"({len(malformed) + len(garbage)} malformed, {len(unknown)} unknown, "
    counts += f"{len(refused) + 2} refused)"
    assert f"ictus: OSC: ignored {ignored + 2} message(s) {counts}" in show.lines, show.lines
    assert not [x for x in show.lines if "Traceback" in x], show.lines


def test_on_a_terminal_osc_and_the_keys_drive_the_same_show(tmp_path):
    """The display shows the OSC server's line (where it listens, what it counted);
    an OSC go plays the cued song, the display's ``n`` cues the next one, which the
    status reply then names."""
    from terminal import Terminal

    replies = Replies()
    cmd = [ICTUS, "show", "run", str(make_osc_show(tmp_path)), "-b", "null", "--osc", "0"]
    try:
        with Terminal(cmd, os.environ) as term:
            term.wait_for(r"osc: on 127\.0\.0\.1:\d+ · 0 received", 30)
            found = re.search(r"osc: on 127\.0\.0\.1:(\d+)", term.text())
            assert found is not None
            client = SimpleUDPClient("127.0.0.1", int(found.group(1)))
            client.send_message("/ictus/show/go", [])
            term.wait_for("one: playing", 10)
            client.send_message("/ictus/show/nope", [])
            term.wait_for("2 received · 1 ignored", 10)
            term.press(b"n")
            term.wait_for("two: cued", 10)
            seen = len(replies.of("/ictus/show/status"))
            client.send_message("/ictus/show/status", [replies.port])
            deadline = time.monotonic() + 5
            while len(replies.of("/ictus/show/status")) <= seen:
                assert time.monotonic() < deadline, "no status reply"
                time.sleep(0.005)
            reply = replies.of("/ictus/show/status")[-1]
            status = dict(zip(SHOW_STATUS_FIELDS, reply, strict=True))
            assert (status["position"], status["song"], status["state"]) == (2, "two", "cued")
            term.press(b"q")
            assert term.proc.wait(timeout=15) == 0
            assert "Traceback" not in term.text()
    finally:
        replies.close()


# ------------------------------------------------------------ any datagram at all

OSC_VALUES = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.floats(width=32, allow_nan=False),
    st.sampled_from(["", "one", "two", "chorus", "vamp", "out", "nowhere"]),
    st.text(alphabet=st.characters(codec="ascii", exclude_characters="\0"), max_size=8),
    st.booleans(),
)


@pytest.fixture(scope="module")
def idle_setlist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SetlistRemote]:
    """A real runner on the null backend that nothing drives (no audio thread): the
    controls act on it, the transport never moves."""
    show = load_show(make_osc_show(tmp_path_factory.mktemp("osc-show")))
    with ShowRunner(show, NullBackend(rate=RATE, period=256)) as runner:
        yield SetlistRemote(runner)  # handle() called directly: no socket needed


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=200))
def test_any_bytes_are_one_datagram_and_never_raise(idle_setlist, data):
    received, before = idle_setlist.counts.received, idle_setlist.counts.outcomes
    idle_setlist.handle(data, ("127.0.0.1", 9))
    assert idle_setlist.counts.received == received + 1
    assert idle_setlist.counts.outcomes >= before + 1


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from([a for a in ADDRESSES if a != "/ictus/show/status"]),
    st.lists(OSC_VALUES, max_size=3),
)
def test_any_arguments_to_any_address_are_one_outcome(idle_setlist, address, args):
    before = idle_setlist.counts.outcomes
    idle_setlist.handle(encode(address, args), ("127.0.0.1", 9))
    assert idle_setlist.counts.outcomes == before + 1
    status = idle_setlist.show.status()  # the show still answers, on a song of its own
    assert status.song in ("one", "two")


def test_every_address_is_documented():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    doc = (Path(__file__).resolve().parent.parent / "docs" / "SHOW.md").read_text()
    for address in ADDRESSES:
        assert f"`{address}`" in readme and f"`{address}`" in doc, address


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--osc-send", "9000"], "--osc-send: expected HOST:PORT"),
        (["--osc", "70000"], "--osc: a UDP port"),
        (["--osc-host", "0.0.0.0"], "--osc-host needs --osc"),
    ],
)
def test_osc_option_mistakes_exit_2(tmp_path, args, words):
    done = subprocess.run(
        [ICTUS, "show", "run", str(make_osc_show(tmp_path)), "-b", "null", *args],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False,
    )
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_is_one_line_and_nothing_left(tmp_path):
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    try:
        done = subprocess.run(
            [ICTUS, "show", "run", str(make_osc_show(tmp_path)), "-b", "null",
             "--osc", str(taken.getsockname()[1])],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False,
        )
    finally:
        taken.close()
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "OSC: cannot listen on 127.0.0.1" in lines[0], lines


# --------------------------------------------- JACK: the recording against the truth


def rendered_band(folder: Path, song: str) -> np.ndarray:
    """``ictus show render``'s band output of one song (mono: channel 2)."""
    out = folder / "render"
    proc = subprocess.run(
        [ICTUS, "show", "render", str(folder / "show.toml"), "-o", str(out), "--song", song,
         "-q"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (sub,) = [p for p in out.iterdir() if p.name.endswith(song)]
    data, rate = soundfile.read(sub / "band.wav", dtype="float32", always_2d=True)
    assert rate == RATE
    return np.ascontiguousarray(data[:, 0])


def onsets(x: np.ndarray, gap: int = 2000) -> list[int]:
    """Where a click starts: a sound after at least ``gap`` silent samples."""
    loud = np.flatnonzero(x)
    if not len(loud):
        return []
    starts = [int(loud[0])]
    starts += [int(b) for a, b in itertools.pairwise(loud.tolist()) if b - a > gap]
    return starts


def same(got: np.ndarray, want: np.ndarray, keep: np.ndarray) -> bool:
    """Equal, sample for sample, where the recording can be trusted."""
    return got.shape == want.shape and bool(np.array_equal(got[keep], want[keep]))


@pytest.mark.jack
@pytest.mark.parametrize("mode", MODES)
def test_osc_drives_the_show_through_jack_on_its_bar_lines(tmp_path, replies, mode):
    """Over OSC: next, go (song two's first clicks on its 180 bpm beats), vamp (every
    wrap on the vamp's bar lines), release (out at the bar line into the part after),
    the song to its end; previous, go, jump to the chorus (on a bar line, from the
    chorus's first sample), stop. The recording is the rendered songs cut exactly
    there."""
    show_path = make_osc_show(tmp_path)
    one, two = rendered_band(tmp_path, "one"), rendered_band(tmp_path, "two")
    # the truth of the renders' clicks: the maps' beats, from exact arithmetic
    o2, o1 = onsets(two), onsets(one)
    assert o2[0] < 64 and o1[0] < 64  # the count-in's first click on the song's start
    assert [o - o2[0] for o in o2[:4]] == [0, BEAT_TWO, 2 * BEAT_TWO, BAR_TWO]
    assert [o - o1[0] for o in o1[:5]] == [0, BEAT_ONE, 2 * BEAT_ONE, 3 * BEAT_ONE, BAR_ONE]
    assert len(two) < 4 * BAR_TWO + RATE // 2 and len(one) < (CHORUS + 2) * BAR_ONE + RATE // 2

    server = JackServer().start()
    rec = Recorder(server, 2, 120, name="rec-osc")
    client = f"ictus-osc-{len(mode)}"
    show = None
    try:
        rec.arm()
        show = Show(
            show_path, "-b", "jack", "--client-name", client, "--connect", rec.name,
            *mode, env=server.env,
        )
        show.wait_line("waits for go over OSC", 30)
        show.send("/ictus/show/next")
        assert replies.ask(show)["song"] == "two"
        show.send("/ictus/show/go")
        replies.until(show, "two playing", lambda s: s["state"] == "playing")
        show.send("/ictus/show/vamp")
        replies.until(show, "a wrap", lambda s: s["part"] == "vamp" and s["bar"] == 2)
        time.sleep(2.2)  # two wraps more
        show.send("/ictus/show/release")
        replies.until(show, "the end", lambda s: s["state"] == "finished", timeout=15)
        time.sleep(0.5)
        mark = len(rec.cycles)
        show.send("/ictus/show/previous")
        show.send("/ictus/show/go")
        replies.until(show, "one playing", lambda s: s["state"] == "playing")
        show.send("/ictus/show/jump", "chorus")
        replies.until(show, "the chorus", lambda s: s["part"] == "chorus")
        time.sleep(1.5)  # the chorus's first bar (1 s) played whole
        show.send("/ictus/show/stop")
        replies.until(show, "stopped", lambda s: s["state"] == "cued")
        rec.wait_cycles(40)
    finally:
        code = show.stop() if show is not None else None
        rec.close()
        server.stop()
    assert code == 130, show.lines if show is not None else None
    assert rec.origin is not None
    band = rec.data[1]
    keep = ~rec.suspect()
    assert not rec.data[0].any()  # front of house: no click, ever
    split = rec.cycles[mark] - rec.origin  # before it: song two; after it: song one

    # song two: its count-in and part a, the vamp bar once per pass, then "out" to the end
    s2 = onsets(band[:split])[0] - o2[0]
    first = band[s2 : s2 + VAMP[1]]
    assert same(first, two[: VAMP[1]], keep[s2 : s2 + VAMP[1]])
    found = []
    for wraps in range(1, 12):
        a = s2 + VAMP[1] + wraps * BAR_TWO
        looped = band[s2 + VAMP[1] : a]
        out = band[a : a + len(two) - VAMP[1]]
        if same(looped, np.tile(two[VAMP[0] : VAMP[1]], wraps), keep[s2 + VAMP[1] : a]) and same(
            out, two[VAMP[1] :], keep[a : a + len(two) - VAMP[1]]
        ):
            found.append(wraps)
    assert len(found) == 1 and found[0] >= 2, found  # a whole number of wraps
    end = s2 + VAMP[1] + found[0] * BAR_TWO + len(two) - VAMP[1]
    assert not band[end:split].any()
    assert keep[s2:end].mean() > 0.8

    # song one: from its start to a bar line k, then the chorus from its first sample
    s1 = split + onsets(band[split:])[0] - o1[0]
    chorus = CHORUS * BAR_ONE
    landed = [
        k
        for k in range(1, CHORUS)
        if same(band[s1 : s1 + k * BAR_ONE], one[: k * BAR_ONE], keep[s1 : s1 + k * BAR_ONE])
        and same(
            band[s1 + k * BAR_ONE : s1 + k * BAR_ONE + BAR_ONE],
            one[chorus : chorus + BAR_ONE],
            keep[s1 + k * BAR_ONE : s1 + k * BAR_ONE + BAR_ONE],
        )
    ]
    assert len(landed) == 1, landed
    assert keep[s1 : s1 + (landed[0] + 1) * BAR_ONE].mean() > 0.8
