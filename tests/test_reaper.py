"""The REAPER project (.rpp) parsed back as REAPER reads it: tempo points, meters,
regions and cue markers against times worked out here with 50-digit arithmetic."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest

from ictus.errors import ParameterError
from ictus.formats import parse_click, read_map, write_map
from ictus.formats.export.reaper import format_rpp

MAP = (
    "count-in: 1 bar\n"
    "a: 2 4/4 120\n"
    'b: 2 3/4 90-120 ramp=time cue@2.2="hit"\n'
    "c: 1 6/8 q.=60\n"
    'd: 2 4/4 100 steps=2:120 cue="out"\n'
)


def parse_rpp(text: str) -> tuple[list[tuple[float, float, int | None]], list[tuple]]:
    """PT lines (time, bpm, meter code or None) and MARKER lines, as REAPER reads them."""
    assert text.startswith("<REAPER_PROJECT ") and text.rstrip().endswith(">")
    body = text[text.index("<TEMPOENVEX") : text.index("\n  >\n")]
    points = []
    for line in body.splitlines():
        fields = line.split()
        if fields and fields[0] == "PT":
            code = int(fields[4]) if len(fields) > 4 else None
            points.append((float(fields[1]), float(fields[2]), code))
    markers = []
    for m in re.finditer(r'^  MARKER (\d+) (\S+) "([^"]*)" (\d)$', text, re.M):
        markers.append((int(m.group(1)), float(m.group(2)), m.group(3), int(m.group(4))))
    return points, markers


def linear_in_time_beat_times(t0: int, t1: int, n: int) -> list[mpmath.mpf]:
    """Seconds of beats 0..n of a ramp whose tempo is linear in time (quarters)."""
    with mpmath.workdps(50):
        d = mpmath.mpf(120) * n / (t0 + t1)  # the ramp's duration
        a = mpmath.mpf(t1 - t0) / (120 * d)  # beats(t) = t0 t / 60 + a t^2
        b = mpmath.mpf(t0) / 60
        return [(-b + mpmath.sqrt(b * b + 4 * a * k)) / (2 * a) for k in range(n + 1)]


def test_tempo_points_regions_and_cues_are_exact() -> None:
    points, markers = parse_rpp(format_rpp(parse_click(MAP)))
    beats = linear_in_time_beat_times(90, 120, 6)
    b_start = 6  # count-in 4 quarters at 120 (2 s), a: 8 quarters at 120 (4 s)
    c_start = b_start + beats[-1]
    d_start = c_start + 2  # 3 quarters at 90
    want = [(0, 120, 4 + 65536 * 4)]  # the count-in, in the first meter
    for k in range(6):  # one point per beat of the ramp, its exact length
        want.append((b_start + beats[k], 60 / (beats[k + 1] - beats[k]), None))
    want[1] = (*want[1][:2], 3 + 65536 * 4)
    want += [(c_start, 90, 6 + 65536 * 8), (d_start, 100, 4 + 65536 * 4)]
    want += [(d_start + Fraction(6, 5), 120, None)]
    assert len(points) == len(want)
    for got, (t, bpm, code) in zip(points, want, strict=True):
        assert got[0] == pytest.approx(float(t), abs=1e-11)
        assert got[1] == pytest.approx(float(bpm), abs=1e-9)
        assert got[2] == code
    ends = [2, 6, c_start, d_start, d_start + Fraction(6, 5) + 3]
    starts = [0, 2, 6, c_start, d_start]
    names = ["count-in", "a", "b", "c", "d"]
    regions = [m for m in markers if m[3] == 1]
    assert [(n, name) for n, _, name, _ in regions[::2]] == list(enumerate(names, start=1))
    for (_, t0, _, _), (_, t1, name, _), s, e in zip(
        regions[::2], regions[1::2], starts, ends, strict=True
    ):
        assert name == "" and t0 == pytest.approx(float(s), abs=1e-9)
        assert t1 == pytest.approx(float(e), abs=1e-9)
    cues = [(n, t, name) for n, t, name, flag in markers if flag == 0]
    hit = b_start + beats[4]  # bar 2 beat 2 of 3/4: quarter 4 of the ramp
    assert [(n, name) for n, _, name in cues] == [(1, "hit"), (2, "out")]
    assert cues[0][1] == pytest.approx(float(hit), abs=1e-9)
    assert cues[1][1] == pytest.approx(float(d_start), abs=1e-9)


def test_scale_and_no_count_in(tmp_path: Path) -> None:
    path = tmp_path / "song.rpp"
    write_map(parse_click("scale: 50%\nv: 2 4/4 120\n"), path)
    text = path.read_text()
    assert "  TEMPO 60 4 4\n" in text
    points, markers = parse_rpp(text)
    assert points == [(0.0, 60.0, 4 + 65536 * 4)]
    assert markers == [(1, 0.0, "v", 1), (1, 8.0, "", 1)]
    with pytest.raises(ParameterError, match="does not read"):
        read_map(path)
