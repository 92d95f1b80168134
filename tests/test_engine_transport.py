"""The live engine through the null backend: every sample, every transport move.

The truth for "what should sound" is the offline renderer (``render_file``, a separate
code path: it writes a float WAV that is read back). For random sequences of moves, a
model written here (:class:`Model`: the control API's promises, worked out from the
grid's bar lines) says which render the output continues from and at which frame after
every move (locate, step, jump at the next bar, pause, continue, stop, start), and the
output must equal those renders sample for sample. Loops, tempo changes and xruns in
random sequences are checked for consistency with the transport's own event log
(``jackserver.Expected``), and each on its own against the render or exact fractions.
"""

from __future__ import annotations

import threading
import time
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ictus.engine import Engine
from ictus.engine.backends.null import NullBackend
from ictus.errors import ParameterError
from ictus.formats import parse_click
from ictus.render import render_file
from ictus.sounds import synth_voice
from ictus.tempomap import CountIn, build_grid
from jackserver import Expected

RATE = 48000
VOICE = synth_voice("woodblock", RATE)

SONG = parse_click("""
title: Test Song
count-in: 1 bar
intro:  2 4/4 120
verse:  4 4/4 120 X.x.
pre:    2 4/4 120-132 ramp=time
chorus: 4 4/4 132 sub=2
bridge: 3 7/8 (2+2+3) e=300
outro:  2 4/4 132-100 ramp=period vol=0.8
""")

STEADY = parse_click("""
a: 6 4/4 120
b: 6 4/4 120
""")


def render(tempo_map, tmp_path: Path, *, channels=1, click_on=None, **grid_options):
    """The offline render of a map, read back as float32 (frames, channels)."""
    path = tmp_path / f"ref-{len(list(tmp_path.iterdir()))}.wav"
    grid = build_grid(tempo_map, **grid_options)
    render_file(
        grid, path, voice=VOICE, rate=RATE, bit_depth="32f", channels=channels, click_on=click_on
    )
    data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    return data


class Player:
    """An open engine on a null backend, pulled block by block, keeping what it played."""

    def __init__(self, tempo_map, period=256, **options) -> None:
        self.backend = NullBackend(rate=RATE, period=period)
        self.engine = Engine(tempo_map, self.backend, voice=VOICE, **options).open()
        self.channels = options.get("channels", 1)
        self.blocks: list[tuple[int, np.ndarray]] = []

    def pull(self, blocks=1, frames=None, skip=0) -> None:
        for i in range(blocks):
            clock = self.backend.clock + (skip if i == 0 else 0)
            out = self.backend.pull(frames, skip=skip if i == 0 else 0).copy()
            self.blocks.append((clock, out))

    def pull_until(self, clock: int) -> None:
        while self.backend.clock < clock:
            self.pull(frames=min(self.backend.period, clock - self.backend.clock))

    def played(self) -> np.ndarray:
        """Everything played, by clock (gaps from skips stay zero)."""
        end = self.blocks[-1][0] + len(self.blocks[-1][1])
        out = np.zeros((end, self.channels), dtype=np.float32)
        for clock, block in self.blocks:
            out[clock : clock + len(block)] = block
        return out

    def events(self) -> list[tuple]:
        return list(self.engine.transport.history)

    def anchors(self, kind: str) -> list[tuple]:
        return [e for e in self.events() if e[0] == kind]

    def check_against_events(self) -> None:
        """Every block equals the reconstruction from the event log, exactly."""
        expected = Expected(self.events(), VOICE)
        for clock, block in self.blocks:
            want = expected.block(clock, len(block), self.channels)
            assert np.array_equal(block, want), f"block at clock {clock} differs"

    def check_moves(self) -> None:
        """Each move in the event log went where it should, worked out from the grid."""
        previous = None
        for kind, clock, frame, plan, detail in self.events():
            if kind in ("locate", "jump") and detail is not None and plan is not None:
                first = np.flatnonzero(plan.grid.bar == detail)[0]
                assert frame == int(plan.grid.samples(RATE)[first]) - plan.preroll
            if kind == "loop":
                section = self.engine.tempo_map.sections[detail]
                bar = self.engine.tempo_map.first_bar_of(detail)
                first = np.flatnonzero(plan.grid.bar == max(bar, plan.anchor))[0]
                assert frame == int(plan.grid.samples(RATE)[first]) - plan.preroll, section
            if kind == "scale" and previous is not None and previous[3] is not None:
                old_plan = previous[3]
                old = previous[2] + (clock - previous[1])
                # the same musical time: frames times scale agree within half a sample
                assert abs(frame * plan.scale - old * old_plan.scale) <= plan.scale / 2
            if kind in {
                "start",
                "resume",
                "locate",
                "jump",
                "loop",
                "scale",
                "rebase",
                "pause",
                "stop",
                "end",
            }:
                previous = (kind, clock, frame, plan)

    def close(self) -> None:
        self.engine.close()
        assert self.engine.transport.error is None


@pytest.fixture
def player():
    made: list[Player] = []

    def make(tempo_map, **options) -> Player:
        p = Player(tempo_map, **options)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def play_through(p: Player, limit: int = 200000) -> np.ndarray:
    p.engine.start()
    for _ in range(limit):
        p.pull()
        if p.engine.transport.snapshot.ended:
            break
    return p.played()


# ------------------------------------------------------------ identical to the render


@pytest.mark.parametrize("period", [64, 256, 333, 1024])
def test_playing_once_is_the_rendered_file(tmp_path, player, period):
    ref = render(SONG, tmp_path, channels=3, click_on=(1, 2))
    live = play_through(player(SONG, period=period, channels=3, click_on=(1, 2)))
    assert len(live) >= len(ref)
    assert np.array_equal(live[: len(ref)], ref)
    assert not live[len(ref) :].any()
    assert np.abs(ref).max() > 0.3  # the reference is not silence


@pytest.mark.parametrize(
    ("options", "grid_options"),
    [
        ({"start_label": "chorus"}, {"start_label": "chorus"}),
        ({"start_bar": 7}, {"start_bar": 7}),
    ],
)
def test_starting_elsewhere_is_the_rendered_file(tmp_path, player, options, grid_options):
    ref = render(SONG, tmp_path, **grid_options)
    live = play_through(player(SONG, **options))
    assert np.array_equal(live[: len(ref)], ref)


def test_count_in_and_scale_as_render_has_them(tmp_path, player):
    tempo_map = SONG.with_scale(F(9, 10)).with_count_in(CountIn(beats=3))
    ref = render(tempo_map, tmp_path)
    live = play_through(player(tempo_map))
    assert np.array_equal(live[: len(ref)], ref)


def test_random_block_sizes_change_nothing(tmp_path, player):
    ref = render(STEADY, tmp_path)
    p = player(STEADY)
    p.engine.start()
    rng = np.random.default_rng(7)
    while not p.engine.transport.snapshot.ended:
        p.pull(frames=int(rng.integers(1, 2000)))
    live = p.played()
    assert np.array_equal(live[: len(ref)], ref)


# ------------------------------------------------------------ transport moves


def test_locate_while_playing_lands_on_the_downbeat(tmp_path, player):
    full = render(SONG, tmp_path)  # the plan playing has the count-in
    grid = build_grid(SONG)
    bar5 = int(grid.samples(RATE)[np.flatnonzero(grid.bar == 5)[0]])
    p = player(SONG)
    p.engine.start()
    p.pull(40)
    p.engine.locate(5)
    p.pull(200)
    (locate,) = p.anchors("locate")
    clock = locate[1]
    assert locate[2] == bar5 and locate[4] == 5
    live = p.played()
    n = len(live) - clock
    assert np.array_equal(live[clock:], full[bar5 : bar5 + n])
    p.check_against_events()


def test_locate_outside_the_started_plan_and_by_label(tmp_path, player):
    full = render(SONG.with_count_in(CountIn()), tmp_path)
    grid = build_grid(SONG.with_count_in(CountIn()))
    p = player(SONG, start_label="chorus")
    p.engine.start()
    p.pull(30)
    p.engine.locate("verse")  # bar 3, before the chorus the plan started at
    p.pull(100)
    (locate,) = p.anchors("locate")
    bar3 = int(grid.samples(RATE)[np.flatnonzero(grid.bar == 3)[0]])
    assert locate[2] == bar3
    live = p.played()
    assert np.array_equal(live[locate[1] :], full[bar3 : bar3 + len(live) - locate[1]])
    assert p.engine.status().section == "verse"


def test_loop_repeats_the_section_sample_for_sample(tmp_path, player):
    full = render(SONG.with_count_in(CountIn()), tmp_path)
    grid = build_grid(SONG.with_count_in(CountIn()))
    starts = grid.samples(RATE)
    verse0 = int(starts[np.flatnonzero(grid.bar == 3)[0]])
    verse1 = int(starts[np.flatnonzero(grid.bar == 7)[0]])
    length = verse1 - verse0
    p = player(SONG, loop="verse")
    p.engine.start()
    count_in = 96000  # one bar of 4/4 at 120
    first = count_in + verse1
    p.pull_until(first + 2 * length + length // 2)
    loops = p.anchors("loop")
    assert len(loops) == 3
    # each wrap happens exactly one verse after the previous one
    assert [e[1] for e in loops] == [first, first + length, first + 2 * length]
    live = p.played()
    for wrap in loops:
        assert np.array_equal(
            live[wrap[1] : wrap[1] + length // 2], full[verse0 : verse0 + length // 2]
        )
    p.check_against_events()
    assert p.engine.status().loop == "verse"
    p.engine.loop(None)
    p.pull(5)
    assert p.engine.status().loop is None


def test_jump_waits_for_the_next_bar_line(tmp_path, player):
    tempo_map = SONG.with_count_in(CountIn())
    full = render(tempo_map, tmp_path)
    grid = build_grid(tempo_map)
    starts = grid.samples(RATE)
    bar = {b: int(starts[np.flatnonzero(grid.bar == b)[0]]) for b in (4, 5, 9)}
    p = player(tempo_map)
    p.engine.start()
    p.pull_until(bar[4] + 3000)  # inside bar 4
    p.engine.jump_at_next_bar("chorus")  # bar 9
    p.pull_until(bar[5] + RATE)
    (jump,) = p.anchors("jump")
    assert jump[1] == bar[5]  # no transport move: clock == grid frame here
    assert jump[2] == bar[9]
    live = p.played()
    assert np.array_equal(live[: bar[5]], full[: bar[5]])
    assert np.array_equal(live[bar[5] :], full[bar[9] : bar[9] + len(live) - bar[5]])


def test_tempo_change_keeps_the_musical_place(tmp_path, player):
    ref80 = render(STEADY.with_scale(F(4, 5)), tmp_path)
    p = player(STEADY)
    p.engine.start()
    p.pull_until(123457)
    assert p.engine.set_scale(80) == 80
    p.pull(400)
    (start,) = p.anchors("start")
    (change,) = p.anchors("scale")
    clock, new_frame = change[1], change[2]
    old_frame = start[2] + (clock - start[1])
    # the quarter position, exactly: 120 quarters a minute before, 96 after
    q_old = F(old_frame, RATE) * F(120, 60)
    q_new = F(new_frame, RATE) * F(96, 60)
    assert abs(q_new - q_old) <= F(96, 60) / RATE / 2  # within half a sample
    live = p.played()
    n = len(live) - clock
    assert np.array_equal(live[clock:], ref80[new_frame : new_frame + n])
    # every later click is where the new grid puts it, relative to the clock
    onsets = np.flatnonzero(np.diff((np.abs(live[clock:, 0]) > 0).astype(int)) == 1) + 1
    grid80 = build_grid(STEADY.with_scale(F(4, 5))).samples(RATE)
    due = grid80[(grid80 > new_frame) & (grid80 < new_frame + n - 2000)] - new_frame
    first_sound = int(np.flatnonzero(VOICE.accent)[0])
    assert set((due + first_sound).tolist()) <= set(onsets.tolist())
    assert p.engine.status().scale_percent == 80


def test_tempo_change_inside_a_ramp_keeps_the_place_between_clicks(player):
    p = player(SONG)
    p.engine.start()
    grid = build_grid(SONG)
    s = grid.samples(RATE)
    inside = int(s[np.flatnonzero(grid.bar == 8)[0]]) + 5000  # in the pre-chorus ramp
    p.pull_until(inside)
    p.engine.set_scale(F(113, 1))
    p.pull(10)
    (start,) = p.anchors("start")
    (change,) = p.anchors("scale")
    old = start[2] + (change[1] - start[1])
    new_grid = change[3].grid
    s_new = new_grid.samples(RATE)
    k = int(np.searchsorted(s, old, side="right")) - 1
    assert int(np.searchsorted(s_new, change[2], side="right")) - 1 == k  # same click
    frac_old = F(old - int(s[k]), int(s[k + 1] - s[k]))
    frac_new = F(change[2] - int(s_new[k]), int(s_new[k + 1] - s_new[k]))
    assert abs(frac_old - frac_new) * int(s_new[k + 1] - s_new[k]) <= 1  # one sample
    p.check_against_events()


@pytest.mark.parametrize(
    ("text", "interval", "percent"),
    [
        ("a: 8 4/4 120", 0.6, F(833, 10)),
        ("a: 8 4/4 120", 0.4, F(125)),
        ("a: 8 6/8 q.=60", 0.8, F(125)),  # the beat is a dotted quarter
        ("a: 8 7/8 (2+2+3) e=300", 0.25, F(160)),  # first beat: two eighths = 0.4 s
    ],
)
def test_tap_tempo_sets_the_scale(player, text, interval, percent):
    p = player(parse_click(text))
    p.engine.start()
    p.pull(2)
    assert p.engine.tap(at=100.0) is None
    result = None
    for k in range(1, 4):
        result = p.engine.tap(at=100.0 + k * interval)
    assert F(result).limit_denominator(10) == percent
    p.pull(2)
    assert p.engine.status().scale_percent == float(percent)


def test_xrun_skip_keeps_the_clicks_on_the_clock(tmp_path, player):
    ref = render(STEADY, tmp_path)
    p = player(STEADY)
    p.engine.start()
    p.pull(50)
    p.pull(100, skip=12345)  # 12345 frames lost
    (skip,) = p.anchors("skip")
    assert skip[4] == 12345
    live = p.played()
    # nothing re-anchored: the sample at clock t is the render's sample t, gap or not
    after = 50 * 256 + 12345
    assert np.array_equal(live[after:], ref[after : len(live)])
    assert np.array_equal(live[: 50 * 256], ref[: 50 * 256])


def test_latency_offsets_per_output_and_preroll(tmp_path, player):
    mono = render(STEADY, tmp_path)[:, 0]
    p = player(STEADY, channels=3, click_on=(0, 1, 2), latency_ms=(-10, 0, 5))
    live = play_through(p)
    pre = 480  # 10 ms at 48 kHz: playback starts that early
    for ch, offset in ((0, -480), (1, 0), (2, 240)):
        at = pre + offset
        assert np.array_equal(live[at : at + len(mono), ch], mono), ch
        assert not live[:at, ch].any()


def test_pause_continue_then_stop_and_start_again(tmp_path, player):
    ref = render(SONG, tmp_path)
    p = player(SONG)
    p.engine.start()
    p.pull(100)
    p.engine.pause()
    p.pull(50)
    assert p.engine.status().state == "paused"
    p.engine.continue_()
    p.pull(100)
    live = p.played()
    (pause,) = p.anchors("pause")
    (resume,) = p.anchors("resume")
    assert not live[pause[1] : resume[1]].any()
    gap = resume[1] - pause[1]
    joined = np.concatenate([live[: pause[1]], live[resume[1] :]])
    assert np.array_equal(joined, ref[: len(joined)])
    assert pause[2] == resume[2] and gap == 50 * 256
    p.engine.stop()
    p.pull(10)
    assert p.engine.status().state == "stopped"
    p.engine.start()  # from the start bar, with the count-in again
    p.pull(100)
    starts = p.anchors("start")
    assert len(starts) == 2
    again = p.played()[starts[1][1] :]
    assert np.array_equal(again, ref[: len(again)])


def test_status_follows_the_song(player):
    p = player(SONG)
    status = p.engine.status()
    assert (status.state, status.bar, status.section) == ("stopped", 1, "intro")
    p.engine.start()
    p.pull(10)
    status = p.engine.status()
    assert status.count_in and status.bar == 0 and status.next_section == "intro"
    grid = build_grid(SONG)
    p.pull_until(int(grid.samples(RATE)[np.flatnonzero(grid.bar == 11)[0]]) + 100)
    status = p.engine.status()
    assert (status.bar, status.beat, status.section, status.beats) == (11, 1, "chorus", 4)
    assert status.tempo == 132 and status.next_section == "bridge"
    assert status.title == "Test Song"


def test_locate_while_stopped_sets_the_cue(tmp_path, player):
    tempo_map = SONG.with_count_in(CountIn())
    full = render(tempo_map, tmp_path)
    grid = build_grid(tempo_map)
    p = player(tempo_map)
    p.engine.locate(9)
    p.pull(3)
    assert p.engine.status().bar == 9 and p.engine.status().state == "stopped"
    p.engine.start()
    p.pull(100)
    (start,) = p.anchors("start")
    bar9 = int(grid.samples(RATE)[np.flatnonzero(grid.bar == 9)[0]])
    assert start[2] == bar9
    live = p.played()[start[1] :]
    assert np.array_equal(live, full[bar9 : bar9 + len(live)])


def test_bad_requests_are_clear_errors(player):
    p = player(SONG)
    with pytest.raises(ParameterError, match="bar 99 is outside the map"):
        p.engine.locate(99)
    with pytest.raises(ParameterError, match="no section is labelled 'solo'"):
        p.engine.loop("solo")
    with pytest.raises(ParameterError, match="tempo scale"):
        p.engine.set_scale(0)
    with pytest.raises(ParameterError, match="tempo scale"):
        p.engine.set_scale("fast")


# ------------------------------------------------------------ listeners


def test_listeners_hear_every_beat_and_never_hold_up_the_audio():
    tempo_map = parse_click("a: 2 4/4 240\nb: 1 3/4 240")
    backend = NullBackend(rate=RATE, period=256, driver="paced")
    seen: list = []

    def slow(event) -> None:
        seen.append(event)
        if event.kind == "beat" and event.beat == 2 and event.bar == 1:
            time.sleep(0.3)  # a listener that blocks

    engine = Engine(tempo_map, backend, voice=VOICE)
    engine.add_listener(slow)
    with engine:
        t0 = time.monotonic()
        engine.start()
        assert engine.wait(timeout=10) == "ended"
        wall = time.monotonic() - t0
    grid = build_grid(tempo_map)
    (start,) = [e for e in seen if e.kind == "start"]
    beats = [(e.bar, e.beat, e.clock - start.clock) for e in seen if e.kind == "beat"]
    # every beat, in order, each with the exact clock of its first sample
    want = list(
        zip(grid.bar.tolist(), grid.beat.tolist(), grid.samples(RATE).tolist(), strict=True)
    )
    assert beats == want
    assert [e.kind for e in seen].count("end") == 1
    assert [e.bar for e in seen if e.kind == "bar"] == [1, 2, 3]
    assert [e.section for e in seen if e.kind == "section"] == ["a", "b"]
    assert wall < grid.duration + 1.0  # the sleeping listener did not slow the playing


# ------------------------------------------------------------ anything goes


OPS = st.one_of(
    st.tuples(st.just("locate"), st.integers(1, SONG.total_bars)),
    st.tuples(st.just("jump"), st.sampled_from(["intro", "verse", "chorus", "bridge", 12])),
    st.tuples(st.just("loop"), st.sampled_from(["verse", "chorus", "bridge", None])),
    st.tuples(st.just("scale"), st.sampled_from([50, 80, 100, 117.5, 150])),
    st.tuples(st.just("pause"), st.none()),
    st.tuples(st.just("continue"), st.none()),
    st.tuples(st.just("stop"), st.none()),
    st.tuples(st.just("start"), st.none()),
    st.tuples(st.just("step"), st.sampled_from([-1, 1])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(
        st.tuples(OPS, st.integers(1, 4000), st.integers(0, 3000)), min_size=1, max_size=12
    ),
    period=st.sampled_from([64, 100, 256]),
)
def test_any_sequence_of_moves_plays_what_the_event_log_says(ops, period):
    p = Player(SONG, period=period, channels=2, click_on=(1,), latency_ms=(-3,))
    try:
        p.engine.start()
        p.pull(3)
        for (op, arg), frames, skip in ops:
            if op == "locate":
                p.engine.locate(arg)
            elif op == "jump":
                p.engine.jump_at_next_bar(arg)
            elif op == "loop":
                p.engine.loop(arg)
            elif op == "scale":
                p.engine.set_scale(arg)
            elif op == "step":
                p.engine.step(arg)
            else:
                getattr(p.engine, {"continue": "continue_"}.get(op, op))()
            p.pull(frames=frames % period + 1, skip=skip if skip > 2500 else 0)
            p.pull(frames // period + 1)
        p.check_against_events()
        p.check_moves()
    finally:
        p.close()


def test_control_calls_from_many_threads_at_once(player):
    p = player(SONG)
    p.engine.start()
    stop = threading.Event()
    errors: list[BaseException] = []

    def hammer(seed: int) -> None:
        rng = np.random.default_rng(seed)
        while not stop.is_set():
            try:
                k = int(rng.integers(4))
                if k == 0:
                    p.engine.locate(int(rng.integers(1, 18)))
                elif k == 1:
                    p.engine.set_scale(int(rng.integers(60, 140)))
                elif k == 2:
                    p.engine.jump_at_next_bar("chorus")
                else:
                    p.engine.status()
            except BaseException as err:
                errors.append(err)

    threads = [threading.Thread(target=hammer, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    for _ in range(300):
        p.pull()
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    p.check_against_events()


# ------------------------------------------------------------ moves against a model
#
# The truth here does not come from the transport: a small model of the promises the
# control API makes (in its docstrings) says, for every move, which offline render the
# output must continue from and at which frame. The renders are ``render_file``'s; the
# bar lines are the grid's downbeats. An ignored pause, a step to the wrong bar, a
# locate to the wrong downbeat or a jump at the wrong bar line all make it fail.


class Reference:
    """Offline renders of SONG (count-in from each cue bar, and the whole map without
    count-in) with their bar lines, computed once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._renders: dict[int | None, np.ndarray] = {}
        self._bars: dict[int | None, dict[int, int]] = {}
        self._ends: dict[int | None, int] = {}

    def _grid_options(self, key: int | None) -> tuple:
        if key is None:
            return SONG.with_count_in(CountIn()), {}
        return SONG, {"start_bar": key}

    def audio(self, key: int | None) -> np.ndarray:
        """``key`` None: the whole map without count-in; else from bar ``key`` with the
        map's count-in."""
        if key not in self._renders:
            tempo_map, options = self._grid_options(key)
            path = self.folder / f"ref-{key}.wav"
            render_file(
                build_grid(tempo_map, **options), path, voice=VOICE, rate=RATE, bit_depth="32f"
            )
            data, _ = soundfile.read(path, dtype="float32", always_2d=True)
            self._renders[key] = data[:, 0]
        return self._renders[key]

    def music_end(self, key: int | None) -> int:
        """Frame of the downbeat after the last bar (a jump from the last bar goes there)."""
        self.bar_lines(key)
        return self._ends[key]

    def bar_lines(self, key: int | None) -> dict[int, int]:
        """Bar number -> downbeat frame, from the grid."""
        if key not in self._bars:
            tempo_map, options = self._grid_options(key)
            grid = build_grid(tempo_map, **options)
            s = grid.samples(RATE)
            down = (grid.sub == 0) & (grid.beat == 1)
            self._bars[key] = {int(b): int(f) for b, f in zip(grid.bar[down], s[down], strict=True)}
            self._ends[key] = round(grid.duration * RATE)
        return self._bars[key]


SILENT = "silent"


class Model:
    """What the engine promises, played forward in frames."""

    def __init__(self, ref: Reference) -> None:
        self.ref = ref
        self.state = "stopped"
        self.key: int | None = 1  # which render is playing (see Reference.audio)
        self.pos = 0  # its next frame
        self.cue = 1
        self.jump: tuple[int, int] | None = None  # (frame of the bar line, target bar)
        # (clock, frames, key, pos) played; key SILENT: nothing
        self.segments: list[tuple[int, int, int | str | None, int]] = []

    def bars(self) -> dict[int, int]:
        return self.ref.bar_lines(self.key)

    def current_bar(self) -> int:
        if self.state in ("stopped", "ended"):
            return self.cue
        lines = self.bars()
        found = [b for b, f in lines.items() if f <= self.pos]
        bar = max(found, key=lambda b: lines[b]) if found else min(lines)
        return bar if bar >= 1 else self.key  # a count-in counts into its bar

    def advance(self, clock: int, frames: int) -> None:
        """Play ``frames`` from ``clock`` (or stay silent)."""
        while frames > 0:
            if self.state != "playing":
                self.segments.append((clock, frames, SILENT, 0))
                return
            length = len(self.ref.audio(self.key))
            stop = length
            if self.jump is not None:
                stop = min(stop, self.jump[0])
            if self.pos >= stop:
                if self.jump is not None and self.pos >= self.jump[0]:
                    target = self.jump[1]
                    self.jump = None
                    self.go(target)
                    continue
                self.state, self.cue = "ended", 1
                continue
            n = min(frames, stop - self.pos)
            self.segments.append((clock, n, self.key, self.pos))
            clock += n
            frames -= n
            self.pos += n

    def go(self, bar: int) -> None:
        """Move to a downbeat: in the render playing if it holds the bar, else the whole map."""
        if self.key is not None and bar < self.key:
            self.key = None
        self.pos = self.bars()[bar]
        self.jump = None

    def apply(self, op: str, arg) -> None:
        total = SONG.total_bars
        if op == "start" or (op == "continue" and self.state != "paused"):
            if self.state == "playing":
                return
            if self.state == "paused":
                self.cue = self.current_bar()
            self.key, self.pos, self.jump, self.state = self.cue, 0, None, "playing"
        elif op == "continue":
            self.state = "playing"
        elif op == "pause":
            if self.state == "playing":
                self.state = "paused"
        elif op == "stop":
            self.state, self.jump = "stopped", None
        elif op == "step":
            self.apply("locate", min(max(self.current_bar() + arg, 1), total))
        elif op == "locate":
            bar = arg if isinstance(arg, int) else LABEL_BARS[arg]
            if self.state != "paused":
                self.cue = bar
            if self.state in ("ended",):
                self.state = "stopped"
            self.go(bar)
        elif op == "jump":
            bar = arg if isinstance(arg, int) else LABEL_BARS[arg]
            if self.state != "playing":
                self.apply("locate", bar)
                return
            lines = sorted([*self.bars().values(), self.ref.music_end(self.key)])
            later = [f for f in lines if f > self.pos]
            self.jump = (later[0] if later else len(self.ref.audio(self.key)), bar)

    def expected(self, upto: int) -> np.ndarray:
        out = np.zeros(upto, dtype=np.float32)
        for clock, n, key, pos in self.segments:
            if key != SILENT:
                audio = self.ref.audio(key)  # type: ignore[arg-type]
                piece = audio[pos : pos + n]
                out[clock : clock + len(piece)] = piece
        return out


LABEL_BARS = {"intro": 1, "verse": 3, "pre": 7, "chorus": 9, "bridge": 13, "outro": 16}

MODEL_OPS = st.one_of(
    st.tuples(st.just("locate"), st.integers(1, SONG.total_bars)),
    st.tuples(st.just("jump"), st.sampled_from(["intro", "verse", "chorus", "bridge", 12])),
    st.tuples(st.just("pause"), st.none()),
    st.tuples(st.just("continue"), st.none()),
    st.tuples(st.just("stop"), st.none()),
    st.tuples(st.just("start"), st.none()),
    st.tuples(st.just("step"), st.sampled_from([-1, 1, 2])),
)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Reference:
    return Reference(tmp_path_factory.mktemp("model"))


def test_the_model_reads_the_song_right(reference):
    assert [SONG.first_bar_of(SONG.section_index(k)) for k in LABEL_BARS] == list(
        LABEL_BARS.values()
    )
    # the count-in render from bar 1 is the plain render of the song
    assert np.array_equal(reference.audio(1), render(SONG, reference.folder)[:, 0])


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    ops=st.lists(
        st.tuples(MODEL_OPS, st.one_of(st.integers(1, 3000), st.integers(20000, 100000))),
        min_size=1,
        max_size=10,
    ),
    period=st.sampled_from([64, 256, 1000]),
)
def test_any_sequence_of_moves_plays_what_the_model_says(reference, ops, period):
    """Each move is checked against where the model says the output must continue."""
    p = Player(SONG, period=period)
    model = Model(reference)
    try:
        p.engine.start()
        model.apply("start", None)
        for (op, arg), frames in ops:
            clock = p.backend.clock  # the move takes effect at the next block
            if op == "locate":
                p.engine.locate(arg)
            elif op == "jump":
                p.engine.jump_at_next_bar(arg)
            elif op == "step":
                p.engine.step(arg)
            else:
                getattr(p.engine, {"continue": "continue_"}.get(op, op))()
            model.apply(op, arg)
            p.pull_until(clock + frames)
            model.advance(clock, p.backend.clock - clock)
            if model.state == "ended":
                break  # the engine learns of the end on its own thread: stop comparing
            # where the transport is: the grid it plays (from which bar, with count-in
            # or not) and the frame in it
            snap = p.engine.transport.snapshot
            where = snap.plan.anchor if snap.plan.count_in else None
            assert (where, snap.frame) == (model.key, model.pos), (op, arg, ops)
        played = p.played()[:, 0]
        upto = min(len(played), sum(s[1] for s in model.segments) if model.segments else 0)
        want = model.expected(upto)
        diff = np.flatnonzero(played[:upto] != want)
        assert not len(diff), f"first difference at clock {diff[0]}: ops {ops}"
    finally:
        p.close()
