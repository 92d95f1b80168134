"""Tests for ictus.tempomap.timeline: positions <-> times, both ways, exact where possible.

Truth comes from routes other than the implementation's:

- constant and stepped tempos: bar and beat times summed by hand with ``Fraction``
  (seconds per quarter = 60 / tempo), written out per test;
- ramps: 50-digit ``mpmath`` closed forms from docs/REFERENCE.md section 2 for time at a
  position, and ``mpmath.findroot`` on them (not the code's inverse) for the position at
  a time;
- round trips with hypothesis: time -> position -> time is the identity (exact for
  constant and stepped maps).
"""

from __future__ import annotations

from fractions import Fraction as F

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ictus.errors import ParameterError
from ictus.tempomap import (
    CountIn,
    Meter,
    Position,
    Section,
    Tempo,
    TempoMap,
    Timeline,
    build_grid,
)

mpmath.mp.dps = 50


def M(x: F | int | mpmath.mpf) -> mpmath.mpf:
    if isinstance(x, mpmath.mpf):
        return x
    x = F(x)
    return mpmath.mpf(x.numerator) / x.denominator


def ramp_time(q, t0, t1, big_q, shape):
    """Seconds to position q (quarters) of a ramp: REFERENCE.md section 2, 50 digits."""
    q, t0, t1, big_q = M(q), M(t0), M(t1), M(big_q)
    if shape == "beats":
        return 60 * big_q / (t1 - t0) * mpmath.log((t0 + (t1 - t0) * q / big_q) / t0)
    if shape == "time":
        dur = 120 * big_q / (t0 + t1)
        a = (t1 - t0) / (2 * dur)
        return (-t0 + mpmath.sqrt(t0**2 + 240 * a * q)) / (2 * a)
    if shape == "period":
        return 60 * (q / t0 + (1 / t1 - 1 / t0) * q**2 / (2 * big_q))
    raise AssertionError(shape)


def ramp_position(t, t0, t1, big_q, shape):
    """Position at time t, by root finding on :func:`ramp_time` (no closed-form inverse)."""
    target = M(t)
    f = lambda q: ramp_time(q, t0, t1, big_q, shape) - target  # noqa: E731
    return mpmath.findroot(f, (mpmath.mpf(0), M(big_q)), solver="illinois")


# -- constant and stepped maps: exact -------------------------------------------------


MIXED = TempoMap(
    (
        Section(2, Tempo("133.33"), label="a"),
        Section(3, Tempo(96), Meter(7, 8, (2, 2, 3)), label="b"),
        Section(1, Tempo(120), steps=((F(3, 2), F(60)),), label="c"),
        Section(2, Tempo(92, F(3, 8)), Meter(6, 8), label="d"),
    )
)


def mixed_bar_times() -> list[F]:
    """Every downbeat of MIXED and its end, by hand."""
    out, t = [], F(0)
    for _ in range(2):  # 4/4 at 13333/100: 4 quarters a bar
        out.append(t)
        t += 4 * F(60) / F(13333, 100)
    for _ in range(3):  # 7/8 is 7/2 quarters at 96
        out.append(t)
        t += F(7, 2) * 60 / 96
    out.append(t)  # 1.5 quarters at 120, 2.5 quarters at 60
    t += F(3, 2) * 60 / 120 + F(5, 2) * 60 / 60
    for _ in range(2):  # 6/8 is 3 quarters; q.=92 is 138 quarters a minute
        out.append(t)
        t += 3 * F(60) / 138
    out.append(t)
    return out


def test_bar_times_are_exact() -> None:
    assert Timeline(MIXED).bar_times() == mixed_bar_times()
    assert Timeline(MIXED).end == mixed_bar_times()[-1]


def test_time_of_bar_and_fractional_beat() -> None:
    line = Timeline(MIXED)
    bars = mixed_bar_times()
    # 7/8 (2+2+3), bar 4 (the second of section b), beat 3.5: 2 + 2 + 1.5 eighths in
    assert line.time_of(4, F(7, 2)) == bars[3] + F(11, 4) * 60 / 96
    # stepped bar 6: beat 3.5 is 1.5 quarters at 120 then 1 quarter at 60
    assert line.time_of(6, F(7, 2)) == bars[5] + F(3, 4) + F(1)
    # 6/8 with q.=92 clicks two dotted quarters; beat 2 is 3/2 quarters in
    assert line.time_of(8, 2) == bars[7] + F(3, 2) * 60 / 138


def test_position_at_inverts_exactly() -> None:
    line = Timeline(MIXED)
    bars = mixed_bar_times()
    t = bars[3] + F(11, 4) * 60 / 96
    assert line.position_at(t) == Position(4, F(7, 2), F(8) + F(7, 2) + F(11, 4))
    assert line.position_at(bars[5] + F(7, 4)) == Position(6, F(7, 2), F(37, 2) + F(5, 2))
    assert line.position_at(0) == Position(1, F(1), F(0))


def test_tempo_at_positions() -> None:
    line = Timeline(MIXED)
    assert line.tempo_at(F(1)) == F(13333, 100)
    assert line.tempo_at(F(37, 2) + F(3, 2)) == 60  # the step, exactly at its position
    assert line.tempo_at(F(37, 2) + F(1)) == 120


def test_outside_the_map_continues_at_the_end_tempos() -> None:
    line = Timeline(TempoMap((Section(1, Tempo(120)), Section(1, Tempo(60)))))
    assert line.time_at(-2) == -1
    assert line.time_at(10) == 6 + 2 * 1
    assert line.quarter_at(F(-1, 2)) == -1
    with pytest.raises(ParameterError):
        line.position_at(100)
    with pytest.raises(ParameterError):
        line.time_of(1, 5)


# -- ramps: 50 digits ----------------------------------------------------------------


@pytest.mark.parametrize("shape", ["beats", "time", "period"])
@pytest.mark.parametrize(("t0", "t1"), [(100, 150), (180, 70), (120, F(12001, 100))])
def test_ramp_times_and_inverse_against_mpmath(shape: str, t0: int, t1: int) -> None:
    lead_in = Section(1, Tempo(90))  # 4 quarters, 8/3 s
    m = TempoMap((lead_in, Section(4, Tempo(t0), tempo_end=Tempo(t1), ramp=shape)))
    line = Timeline(m)
    start = F(8, 3)
    qs = [F(0), F(1, 3), F(5), F(7, 2), F(31, 2), F(16)]
    times = line.times([4 + float(q) for q in qs])
    for q, fast in zip(qs, times, strict=True):
        want = M(start) + ramp_time(q, t0, t1, 16, shape)
        assert abs(float(line.time_at(4 + q)) - float(want)) <= 1e-9
        assert abs(fast - float(want)) <= 1e-9
    for t in (F(1, 10), F(2), F(5), F(7)):
        if t >= line.end - start:
            continue
        want = 4 + ramp_position(t, t0, t1, 16, shape)
        assert abs(float(line.quarter_at(start + t)) - float(want)) <= 1e-9
        assert abs(line.quarters([float(start + t)])[0] - float(want)) <= 1e-9
    assert abs(float(line.end) - float(M(start) + ramp_time(16, t0, t1, 16, shape))) <= 1e-9


def test_reference_ramps_end_at_eight_seconds() -> None:
    # REFERENCE.md section 2: 100 BPM, 16 beats, the 16th beat 8.000 s later
    for shape, t1 in (("time", 140), ("period", 150)):
        line = Timeline(TempoMap((Section(4, Tempo(100), tempo_end=Tempo(t1), ramp=shape),)))
        assert abs(float(line.end) - 8.0) <= 1e-12
        assert abs(float(line.quarter_at(8)) - 16) <= 1e-9


# -- count-in, start and scale -------------------------------------------------------


def test_count_in_origin_and_scale() -> None:
    m = TempoMap(
        (Section(4, Tempo(120)), Section(4, Tempo(90), Meter(3, 4), label="b")),
        count_in=CountIn(bars=1),
        scale=F(3, 2),
    )
    line = Timeline(m, start_bar=6)
    # bar 6 is the second 3/4 bar: 16 quarters at 120*1.5, 3 at 90*1.5
    assert line.origin == 16 * F(60, 180) + 3 * F(60, 135)
    assert line.origin_quarter == 19
    assert line.count_in_tempo == 135
    assert line.lead == 3 * F(60, 135)  # one bar of the start section's 3/4
    assert line.duration == line.lead + 9 * F(60, 135)
    grid = build_grid(m, start_bar=6)
    assert grid.timeline is not None
    music = grid.bar >= 1
    assert grid.time[music][0] == float(line.lead)
    np.testing.assert_allclose(
        grid.map_times()[music], line.times(grid.position[music]), atol=1e-12
    )
    # grid quarters: the count-in's 3 first (its clicks' positions run -3..-1), then bar 6 on
    grid_q = np.where(music, grid.position - 19 + 3, grid.position + 3)
    np.testing.assert_allclose(grid.time, line.grid_times(grid_q), atol=1e-12)


def test_grid_times_are_the_clicks() -> None:
    """MIDI clock at 24 per quarter: every 24th tick lands on a beat click of the grid."""
    m = TempoMap(
        (
            Section(2, Tempo(100), tempo_end=Tempo(140), ramp="time"),
            Section(2, Tempo(120), Meter(3, 4)),
        ),
        count_in=CountIn(beats=2),
    )
    grid = build_grid(m)
    line = grid.timeline
    assert line is not None
    ticks = line.grid_times(np.arange(0, 24 * (2 + 14) + 1) / 24)
    beats = grid.time[grid.sub == 0]
    np.testing.assert_allclose(ticks[::24][: len(beats)], beats, atol=1e-12)
    assert abs(ticks[-1] - grid.duration) <= 1e-12
    back = line.grid_quarters(ticks)
    np.testing.assert_allclose(back, np.arange(len(ticks)) / 24, atol=1e-9)


# -- round trips ----------------------------------------------------------------------


tempos = st.fractions(min_value=F(30), max_value=F(300), max_denominator=100)


@st.composite
def maps(draw: st.DrawFn, ramps: bool = True) -> TempoMap:
    sections = []
    for _ in range(draw(st.integers(1, 4))):
        bars = draw(st.integers(1, 5))
        meter = Meter(draw(st.integers(1, 7)), draw(st.sampled_from([2, 4, 8])))
        t0 = draw(tempos)
        kind = draw(st.sampled_from(["const", "steps", "ramp"] if ramps else ["const", "steps"]))
        if kind == "ramp":
            t1 = draw(tempos)
            shape = draw(st.sampled_from(["beats", "time", "period"]))
            sections.append(Section(bars, Tempo(t0), meter, tempo_end=Tempo(t1), ramp=shape))
        elif kind == "steps":
            length = bars * meter.bar_quarters
            at = draw(
                st.fractions(min_value=F(1, 8), max_value=length - F(1, 8), max_denominator=8)
            )
            sections.append(Section(bars, Tempo(t0), meter, steps=((at, draw(tempos)),)))
        else:
            sections.append(Section(bars, Tempo(t0), meter))
    scale = draw(st.sampled_from([F(1), F(9, 10), F(5, 4)]))
    return TempoMap(tuple(sections), scale=scale)


@settings(max_examples=60, deadline=None)
@given(maps(ramps=False), st.fractions(min_value=0, max_value=1))
def test_time_position_time_is_exact_without_ramps(m: TempoMap, frac: F) -> None:
    line = Timeline(m)
    t = line.end * frac
    q = line.quarter_at(t)
    assert line.time_at(q) == t
    if t < line.end:
        pos = line.position_at(t)
        assert line.time_of(pos.bar, pos.beat) == t


@settings(max_examples=60, deadline=None)
@given(maps(), st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_time_position_time_with_ramps(m: TempoMap, fracs: list[float]) -> None:
    line = Timeline(m)
    t = np.array(fracs) * float(line.end)
    np.testing.assert_allclose(line.times(line.quarters(t)), t, atol=1e-9)
    for x in t[:3]:
        exact = F(float(x))
        assert abs(float(line.time_at(line.quarter_at(exact)) - exact)) <= 1e-9


@settings(max_examples=40, deadline=None)
@given(maps())
def test_vectorised_agrees_with_exact_and_with_the_grid(m: TempoMap) -> None:
    line = Timeline(m)
    grid = build_grid(m)
    exact = [float(line.time_at(F(p))) for p in grid.position.tolist()]
    np.testing.assert_allclose(grid.time, exact, atol=1e-9)
    np.testing.assert_allclose(line.times(grid.position), exact, atol=1e-9)
    np.testing.assert_allclose(line.tempos(grid.position), grid.tempo, rtol=1e-12)
    downbeats = grid.time[(grid.beat == 1) & (grid.sub == 0)]
    np.testing.assert_allclose([float(t) for t in line.bar_times()[:-1]], downbeats, atol=1e-9)
