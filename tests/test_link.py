"""Ableton Link: the map <-> Link beat rule, and ictus against an independent Link peer.

The rule's tests need no binding: exact Fractions, and a ramp's beats checked against
its time integral in 50-digit mpmath. The session tests run two processes in a private
network namespace (``unshare -n``, loopback only): an independent peer that uses the
Link binding directly (``tests/linkpeer.py``, no ictus code) and ictus's leader or
follower (``tests/linkrig.py``); for the backup rig, two ictus processes (a main that
leads and dies, a backup that follows). Both read their own view of the session at the
same host times (Link's clock is one clock for every process on a machine). The
processes run SCHED_FIFO when allowed, as an engine's audio thread would.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ictus.errors import IctusError, ParameterError
from ictus.sync.link import (
    LinkSession,
    QuantumRule,
    bar_phases,
    grid_quarter,
    link_beat,
    link_beats,
)
from ictus.tempomap.model import CountIn, Meter, Section, Tempo, TempoMap
from ictus.tempomap.timeline import Timeline

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import linkrig  # noqa: E402

# -- the rule, exactly -------------------------------------------------------------------


def odd_meters() -> TempoMap:
    return TempoMap(
        (
            Section(2, Tempo(120)),
            Section(1, Tempo(120), Meter(3, 4)),
            Section(2, Tempo(120), Meter(7, 8)),
            Section(1, Tempo(92, Fraction(3, 8)), Meter(6, 8)),
            Section(1, Tempo(120)),
        ),
        count_in=CountIn(bars=1),
    )


def test_start_bar_downbeat_is_beat_0_and_the_count_in_is_negative() -> None:
    line = Timeline(odd_meters())
    assert link_beat(line, 0) == -4  # one bar of 4/4 counted in
    assert link_beat(line, 4) == 0
    # 7/8 bar 4 starts 11 quarters after bar 1 (4 + 4 + 3)
    assert link_beat(line, grid_quarter(line, 0) + line.bar_quarter(4)) == 11
    started = Timeline(odd_meters(), start_bar=4)  # a 7/8 start: 7/2 quarters counted in
    assert started.count_in_quarters == Fraction(7, 2)
    assert link_beat(started, Fraction(7, 2)) == 0
    assert link_beat(started, 0) == Fraction(-7, 2)


@given(st.fractions(min_value=-100, max_value=1000), st.integers(0, 3))
def test_beat_and_grid_quarter_are_inverse(q: Fraction, bars: int) -> None:
    line = Timeline(TempoMap((Section(4, Tempo(90), Meter(5, 8)),), count_in=CountIn(bars=bars)))
    assert grid_quarter(line, link_beat(line, q)) == q
    assert link_beat(line, q) == q - bars * Fraction(5, 2)


def test_quantum_is_the_start_bar_in_quarters_or_fixed() -> None:
    line = Timeline(odd_meters())
    assert QuantumRule().quantum(line) == 4
    assert QuantumRule().quantum(Timeline(odd_meters(), start_bar=3)) == 3
    assert QuantumRule().quantum(Timeline(odd_meters(), start_bar=4)) == Fraction(7, 2)
    assert QuantumRule().quantum(Timeline(odd_meters(), start_bar=6)) == 3  # 6/8
    assert QuantumRule(Fraction(8)).quantum(line) == 8
    with pytest.raises(ParameterError):
        QuantumRule(Fraction(-1))


def test_bar_lines_fall_where_the_quarters_do_after_meter_changes() -> None:
    line = Timeline(odd_meters())
    # bars start at quarters 0 4 8 | 11 | 14.5 | 18 (6/8) | 21 (4/4)
    assert bar_phases(line, Fraction(4)) == [0, 0, 0, 3, Fraction(5, 2), 2, 1]
    assert bar_phases(line, Fraction(1, 2)) == [0] * 7
    # from the 7/8 bar 4 (quarter 11): 0, 7/2, 7, 10 quarters on, quantum 7/2
    assert bar_phases(Timeline(odd_meters(), start_bar=4), Fraction(7, 2)) == [0, 0, 0, 3]


def test_a_ramps_beats_against_its_integral() -> None:
    # tempo linear in beats from 100 to 160 over 8 quarters, after a 2-beat count-in at
    # 100 (1.2 s): quarter x of the ramp is heard at 1.2 + integral_0^x 60 / T(u) du
    # = 1.2 + 60 * 8 / 60 * ln(T(x) / 100) seconds, T(x) = 100 + 60 x / 8
    line = Timeline(
        TempoMap((Section(2, Tempo(100), tempo_end=Tempo(160)),), count_in=CountIn(beats=2))
    )
    mpmath.mp.dps = 50
    xs = [Fraction(0), Fraction(1, 3), Fraction(1), Fraction(5, 2), Fraction(31, 4), Fraction(8)]
    times = [
        mpmath.mpf("1.2")
        + 8 * mpmath.log((100 + mpmath.mpf(60) * x.numerator / x.denominator / 8) / 100)
        for x in xs
    ]
    beats = link_beats(line, [float(t) for t in times])
    assert np.max(np.abs(beats - np.array([float(x) for x in xs]))) < 1e-9


def test_without_the_binding_a_one_line_message_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "link", None)  # what an uninstalled module does
    with pytest.raises(IctusError, match=r"^Ableton Link needs .*pip install 'ictus\[link\]'$"):
        LinkSession()


# -- against a real peer, in a private network ---------------------------------------------


def _namespace_problem() -> str | None:
    if importlib.util.find_spec("link") is None:
        return "the Link binding is not installed (pip install 'ictus[link]')"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare and ip (util-linux, iproute2) are needed for a private network"
    probe = subprocess.run(
        ["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return f"cannot make a private network namespace: {probe.stderr.strip()}"
    return None


needs_namespace = pytest.mark.skipif(
    (reason := _namespace_problem()) is not None, reason=reason or ""
)


def start_rig(scenario: str) -> subprocess.Popen[str]:
    """Launch one rig in a private network namespace of its own (see :func:`finish_rig`)."""
    env = dict(os.environ)
    src = str(HERE.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    script = f"ip link set lo up && exec {sys.executable} {HERE / 'linkrig.py'} {scenario}"
    return subprocess.Popen(
        ["unshare", "-n", "sh", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish_rig(proc: subprocess.Popen[str]) -> dict:
    try:
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    out: dict = json.loads(stdout)
    assert out["codes"] == [0, 0], stderr
    return out


def samples(rig: dict) -> list[dict]:
    """The peer's samples (without its closing "left" line)."""
    return [p for p in rig["peer"] if "beat" in p]


def main_grid_times(lines: list[dict], start: int, t: np.ndarray) -> np.ndarray:
    """The leading transport's grid time at host times ``t``: from 0 at ``start``, and
    from bar 3 on after its locate (as its lines say)."""
    locate = next(x for x in lines if "locate_to" in x)
    return np.where(
        t < locate["t"], (t - start) / 1e6, locate["locate_to"] + (t - locate["t"]) / 1e6
    )


def settling(lines: list[dict], t: np.ndarray) -> np.ndarray:
    """The 100 ms after the leader's locate, while the jump reaches the other peer."""
    at = next(x["t"] for x in lines if "locate_to" in x)
    return (t >= at - linkrig.STEP) & (t < at + 100_000)


def converged(t: np.ndarray, start: int) -> np.ndarray:
    """Samples 2 s or more after both processes were launched."""
    launch = start - linkrig.LEAD_IN
    return t >= launch + 2_000_000


def wrap(beats: np.ndarray, quantum: float) -> np.ndarray:
    return (beats + quantum / 2) % quantum - quantum / 2


#: the rig each session fixture runs
RIGS = {"leading": "lead", "following": "follow", "backing": "backup"}


@pytest.fixture(scope="module")
def rigs(request: pytest.FixtureRequest) -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Every rig this run's tests in this module need, launched at once.

    Each rig runs in a network namespace of its own (its Link session meets nobody
    else's) and its processes mostly sleep between 20 ms samples, so running them side
    by side changes nothing they measure and saves two rigs' worth of wall time.
    """
    wanted = {
        RIGS[name]
        for item in request.session.items
        if getattr(item, "module", None) is request.module  # doctests have none
        for name in getattr(item, "fixturenames", ())
        if name in RIGS
    }
    procs = {scenario: start_rig(scenario) for scenario in sorted(wanted)}
    try:
        yield procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


@pytest.fixture(scope="module")
def leading(rigs: dict[str, subprocess.Popen[str]]) -> dict:
    return finish_rig(rigs["lead"])


@pytest.fixture(scope="module")
def following(rigs: dict[str, subprocess.Popen[str]]) -> dict:
    return finish_rig(rigs["follow"])


@needs_namespace
def test_as_leader_the_peer_hears_the_map_within_1_ms(leading: dict) -> None:
    line = Timeline(linkrig.lead_map())
    start = leading["start"]
    stopped = next(x["t"] for x in leading["ictus"] if x.get("stopped"))
    peer = [p for p in samples(leading) if p["t"] < stopped - 20_000]
    t = np.array([p["t"] for p in peer])
    grid_time = main_grid_times(leading["ictus"], start, t)
    expected = link_beats(line, grid_time)  # the map's beat at each host time
    heard = np.array([p["beat"] for p in peer])
    q = float(QuantumRule().quantum(line))
    map_quarter = line.grid_quarters(grid_time) - float(line.count_in_quarters)
    map_tempo = line.tempos(map_quarter)
    map_tempo[grid_time < line.lead] = float(line.count_in_tempo)
    error_s = wrap(heard - expected, q) * 60.0 / map_tempo
    jumping = settling(leading["ictus"], t)
    ok = converged(t, start) & ~jumping
    assert ok.sum() > 200
    worst = float(np.max(np.abs(error_s[ok])))
    locate = next(x["t"] for x in leading["ictus"] if "locate_to" in x)
    heard_at = next(tt for tt, e in zip(t, error_s, strict=True) if tt > locate and abs(e) < 1e-3)
    print(
        f"leader: worst phase error heard by the peer {worst * 1e6:.1f} us "
        f"over {ok.sum()} samples (ramps 120->160->100, 4/4 3/4 7/8, a locate); the "
        f"locate heard within {(heard_at - locate) / 1e3:.0f} ms"
    )
    assert worst < 1e-3
    assert heard_at - locate < 100_000
    # the session's tempo is the map's: on a ramp, one the map had in the last 150 ms or
    # has in the next 50 (the chord's; Link broadcasts at most every 50 ms)
    tempo = np.array([p["tempo"] for p in peer])
    for g, heard_tempo in zip(grid_time[ok], tempo[ok], strict=True):
        window = np.linspace(g - 0.15, g + 0.05, 41)
        quarters = line.grid_quarters(window) - float(line.count_in_quarters)
        span = np.where(
            window < float(line.lead), float(line.count_in_tempo), line.tempos(quarters)
        )
        assert span.min() - 0.01 <= heard_tempo <= span.max() + 0.01
    # start/stop sync: playing from the leader's start, stopped after its stop
    playing = np.array([p["playing"] for p in peer])
    assert playing[ok].all()
    after = [p["playing"] for p in samples(leading) if p["t"] > stopped + 100_000]
    assert after and not any(after)


@needs_namespace
def test_as_follower_the_transport_is_within_1_ms_of_the_peer(following: dict) -> None:
    line = Timeline(linkrig.follow_map())
    start = following["start"]
    peer = {p["t"]: p for p in samples(following)}
    ours = [x for x in following["ictus"] if x["t"] in peer]
    t = np.array([x["t"] for x in ours])
    beat = np.array([x["grid_quarter"] for x in ours]) - float(line.count_in_quarters)
    heard = np.array([peer[x]["beat"] for x in t.tolist()])
    tempo = np.array([peer[x]["tempo"] for x in t.tolist()])
    # a tempo change reaches the other peer a few ms after it is made: leave 60 ms
    plan = [c.split(":") for c in following["plan"].split(",")]
    changes = [following["first"] + int(float(at) * 1e6) for at, _ in plan]
    stop = changes[-1]  # the peer's last change stops the session
    settled = np.ones(len(t), bool)
    for c in changes[1:-1]:
        settled &= ~((t >= c - linkrig.STEP) & (t < c + 60_000))
    ok = converged(t, start) & settled
    assert ok.sum() > 150
    error_s = wrap(heard - beat, linkrig.QUANTUM) * 60.0 / tempo
    worst = float(np.max(np.abs(error_s[ok])))
    print(
        f"follower: worst phase error against the peer {worst * 1e6:.1f} us "
        f"over {ok.sum()} samples (tempo 100->130->87.5->140, stop)"
    )
    assert worst < 1e-3
    ours_tempo = np.array([x["tempo"] for x in ours])
    # (Link sends a tempo as whole microseconds per beat: 140 arrives as 140.00014)
    assert np.max(np.abs(ours_tempo[ok] - tempo[ok])) < 1e-3
    # the map's speed to play at: the session tempo over the map's (90, then 120)
    rate = np.array([x["rate"] for x in ours])
    map_tempo = np.where(beat < 32, 90.0, 120.0)
    assert np.allclose(rate[ok], ours_tempo[ok] / map_tempo[ok], rtol=1e-12)
    # start/stop sync: playing with the peer, stopped by it (beats and tempo run on)
    playing = np.array([x["playing"] for x in ours])
    assert playing[ok & (t < stop)].all()
    assert not playing[t > stop + 60_000].any() and (t > stop + 60_000).sum() > 10
    assert all(x["state"] == "locked" for x, k in zip(ours, ok, strict=True) if k)


@needs_namespace
def test_a_follower_that_loses_its_peer_says_so_and_keeps_time(following: dict) -> None:
    line = Timeline(linkrig.follow_map())
    last = samples(following)[-1]
    left = following["peer"][-1]["t"]
    after = [x for x in following["ictus"] if x["t"] > left]
    assert len(after) > 20 and after[-1]["state"] == "lost"
    lost_at = next(x["t"] for x in after if x["state"] == "lost")
    print(f"follower: source lost reported {(lost_at - left) / 1e3:.0f} ms after the peer left")
    assert lost_at - left < 500_000
    # free-wheeling on at the last tempo, in phase: the backup takes over without a gap
    for x in after:
        beat = x["grid_quarter"] - float(line.count_in_quarters)
        expected = last["beat"] + (x["t"] - last["t"]) / 1e6 * last["tempo"] / 60.0
        assert abs(beat - expected) * 60.0 / last["tempo"] < 1e-3


@pytest.fixture(scope="module")
def backing(rigs: dict[str, subprocess.Popen[str]]) -> dict:
    return finish_rig(rigs["backup"])


@needs_namespace
def test_a_backup_rig_stays_within_1_ms_of_the_main_and_takes_over(backing: dict) -> None:
    # the main machine plays the map from `start` (grid time = host time - start),
    # locates to bar 3, leads the session, and dies in the middle of the last ramp; the
    # backup follows with the same map and carries on alone
    start = backing["start"]
    died = next(x["t"] for x in backing["peer"] if x.get("died"))
    ours = backing["ictus"]
    t = np.array([x["t"] for x in ours])
    error_s = np.array([x["grid_time"] for x in ours]) - main_grid_times(backing["peer"], start, t)
    ok = converged(t, start) & ~settling(backing["peer"], t)
    worst_locked = float(np.max(np.abs(error_s[ok & (t < died)])))
    worst_alone = float(np.max(np.abs(error_s[t > died])))
    print(
        f"backup: worst {worst_locked * 1e6:.1f} us behind or ahead of the main while it "
        f"plays, {worst_alone * 1e6:.1f} us after it died"
    )
    assert worst_locked < 1e-3 and worst_alone < 1e-3
    states = [x["state"] for x in ours]
    assert all(s == "locked" for s, k in zip(states, ok & (t < died), strict=True) if k)
    assert all(s == "lost" for s, late in zip(states, t > died + 500_000, strict=True) if late)
    assert all(x["playing"] for x, k in zip(ours, ok, strict=True) if k)
