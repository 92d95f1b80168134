"""Tests for ictus.tempomap.grid: click times, tempos and structure of the click grid.

Truth comes from routes other than the implementation's:

- click positions from hand-written beat layouts of each meter (``KINDS`` below), not
  from :meth:`Section.beat_offsets`;
- constant tempos: exact rational arithmetic (``Fraction`` / integer numerators);
- ramps: 50-digit ``mpmath`` closed forms written from docs/REFERENCE.md section 2, and
  (as a cross-check of those) ``mpmath.quad`` of ``60 / T(q)``;
- published numbers from docs/REFERENCE.md (100 BPM, 16 beats, 8.000 s).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction as F
from itertools import pairwise

import mpmath
import numpy as np
import pytest

from ictus.formats.clickfile import parse_click
from ictus.tempomap import (
    COUNT_IN,
    LEVELS,
    CountIn,
    Cue,
    Meter,
    Section,
    Tempo,
    TempoMap,
    build_grid,
    section_duration,
)

mpmath.mp.dps = 50
MICROSECOND = 1e-6


def M(x: F | int | str) -> mpmath.mpf:
    """A 50-digit number from an exact one."""
    x = F(x)
    return mpmath.mpf(x.numerator) / x.denominator


# -- the 50-digit oracle for one section (docs/REFERENCE.md section 2) -----------------


def tempo_at_q(q, t0, t1, big_q, shape):
    """Quarter-note tempo at position q (quarters) of a ramp, as a law in q."""
    if t0 == t1:
        return t0
    if shape == "beats":
        return t0 + (t1 - t0) * q / big_q
    if shape == "time":
        # T linear in time <=> T^2 linear in position (dq/dT = T / (60 dT/dt))
        return mpmath.sqrt(t0**2 + (t1**2 - t0**2) * q / big_q)
    if shape == "period":
        return 1 / (1 / t0 + (1 / t1 - 1 / t0) * q / big_q)
    raise AssertionError(shape)


def time_at_q(q, t0, t1, big_q, shape):
    """Seconds from the ramp's start to position q: docs/REFERENCE.md's closed forms."""
    if t0 == t1:
        return 60 * q / t0
    if shape == "beats":
        return 60 * big_q / (t1 - t0) * mpmath.log((t0 + (t1 - t0) * q / big_q) / t0)
    if shape == "time":
        dur = 120 * big_q / (t0 + t1)
        a = (t1 - t0) / (2 * dur)
        # b(t) = (t0 t + a t^2) / 60 = q: the textbook root (50 digits absorb cancellation)
        return (-t0 + mpmath.sqrt(t0**2 + 240 * a * q)) / (2 * a)
    if shape == "period":
        return 60 * (q / t0 + (1 / t1 - 1 / t0) * q**2 / (2 * big_q))
    raise AssertionError(shape)


def tempo_at_time(t, t0, t1, big_q, shape):
    """For the ``time`` shape, REFERENCE's own law: T linear in seconds."""
    dur = 120 * big_q / (t0 + t1)
    return t0 + (t1 - t0) * t / dur


def time_by_quadrature(q, t0, t1, big_q, shape):
    return mpmath.quad(lambda x: 60 / tempo_at_q(x, t0, t1, big_q, shape), [0, q])


# -- independent layouts of bars ----------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One meter written out by hand: where the beats fall and how long a bar is."""

    meter: Meter
    unit: F | None  # beat unit of the tempo mark (None: plain quarter-note BPM)
    beats: tuple[F, ...]  # beat starts in quarters from the bar line
    bar: F  # bar length in quarters
    pulse: F  # the meter's 1/D pulse in quarters


def _q(*xs: str | int) -> tuple[F, ...]:
    return tuple(F(x) for x in xs)


KINDS: dict[str, Kind] = {
    "4/4": Kind(Meter(4, 4), None, _q(0, 1, 2, 3), F(4), F(1)),
    "3/4": Kind(Meter(3, 4), None, _q(0, 1, 2), F(3), F(1)),
    "5/8": Kind(Meter(5, 8), None, _q(0, "1/2", 1, "3/2", 2), F(5, 2), F(1, 2)),
    "6/8": Kind(Meter(6, 8), None, _q(0, "1/2", 1, "3/2", 2, "5/2"), F(3), F(1, 2)),
    # the contract: 6/8 with beat unit q. clicks two dotted quarters
    "6/8 q.": Kind(Meter(6, 8), F(3, 8), _q(0, "3/2"), F(3), F(1, 2)),
    "6/8 (3+3)": Kind(Meter(6, 8, (3, 3)), None, _q(0, "3/2"), F(3), F(1, 2)),
    # 7/8 (2+2+3): three uneven beats of 2, 2 and 3 eighths
    "7/8 (2+2+3)": Kind(Meter(7, 8, (2, 2, 3)), None, _q(0, 1, 2), F(7, 2), F(1, 2)),
    "7/8 (2+2+3) e": Kind(Meter(7, 8, (2, 2, 3)), F(1, 8), _q(0, 1, 2), F(7, 2), F(1, 2)),
    "12/8 (3+3+3+3)": Kind(
        Meter(12, 8, (3, 3, 3, 3)), None, _q(0, "3/2", 3, "9/2"), F(6), F(1, 2)
    ),
    "2/2": Kind(Meter(2, 2), None, _q(0, 2), F(4), F(2)),
    "9/16": Kind(Meter(9, 16), None, tuple(F(i, 4) for i in range(9)), F(9, 4), F(1, 4)),
}


@dataclass(frozen=True)
class Spec:
    """What a section should produce, written without the implementation's help."""

    kind: Kind
    bars: int
    t0: F  # quarter-note tempo at the start
    t1: F  # quarter-note tempo the section moves to (== t0: constant)
    shape: str = "beats"
    sub: int | str = 1
    levels: tuple[str, ...] | None = None  # per beat, from the pattern
    mute: bool = False
    tempi: tuple[F, ...] | None = None  # per-beat quarter tempos (klick's lists)

    @property
    def length(self) -> F:
        return self.bars * self.kind.bar

    def beat_lengths(self) -> tuple[F, ...]:
        ends = (*self.kind.beats[1:], self.kind.bar)
        return tuple(e - s for s, e in zip(self.kind.beats, ends, strict=True))

    def subs_of_beat(self, b: int) -> tuple[F, ...]:
        length = self.beat_lengths()[b]
        if self.sub == "pulse":
            n = int(length / self.kind.pulse)
            return tuple(i * self.kind.pulse for i in range(n))
        return tuple(length * i / self.sub for i in range(self.sub))

    def beat_levels(self) -> tuple[str, ...]:
        n = len(self.kind.beats)
        return self.levels or ("accent",) + ("normal",) * (n - 1)

    def bar_layout(self) -> list[tuple[F, int, int, str]]:
        """(offset in quarters, beat number, sub index, level) of one bar's clicks."""
        out = []
        for b, start in enumerate(self.kind.beats):
            for k, off in enumerate(self.subs_of_beat(b)):
                level = self.beat_levels()[b] if k == 0 else "sub"
                out.append((start + off, b + 1, k, "silent" if self.mute else level))
        return out

    def time_mp(self, q: F):
        """50-digit seconds from the section start to position q."""
        if self.tempi is not None:
            at, pos = mpmath.mpf(0), F(0)
            lengths = self.beat_lengths()
            for i, t in enumerate(self.tempi):
                length = lengths[i % len(lengths)]
                if pos + length > q:
                    return at + M(q - pos) * 60 / M(t)
                at += M(length) * 60 / M(t)
                pos += length
            assert pos == q
            return at
        return time_at_q(M(q), M(self.t0), M(self.t1), M(self.length), self.shape)

    def tempo_mp(self, q: F):
        if self.tempi is not None:
            lengths = self.beat_lengths()
            pos = F(0)
            for i, t in enumerate(self.tempi):
                pos += lengths[i % len(lengths)]
                if pos > q:
                    return M(t)
            raise AssertionError
        if self.shape == "time" and self.t0 != self.t1:
            t = self.time_mp(q)
            return tempo_at_time(t, M(self.t0), M(self.t1), M(self.length), self.shape)
        return tempo_at_q(M(q), M(self.t0), M(self.t1), M(self.length), self.shape)

    def duration_mp(self):
        return self.time_mp(self.length)


def make(
    kind: str,
    bars: int,
    bpm: F | int | str,
    end: F | int | str | None = None,
    *,
    shape: str = "beats",
    sub: int | str = 1,
    pattern: str | None = None,
    mute: bool = False,
    label: str | None = None,
    cues: tuple[Cue, ...] = (),
    tempi: tuple[F | int | str, ...] | None = None,
) -> tuple[Section, Spec]:
    """A Section and, side by side, its independently written Spec."""
    k = KINDS[kind]
    bpm = F(bpm)
    to_quarter = (k.unit or F(1, 4)) * 4
    section = Section(
        bars=bars,
        meter=k.meter,
        tempo=Tempo(bpm, k.unit),
        tempo_end=None if end is None else Tempo(F(end), k.unit),
        ramp=shape,
        sub=sub,
        pattern=pattern,
        mute=mute,
        label=label,
        cues=cues,
        tempi=None if tempi is None else tuple(F(t) for t in tempi),
    )
    names = {"X": "accent", "x": "normal", ".": "silent"}
    spec = Spec(
        kind=k,
        bars=bars,
        t0=bpm * to_quarter,
        t1=(F(end) if end is not None else bpm) * to_quarter,
        shape=shape,
        sub=sub,
        levels=None if pattern is None else tuple(names[c] for c in pattern),
        mute=mute,
        tempi=None if tempi is None else tuple(F(t) for t in tempi),
    )
    return section, spec


@dataclass
class Expected:
    time: list  # 50-digit seconds
    bar: list[int]
    beat: list[int]
    sub: list[int]
    level: list[str]
    tempo: list  # 50-digit quarter-note BPM


def expected_clicks(specs: list[Spec], scale: F = F(1)) -> Expected:
    """Every click of a map (no count-in, from bar 1), at 50 digits."""
    out = Expected([], [], [], [], [], [])
    start = mpmath.mpf(0)
    first_bar = 1
    s = M(scale)
    for spec in specs:
        layout = spec.bar_layout()
        for bar in range(spec.bars):
            for off, beat, sub, level in layout:
                q = bar * spec.kind.bar + off
                out.time.append((start + spec.time_mp(q)) / s)
                out.tempo.append(spec.tempo_mp(q) * s)
                out.bar.append(first_bar + bar)
                out.beat.append(beat)
                out.sub.append(sub)
                out.level.append(level)
        start += spec.duration_mp()
        first_bar += spec.bars
    return out


def assert_grid_matches(grid, exp: Expected, *, offset=0, time_tol=MICROSECOND) -> None:
    """Compare grid[offset:] with the expected clicks, field by field."""
    n = len(exp.time)
    assert len(grid) - offset == n, f"grid has {len(grid) - offset} clicks, expected {n}"
    sl = slice(offset, offset + n)
    assert grid.bar[sl].tolist() == exp.bar
    assert grid.beat[sl].tolist() == exp.beat
    assert grid.sub[sl].tolist() == exp.sub
    assert grid.level_names()[sl] == exp.level
    want_t = np.array([float(t) for t in exp.time])
    err = np.abs(grid.time[sl] - want_t)
    worst = int(np.argmax(err))
    assert err[worst] <= time_tol, (
        f"click {worst} (bar {exp.bar[worst]} beat {exp.beat[worst]} sub {exp.sub[worst]}): "
        f"got {grid.time[offset + worst]!r}, want {mpmath.nstr(exp.time[worst], 20)}"
    )
    want_tempo = np.array([float(t) for t in exp.tempo])
    np.testing.assert_allclose(grid.tempo[sl], want_tempo, rtol=1e-9, atol=0)


def grid_of(*pairs: tuple[Section, Spec], **kw) -> tuple:
    sections = [p[0] for p in pairs]
    specs = [p[1] for p in pairs]
    return build_grid(TempoMap(tuple(sections), **kw)), specs


# -- the oracle checks itself -----------------------------------------------------------


@pytest.mark.parametrize("shape", ["beats", "time", "period"])
@pytest.mark.parametrize(("t0", "t1"), [(100, 140), (180, 61), ("133.33", "133.34")])
def test_oracle_closed_forms_agree_with_quadrature(shape, t0, t1):
    t0, t1, big_q = M(t0), M(t1), M(16)
    for q in (M(1), M("7.5"), big_q):
        closed = time_at_q(q, t0, t1, big_q, shape)
        assert abs(closed - time_by_quadrature(q, t0, t1, big_q, shape)) < mpmath.mpf("1e-30")
    if shape == "time":
        t = time_at_q(M(5), t0, t1, big_q, shape)
        assert abs(tempo_at_time(t, t0, t1, big_q, shape) - tempo_at_q(M(5), t0, t1, big_q,
                                                                       shape)) < 1e-40


# -- docs/REFERENCE.md section 2: the published example --------------------------------------


def beats_shape_end_tempo():
    """T1 with 60*16/(T1-100)*ln(T1/100) = 8, solved at 50 digits."""
    return mpmath.findroot(lambda t1: 60 * 16 / (t1 - 100) * mpmath.log(t1 / 100) - 8, 142)


def test_reference_beats_shape_end_tempo_is_142_504():
    assert abs(beats_shape_end_tempo() - M("142.504")) < M("0.0005")


@pytest.mark.parametrize(
    ("shape", "end"),
    [("time", F(140)), ("period", F(150)), ("beats", None)],
)
def test_reference_example_16_beats_land_at_8_seconds(shape, end):
    if end is None:
        end = F(mpmath.nstr(beats_shape_end_tempo(), 40))
    ramp = make("4/4", 4, 100, end, shape=shape)
    after = make("4/4", 1, end)
    grid, specs = grid_of(ramp, after)
    # the 17th click is the downbeat after the ramp: 16 beats after the start
    assert grid.bar[16] == 5 and grid.beat[16] == 1
    assert abs(grid.time[16] - 8.0) <= MICROSECOND
    assert abs(float(section_duration(ramp[0])) - 8.0) <= MICROSECOND
    # the end tempo is reached on that downbeat, not on the ramp's last click
    assert grid.tempo[16] == pytest.approx(float(end), rel=1e-12)
    assert grid.tempo[15] < float(end)
    assert grid.tempo[0] == pytest.approx(100.0, rel=1e-12)
    assert_grid_matches(grid, expected_clicks(specs))


def test_ramp_clicks_match_quadrature_of_60_over_tempo():
    """Each ramp click equals the integral of 60/T(q) from the ramp start (a second route)."""
    for shape in ("beats", "time", "period"):
        section, _spec = make("3/4", 3, 72, 160, shape=shape, sub=2)
        grid = build_grid(TempoMap((section,)))
        t0, t1, big_q = M(72), M(160), M(9)
        qs = [F(i, 2) for i in range(18)]
        assert len(grid) == len(qs)
        for i, q in enumerate(qs):
            want = time_by_quadrature(M(q), t0, t1, big_q, shape)
            assert abs(grid.time[i] - float(want)) <= MICROSECOND, (shape, q)


# -- ramps of every shape, many lengths -------------------------------------------------

RAMPS = [
    ("4/4", 1, 60, 200, 1),
    ("4/4", 37, 200, 60, 1),
    ("3/4", 500, 120, 121, 1),  # gentle: ln of a ratio close to 1
    ("4/4", 4, 96, 104, 2),
    ("6/8", 7, "133.33", "72.5", 3),
    ("6/8 q.", 9, 92, 60, 3),  # q.=92 -> q.=60
    ("7/8 (2+2+3) e", 5, 312, 240, "pulse"),
    ("5/8", 11, "40.5", "299.99", 5),
    ("12/8 (3+3+3+3)", 2, 50, 51, 1),
]


@pytest.mark.parametrize("shape", ["beats", "time", "period"])
@pytest.mark.parametrize(("kind", "bars", "t0", "t1", "sub"), RAMPS)
def test_ramp_every_click_and_tempo(shape, kind, bars, t0, t1, sub):
    pre = make("4/4", 2, "97.3")
    ramp = make(kind, bars, t0, t1, shape=shape, sub=sub)
    post = make("3/4", 2, F(t1) * ((KINDS[kind].unit or F(1, 4)) * 4))
    grid, specs = grid_of(pre, ramp, post)
    assert_grid_matches(grid, expected_clicks(specs))
    total = sum(s.duration_mp() for s in specs)
    assert abs(grid.duration - float(total)) <= MICROSECOND


@pytest.mark.parametrize("shape", ["beats", "time", "period"])
@pytest.mark.parametrize(("t0", "t1", "bars"), [(100, 140, 4), (180, 61, 17), ("96.5", 97, 300)])
def test_section_duration_of_ramps(shape, t0, t1, bars):
    section, spec = make("4/4", bars, t0, t1, shape=shape)
    assert abs(float(section_duration(section)) - float(spec.duration_mp())) <= MICROSECOND


def test_beats_ramp_duration_is_logarithmic_mean():
    section, _ = make("4/4", 4, 100, 140)  # klick's: 60 N ln(T1/T0) / (T1 - T0)
    want = 60 * 16 * mpmath.log(M(140) / 100) / 40
    assert abs(float(section_duration(section)) - float(want)) <= 1e-9


def test_section_duration_exact_for_constants_and_tempo_lists():
    section, _ = make("7/8 (2+2+3) e", 3, 312)
    assert section_duration(section) == F(3 * 7 * 60, 312)
    section, _ = make("3/4", 1, 120, tempi=(120, 130, 140))
    assert section_duration(section) == F(60, 120) + F(60, 130) + F(60, 140)
    section, _ = make("4/4", 5, "133.33")
    assert section_duration(section) == F(20 * 60 * 100, 13333)


# -- meters, units and subdivisions -----------------------------------------------------


def test_seven_eight_two_two_three_at_e_312():
    grid, specs = grid_of(make("7/8 (2+2+3) e", 3, 312))
    eighth = F(60, 312)  # one 1/8 pulse at quarter tempo 156: 240/(156*8) s
    assert eighth == F(240, 156 * 8)
    want = [bar * 7 * eighth + e * eighth for bar in range(3) for e in (0, 2, 4)]
    assert len(grid) == 9
    assert np.abs(grid.time - np.array([float(t) for t in want])).max() <= 1e-12
    assert grid.beat.tolist() == [1, 2, 3] * 3
    assert grid.level_names()[:3] == ["accent", "normal", "normal"]
    assert np.all(grid.tempo == 156.0)  # tempo is quarter-note BPM at the click
    assert grid.duration == pytest.approx(float(21 * eighth), abs=1e-12)
    assert_grid_matches(grid, expected_clicks(specs))


def test_dotted_quarter_92_in_six_eight():
    grid, specs = grid_of(make("6/8 q.", 4, 92))
    assert len(grid) == 8  # two dotted quarters per bar
    want = np.array([float(F(60 * i, 92)) for i in range(8)])
    assert np.abs(grid.time - want).max() <= 1e-12
    assert np.all(grid.tempo == 138.0)
    assert_grid_matches(grid, expected_clicks(specs))


def test_six_eight_plain_clicks_six_eighths_and_grouped_clicks_two():
    plain = build_grid(TempoMap((Section(1, Tempo(120), Meter(6, 8)),)))
    assert len(plain) == 6 and plain.beat.tolist() == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(plain.time, [i * 0.25 for i in range(6)], atol=1e-12)
    grouped = build_grid(TempoMap((Section(1, Tempo(120), Meter(6, 8, (3, 3))),)))
    assert grouped.beat.tolist() == [1, 2]
    np.testing.assert_allclose(grouped.time, [0.0, 0.75], atol=1e-12)
    with_sub = build_grid(TempoMap((Section(1, Tempo(120), Meter(6, 8, (3, 3)), sub="pulse"),)))
    assert with_sub.sub.tolist() == [0, 1, 2, 0, 1, 2]
    np.testing.assert_allclose(with_sub.time, [i * 0.25 for i in range(6)], atol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_subdivisions_at_odd_tempo(n):
    grid, specs = grid_of(make("4/4", 3, "133.33", sub=n))
    assert len(grid) == 3 * 4 * n
    beat = F(6000, 13333)
    want = [(F(b) + F(k, n)) * beat for b in range(12) for k in range(n)]
    assert np.abs(grid.time - np.array([float(t) for t in want])).max() <= 1e-12
    assert grid.sub.tolist() == list(range(n)) * 12
    levels = grid.level_names()
    assert all(lv == "sub" for lv, s in zip(levels, grid.sub, strict=True) if s > 0)
    assert all(lv != "sub" for lv, s in zip(levels, grid.sub, strict=True) if s == 0)
    assert_grid_matches(grid, expected_clicks(specs))


def test_sub_pulse_in_grouped_meter():
    grid, specs = grid_of(make("7/8 (2+2+3) e", 2, 312, sub="pulse"))
    assert grid.beat.tolist() == [1, 1, 2, 2, 3, 3, 3] * 2
    assert grid.sub.tolist() == [0, 1, 0, 1, 0, 1, 2] * 2
    assert grid.level_names()[:7] == ["accent", "sub", "normal", "sub", "normal", "sub", "sub"]
    np.testing.assert_allclose(grid.time, [i * 60 / 312 for i in range(14)], atol=1e-12)
    assert_grid_matches(grid, expected_clicks(specs))


def test_quarter_tempo_with_sub_five_in_twelve_eight():
    grid, specs = grid_of(make("12/8 (3+3+3+3)", 2, "63.7", sub=5))
    assert_grid_matches(grid, expected_clicks(specs))


# -- klick's per-beat tempo lists -------------------------------------------------------


def test_per_beat_tempo_list_each_beat_lasts_240_over_t_d():
    tempi = (120, 130, 140, 150, 160, 170)
    grid, specs = grid_of(make("3/4", 2, 120, tempi=tempi))
    starts, at = [], F(0)
    for t in tempi:
        starts.append(at)
        at += F(240, t * 4)
    assert grid.time.tolist() == pytest.approx([float(s) for s in starts], abs=1e-12)
    assert grid.tempo.tolist() == [float(t) for t in tempi]
    assert grid.duration == pytest.approx(float(at), abs=1e-12)
    assert_grid_matches(grid, expected_clicks(specs))


def test_per_beat_tempo_list_in_six_eight_and_with_subdivision():
    tempi = ("100", "110.5", "121", "133.33", "90", "80")
    grid, specs = grid_of(make("6/8", 1, 100, tempi=tempi, sub=2))
    at, want = F(0), []
    for t in tempi:
        beat = F(240) / (F(t) * 8)
        want += [at, at + beat / 2]
        at += beat
    assert np.abs(grid.time - np.array([float(x) for x in want])).max() <= 1e-12
    assert grid.tempo.tolist() == [float(F(t)) for t in tempi for _ in range(2)]
    assert_grid_matches(grid, expected_clicks(specs))


def test_per_beat_tempo_list_in_grouped_meter_uses_each_beats_length():
    grid, specs = grid_of(make("7/8 (2+2+3)", 1, 100, tempi=(100, 120, 150)))
    want = [F(0), 2 * F(240, 100 * 8), 2 * F(240, 100 * 8) + 2 * F(240, 120 * 8)]
    assert grid.time.tolist() == pytest.approx([float(w) for w in want], abs=1e-12)
    assert_grid_matches(grid, expected_clicks(specs))


# -- long maps --------------------------------------------------------------------------


def test_24_hours_at_133_33_every_click():
    bars = 47999  # 191996 beats at 133.33 BPM: just over 24 h
    grid = build_grid(TempoMap((Section(bars, Tempo("133.33")),)))
    n = bars * 4
    assert len(grid) == n
    k = np.arange(n, dtype=np.int64)
    num = k * 6000  # beat k at exactly k * 6000/13333 s: integer part + exact remainder
    want = (num // 13333).astype(np.float64) + (num % 13333).astype(np.float64) / 13333.0
    assert n * 6000 / 13333 > 86400  # the map lasts over 24 h
    err = np.abs(grid.time - want)
    assert err.max() <= MICROSECOND, f"worst click {int(err.argmax())} off by {err.max()} s"
    assert grid.duration == pytest.approx(float(F(n * 6000, 13333)), abs=MICROSECOND)
    assert grid.bar[-1] == bars and grid.beat[-1] == 4
    # a few clicks against 50 digits
    for i in (1, 12345, 99999, n - 1):
        assert abs(grid.time[i] - float(M(i) * 60 / M("133.33"))) <= MICROSECOND


def _odd_map(seed: int, hours: float) -> tuple[list[Section], list[Spec]]:
    """Many sections of odd tempos, meters, subdivisions and ramps, about ``hours`` long."""
    rng = random.Random(seed)
    kinds = list(KINDS)
    sections, specs = [], []
    total = 0.0
    while total < hours * 3600:
        kind = rng.choice(kinds)
        k = KINDS[kind]
        sub = rng.choice([1, 1, 2, 3, 5, "pulse"])
        bpm = F(rng.randint(3000, 24000), 100)
        if rng.random() < 0.3:
            end = F(rng.randint(3000, 24000), 100)
            pair = make(kind, rng.randint(1, 6), bpm, end,
                        shape=rng.choice(["beats", "time", "period"]), sub=sub)
        elif rng.random() < 0.1:
            n = len(k.beats) * rng.randint(1, 3)
            tempi = tuple(F(rng.randint(3000, 24000), 100) for _ in range(n))
            pair = make(kind, n // len(k.beats), bpm, tempi=tempi)
        else:
            pair = make(kind, rng.randint(50, 400), bpm, sub=sub)
        sections.append(pair[0])
        specs.append(pair[1])
        total += float(pair[1].duration_mp())
    return sections, specs


def _all_expected_times(specs: list[Spec]) -> np.ndarray:
    """Every click time: exact integers for constant sections, 50 digits for the rest."""
    out = []
    start = mpmath.mpf(0)
    for spec in specs:
        layout = spec.bar_layout()
        if spec.tempi is None and spec.t0 == spec.t1:
            offs = [off for off, *_ in layout]
            den = math.lcm(*(o.denominator for o in offs), spec.kind.bar.denominator)
            per_bar = np.array([int(o * den) for o in offs], dtype=np.int64)
            bar_len = int(spec.kind.bar * den)
            n = np.repeat(np.arange(spec.bars, dtype=np.int64) * bar_len, len(offs))
            n = n + np.tile(per_bar, spec.bars)  # position in quarters = n / den
            # seconds = n * 60 / (den * t0), with t0 = a / b: split into whole + remainder
            a, b = spec.t0.numerator, spec.t0.denominator
            num = n * (60 * b)
            den_all = den * a
            local = (num // den_all).astype(np.float64) + (num % den_all) / den_all
            hi = float(start)
            lo = float(start - hi)
            out.append(hi + (local + lo))
        else:
            times = [start + spec.time_mp(bar * spec.kind.bar + off)
                     for bar in range(spec.bars) for off, *_ in layout]
            out.append(np.array([float(t) for t in times]))
        start += spec.duration_mp()
    return np.concatenate(out)


def test_24_hour_map_of_many_odd_sections_every_click():
    sections, specs = _odd_map(seed=2024, hours=24)
    grid = build_grid(TempoMap(tuple(sections)))
    want = _all_expected_times(specs)
    assert len(grid) == len(want)
    assert want[-1] > 80000
    err = np.abs(grid.time - want)
    assert err.max() <= MICROSECOND, f"worst click {int(err.argmax())} off by {err.max()} s"
    assert np.all(np.diff(grid.time) > 0)
    end = sum(s.duration_mp() for s in specs)
    assert abs(grid.duration - float(end)) <= MICROSECOND


def test_odd_sections_structure_and_tempo_on_a_shorter_map():
    sections, specs = _odd_map(seed=7, hours=0.5)
    grid = build_grid(TempoMap(tuple(sections)))
    assert_grid_matches(grid, expected_clicks(specs))


def test_million_clicks_sampled():
    parts = [
        make("4/4", 20000, "133.33", sub=4),
        make("7/8 (2+2+3)", 1000, "133.33", "97.1", shape="time", sub="pulse"),
        make("4/4", 42063, "97.1", sub=4),
    ]
    grid, specs = grid_of(*parts)
    per_bar = [len(s.bar_layout()) for s in specs]
    counts = [s.bars * p for s, p in zip(specs, per_bar, strict=True)]
    assert len(grid) == sum(counts) >= 1_000_000
    assert np.all(np.diff(grid.time) > 0)
    rng = random.Random(1)
    starts = [mpmath.mpf(0)]
    for s in specs:
        starts.append(starts[-1] + s.duration_mp())
    first_index, first_bar = 0, 1
    for spec, count, pb, start in zip(specs, counts, per_bar, starts, strict=False):
        layout = spec.bar_layout()
        for i in [0, count - 1, *rng.sample(range(count), 40)]:
            bar, j = divmod(i, pb)
            off, beat, sub, level = layout[j]
            g = first_index + i
            assert (grid.bar[g], grid.beat[g], grid.sub[g]) == (first_bar + bar, beat, sub)
            assert LEVELS[grid.level[g]] == level
            want = start + spec.time_mp(bar * spec.kind.bar + off)
            assert abs(grid.time[g] - float(want)) <= MICROSECOND, (g, float(want))
            assert grid.tempo[g] == pytest.approx(float(spec.tempo_mp(bar * spec.kind.bar
                                                                     + off)), rel=1e-9)
        first_index += count
        first_bar += spec.bars


# -- structure: numbering, count-in, start points, scale, levels, cues -------------------


def test_bars_and_beats_count_from_one_across_sections():
    grid, specs = grid_of(make("4/4", 2, 120), make("3/4", 3, 90), make("6/8 q.", 1, 60))
    assert grid.bar.tolist() == [1] * 4 + [2] * 4 + [3] * 3 + [4] * 3 + [5] * 3 + [6] * 2
    assert grid.beat.tolist() == [1, 2, 3, 4] * 2 + [1, 2, 3] * 3 + [1, 2]
    assert np.all(grid.sub == 0)
    assert_grid_matches(grid, expected_clicks(specs))


def test_section_names_are_labels():
    a, _ = make("4/4", 1, 120, label="intro")
    b, _ = make("4/4", 1, 120, label="verse")
    grid = build_grid(TempoMap((a, b)))
    names = [grid.section_names[i] for i in grid.section]
    assert names == ["intro"] * 4 + ["verse"] * 4


def test_count_in_bars_numbered_zero_minus_one():
    section, spec = make("3/4", 2, 90)
    grid = build_grid(TempoMap((section,), count_in=CountIn(bars=2)))
    assert grid.bar[:6].tolist() == [-1, -1, -1, 0, 0, 0]
    assert grid.beat[:6].tolist() == [1, 2, 3, 1, 2, 3]
    assert [grid.section_names[i] for i in grid.section[:6]] == [COUNT_IN] * 6
    assert grid.level_names()[:6] == ["accent", "normal", "normal"] * 2
    assert grid.time[0] == 0.0
    np.testing.assert_allclose(grid.time[:6], [i * 60 / 90 for i in range(6)], atol=1e-12)
    assert np.all(grid.tempo[:6] == 90.0)
    lead = M(6) * 60 / 90
    exp = expected_clicks([spec])
    exp.time = [t + lead for t in exp.time]
    assert_grid_matches(grid, exp, offset=6)
    assert grid.duration == pytest.approx(float(lead + spec.duration_mp()), abs=1e-12)


def test_count_in_in_beats():
    section, _spec = make("4/4", 1, 120)
    grid = build_grid(TempoMap((section,), count_in=CountIn(beats=2)))
    assert len(grid) == 2 + 4
    assert grid.bar[:2].tolist() == [0, 0]
    assert [grid.section_names[i] for i in grid.section[:2]] == [COUNT_IN] * 2
    np.testing.assert_allclose(grid.time, [0, 0.5, 1.0, 1.5, 2.0, 2.5], atol=1e-12)
    assert grid.bar[2] == 1 and grid.beat[2] == 1


def test_count_in_takes_the_start_meter_and_unit():
    section, _spec = make("6/8 q.", 2, 92)
    grid = build_grid(TempoMap((section,), count_in=CountIn(bars=1)))
    assert grid.bar[:2].tolist() == [0, 0]
    np.testing.assert_allclose(grid.time[:3], [0, 60 / 92, 120 / 92], atol=1e-12)
    assert grid.tempo[0] == pytest.approx(138.0)


def test_start_from_label_time_zero_at_its_downbeat():
    a, sa = make("4/4", 3, 100, 140, shape="period")
    b, sb = make("7/8 (2+2+3) e", 2, 312, label="bridge")
    c, sc = make("3/4", 2, 90, label="end")
    m = TempoMap((a, b, c))
    grid = build_grid(m, start_label="bridge")
    full = expected_clicks([sa, sb, sc])
    skip = 12
    origin = full.time[skip]
    exp = Expected([t - origin for t in full.time[skip:]], full.bar[skip:], full.beat[skip:],
                   full.sub[skip:], full.level[skip:], full.tempo[skip:])
    assert grid.time[0] == 0.0
    assert grid.bar[0] == 4  # map bar numbers are kept
    assert_grid_matches(grid, exp)
    assert grid.duration == pytest.approx(float(sum(s.duration_mp() for s in [sb, sc])),
                                          abs=MICROSECOND)


def test_start_from_label_with_count_in_at_that_tempo():
    a, _ = make("4/4", 2, 100)
    b, sb = make("3/4", 2, 75, label="slow")
    grid = build_grid(TempoMap((a, b), count_in=CountIn(bars=1)), start_label="slow")
    assert grid.bar[:3].tolist() == [0, 0, 0]
    assert np.all(grid.tempo[:3] == 75.0)
    np.testing.assert_allclose(grid.time[:3], [0, 0.8, 1.6], atol=1e-12)
    exp = expected_clicks([sb])
    exp.bar = [b + 2 for b in exp.bar]
    exp.time = [t + M("2.4") for t in exp.time]
    assert_grid_matches(grid, exp, offset=3)


@pytest.mark.parametrize("shape", ["beats", "time", "period"])
def test_start_bar_inside_a_ramp_counts_in_at_the_tempo_there(shape):
    a, _sa = make("4/4", 1, 120)
    b, sb = make("4/4", 8, 80, 160, shape=shape, sub=2)
    grid = build_grid(TempoMap((a, b), count_in=CountIn(bars=1)), start_bar=5)
    q0 = F(3 * 4)  # bar 5 is the ramp's 4th bar
    t_start = sb.tempo_mp(q0)
    assert grid.bar[:4].tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(grid.tempo[:4], float(t_start), rtol=1e-9)
    lead = 4 * 60 / t_start
    np.testing.assert_allclose(grid.time[:4], [float(i * 60 / t_start) for i in range(4)],
                               atol=MICROSECOND)
    assert grid.bar[4] == 5 and grid.beat[4] == 1
    assert abs(grid.time[4] - float(lead)) <= MICROSECOND
    origin = sb.time_mp(q0)
    for i in range(4, len(grid)):
        q = F(3 * 4) + F(int(grid.bar[i]) - 5) * 4 + (int(grid.beat[i]) - 1) \
            + F(int(grid.sub[i]), 2)
        want = lead + sb.time_mp(q) - origin
        assert abs(grid.time[i] - float(want)) <= MICROSECOND
    assert len(grid) == 4 + 5 * 4 * 2  # bars 5..9


def test_start_bar_in_tempo_list_section_counts_in_at_that_bars_tempo():
    a, _ = make("4/4", 1, 100, tempi=(100, 101, 102, 103))
    b, _ = make("4/4", 2, 60, tempi=(60, 61, 62, 63, 70, 71, 72, 73))
    grid = build_grid(TempoMap((a, b), count_in=CountIn(bars=1)), start_bar=3)
    assert np.all(grid.tempo[:4] == 70.0)
    np.testing.assert_allclose(grid.time[:5], [i * 60 / 70 for i in range(5)], atol=1e-12)
    assert grid.bar[4] == 3
    assert grid.tempo[4:].tolist() == [70.0, 71.0, 72.0, 73.0]


def test_start_bar_without_count_in_starts_at_zero():
    a, _sa = make("4/4", 3, "133.33")
    grid = build_grid(TempoMap((a,)), start_bar=2)
    assert grid.bar[0] == 2
    # time 0 is the start bar's downbeat: no click may fall before the render starts
    assert grid.time[0] == 0.0, f"first click at {grid.time[0]!r}, not at 0"
    np.testing.assert_allclose(grid.time, [float(F(6000 * i, 13333)) for i in range(8)],
                               atol=1e-12)


@pytest.mark.parametrize("scale", [F("0.9"), F("1.25"), F(2, 3)])
def test_tempo_scale_divides_all_times(scale):
    parts = [make("4/4", 2, 120), make("7/8 (2+2+3) e", 2, 300, 200, shape="time", sub=2),
             make("6/8 q.", 2, 92, 100, shape="period")]
    sections = tuple(p[0] for p in parts)
    specs = [p[1] for p in parts]
    m = TempoMap(sections, count_in=CountIn(bars=1)).with_scale(scale)
    grid = build_grid(m)
    s = M(scale)
    lead = M(4) * 60 / (120 * s)  # count-in bar at the scaled starting tempo
    np.testing.assert_allclose(grid.tempo[:4], float(120 * s), rtol=1e-12)
    np.testing.assert_allclose(grid.time[:4], [float(i * 60 / (120 * s)) for i in range(4)],
                               atol=MICROSECOND)
    exp = expected_clicks(specs, scale=scale)
    exp.time = [t + lead for t in exp.time]
    assert_grid_matches(grid, exp, offset=4)
    total = lead + sum(sp.duration_mp() for sp in specs) / s
    assert abs(grid.duration - float(total)) <= MICROSECOND


def test_scale_header_point_nine_and_percent():
    text = "scale: {}\nv: 2 4/4 100 cue@2=\"Two\"\n"
    for spelled in ("0.9", "90%"):
        m = parse_click(text.format(spelled))
        assert m.scale == F(9, 10)
        grid = build_grid(m)
        np.testing.assert_allclose(grid.time, [i * 60 / 90 for i in range(8)], atol=1e-12)
        assert grid.tempo[0] == pytest.approx(90.0)
        assert grid.cues[0].time == pytest.approx(4 * 60 / 90, abs=1e-12)


def test_silent_pattern_and_mute_keep_their_clicks():
    a, sa = make("4/4", 2, 120, pattern="X.x.", sub=2)
    b, sb = make("3/4", 2, 120, mute=True, sub=3)
    grid, specs = grid_of((a, sa), (b, sb))
    assert len(grid) == 2 * 4 * 2 + 2 * 3 * 3
    levels = grid.level_names()
    assert levels[:8] == ["accent", "sub", "silent", "sub", "normal", "sub", "silent", "sub"]
    assert levels[16:] == ["silent"] * 18
    assert not grid.audible()[16:].any()
    assert_grid_matches(grid, expected_clicks(specs))


def test_default_pattern_accents_the_downbeat():
    grid = build_grid(TempoMap((Section(2, Tempo(120)),)))
    assert grid.level_names() == ["accent", "normal", "normal", "normal"] * 2


def test_cues_are_placed_in_time():
    a, sa = make("4/4", 2, 120, label="intro")
    cues = (Cue("Hit", 3, 2), Cue("Top"))
    b, sb = make("7/8 (2+2+3) e", 4, 312, 200, shape="beats", label="ramp", cues=cues)
    grid = build_grid(TempoMap((a, b), count_in=CountIn(bars=1)))
    lead = M(4) * 60 / 120
    by_text = {c.text: c for c in grid.cues}
    hit = by_text["Hit"]
    assert (hit.bar, hit.beat, hit.section) == (5, 2, "ramp")
    want = lead + sa.duration_mp() + sb.time_mp(F(2) * F(7, 2) + 1)
    assert abs(hit.time - float(want)) <= MICROSECOND
    top = by_text["Top"]
    assert (top.bar, top.beat) == (3, 1)
    assert abs(top.time - float(lead + sa.duration_mp())) <= MICROSECOND
    # the cue time is the time of the click at that bar and beat
    i = int(np.flatnonzero((grid.bar == 5) & (grid.beat == 2) & (grid.sub == 0))[0])
    assert abs(grid.time[i] - hit.time) <= MICROSECOND
    # starting after a cue drops it, and shifts the rest
    later = build_grid(TempoMap((a, b)), start_bar=4)
    assert [c.text for c in later.cues] == ["Hit"]
    origin = sa.duration_mp() + sb.time_mp(F(7, 2))
    assert abs(later.cues[0].time - float(sa.duration_mp() + sb.time_mp(F(8)) - origin)) \
        <= MICROSECOND


README_EXAMPLE = """\
title: Example Song
count-in: 1 bar
intro:   4  4/4  96
verse:   8  4/4  96  X.x.   cue="Verse"
pre:     4  4/4  96-104  ramp=time
chorus:  8  4/4  104  sub=2
bridge:  3  7/8 (2+2+3)  e=312
break:   2  4/4  104  mute
outro:   4  4/4  104-72  vol=0.8
"""


def test_readme_example_grid_click_by_click():
    grid = build_grid(parse_click(README_EXAMPLE))
    specs = [
        make("4/4", 4, 96)[1],
        make("4/4", 8, 96, pattern="X.x.")[1],
        make("4/4", 4, 96, 104, shape="time")[1],
        make("4/4", 8, 104, sub=2)[1],
        make("7/8 (2+2+3) e", 3, 312)[1],
        make("4/4", 2, 104, mute=True)[1],
        make("4/4", 4, 104, 72)[1],
    ]
    lead = M(4) * 60 / 96
    assert grid.bar[:4].tolist() == [0] * 4
    np.testing.assert_allclose(grid.time[:4], [0, 0.625, 1.25, 1.875], atol=1e-12)
    exp = expected_clicks(specs)
    exp.time = [t + lead for t in exp.time]
    assert_grid_matches(grid, exp, offset=4)
    names = [grid.section_names[i] for i in grid.section]
    assert names[:5] == [COUNT_IN] * 4 + ["intro"]
    assert names[-1] == "outro"
    assert [(c.text, c.bar, c.beat) for c in grid.cues] == [("Verse", 5, 1)]
    assert grid.cues[0].time == pytest.approx(2.5 + 16 * 0.625, abs=1e-12)
    vol = grid.volume[names.index("outro")]
    assert vol == pytest.approx(0.8)
    total = lead + sum(s.duration_mp() for s in specs)
    assert abs(grid.duration - float(total)) <= MICROSECOND


def test_position_counts_quarters_from_bar_one():
    a, _ = make("7/8 (2+2+3)", 2, 120)
    grid = build_grid(TempoMap((a,), count_in=CountIn(bars=1)))
    assert grid.position.tolist() == [-3.5, -2.5, -1.5, 0, 1, 2, 3.5, 4.5, 5.5]


def test_tempo_steps_inside_a_section():
    steps = ((F(5, 2), F(130)), (F(5), F(140)))
    grid = build_grid(TempoMap((Section(2, Tempo(120), steps=steps, sub=2),)))
    bounds = [(F(0), F(120)), (F(5, 2), F(130)), (F(5), F(140)), (F(8), None)]

    def exact_time(q: F) -> F:
        t = F(0)
        for (start, tempo), (end, _) in pairwise(bounds):
            t += (min(q, end) - start) * 60 / tempo if q > start else 0
        return t

    qs = [F(k, 2) for k in range(16)]
    want = [float(exact_time(q)) for q in qs]
    assert np.abs(grid.time - np.array(want)).max() <= 1e-12
    want_tempo = [120.0 if q < F(5, 2) else 130.0 if q < 5 else 140.0 for q in qs]
    assert grid.tempo.tolist() == want_tempo
    assert grid.duration == pytest.approx(float(exact_time(F(8))), abs=1e-12)


def test_level_codes_line_up_everywhere() -> None:
    """The grid's int8 codes, the voices' sounds and the MIDI tracks name the same levels."""
    from ictus.formats.midi.writer import CLICK_LEVELS
    from ictus.sounds import LEVELS as VOICE_LEVELS
    from ictus.tempomap import Level

    assert [int(level) for level in Level] == [0, 1, 2, 3]
    assert LEVELS == ("accent", "normal", "sub", "silent")
    assert VOICE_LEVELS == CLICK_LEVELS == ("accent", "normal", "sub")
    grid = build_grid(TempoMap((Section(1, Tempo(120), pattern="Xx.x", sub=2),)))
    assert grid.level.dtype == np.int8
    assert grid.level_names()[:6] == ["accent", "sub", "normal", "sub", "silent", "sub"]
