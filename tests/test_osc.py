"""OSC remote control and events, with real python-osc peers on 127.0.0.1.

(Hypothesis feeds the server any bytes and any arguments: each datagram is counted once
and nothing raises.)

The engine runs on the null backend, driven by pulling blocks from the test thread; the
peers are python-osc's own client (``SimpleUDPClient``) and server
(``BlockingOSCUDPServer``), separate sockets talking over loopback. Truth: what the map
says (bars, labels, tempi written in it), the grid built from the map (every click's
bar, beat and level), the offline render (the audio must not change for garbage), and
the counts of what the test sent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

from ictus.engine import Engine, State
from ictus.engine.backends.null import NullBackend
from ictus.formats import parse_click
from ictus.remote import OscRemote
from ictus.remote.osc import ADDRESSES, STATUS_FIELDS, encode
from ictus.render import render_file
from ictus.sounds import synth_voice
from ictus.tempomap import build_grid

RATE = 48000
VOICE = synth_voice("woodblock", RATE)
TEXT = """\
count-in: 1 bar
intro:  2 4/4 120 cue="Lights down"
verse:  4 4/4 120 X.x.
chorus: 4 4/4 132 sub=2 cue@3.1="Big finish"
bridge: 2 7/8 (2+2+3) e=300
"""
SONG = parse_click(TEXT)


def until(predicate: Callable[[], bool], what: str, pull: Any = None, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        if pull is not None:
            pull()
        time.sleep(0.002)


class Subscriber:
    """A python-osc server that keeps every message it gets, in order of arrival."""

    def __init__(self) -> None:
        self.messages: list[tuple[Any, ...]] = []
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(
            lambda address, *args: self.messages.append((address, *args))
        )
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
        # a burst of beats (a fast pull) must not overflow the socket
        self.server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))
        self.thread.start()

    def of(self, address: str) -> list[tuple[Any, ...]]:
        return [m[1:] for m in self.messages if m[0] == address]

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    sub = Subscriber()
    yield sub
    sub.close()


@pytest.fixture
def rig() -> Iterator[tuple[Engine, NullBackend, OscRemote, SimpleUDPClient]]:
    backend = NullBackend(rate=RATE, period=256)
    with Engine(SONG, backend, voice=VOICE) as engine, OscRemote(engine, port=0) as remote:
        client = SimpleUDPClient(*remote.address)
        yield engine, backend, remote, client


def settle(remote: OscRemote, count: int) -> None:
    """Wait until the server has handled ``count`` one-message datagrams in all: done
    or ignored, so the engine has the request (``received`` is counted before that)."""
    counts = remote.counts
    until(lambda: counts.done + counts.ignored >= count, f"{count} datagrams handled")


# ------------------------------------------------------------ control


def test_each_address_moves_the_engine_as_its_request(rig):
    engine, backend, remote, client = rig
    sent = 0

    def send(address: str, *args: Any) -> None:
        nonlocal sent
        client.send_message(address, list(args))
        sent += 1
        settle(remote, sent)

    def status() -> Any:
        backend.pull()  # the command applied and published
        return engine.status()

    tm = SONG
    send("/ictus/locate", 5)
    assert (status().state, status().bar) == (State.STOPPED, 5)
    send("/ictus/locate", "chorus")
    assert status().bar == 7 and status().section == "chorus"  # 2 + 4 bars before it
    send("/ictus/locate", 3.0)  # a fader's float
    assert status().bar == 3
    send("/ictus/step", 2)
    assert status().bar == 5
    send("/ictus/scale", 90)
    assert status().scale_percent == 90.0 and status().tempo == pytest.approx(108)
    send("/ictus/nudge", -5.0)
    assert status().scale_percent == 85.0
    send("/ictus/scale", "100")
    assert status().scale_percent == 100.0
    send("/ictus/loop", "verse")
    assert status().loop == "verse"
    send("/ictus/loop")
    assert status().loop is None
    send("/ictus/play")
    for _ in range(10):
        backend.pull()
    # the count-in into bar 5, then bar 5
    assert status().state == State.PLAYING and status().count_in and status().bar == 0
    until(lambda: engine.status().bar == 5, "bar 5", pull=backend.pull)
    send("/ictus/jump", "bridge")
    assert status().jump == tm.first_bar_of(3) == 11
    until(lambda: engine.status().section == "bridge", "the jump", pull=backend.pull)
    assert status().bar == 11 and status().beat == 1
    send("/ictus/pause", 1.0)  # a button's press
    assert status().state == State.PAUSED
    paused_at = status().frame
    send("/ictus/continue", 0.0)  # ...and its release: nothing
    assert status().state == State.PAUSED and status().frame == paused_at
    send("/ictus/continue")
    assert status().state == State.PLAYING
    send("/ictus/stop")
    assert status().state == State.STOPPED
    assert remote.counts.done == sent and remote.counts.ignored == 0
    assert set(ADDRESSES) >= {
        "/ictus/play", "/ictus/stop", "/ictus/pause", "/ictus/continue", "/ictus/locate",
        "/ictus/jump", "/ictus/loop", "/ictus/scale", "/ictus/tap", "/ictus/status",
    }  # fmt: skip


def test_taps_set_the_scale_from_their_spacing(rig):
    engine, backend, remote, client = rig
    client.send_message("/ictus/play", [])
    settle(remote, 1)
    for _ in range(400):  # into bar 1 at 120 bpm: a beat is 0.5 s
        backend.pull()
    t0 = time.monotonic()
    client.send_message("/ictus/tap", [])
    settle(remote, 2)
    time.sleep(0.4 - (time.monotonic() - t0))
    client.send_message("/ictus/tap", [])
    t1 = time.monotonic()
    settle(remote, 3)
    backend.pull()
    # the taps' spacing as the sender made it: 0.4 s for a 0.5 s beat is 125 %
    want = 100 * 0.5 / (t1 - t0)
    assert engine.status().scale_percent == pytest.approx(want, rel=0.03)


def test_status_replies_to_the_sender_with_every_field(rig):
    _, _, _, client = rig
    client.send_message("/ictus/locate", "verse")
    client.send_message("/ictus/scale", 50)
    client.send_message("/ictus/status", [])
    replies = list(client.get_messages(5))
    assert len(replies) == 1 and replies[0].address == "/ictus/status"
    fields = dict(zip(STATUS_FIELDS, replies[0].params, strict=True))
    # from the map's text: verse is bars 3-6, 4/4 at 120, then the chorus; no cue in it
    assert fields["state"] == "stopped" and fields["bar"] == 3 and fields["beat"] == 1
    assert fields["beats"] == 4 and fields["section"] == "verse"
    assert fields["next_section"] == "chorus"
    assert fields["tempo"] == 60.0 and fields["scale_percent"] == 50.0
    assert fields["count_in"] == 0 and fields["loop"] == "" and fields["jump"] == 0
    assert fields["rate"] == RATE and fields["cue"] == "" and fields["next_cue"] == "Big finish"
    assert fields["osc_ignored"] == 0
    # a reply port of its own: to a python-osc server on the sender's host
    sub = Subscriber()
    try:
        client.send_message("/ictus/status", sub.port)
        until(lambda: sub.of("/ictus/status"), "the reply on the other port")
        assert sub.of("/ictus/status")[0][4] == "verse"
    finally:
        sub.close()


# ------------------------------------------------------------ events


def test_events_follow_the_grid_beat_for_beat(subscriber):
    backend = NullBackend(rate=RATE, period=256)
    engine = Engine(SONG, backend, voice=VOICE)
    with engine, OscRemote(engine, send_to=[("127.0.0.1", subscriber.port)]):
        engine.start()
        while engine.status().state != State.ENDED:
            for _ in range(50):
                backend.pull()
            time.sleep(0.001)
        grid = build_grid(SONG)
        beats = grid.sub == 0
        want = list(
            zip(
                grid.bar[beats].tolist(),
                grid.beat[beats].tolist(),
                [name for name, b in zip(grid.level_names(), beats, strict=True) if b],
                [grid.section_names[s] for s in grid.section[beats]],
                strict=True,
            )
        )
        until(lambda: len(subscriber.of("/ictus/beat")) >= len(want), "every beat", timeout=10)
        until(lambda: ("/ictus/state", "ended") in subscriber.messages, "the end")
    assert subscriber.of("/ictus/beat") == want
    assert len(want) == 4 + 8 + 16 + 16 + 2 * 3  # the count-in, then each section's beats
    assert ("/ictus/beat", 3, 2, "silent", "verse") in subscriber.messages  # X.x.
    # sections in the order they sound (the count-in is one of its own)
    sections = [s for (s,) in subscriber.of("/ictus/section")]
    assert sections == ["count-in", "intro", "verse", "chorus", "bridge"]
    assert subscriber.of("/ictus/cue") == [("Lights down",), ("Big finish",)]
    assert subscriber.of("/ictus/state") == [("playing",), ("ended",)]
    # each cue arrives before the beat it is on
    order = [m for m in subscriber.messages if m[0] in ("/ictus/cue", "/ictus/beat")]
    finish = order.index(("/ictus/cue", "Big finish"))
    assert order[finish + 1] == ("/ictus/beat", 9, 1, "accent", "chorus")


def test_state_changes_are_sent_once_each(subscriber):
    backend = NullBackend(rate=RATE, period=256)
    engine = Engine(SONG, backend, voice=VOICE)
    with engine, OscRemote(engine, send_to=[("127.0.0.1", subscriber.port)]):
        for move in (engine.start, engine.pause, engine.continue_, engine.stop):
            move()
            for _ in range(20):
                backend.pull()
            time.sleep(0.05)
        until(lambda: len(subscriber.of("/ictus/state")) >= 4, "four states")
    assert subscriber.of("/ictus/state") == [("playing",), ("paused",), ("playing",), ("stopped",)]


# ------------------------------------------------------------ garbage


def test_garbage_is_counted_and_ignored_and_the_click_goes_on(tmp_path: Path):
    rng = np.random.default_rng(12)
    backend = NullBackend(rate=RATE, period=256)
    engine = Engine(SONG, backend, voice=VOICE)
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with engine, OscRemote(engine, port=0) as remote:
        client = SimpleUDPClient(*remote.address)
        engine.start()
        played = [backend.pull().copy() for _ in range(100)]
        # not OSC: random bytes (never starting as a message or bundle does), empty,
        # messages cut short, a bundle that lies about its length
        junk = [
            bytes([int(rng.integers(0x30, 0x7F))]) + rng.bytes(int(rng.integers(0, 200)))
            for _ in range(200)
        ]
        junk += [
            b"",
            b"/ictus/locate\0\0\0,i\0\0",
            b"/ictus/play",
            b"#bundle\0" + b"\0" * 8 + b"\0\0\1\0",
        ]
        for data in junk:
            raw.sendto(data, remote.address)
        # OSC, but the wrong arguments for the address
        wrong = [
            ("/ictus/locate", []),
            ("/ictus/locate", [2.5]),
            ("/ictus/locate", [1, 2]),
            ("/ictus/locate", [""]),
            ("/ictus/scale", []),
            ("/ictus/scale", [True]),
            ("/ictus/play", ["now"]),
            ("/ictus/loop", [3]),
            ("/ictus/step", ["two"]),
            ("/ictus/nudge", ["up"]),
            ("/ictus/status", [70000]),
        ]
        unknown = [("/ictus/rewind", []), ("/other/play", []), ("/ictus", []), ("/ICTUS/PLAY", [])]
        # well formed, refused by the engine: no such bar or label, a scale out of range
        refused = [
            ("/ictus/locate", [99]),
            ("/ictus/locate", ["coda"]),
            ("/ictus/jump", [0]),
            ("/ictus/loop", ["outro"]),
            ("/ictus/scale", [0]),
            ("/ictus/scale", ["fast"]),
        ]
        for address, args in wrong + unknown + refused:
            client.send_message(address, args)
        total = len(junk) + len(wrong) + len(unknown) + len(refused)
        until(
            lambda: remote.counts.received >= total,
            "every datagram",
            pull=lambda: played.append(backend.pull().copy()),
        )
        played += [backend.pull().copy() for _ in range(400)]
        counts = remote.counts
        assert counts.received == total
        assert counts.malformed == len(junk) + len(wrong)
        assert counts.unknown == len(unknown)
        assert counts.refused == len(refused)
        assert counts.done == 0
        assert engine.status().state == State.PLAYING
        assert remote._thread is not None and remote._thread.is_alive()
        # and the server still answers
        client.send_message("/ictus/status", [])
        (reply,) = list(client.get_messages(5))
        assert dict(zip(STATUS_FIELDS, reply.params, strict=True))["osc_ignored"] == total
    raw.close()
    # the click played on untouched: sample for sample the offline render
    audio = np.concatenate(played)[:, 0]
    path = tmp_path / "click.wav"
    render_file(build_grid(SONG), path, voice=VOICE, rate=RATE, bit_depth="32f")
    click, _ = soundfile.read(path, dtype="float32")
    assert np.array_equal(audio, click[: len(audio)])


# ------------------------------------------------------------ the command line

ICTUS = [sys.executable, "-m", "ictus.cli.main"]


def run(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    return subprocess.run(
        [*ICTUS, *args], capture_output=True, text=True, env=env, timeout=60,
        stdin=subprocess.DEVNULL, check=False, **kw,
    )  # fmt: skip


def test_play_sends_beats_to_every_subscriber(tmp_path, subscriber):
    song = tmp_path / "song.click"
    song.write_text(TEXT)
    other = Subscriber()
    try:
        # a host name where the machine has one for loopback (a bare chroot has no
        # /etc/hosts): the second target is then also resolved by name
        try:
            socket.gethostbyname("localhost")
            name = "localhost"
        except OSError:
            name = "127.0.0.1"
        targets = f"127.0.0.1:{subscriber.port},{name}:{other.port}"
        done = run("play", str(song), "-b", "null", "--osc", "0", "--osc-send", targets)
        assert done.returncode == 0, done.stderr
        grid = build_grid(SONG)
        n = int((grid.sub == 0).sum())
        for sub in (subscriber, other):
            until(lambda s=sub: len(s.of("/ictus/beat")) >= n, "the beats", timeout=10)
            beats = sub.of("/ictus/beat")
            assert [(b[0], b[1]) for b in beats] == list(
                zip(
                    grid.bar[grid.sub == 0].tolist(), grid.beat[grid.sub == 0].tolist(), strict=True
                )
            )
    finally:
        other.close()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--osc-send", "9000"], "--osc-send: expected HOST:PORT"),
        (["--osc-send", "host:99999"], "--osc-send: expected HOST:PORT"),
        (["--osc", "70000"], "--osc: a UDP port"),
        (["--osc-host", "0.0.0.0"], "--osc-host needs --osc"),
    ],
)
def test_osc_option_mistakes_exit_2(tmp_path, args, words):
    song = tmp_path / "song.click"
    song.write_text(TEXT)
    done = run("play", str(song), "-b", "null", *args)
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_is_one_line(tmp_path):
    song = tmp_path / "song.click"
    song.write_text(TEXT)
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    try:
        done = run("play", str(song), "-b", "null", "--osc", str(taken.getsockname()[1]))
    finally:
        taken.close()
    assert done.returncode == 1
    assert "OSC: cannot listen on 127.0.0.1" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------ any datagram at all

OSC_VALUES = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.floats(width=32, allow_nan=False),
    st.text(alphabet=st.characters(codec="ascii", exclude_characters="\0"), max_size=12),
    st.booleans(),
)


@pytest.fixture(scope="module")
def idle_remote() -> Iterator[OscRemote]:
    backend = NullBackend(rate=RATE, period=256)
    with Engine(SONG, backend, voice=VOICE) as engine:
        yield OscRemote(engine)  # handle() called directly: no socket needed


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300))
def test_any_bytes_are_one_datagram_and_never_raise(idle_remote, data):
    received, before = idle_remote.counts.received, idle_remote.counts.outcomes
    idle_remote.handle(data, ("127.0.0.1", 9))
    assert idle_remote.counts.received == received + 1
    assert idle_remote.counts.outcomes >= before + 1


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from([a for a in ADDRESSES if a != "/ictus/status"]),
    st.lists(OSC_VALUES, max_size=3),
)
def test_any_arguments_to_any_address_are_counted_once(idle_remote, address, args):
    before = idle_remote.counts.outcomes
    idle_remote.handle(encode(address, args), ("127.0.0.1", 9))
    assert idle_remote.counts.outcomes == before + 1


def test_the_display_shows_what_the_server_counted(rig):
    from rich.console import Console

    from ictus.cli.display import render_status

    engine, _, remote, client = rig
    client.send_message("/ictus/locate", 99)  # refused: the map has 16 bars
    client.send_message("/ictus/nope", [])
    settle(remote, 2)
    console = Console(record=True, width=120)
    console.print(render_status(engine.status(), extra=[("osc", remote.summary())]))
    text = console.export_text()
    assert f"on 127.0.0.1:{remote.address[1]} · 2 received · 2 ignored · 0 sent" in text


def test_a_follower_losing_its_source_is_sent(subscriber):
    from ictus.engine.followers import Place, TransportFollower

    there: list[Place | None] = [Place(False, 1)]
    follower = TransportFollower(lambda: there[0])
    backend = NullBackend(rate=RATE, period=256, driver="paced")
    engine = Engine(SONG, backend, voice=VOICE, followers=[follower])
    with engine, OscRemote(engine, send_to=[("127.0.0.1", subscriber.port)]):
        until(lambda: subscriber.of("/ictus/follow"), "the follower's first word")
        there[0] = None  # the other transport went away
        until(lambda: len(subscriber.of("/ictus/follow")) >= 2, "the loss")
        there[0] = Place(False, 3)
        until(lambda: len(subscriber.of("/ictus/follow")) >= 3, "the source again")
    assert subscriber.of("/ictus/follow") == [
        ("transport", ""),
        ("transport", "the transport followed is gone"),
        ("transport", ""),
    ]
