"""MIDI clock and MTC: every message on its exact sample, against independent truth.

Truth, never the code's own output replayed:

- MIDI clock frames: 50-digit ``mpmath`` closed forms of docs/REFERENCE.md section 2
  for the ramps (all three shapes) and exact ``Fraction`` sums for constant and stepped
  tempos, written here from a hand-made description of the map (``SPEC``), not from
  the timeline; the count-in at the start tempo; ``round(t * rate)`` ties to even.
- The transport messages from the rules in docs/SYNC.md (``FA`` on bar 1 after the
  count-in, ``FC`` / pointer / ``FB`` on the next sixteenth after a locate...).
- MTC: times ``k / (4 fps)`` in exact fractions; the bytes decoded back by
  :func:`ictus.timebase.mtc.decode_quarter_frames` *and* by a decoder written here,
  against labels from a drop-frame conversion written here; the full-frame bytes of
  docs/REFERENCE.md section 7.
- Through JACK: a real server (dummy driver), a player client standing in for the
  engine's event-output hook, and a separate recorder process
  (``tests/jack_midi_recorder.py``) that stamps what it hears with the server's frame
  time. Freewheel (deterministic) and real time (cycles around an xrun masked).
"""

from __future__ import annotations

import itertools
import json
import math
import random
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction as F
from pathlib import Path
from typing import Any

import mpmath
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ictus.formats.clickfile import parse_click
from ictus.sync import (
    Anchor,
    MidiClock,
    MidiClockOutput,
    MtcClock,
    MtcOutput,
    decode_song_position,
    list_midi_ports,
    open_midi_output,
    song_position,
)
from ictus.tempomap import Timeline
from ictus.timebase import FPS_24, FPS_25, FPS_29_97_DF, FPS_29_97_NDF, FPS_30, parse_timecode
from ictus.timebase.mtc import decode_quarter_frames
from jackserver import JackServer, have_jackd

mpmath.mp.dps = 50

MAP = """\
count-in: 1 bar
a: 2 4/4 120
b: 2 4/4 120-150 ramp=beats
c: 2 7/8 (2+2+3) q=150
d: 2 4/4 150-100 ramp=time
e: 1 3/4 100 steps=1.5:130,2.25:90
f: 2 5/8 90-140 ramp=period
g: 1 6/8 q.=80
h: 1 4/4 140
"""

# The same map by hand: (bars, quarters a bar, start tempo, end tempo, shape, steps)
# in quarter notes and quarter-note BPM.
SPEC: list[tuple[int, F, F, F, str, tuple[tuple[F, F], ...]]] = [
    (2, F(4), F(120), F(120), "", ()),
    (2, F(4), F(120), F(150), "beats", ()),
    (2, F(7, 2), F(150), F(150), "", ()),
    (2, F(4), F(150), F(100), "time", ()),
    (1, F(3), F(100), F(100), "", ((F(3, 2), F(130)), (F(9, 4), F(90)))),
    (2, F(5, 2), F(90), F(140), "period", ()),
    (1, F(3), F(120), F(120), "", ()),
    (1, F(4), F(140), F(140), "", ()),
]


def mp(x: F) -> Any:
    return mpmath.mpf(x.numerator) / x.denominator


def ramp_seconds(q: F, t0: F, t1: F, big_q: F, shape: str) -> Any:
    """docs/REFERENCE.md section 2's closed forms: 50 digits, exact for ``period`` (a
    polynomial in q, so rational)."""
    if shape == "period":
        return 60 * (q / t0 + (1 / t1 - 1 / t0) * q**2 / (2 * big_q))
    if q == 0:
        return F(0)
    if q == big_q and shape == "time":  # the whole ramp runs at the mean of its tempos
        return 120 * big_q / (t0 + t1)
    q, t0, t1, big_q = mp(q), mp(t0), mp(t1), mp(big_q)
    if shape == "beats":
        return 60 * big_q / (t1 - t0) * mpmath.log((t0 + (t1 - t0) * q / big_q) / t0)
    if shape == "time":
        length = 120 * big_q / (t0 + t1)
        a = (t1 - t0) / (2 * length)
        return (-t0 + mpmath.sqrt(t0**2 + 240 * a * q)) / (2 * a)
    raise AssertionError(shape)


def section_seconds(spec: tuple[Any, ...], q: F) -> Any:
    """Seconds from a section's start to quarter q inside it (Fraction where exact)."""
    bars, bar_q, t0, t1, shape, steps = spec
    if shape:
        return ramp_seconds(q, t0, t1, bars * bar_q, shape)
    total, at, tempo = F(0), F(0), t0
    for pos, new in steps:
        if pos >= q:
            break
        total += (pos - at) * 60 / tempo
        at, tempo = pos, new
    return total + (q - at) * 60 / tempo


class Oracle:
    """Grid seconds of any map quarter, for a start bar, count-in and scale."""

    def __init__(
        self,
        start_bar: int = 1,
        count_in: F = F(4),
        scale: F = F(1),
        sections: list[tuple[int, F, F, F, str, tuple[tuple[F, F], ...]]] | None = None,
    ) -> None:
        self.sections = SPEC if sections is None else sections
        self.starts: list[tuple[F, Any, tuple[Any, ...]]] = []  # (quarter, seconds, spec)
        q, t, bar = F(0), F(0), 1
        origin_q = None
        for spec in self.sections:
            if origin_q is None and bar + spec[0] > start_bar:
                origin_q = q + (start_bar - bar) * spec[1]
            self.starts.append((q, t, spec))
            length = spec[0] * spec[1]
            t = t + section_seconds(spec, length)
            q += length
            bar += spec[0]
        assert origin_q is not None
        self.end_q, self.end_t = q, t
        self.origin_q = origin_q
        self.scale = scale
        self.count_in = count_in
        self.ci_tempo = self.tempo_at(origin_q)
        self.lead = count_in * 60 / self.ci_tempo  # unscaled

    def _where(self, q: F) -> tuple[F, Any, tuple[Any, ...]]:
        return [s for s in self.starts if s[0] <= q][-1]

    def float_decides(self, q: F) -> bool:
        """Inside or after a ramp: the timeline's time there is a float (a ramp's closed
        form, or a section start after a ramp's float duration)."""
        return q >= self.origin_q and any(spec[4] and q0 < q for q0, _, spec in self.starts)

    def tempo_at(self, q: F) -> F:
        q0, _, spec = self._where(q)
        assert not spec[4] or q == q0, "the oracle's count-ins start on known tempos"
        tempo = spec[2]
        for pos, new in spec[5]:
            if pos <= q - q0:
                tempo = new
        return tempo

    def map_seconds(self, q: F) -> Any:
        if q >= self.end_q:
            return self.end_t + (q - self.end_q) * 60 / self.sections[-1][3]
        q0, t0, spec = self._where(q)
        return t0 + section_seconds(spec, q - q0)

    def grid_seconds(self, q: F) -> Any:
        """Grid seconds of map quarter q (the count-in and before it at its tempo)."""
        if q < self.origin_q:
            return (self.count_in + q - self.origin_q) * 60 / self.ci_tempo / self.scale
        return (self.lead + self.map_seconds(q) - self.map_seconds(self.origin_q)) / self.scale

    def frame(self, q: F, rate: int) -> int:
        t = self.grid_seconds(q) * rate
        return round(t) if isinstance(t, F) else int(mpmath.nint(t))

    def clock_frame(self, c: int, rate: int) -> int:
        return self.frame(F(c, 24), rate)


def parsed(start_bar: int | None = None, count_in: str = "1 bar", scale: str = "1") -> Timeline:
    text = MAP.replace("count-in: 1 bar", f"count-in: {count_in}\nscale: {scale}")
    return Timeline(parse_click(text), start_bar=start_bar)


CASES = {
    "bar 1, 1 bar count-in, 48 kHz": (dict(), Oracle(), 48000),
    "bar 7, 2 beats count-in, scale 3/2, 44.1 kHz": (
        dict(start_bar=7, count_in="2 beats", scale="1.5"),
        Oracle(start_bar=7, count_in=F(2), scale=F(3, 2)),
        44100,
    ),
}


def blocks(start: int, end: int, seed: int) -> list[tuple[int, int]]:
    """Cut [start, end) into blocks of uneven sizes (1 to 1000 frames)."""
    rnd = random.Random(seed)
    out, at = [], start
    while at < end:
        n = min(rnd.choice([1, 7, 64, 256, 257, 1000]), end - at)
        out.append((at, n))
        at += n
    return out


# -- (a) pure: the schedule against the oracle ------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_every_clock_on_its_sample_through_ramps_steps_and_meters(case: str) -> None:
    kw, oracle, rate = CASES[case]
    clock = MidiClock(parsed(**kw), rate)
    first_c = math.floor((oracle.origin_q - oracle.count_in - 1) * 24)
    last_c = math.ceil((oracle.end_q + 1) * 24)
    want = [oracle.clock_frame(c, rate) for c in range(first_c, last_c + 1)]
    got = []
    for start, n in blocks(want[0], want[-1] + 1, seed=len(case)):
        got += [start + off for off, msg in clock.messages_in(start, n) if msg == b"\xf8"]
    assert len(got) == len(want)
    assert got == want, next(
        (c, g, w) for c, (g, w) in enumerate(zip(got, want, strict=True)) if g != w
    )
    # and where it falls off the precomputed table, the same rule
    far = 24 * 200
    off = clock.messages_in(oracle.clock_frame(far, rate), 1)
    assert off == [(0, b"\xf8")]


METERS = {"4/4": F(4), "3/4": F(3), "7/8": F(7, 2), "5/8": F(5, 2), "6/8": F(3)}
TEMPOS = st.integers(40, 240)


@st.composite
def small_maps(draw: st.DrawFn) -> tuple[str, list[Any]]:
    """One to three sections: steady, ramped (any shape) or stepped, any of five meters."""
    lines, spec = [], []
    for i in range(draw(st.integers(1, 3))):
        meter = draw(st.sampled_from(sorted(METERS)))
        bars, t0 = draw(st.integers(1, 3)), draw(TEMPOS)
        kind = draw(st.sampled_from(["steady", "beats", "time", "period", "steps"]))
        line = f"s{i}: {bars} {meter} q={t0}"
        t1, steps = t0, ()
        if kind in ("beats", "time", "period"):
            t1 = draw(TEMPOS.filter(lambda t, t0=t0: t != t0))
            line = f"s{i}: {bars} {meter} q={t0}-{t1} ramp={kind}"
        elif kind == "steps":
            at = F(draw(st.integers(1, 7)), 4)
            new = draw(TEMPOS)
            assume(at < bars * METERS[meter])
            line += f" steps={float(at)}:{new}"
            steps = ((at, F(new)),)
        lines.append(line)
        spec.append((bars, METERS[meter], F(t0), F(t1), kind if t1 != t0 else "", steps))
    return "count-in: 2 beats\n" + "\n".join(lines) + "\n", spec


@settings(max_examples=60, deadline=None)
@given(small_maps(), st.sampled_from([44100, 48000, 96000]))
def test_any_small_map_every_clock_on_its_sample(case: tuple[str, list[Any]], rate: int) -> None:
    text, spec = case
    # two beats of count-in; a beat is the meter's pulse (no grouping written)
    unit = int(text.split("\n")[1].split()[2].split("/")[1])
    count_in = 2 * F(4, unit)
    oracle = Oracle(count_in=count_in, sections=spec)
    clock = MidiClock(Timeline(parse_click(text)), rate)
    cs = range(int(-24 * count_in), math.ceil(oracle.end_q * 24) + 1)
    want = [oracle.clock_frame(c, rate) for c in cs]
    got = [want[0] + o for o, _ in clock.messages_in(want[0], want[-1] + 1 - want[0])]
    assert len(got) == len(want)
    for c, g, w in zip(cs, got, want, strict=True):
        exact = oracle.grid_seconds(F(c, 24)) * rate
        tie = abs(exact - math.floor(exact) - F(1, 2)) < mpmath.mpf("1e-30")
        if tie and oracle.float_decides(F(c, 24)):
            # exactly half a sample in or after a ramp (period ramps are rational, a time
            # ramp's square root can be): the timeline computes ramps in floats, so the
            # float decides (docs/SYNC.md); either neighbour is right
            assert g in (math.floor(exact), math.ceil(exact)), (c, g, exact)
        else:
            assert g == w, (c, g, exact)


def test_a_clock_on_half_a_sample_rounds_to_even() -> None:
    """At 40 BPM and 44.1 kHz every other clock falls on half a sample (a clock lasts
    2756.25 samples); the float nearest 10/24 must not decide which way it goes."""
    clock = MidiClock(Timeline(parse_click("count-in: 2 beats\na: 1 3/4 q=40\n")), 44100)
    # clock -38: grid quarter 2 - 38/24 = 10/24, 0.625 s = 27562.5 samples -> 27562 (even)
    # clock -18: grid quarter 30/24, 1.875 s = 82687.5 -> 82688 (even)
    assert clock.frame_of(-38) == 27562 and clock.frame_of(-18) == 82688
    assert [o for o, _ in clock.messages_in(27562, 1)] == [0]


def test_oracle_matches_the_map_of_the_parser() -> None:
    """The hand-made SPEC is the map the parser reads (else the oracle tests nothing)."""
    m = parse_click(MAP)
    assert [(s.bars, s.bar_quarters) for s in m.sections] == [(s[0], s[1]) for s in SPEC]
    assert [(s.start_quarter_bpm, s.end_quarter_bpm) for s in m.sections][:4] == [
        (s[2], s[3]) for s in SPEC
    ][:4]


def test_song_position_pointer_bytes() -> None:
    # 14 bits, low seven first: 300 = 2 * 128 + 44
    assert song_position(300) == bytes([0xF2, 44, 2])
    assert song_position(0) == bytes([0xF2, 0, 0])
    assert song_position(16383) == bytes([0xF2, 0x7F, 0x7F])
    assert all(decode_song_position(song_position(n)) == n for n in range(0, 16384, 97))
    with pytest.raises(ValueError, match=r"0\.\.16383"):
        song_position(16384)
    with pytest.raises(ValueError):
        song_position(-1)


def run_script(out: Any, script: list[tuple[int, str, int]], end: int, seed: int) -> list:
    """Drive an output like a transport: moves at clocks, blocks of uneven sizes.

    Returns [(clock, bytes)]. A move is (clock, kind, grid frame)."""
    got: list[tuple[int, bytes]] = []
    anchor: Anchor | None = None
    moves = list(script)
    for start, n in blocks(0, end, seed):
        pos = 0
        while pos < n:
            now = start + pos
            while moves and moves[0][0] == now:
                _, kind, frame = moves.pop(0)
                if kind == "stop":
                    msgs, anchor = out.stop(), None
                else:
                    anchor = Anchor(clock=now, frame=frame)
                    msgs = {
                        "start": lambda f: out.start(f),
                        "resume": lambda f: (
                            out.start(f, resume=True)
                            if isinstance(out, MidiClockOutput)
                            else out.start(f)
                        ),
                        "locate": lambda f: out.locate(f),
                    }[kind](frame)
                got += [(now, m) for m in msgs]
            stop = min(n, moves[0][0] - start) if moves else n
            if anchor is not None:
                frame = anchor.frame_at(now)
                got += [(now + o, m) for o, m in out.render(frame, stop - pos)]
            pos = stop
    return got


def expected_clock(oracle: Oracle, rate: int, script: list[tuple[int, str, int]], end: int):
    """What docs/SYNC.md says the MIDI clock output sends for ``script``."""
    frames = {}

    def fr(c: int) -> int:
        if c not in frames:
            frames[c] = oracle.clock_frame(c, rate)
        return frames[c]

    def first_at(frame: int) -> int:
        c = math.floor((oracle.origin_q - oracle.count_in) * 24) - 24
        while fr(c) < frame:
            c += 1
        return c

    out: list[tuple[int, bytes]] = []
    origin_c = math.ceil(oracle.origin_q * 24)
    playing = False
    for i, (clock, kind, frame) in enumerate(script):
        until = script[i + 1][0] if i + 1 < len(script) else end
        if kind == "stop":
            if playing:
                out.append((clock, b"\xfc"))
            playing = False
            continue
        if kind == "locate" and playing:
            out.append((clock, b"\xfc"))
        cue_c = max(first_at(frame), origin_c, 0)
        cue_c = -(-cue_c // 6) * 6
        if kind == "start" and cue_c == 0:
            cue = b"\xfa"
        else:
            out.append((clock, bytes([0xF2, (cue_c // 6) & 0x7F, (cue_c // 6) >> 7])))
            cue = b"\xfb"
        playing = True
        c = first_at(frame)
        while fr(c) < frame + (until - clock):
            at = clock + fr(c) - frame
            if c == cue_c:
                out.append((at, cue))
            out.append((at, b"\xf8"))
            c += 1
    return out


def clock_script(oracle: Oracle, rate: int) -> tuple[list[tuple[int, str, int]], int]:
    """Start in the count-in, a quarter into the music locate into the time ramp (off
    the sixteenths), stop 3 s later, resume, at bar 11's downbeat loop back to bar 3
    (or the start bar), play to past the end. Moves at (clock, kind, grid frame)."""

    def fq(q: F | int) -> int:
        return oracle.frame(F(q), rate)

    bar11 = fq(8 + 8 + 7 + 8 + 3 + F(5, 2))
    script = [
        (0, "start", 0),
        (fq(oracle.origin_q + 1) + 11, "locate", fq(F(24) + F(1, 7))),  # into d
    ]
    t = script[-1][0] + 3 * rate
    stop_frame = script[-1][2] + 3 * rate
    script += [(t, "stop", 0), (t + rate // 2, "resume", stop_frame)]
    t2 = t + rate // 2
    wrap = t2 + bar11 - stop_frame
    loop_to = max(F(8), oracle.origin_q)
    script += [(wrap, "locate", fq(loop_to))]
    end = wrap + fq(oracle.end_q + 1) - fq(loop_to)
    return script, end


@pytest.mark.parametrize("case", CASES)
def test_transport_messages_follow_the_rules(case: str) -> None:
    kw, oracle, rate = CASES[case]
    clock = MidiClock(parsed(**kw), rate)
    script, end = clock_script(oracle, rate)
    got = run_script(MidiClockOutput(clock), script, end, seed=3)
    want = expected_clock(oracle, rate, script, end)
    assert [m for _, m in got if m != b"\xf8"] == [m for _, m in want if m != b"\xf8"]
    assert got == want


def test_start_from_a_later_bar_points_there_and_continues_on_its_downbeat() -> None:
    kw, oracle, rate = CASES["bar 7, 2 beats count-in, scale 3/2, 44.1 kHz"]
    out = MidiClockOutput(MidiClock(parsed(**kw), rate))
    # bar 7 is map quarter 23: sixteenth 92, sent at once (the count-in is still to come)
    assert out.start(0) == [bytes([0xF2, 92, 0])]
    downbeat = oracle.frame(F(23), rate)
    msgs = out.render(downbeat - 5, 10)
    assert msgs == [(5, b"\xfb"), (5, b"\xf8")]
    assert out.stop() == [b"\xfc"] and out.stop() == [] and out.render(downbeat, 1000) == []


def test_beyond_the_pointers_reach_no_pointer_and_no_continue() -> None:
    line = Timeline(parse_click("a: 1100 4/4 240\n"))  # sixteenth 16384 is bar 1025
    rate = 48000
    out = MidiClockOutput(MidiClock(line, rate))
    bar1024 = 1023 * 4 * rate // 4  # a quarter is 12000 samples at 240 BPM
    bar1025 = bar1024 + 4 * 12000
    assert out.start(bar1024) == [bytes([0xF2, 0x70, 0x7F])]  # 16368
    out.start(0)
    assert out.locate(bar1025) == [b"\xfc"]
    # the clocks go on, no FB: the receiver stays stopped rather than in a wrong place
    assert out.render(bar1025, 1000) == [(0, b"\xf8"), (500, b"\xf8")]


def test_a_locate_into_the_count_in_points_at_zero_never_below() -> None:
    kw, oracle, rate = CASES["bar 1, 1 bar count-in, 48 kHz"]
    out = MidiClockOutput(MidiClock(parsed(**kw), rate))
    out.start(oracle.frame(F(3), rate))
    assert out.locate(oracle.frame(F(-2), rate)) == [b"\xfc", bytes([0xF2, 0, 0])]
    bar1 = oracle.frame(F(0), rate)
    assert out.render(bar1, 1)[:2] == [(0, b"\xfb"), (0, b"\xf8")]


def test_a_tempo_scale_change_goes_on_without_a_repeated_or_lost_clock() -> None:
    rate = 48000
    slow, fast = Oracle(), Oracle(scale=F(2))
    out = MidiClockOutput(MidiClock(parsed(), rate))
    out.start(0)
    sent = [f for f, m in out.render(0, 100_000) if m == b"\xf8"]
    # the engine converts the position: the same music at the doubled tempo
    q = float(parsed().grid_quarters([100_000 / rate])[0])
    f_fast = round(float(parsed(scale="2").grid_times([q])[0]) * rate) - 2  # a little back
    assert out.follow(f_fast, MidiClock(parsed(scale="2"), rate)) == []
    after = [f_fast + f for f, m in out.render(f_fast, 24_000) if m == b"\xf8"]
    last = max(c for c in range(-96, 2000) if slow.clock_frame(c, rate) < 100_000)
    assert sent == [slow.clock_frame(c, rate) for c in range(-96, last + 1)]
    want, c = [], last + 1
    while (f := fast.clock_frame(c, rate)) < f_fast + 24_000:
        want.append(f)
        c += 1
    assert after == want


# -- MTC -----------------------------------------------------------------------------------

RATES = {
    "24": (FPS_24, 0),
    "25": (FPS_25, 1),
    "29.97df": (FPS_29_97_DF, 2),
    "29.97ndf": (FPS_29_97_NDF, 3),
    "30": (FPS_30, 3),
}


def label_of(frame: int, nominal: int, drop: bool) -> tuple[int, int, int, int]:
    """Frame count -> (h, m, s, f): the textbook drop-frame formula, written here."""
    if drop:
        tens, rest = divmod(frame, 17982)
        frame += 18 * tens + (2 * ((rest - 2) // 1798) if rest > 1 else 0)
    return (
        frame // (nominal * 3600) % 24,
        frame // (nominal * 60) % 60,
        frame // nominal % 60,
        frame % nominal,
    )


def decode_pieces(msgs: list[bytes]) -> tuple[int, int, int, int, int]:
    """An MTC reader of our own: eight F1 0nnn dddd pieces -> (h, m, s, f, rate code)."""
    nib = [0] * 8
    for i, m in enumerate(msgs):
        assert m[0] == 0xF1 and m[1] >> 4 == i
        nib[i] = m[1] & 0xF
    return (
        nib[6] + ((nib[7] & 1) << 4),
        nib[4] + (nib[5] << 4),
        nib[2] + (nib[3] << 4),
        nib[0] + (nib[1] << 4),
        nib[7] >> 1,
    )


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(RATES)),
    st.sampled_from([44100, 48000, 96000]),
    st.fractions(min_value=-5, max_value=5, max_denominator=10**6),
    st.integers(0, 10**7),
    st.integers(0, 10**7),
)
def test_any_mtc_quarter_frame_on_its_sample(name, rate, origin, start, at) -> None:
    fps, code = RATES[name]
    # labels a day: 2 a minute are skipped in 54 minutes of every hour at drop-frame
    start %= 24 * 3600 * fps.nominal - (2 * 24 * 54 if fps.drop_frame else 0)
    mtc = MtcClock(fps, rate, start, origin)
    got = mtc.messages_in(at, 4000)
    j = math.ceil((F(at, rate) - origin) * 4 * fps.fps) - 2
    want = []
    while (f := round((origin + F(j) / (4 * fps.fps)) * rate)) < at + 4000:
        if f >= at:
            g, piece = divmod(j, 8)
            h, m, sec, fr = label_of(start + 2 * g, fps.nominal, fps.drop_frame)
            nib = [fr & 15, fr >> 4, sec & 15, sec >> 4, m & 15, m >> 4, h & 15, code << 1 | h >> 4]
            want.append((f - at, bytes([0xF1, piece << 4 | nib[piece]])))
        j += 1
    assert got == want


def test_full_frame_reference_example() -> None:
    # docs/REFERENCE.md section 7: 01:02:03:04 at 25 fps
    mtc = MtcClock(FPS_25, 48000, "01:02:03:04")
    assert mtc.full_frame_at(0) == bytes.fromhex("F0 7F 7F 01 01 21 02 03 04 F7")
    assert mtc.full_frame_at(1919) == bytes.fromhex("F0 7F 7F 01 01 21 02 03 04 F7")
    assert mtc.full_frame_at(1920) == bytes.fromhex("F0 7F 7F 01 01 21 02 03 05 F7")


@pytest.mark.parametrize("name", RATES)
def test_quarter_frames_times_and_labels(name: str) -> None:
    fps, code = RATES[name]
    rate = 48000
    # just before a minute that drops labels at 29.97 DF, from an odd grid origin
    start = "00:00:59:20" if not fps.drop_frame else "00:00:59;20"
    origin = F(1234567, 1000000)
    mtc = MtcClock(fps, rate, start, origin)
    start_frame = parse_timecode(start, fps)
    count = 4 * 80  # 80 timecode frames: across the minute
    want_frames = [round((origin + F(j) / (4 * fps.fps)) * rate) for j in range(count)]
    got: list[tuple[int, bytes]] = []
    for s, n in blocks(want_frames[0], want_frames[-1] + 1, seed=7):
        got += [(s + o, m) for o, m in mtc.messages_in(s, n)]
    assert [f for f, _ in got] == want_frames
    msgs = [m for _, m in got]
    for g in range(count // 8):
        group = msgs[8 * g : 8 * g + 8]
        want = (*label_of(start_frame + 2 * g, fps.nominal, fps.drop_frame), code)
        assert decode_pieces(group) == want
        assert decode_quarter_frames(group) == want
    if fps.drop_frame:  # the minute's first labels are skipped: 00:00:59;28 -> 00:01:00;02
        labels = [decode_pieces(msgs[8 * g : 8 * g + 8])[:4] for g in range(count // 8)]
        assert (0, 0, 59, 28) in labels and (0, 1, 0, 2) in labels
        assert (0, 1, 0, 0) not in labels


def test_mtc_from_the_map_start_header_and_count_in() -> None:
    text = "start: 01:00:00:00 @ 25\ncount-in: 1 bar\na: 2 4/4 120\n"
    line = Timeline(parse_click(text))
    mtc = MtcClock.for_timeline(line, FPS_25, 48000)
    # bar 1's downbeat (grid 2 s) is 01:00:00:00; the count-in runs 00:59:58:00 on
    assert mtc.full_frame_at(96000) == bytes.fromhex("f0 7f 7f 01 01 21 00 00 00 f7")
    assert str(mtc.timecode_at(0)) == "00:59:58:00"
    assert mtc.messages_in(96000, 1) == [(0, bytes([0xF1, 0x00]))]
    with pytest.raises(ValueError, match="25 fps, the MTC at 30"):
        MtcClock.for_timeline(line, FPS_30, 48000)


def test_mtc_output_sends_full_frame_on_start_and_locate_only_quarters_between() -> None:
    out = MtcOutput(MtcClock(FPS_30, 48000, "00:00:00:00"))
    assert out.render(0, 4800) == []
    assert out.start(0) == [bytes.fromhex("f0 7f 7f 01 01 60 00 00 00 f7")]
    assert len(out.render(0, 4800)) == 12  # a quarter frame every 400 samples
    # locate to 00:00:02:15 = frame 75 = sample 120000: full frame, then from piece 4
    assert out.locate(120000) == [bytes.fromhex("f0 7f 7f 01 01 60 00 02 0f f7")]
    assert out.render(120000, 1) == [(0, bytes([0xF1, 0x40]))]
    assert out.stop() == [] and out.render(120000, 4800) == []


# -- (b) through a real JACK server ---------------------------------------------------------


class Player:
    """Stands in for the engine's event-output hook: a JACK client whose process callback
    runs a scripted transport and writes MIDI clock and MTC to two MIDI out ports."""

    def __init__(self, server: JackServer, clock: MidiClock, mtc: MtcClock, script, end):
        import jack

        self.client = jack.Client("ictsync", servername=server.name, no_start_server=True)
        self.writers = [
            open_midi_output(self.client, "clock"),
            open_midi_output(self.client, "mtc"),
        ]
        self.outputs = [MidiClockOutput(clock), MtcOutput(mtc)]
        self.script, self.end = list(script), end
        self.c0: int | None = None
        self.cycles: list[int] = []
        self.late: list[int] = []  # cycles this player finished too late to trust
        self.done = threading.Event()
        self.armed = False
        self.anchor: Anchor | None = None  # grid frame `frame` plays at clock `clock`
        self.freewheeling = threading.Event()
        self.client.set_freewheel_callback(
            lambda on: self.freewheeling.set() if on else self.freewheeling.clear()
        )
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        t = self.client.last_frame_time
        if not self.armed or self.done.is_set():
            for w in self.writers:
                w.write((), frames)
            return
        if self.c0 is None:
            self.c0 = t
        self.cycles.append(t)
        now0 = t - self.c0
        msgs: list[list[tuple[int, bytes]]] = [[], []]
        pos = 0
        while pos < frames:
            now = now0 + pos
            while self.script and self.script[0][0] <= now:
                _, kind, frame = self.script.pop(0)
                for k, out in enumerate(self.outputs):
                    if kind == "stop":
                        said = out.stop()
                    elif kind == "resume" and k == 0:
                        said = out.start(frame, resume=True)
                    elif kind in ("start", "resume"):
                        said = out.start(frame)
                    else:
                        said = out.locate(frame)
                    msgs[k] += [(pos, m) for m in said]
                self.anchor = None if kind == "stop" else Anchor(now, frame)
            stop = min(frames, self.script[0][0] - now0) if self.script else frames
            if self.anchor is not None:
                f = self.anchor.frame_at(now)
                for k, out in enumerate(self.outputs):
                    msgs[k] += [(pos + o, m) for o, m in out.render(f, stop - pos)]
            pos = stop
        # the clock port in one go, the MTC port as an engine hook would: begin, then
        # each change's and stretch's messages
        if now0 == 0:  # one message JACK cannot take: outside the cycle, counted, not sent
            msgs[0].append((frames, b"\xf8"))
        self.writers[0].write(msgs[0], frames)
        self.writers[1].begin(frames)
        for at in sorted({o for o, _ in msgs[1]}):
            self.writers[1].send([(o, m) for o, m in msgs[1] if o == at])
        if self.client.frames_since_cycle_start >= frames * 3 // 4:
            self.late.append(t)
        if now0 + frames >= self.end:
            self.done.set()

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def record(server: JackServer, clock: MidiClock, mtc: MtcClock, script, end, freewheel: bool):
    out = Path(tempfile.mkdtemp()) / "midi.json"
    rec = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("jack_midi_recorder.py")),
         server.name, "midirec", "2", str(out)],
        env=server.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert rec.stdout is not None and rec.stdout.readline().strip() == "ready"
    player = Player(server, clock, mtc, script, end)
    try:
        # what a user would pick from: the recorder's inputs, our outputs
        assert {"midirec:in_1", "midirec:in_2"} <= set(list_midi_ports(player.client))
        assert "ictsync:clock" in list_midi_ports(player.client, inputs=False)
        player.client.connect("ictsync:clock", "midirec:in_1")
        player.client.connect("ictsync:mtc", "midirec:in_2")
        if freewheel:
            player.client.set_freewheel(True)
            assert player.freewheeling.wait(10), "the server did not start freewheeling"
        player.armed = True
        assert player.done.wait(timeout=end / server.rate * 3 + 30), "the player never finished"
        if freewheel:
            player.client.set_freewheel(False)
        time.sleep(0.05)
    finally:
        player.close()
        assert rec.stdin is not None
        rec.stdin.write("stop\n")
        rec.stdin.flush()
        rec.wait(30)
    data = json.loads(out.read_text())
    assert player.c0 is not None
    return player, data


def suspect_ranges(cycles: list[int], late: list[int], period: int, margin: int = 2):
    """Clock ranges (absolute) where a lost or late cycle may have lost messages."""
    bad = []
    for a, b in itertools.pairwise(cycles):
        if b - a != period:
            bad.append((a - margin * period, b + (margin + 1) * period))
    for t in late:
        bad.append((t - margin * period, t + (margin + 1) * period))
    return bad


def compare(got: list[tuple[int, bytes]], want: list[tuple[int, bytes]], bad) -> float:
    """Every message not in a suspect range is on its exact frame. Returns the share of
    the expected messages judged."""

    def ok(t: int) -> bool:
        return not any(lo <= t < hi for lo, hi in bad)

    g = [(t, m) for t, m in got if ok(t)]
    w = [(t, m) for t, m in want if ok(t)]
    assert g == w, next(
        ((i, a, b) for i, (a, b) in enumerate(zip(g, w, strict=False)) if a != b), None
    )
    return len(w) / len(want)


def mtc_expected(oracle: Oracle, mtc_fps: Any, rate: int, script, end, start: str):
    """Full frames at starts and locates, quarter frames from k / (4 fps) exactly."""
    origin = oracle.grid_seconds(F(0))
    assert isinstance(origin, F)
    s0 = parse_timecode(start, mtc_fps)

    def qf_frame(j: int) -> int:
        return round((origin + F(j) / (4 * mtc_fps.fps)) * rate)

    def first_j(frame: int) -> int:
        j = math.floor((F(frame, rate) - origin) * 4 * mtc_fps.fps) - 2
        while qf_frame(j) < frame:
            j += 1
        return j

    out: list[tuple[int, bytes]] = []
    for i, (clock, kind, frame) in enumerate(script):
        until = script[i + 1][0] if i + 1 < len(script) else end
        if kind == "stop":
            continue
        k = (first_j(frame + 1) - 1) // 4  # the frame playing
        h, m, s, f = label_of(s0 + k, mtc_fps.nominal, mtc_fps.drop_frame)
        out.append((clock, bytes([0xF0, 0x7F, 0x7F, 1, 1, 0x20 | h, m, s, f, 0xF7])))
        j = first_j(frame)
        while qf_frame(j) < frame + (until - clock):
            g, piece = divmod(j, 8)
            h, m, s, f = label_of(s0 + 2 * g, mtc_fps.nominal, mtc_fps.drop_frame)
            nib = [f & 15, f >> 4, s & 15, s >> 4, m & 15, m >> 4, h & 15, 1 << 1 | h >> 4]
            out.append((clock + qf_frame(j) - frame, bytes([0xF1, piece << 4 | nib[piece]])))
            j += 1
    return out


def jack_run(server: JackServer, freewheel: bool, script_end=None) -> tuple[int, int, float]:
    """Play the script through JACK; every message judged must be exact. Returns the
    messages expected (MIDI clock, MTC) and the smaller share of them judged (1.0 unless
    cycles around an xrun were left out)."""
    kw, oracle, rate = CASES["bar 1, 1 bar count-in, 48 kHz"]
    assert server.rate == rate
    line = parsed(**kw)
    clock = MidiClock(line, rate)
    mtc = MtcClock.for_timeline(line, FPS_25, rate, "10:00:00:00")
    script, end = clock_script(oracle, rate)
    if script_end is not None:
        script, end = script_end(script, end)
    player, data = record(server, clock, mtc, script, end, freewheel)
    c0 = player.c0
    assert c0 is not None
    # the player writes whole blocks: what it sent after the script's end is not judged
    got = [[(t - c0, bytes.fromhex(h)) for t, h in port if t - c0 < end] for port in data["events"]]
    late = [] if freewheel else data["late"]  # no deadline in freewheel
    bad = [
        (lo - c0, hi - c0)
        for lo, hi in suspect_ranges(data["cycles"], late, server.period)
        + suspect_ranges(player.cycles, [] if freewheel else player.late, server.period)
    ]
    # only what overlaps the run matters (the server's frame time may jump as freewheel
    # starts and stops, before the player starts and after it ends)
    bad = [(lo, hi) for lo, hi in bad if hi > 0 and lo < end]
    if freewheel:
        assert bad == [], "freewheel lost a cycle"
    want_clock = expected_clock(oracle, rate, script, end)
    want_mtc = mtc_expected(oracle, FPS_25, rate, script, end, "10:00:00:00")
    share = min(compare(got[0], want_clock, bad), compare(got[1], want_mtc, bad))
    assert player.writers[0].dropped == 1 and player.writers[1].dropped == 0
    return len(want_clock), len(want_mtc), share


needs_jack = pytest.mark.skipif(not have_jackd(), reason="jackd is not installed")


@pytest.mark.jack
@needs_jack
def test_jack_freewheel_every_message_on_its_frame(jack_server: JackServer) -> None:
    n_clock, n_mtc, share = jack_run(jack_server, freewheel=True)
    assert share == 1.0
    assert n_clock > 1300 and n_mtc > 2500  # the whole map, part of it twice


@pytest.mark.jack
@needs_jack
def test_jack_real_time_every_message_on_its_frame(jack_server: JackServer) -> None:
    # ten seconds: start in the count-in, the locate into the time ramp, and a stop
    def short(script, end):
        return script[:3], script[2][0] + 4800

    # a busy machine may lose cycles; what is judged must be exact every time, and once
    # in three tries at least 90 % of the run must be judged
    shares = []
    for _ in range(3):
        n_clock, n_mtc, share = jack_run(jack_server, freewheel=False, script_end=short)
        assert n_clock > 250 and n_mtc > 500
        shares.append(share)
        if share > 0.9:
            break
    assert max(shares) > 0.9, f"the machine was too busy to judge: {shares}"


# -- (c) in the engine: its event-output hook on the null backend -----------------------------


def test_midi_clock_and_mtc_through_the_engines_event_output_hook() -> None:
    """The engine's own transport (start with count-in, locate, pause, continue, stop)
    drives MIDI clock and MTC through its event-output hook, as an engine output would
    (the adapter below is the sketch in docs/SYNC.md); every message is where the
    oracle and the rules put it, counted from the clock each command took effect."""
    from ictus.engine import Engine, EventKind
    from ictus.engine.backends.null import NullBackend
    from ictus.engine.outputs import EventOutput
    from ictus.sounds import synth_voice

    rate, period = 48000, 256

    class MidiClockEvents(EventOutput):
        def __init__(self) -> None:
            self.clocks: dict[int, Any] = {}
            self.out: Any = None
            self.sent: list[tuple[int, bytes]] = []
            self.now = 0

        def prepare(self, plan: Any) -> None:
            self.clocks[id(plan)] = MidiClock(plan.grid.timeline, plan.rate)

        def new_output(self, clock: Any) -> Any:
            return MidiClockOutput(clock)

        def begin(self, clock: int, frames: int) -> None:
            self.now = clock

        def change(self, change: Any, offset: int) -> None:
            clock = self.clocks.get(id(change.plan)) if change.plan is not None else None
            if self.out is None:
                if clock is None:
                    return
                self.out = self.new_output(clock)
            kind = change.kind
            if kind in (EventKind.START, EventKind.RESUME):
                said = self.out.start(change.frame, clock, resume=kind is EventKind.RESUME)
            elif kind in (EventKind.LOCATE, EventKind.JUMP, EventKind.LOOP, EventKind.SKIP):
                said = self.out.locate(change.frame, clock)
            elif kind in (EventKind.SCALE, EventKind.REBASE):
                said = self.out.follow(change.frame, clock or self.out.clock)
            else:
                said = self.out.stop()
            self.sent += [(self.now + offset, m) for m in said]

        def play(self, plan: Any, frame: int, frames: int, offset: int) -> None:
            if self.out is not None:
                self.sent += [(self.now + offset + o, m) for o, m in self.out.render(frame, frames)]

    class MtcEvents(MidiClockEvents):
        def prepare(self, plan: Any) -> None:
            line = plan.grid.timeline
            self.clocks[id(plan)] = MtcClock.for_timeline(line, FPS_25, plan.rate, "10:00:00:00")

        def new_output(self, clock: Any) -> Any:
            return MtcOutput(clock)

    hook, mtc_hook = MidiClockEvents(), MtcEvents()
    backend = NullBackend(rate=rate, period=period)

    def pull(frames: int) -> int:
        end = backend.clock + frames
        while backend.clock < end:
            backend.pull(period)
        return backend.clock

    voice = synth_voice("woodblock", rate)
    outputs = [hook, mtc_hook]
    with Engine(parse_click(MAP), backend, voice=voice, event_outputs=outputs) as engine:
        engine.start()
        at_locate = pull(5 * rate)
        engine.locate(7)
        at_pause = pull(3 * rate)
        engine.pause()
        at_resume = pull(rate)
        engine.continue_()
        at_stop = pull(2 * rate)
        engine.stop()
        pull(rate)

    counted_in, bar1 = Oracle(), Oracle(count_in=F(0))
    want: list[tuple[int, bytes]] = []

    def ticks(oracle: Oracle, from_frame: int, clock: int, until: int, cue: int, byte: bytes):
        c = -200
        while oracle.clock_frame(c, rate) < from_frame:
            c += 1
        while (at := clock + oracle.clock_frame(c, rate) - from_frame) < until:
            if c == cue:
                want.append((at, byte))
            want.append((at, b"\xf8"))
            c += 1

    ticks(counted_in, 0, 0, at_locate, 0, b"\xfa")  # count-in clocks, FA on bar 1
    bar7 = bar1.frame(F(23), rate)  # bar 7 is map quarter 23: sixteenth 92
    want += [(at_locate, b"\xfc"), (at_locate, song_position(92))]
    ticks(bar1, bar7, at_locate, at_pause, 23 * 24, b"\xfb")
    want.append((at_pause, b"\xfc"))
    paused = bar7 + at_pause - at_locate  # the grid frame it stopped on
    c = 0
    while bar1.clock_frame(c, rate) < paused:
        c += 1
    cue = -(-c // 6) * 6
    want.append((at_resume, song_position(cue // 6)))
    ticks(bar1, paused, at_resume, at_stop, cue, b"\xfb")
    want.append((at_stop, b"\xfc"))
    assert [m for _, m in hook.sent if m != b"\xf8"] == [m for _, m in want if m != b"\xf8"]
    assert hook.sent == want
    assert len(want) > 400 and sum(m == b"\xf8" for _, m in want) > 400

    # MTC: bar 1 is 10:00:00:00; the count-in plan has bar 1 at grid 2 s, the full plan
    # (after the locate) at grid 0. A full frame on start, locate and continue.
    s0 = parse_timecode("10:00:00:00", FPS_25)
    want = []

    def quarters(origin: F, from_frame: int, clock: int, until: int) -> None:
        def qf(j: int) -> int:
            return round((origin + F(j, 100)) * rate)  # 25 fps: a quarter frame is 1/100 s

        j = math.floor((F(from_frame, rate) - origin) * 100) - 2
        while qf(j + 1) <= from_frame:
            j += 1
        h, m, sec, fr = label_of(s0 + j // 4, 25, False)  # the frame playing
        want.append((clock, bytes([0xF0, 0x7F, 0x7F, 1, 1, 0x20 | h, m, sec, fr, 0xF7])))
        j += 1 if qf(j) < from_frame else 0
        while (at := clock + qf(j) - from_frame) < until:
            g, piece = divmod(j, 8)
            h, m, sec, fr = label_of(s0 + 2 * g, 25, False)
            nib = [fr & 15, fr >> 4, sec & 15, sec >> 4, m & 15, m >> 4, h & 15, 2 | h >> 4]
            want.append((at, bytes([0xF1, piece << 4 | nib[piece]])))
            j += 1

    quarters(F(2), 0, 0, at_locate)
    quarters(F(0), bar7, at_locate, at_pause)
    quarters(F(0), paused, at_resume, at_stop)
    assert mtc_hook.sent == want
    assert str(want[0][1].hex(" ")) == "f0 7f 7f 01 01 29 3b 3a 00 f7"  # 09:59:58:00
