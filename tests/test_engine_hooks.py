"""The engine's hooks for what plugs in next (sync outputs, stems, followers), each with
the simplest working implementation, on the null backend.

Truth: the grid's own sample positions (``build_grid(...).samples``) and the offline
render (``render_file``), never the engine's record of what it did.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ictus.engine import Engine, EventKind, State
from ictus.engine.backends.null import NullBackend
from ictus.engine.followers import Place, TransportFollower
from ictus.engine.outputs import ClickLog
from ictus.engine.sources import Route, Stem
from ictus.errors import ParameterError
from ictus.formats import parse_click
from ictus.render import render_file
from ictus.sounds import synth_voice
from ictus.tempomap import CountIn, build_grid

RATE = 48000
VOICE = synth_voice("woodblock", RATE)

SONG = parse_click("""
count-in: 1 bar
intro:  2 4/4 120
verse:  4 4/4 120 X.x.
chorus: 4 4/4 132 sub=2
bridge: 2 7/8 (2+2+3) e=300
""")


def downbeat(grid, bar: int) -> int:
    return int(grid.samples(RATE)[np.flatnonzero(grid.bar == bar)[0]])


def pull(backend: NullBackend, frames: int) -> np.ndarray:
    """Pull ``frames`` in blocks; returns what was played."""
    out = []
    end = backend.clock + frames
    while backend.clock < end:
        out.append(backend.pull(min(backend.period, end - backend.clock)).copy())
    return np.concatenate(out)[:, 0] if backend.channels == 1 else np.concatenate(out)


# ------------------------------------------------------------ event outputs


def test_an_event_output_gets_every_click_on_its_sample():
    log = ClickLog()
    backend = NullBackend(rate=RATE, period=300)  # blocks end between clicks and on them
    with Engine(SONG, backend, voice=VOICE, event_outputs=[log]) as engine:
        engine.start()
        grid = build_grid(SONG)
        pull(backend, int(grid.samples(RATE)[-1]) + 1000)
        engine.stop()
        pull(backend, 300)
    want = list(
        zip(
            grid.samples(RATE).tolist(),
            grid.bar.tolist(),
            grid.beat.tolist(),
            grid.sub.tolist(),
            strict=True,
        )
    )
    assert [(c.clock, c.bar, c.beat, c.sub) for c in log.clicks] == want
    assert all(0 <= c.offset < 300 for c in log.clicks)
    assert all(c.clock % 300 == c.offset for c in log.clicks)  # offset in its own block


def test_an_event_output_follows_a_locate_and_hears_the_change_on_its_sample():
    class Moves(ClickLog):
        def __init__(self) -> None:
            super().__init__()
            self.changes: list[tuple[EventKind, int]] = []

        def change(self, change, offset) -> None:
            self.changes.append((change.kind, self.clock + offset))

    log = Moves()
    backend = NullBackend(rate=RATE, period=256)
    with Engine(SONG, backend, voice=VOICE, event_outputs=[log]) as engine:
        engine.start()
        pull(backend, 50_000)
        at = backend.clock
        engine.locate(5)
        pull(backend, 100_000)
    full = build_grid(SONG.with_count_in(CountIn()))
    bar5 = downbeat(full, 5)
    after = [c for c in log.clicks if c.clock >= at]
    # the first click after the locate is bar 5's downbeat, at the locate's sample, and
    # every later one where the grid has it, counted from there
    s = full.samples(RATE)
    i = int(np.flatnonzero(full.bar == 5)[0])
    due = [
        (at + int(f) - bar5, int(b), int(k))
        for f, b, k in zip(s[i:], full.bar[i:], full.beat[i:], strict=True)
    ]
    due = [d for d in due if d[0] < backend.clock]
    assert [(c.clock, c.bar, c.beat) for c in after] == due
    assert (EventKind.START, 0) in log.changes and (EventKind.LOCATE, at) in log.changes


# ------------------------------------------------------------ audio sources


def test_a_stem_plays_from_bar_one_and_stays_in_place_through_a_locate(tmp_path: Path):
    rng = np.random.default_rng(3)
    full = build_grid(SONG.with_count_in(CountIn()))
    stem = (rng.standard_normal(downbeat(full, 9)) * 0.1).astype(np.float32)
    backend = NullBackend(rate=RATE, period=256)
    engine = Engine(
        SONG,
        backend,
        voice=VOICE,
        channels=2,
        click_on=(0,),
        sources=[Route(Stem(stem), (1,), gain=0.5)],
    )
    with engine:
        engine.start()
        first = pull(backend, 200_000)
        at = backend.clock
        engine.locate(5)
        second = pull(backend, 100_000)
    counted = downbeat(build_grid(SONG), 1)  # the count-in's length: bar 1 starts here
    assert counted == 96_000
    assert not first[:counted, 1].any()
    n = 200_000 - counted
    assert np.array_equal(first[counted:, 1], stem[:n] * np.float32(0.5))
    bar5 = downbeat(full, 5)  # the map frame of bar 5: where the stem must go on from
    assert np.array_equal(second[:, 1], stem[bar5 : bar5 + 100_000] * np.float32(0.5))
    # the click channel is untouched by the stem: the rendered click
    path = tmp_path / "click.wav"
    render_file(build_grid(SONG), path, voice=VOICE, rate=RATE, bit_depth="32f")
    click, _ = soundfile.read(path, dtype="float32")
    assert np.array_equal(first[:, 0], click[:200_000])
    assert at == 200_000


def test_a_route_must_fit_the_source_and_the_outputs():
    with pytest.raises(ParameterError, match="needs as many outputs"):
        Route(Stem(np.zeros((10, 2), dtype=np.float32)), (0,))
    with pytest.raises(ParameterError, match=r"outside 0\.\.1"):
        Engine(SONG, NullBackend(), channels=2, sources=[Route(Stem(np.zeros(4)), (2,))])


SHORT = parse_click("count-in: 1 bar\nsong: 2 4/4 120\n")
#: 120 bpm 4/4 at 48 kHz: a bar is 2 s = 96000 frames; bar 1 after the count-in bar,
#: the music's end two bars later
BAR = 96000
BAR1, MUSIC_END = BAR, 3 * BAR


def play_to_the_end(engine: Engine, backend: NullBackend) -> np.ndarray:
    engine.start()
    blocks = []
    while engine.status().state is not State.ENDED:
        blocks.append(backend.pull().copy())
        assert backend.clock < 10 * BAR, "the transport never ended"
    return np.concatenate(blocks)


def end_clock(engine: Engine) -> int:
    (end,) = [c.clock for c in engine.transport.history if c.kind is EventKind.END]
    return end


@pytest.mark.parametrize("stem_seconds", [3.5, 1.25])
def test_a_click_on_no_output_plays_the_sources_alone_until_the_last_sounds(stem_seconds):
    """``click_on=()``: the stem and nothing else, sample for sample, from bar 1; the
    transport ends where the stem ends when it runs on past the map (3.5 s from bar 1:
    1.5 s past), else at the music's end (the downbeat after the last bar)."""
    rng = np.random.default_rng(5)
    stem = (rng.standard_normal(round(stem_seconds * RATE)) * 0.1).astype(np.float32)
    backend = NullBackend(rate=RATE, period=256)
    engine = Engine(
        SHORT, backend, voice=VOICE, channels=2, click_on=(),
        sources=[Route(Stem(stem), (1,), gain=0.5)],
    )
    with engine:
        played = play_to_the_end(engine, backend)
        end = end_clock(engine)
    assert end == max(BAR1 + len(stem), MUSIC_END)
    assert not played[:, 0].any()  # the click went nowhere
    want = np.zeros(len(played), np.float32)
    want[BAR1 : BAR1 + len(stem)] = stem * np.float32(0.5)
    assert np.array_equal(played[:, 1], want)


def test_a_click_on_no_output_needs_something_else_to_play():
    with pytest.raises(ParameterError, match="the click goes to no output and nothing else"):
        Engine(SHORT, NullBackend(), channels=2, click_on=())
    with pytest.raises(ParameterError, match="latency: the click goes to no output"):
        Engine(
            SHORT, NullBackend(), channels=2, click_on=(), latency_ms=[-5.0],
            event_outputs=[ClickLog()],
        )
    # event outputs alone are something to play: clicks stamped, no audio, to the end
    log = ClickLog()
    backend = NullBackend(rate=RATE, period=256)
    with Engine(SHORT, backend, voice=VOICE, click_on=(), event_outputs=[log]) as engine:
        played = play_to_the_end(engine, backend)
        assert end_clock(engine) == MUSIC_END
    assert not played.any()
    # a quarter at 120 bpm is 24000 frames: the count-in bar and two bars, 12 clicks
    assert [c.clock for c in log.clicks] == list(range(0, MUSIC_END, 24000))


# ------------------------------------------------------------ followers


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_follower_moves_the_transport_as_a_user_would(tmp_path: Path):
    plain = SONG.with_count_in(CountIn())
    other = {"place": Place(False, 1)}  # the other application's transport
    follower = TransportFollower(lambda: other["place"])
    backend = NullBackend(rate=RATE, period=256)
    path = tmp_path / "full.wav"
    render_file(build_grid(plain), path, voice=VOICE, rate=RATE, bit_depth="32f")
    ref, _ = soundfile.read(path, dtype="float32")
    with Engine(plain, backend, voice=VOICE, followers=[follower]) as engine:
        pull(backend, 1024)
        assert engine.status().state is State.STOPPED
        other["place"] = Place(True, 5)  # it rolls from bar 5
        wait_until(lambda: engine.status().state is State.PLAYING)
        played = pull(backend, 60_000)
        bar5 = downbeat(build_grid(plain), 5)
        assert np.array_equal(played, ref[bar5 : bar5 + 60_000])
        other["place"] = Place(False, 9)  # stops and moves to bar 9
        wait_until(lambda: engine.status().state is State.STOPPED and engine.status().bar == 9)
        assert not pull(backend, 5000).any()
        other["place"] = Place(True, 9)
        wait_until(lambda: engine.status().state is State.PLAYING)
        bar9 = downbeat(build_grid(plain), 9)
        assert np.array_equal(pull(backend, 30_000), ref[bar9 : bar9 + 30_000])
        assert engine.status().follow == "transport" and engine.status().follow_lost is None
        other["place"] = None  # the other application went away
        wait_until(lambda: engine.status().follow_lost is not None)
        assert "gone" in (engine.status().follow_lost or "")


def test_a_source_on_the_click_channel_adds_to_it_through_the_one_routing(tmp_path: Path):
    """Sources and click go through render's routing: summed, and (float output) the
    sum is kept above full scale as the float file keeps it."""
    loud = (np.ones(50_000) * 0.9).astype(np.float32)  # with an accent, above 1.0
    backend = NullBackend(rate=RATE, period=256)
    with Engine(SONG, backend, voice=VOICE, sources=[Route(Stem(loud), (0,), gain=0.75)]) as engine:
        engine.start()
        played = pull(backend, 150_000)
    path = tmp_path / "click.wav"
    render_file(build_grid(SONG), path, voice=VOICE, rate=RATE, bit_depth="32f")
    click, _ = soundfile.read(path, dtype="float32")
    want = click[:150_000].copy()
    counted = downbeat(build_grid(SONG), 1)
    want[counted : counted + 50_000] += loud * np.float32(0.75)
    assert np.array_equal(played, want)
    assert np.abs(played).max() > 1.0  # the accent plus the stem: kept, not clipped


def test_typed_requests_do_what_the_methods_do():
    from ictus.engine import requests as rq

    backend = NullBackend(rate=RATE, period=256)
    with Engine(SONG, backend, voice=VOICE) as engine:
        assert engine.request(rq.Locate("verse")) is None
        backend.pull()
        assert (engine.status().state, engine.status().bar) == (State.STOPPED, 3)
        engine.request(rq.Start())
        pull(backend, 96_000 + 1000)  # the count-in, then into bar 3
        assert (engine.status().state, engine.status().bar) == (State.PLAYING, 3)
        assert engine.request(rq.SetScale("80")) == 80.0
        engine.request(rq.Loop("verse"))
        engine.request(rq.JumpAtNextBar("chorus"))
        backend.pull()
        s = engine.status()
        assert (s.scale_percent, s.loop, s.jump) == (80.0, "verse", 7)
        engine.request(rq.Pause())
        backend.pull()
        assert engine.status().state is State.PAUSED
        engine.request(rq.Continue())
        engine.request(rq.Step(1))
        backend.pull()
        assert (engine.status().state, engine.status().bar) == (State.PLAYING, 4)
        engine.request(rq.Stop())
        backend.pull()
        assert engine.status().state is State.STOPPED


def test_jack_clock_wraps_only_on_a_real_wrap() -> None:
    """JACK's frame time is 32 bits: a fall of more than half the range is the counter
    wrapping (the clock goes on past 2^32); the same frame time twice or a step back of a
    period (seen around xruns) is not, and must not throw the clock forward by 2^32."""
    from ictus.engine.backends.jack import JackBackend

    backend = JackBackend()
    seen: list[int] = []
    backend._process = lambda view, clock: seen.append(clock)
    backend._copy = lambda frames, silent: None
    backend._scratch = np.zeros((1, 128), dtype=np.float32)
    backend._in_scratch = np.zeros((0, 128), dtype=np.float32)
    top = (1 << 32) - 128
    for raw in (1000, 1128, 1128, 1000, 1256, top, 0, 128):
        backend._on_process(128, raw)
    assert seen == [1000, 1128, 1128, 1000, 1256, top, 1 << 32, (1 << 32) + 128]
