"""Click sheets, streamer plans and game cue points, against hand-computed film numbers."""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from pathlib import Path

import pytest

from ictus.errors import IctusError, ParameterError
from ictus.film.hits import Hit
from ictus.film.picture import Placement
from ictus.film.sheet import sheet_csv, sheet_html, sheet_rows, write_sheet
from ictus.film.streamers import plan_streamers
from ictus.formats import parse_click
from ictus.formats.export.game import cue_points, drift_report, game_json, loop_regions, parse_loop
from ictus.timebase import FPS_24, FPS_29_97_DF, GAUGE_16MM, format_timecode, parse_timecode


def label24(frame: int) -> str:
    s, f = divmod(frame, 24)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{f:02d}"


CUE = parse_click(
    "title: 2m3\nstart: 01:00:08:00 @ 24\ncount-in: 1 bar\n2 4/4 12-0@24\n1 3/4 16-3@24\n"
)


def test_sheet_rows_timecode_feet_and_clicks() -> None:
    rows = sheet_rows(Placement.of(CUE))
    beats = [r for r in rows if r.kind == "beat"]
    assert len(beats) == 4 + 8 + 3
    start = 3600 * 24 + 8 * 24
    # 12 frames a beat in 4/4, warning bar included
    for k, r in enumerate(beats[:12]):
        frame = start + 12 * (k - 4)
        assert r.timecode == label24(frame)
        assert r.subframe == 0
        assert r.click == "12-0" and r.bpm == 120
        # 35 mm feet from 01:00:00:00: 16 frames a foot
        feet, frames = divmod(frame - 86400, 16)
        assert r.feet == f"{feet}+{frames:02d}"
    # the 3/4 bar at 16-3 (16.375 frames a beat): sub-frame positions
    after = start + 96
    for k, r in enumerate(beats[12:]):
        exact = after + Fraction(131, 8) * k
        nearest = int(exact + Fraction(1, 2))
        assert r.timecode == label24(nearest)
        assert r.subframe == pytest.approx(float(exact - nearest), abs=1e-3)
        assert r.click == "16-3"
        assert r.bpm == pytest.approx(60 * 24 / 16.375, abs=1e-3)
    assert [r.bar_beat for r in beats[:5]] == ["0|1", "0|2", "0|3", "0|4", "1|1"]


def test_hits_on_and_between_beats() -> None:
    hits = [Hit(Fraction(1), "door"), Hit(Fraction(5, 4), "8th"), Hit(Fraction(49, 24), "late")]
    rows = sheet_rows(Placement.of(CUE), hits)
    door = next(r for r in rows if "door" in r.hits)
    assert (door.kind, door.bar_beat) == ("beat", "1|3")
    eighth = next(r for r in rows if r.hits == "8th")
    assert (eighth.kind, eighth.bar_beat, eighth.timecode) == ("hit", "1|3.5", "01:00:09:06")
    late = next(r for r in rows if "late" in r.hits)
    # 49/24 s is one frame after bar 2 (2 s): a row of its own, 1/12 of a beat after 2|1
    assert late.kind == "hit" and late.timecode == "01:00:10:01"
    # before the cue start: on a warning click
    pre = sheet_rows(Placement.of(CUE), [Hit(Fraction(-1), "pre")])
    assert any(r.hits == "pre" and r.bar_beat == "0|3" for r in pre)
    # within half a frame: written on the beat with its error
    near = sheet_rows(Placement.of(CUE), [Hit(Fraction(2) + Fraction(1, 96), "x")])
    assert any(r.hits == "x (+0.25 fr)" and r.bar_beat == "2|1" for r in near)


def test_overrides_and_gauge() -> None:
    plain = parse_click("2 4/4 120\n")
    with pytest.raises(ParameterError, match="--fps"):
        Placement.of(plain)
    placed = Placement.of(plain, fps="29.97", start="01:00:00;00", gauge=GAUGE_16MM)
    rows = sheet_rows(placed)
    # 0.5 s a beat = 14.985 frames at 29.97
    assert rows[1].timecode == format_timecode(107892 + 15, FPS_29_97_DF)
    assert rows[1].feet == "0+15"
    assert placed.reel.start_frame == parse_timecode("01:00:00;00", FPS_29_97_DF)


def test_sheet_files(tmp_path: Path) -> None:
    placement = Placement.of(CUE)
    hits = [Hit(Fraction(1), "door <slam> & roll")]
    text = sheet_csv(sheet_rows(placement, hits))
    table = list(csv.DictReader(io.StringIO(text)))
    assert list(table[0])[:9] == [
        "bar", "beat", "timecode", "subframe", "feet", "bpm", "click", "section", "hits",
    ]  # fmt: skip
    page = sheet_html(sheet_rows(placement, hits), placement)
    assert "@media print" in page and "<thead>" in page
    assert "door &lt;slam&gt; &amp; roll" in page
    pdf = tmp_path / "sheet.pdf"
    write_sheet(placement, hits, str(pdf))
    assert pdf.read_bytes()[:5] == b"%PDF-"
    html = tmp_path / "sheet.html"
    write_sheet(placement, hits, str(html))
    assert html.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ParameterError, match=r"\.csv, \.html or \.pdf"):
        write_sheet(placement, hits, str(tmp_path / "sheet.docx"))
    with pytest.raises(IctusError, match="does not exist"):
        write_sheet(placement, hits, str(tmp_path / "no" / "sheet.pdf"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sheet.html", "sheet.pdf"]


# ------------------------------------------------------------------------ streamers


def test_two_second_streamer_into_01_00_10_00() -> None:
    cue = parse_click("start: 01:00:00:00 @ 24\n8 4/4 120\n")
    plan = plan_streamers(Placement.of(cue), [Hit(Fraction(10), "hit")], length_s=2)
    hit = next(s for s in plan.streamers if s.label == "hit")
    assert format_timecode(hit.end, FPS_24) == "01:00:10:00"
    assert format_timecode(hit.start, FPS_24) == "01:00:08:00"
    assert hit.position(hit.start) == 0 and hit.position(hit.end) == 1
    assert hit.position(hit.start - 1) is None
    assert plan.punch_frames() == [parse_timecode("01:00:10:00", FPS_24)]


def test_streamer_colours_and_flutters() -> None:
    cue = parse_click("start: 01:00:00:00 @ 24\ncount-in: 1 bar\n2 4/4 120\n")
    hits = [Hit(Fraction(1), "a"), Hit(Fraction(2), "b", colour="blue"), Hit(Fraction(3), "c")]
    plan = plan_streamers(Placement.of(cue), hits, length_s="2.67", flutter=3)
    colours = {s.label: s.colour for s in plan.streamers}
    assert colours == {"warning": "yellow", "bar 1": "green", "a": "green", "b": "blue",
                       "c": "red"}  # fmt: skip
    # 2.67 s is 64 frames (4 feet of 35 mm) at 24 fps
    assert {s.end - s.start for s in plan.streamers} == {64}
    small = sorted(p.frame for p in plan.punches if not p.big)
    start = parse_timecode("01:00:00:00", FPS_24)
    assert small == [start, start + 2, start + 4, start + 48, start + 50, start + 52]
    with pytest.raises(ParameterError, match="flutter"):
        plan_streamers(Placement.of(cue), hits, flutter=2)


# ----------------------------------------------------------------------------- game


def test_game_cue_points_and_loops() -> None:
    level = parse_click('count-in: 1 bar\nloop: 2 4/4 120\nboss: 2 3/4 133 cue="Boss"\n')
    points = cue_points(level, 48000)
    assert [(p.bar, p.beat, p.sample) for p in points[:5]] == [
        (1, 1, 0), (1, 2, 24000), (1, 3, 48000), (1, 4, 72000), (2, 1, 96000),
    ]  # fmt: skip
    boss = [p for p in points if p.section == "boss"]
    assert boss[0].cue == "Boss" and boss[0].sample == 192000
    # 133 BPM: a beat is 60/133 s = 2880000/133 samples at 48 kHz
    assert boss[1].sample == round(192000 + Fraction(2880000, 133))
    bars = cue_points(level, 48000, every="bar")
    assert [p.bar for p in bars] == [1, 2, 3, 4]
    loops = {x.name: x for x in loop_regions(level, 48000)}
    assert (loops["loop"].start_sample, loops["loop"].end_sample) == (0, 192000)
    assert loops["loop"].whole_samples
    exact = Fraction(6 * 2880000, 133)
    assert loops["boss"].exact_length_samples == pytest.approx(float(exact))
    assert not loops["boss"].whole_samples
    custom = loop_regions(level, 44100, [(2, 3)])
    assert custom[0].start_sample == 88200  # bar 2 at 2 s
    with pytest.raises(ParameterError, match="outside the map"):
        loop_regions(level, 48000, [(3, 9)])
    assert parse_loop("2-3") == (2, 3)


def test_drift_report() -> None:
    level = parse_click("a: 1 4/4 120\nb: 1 4/4 133\nc: 1 4/4 90-100\nd: 1 4/4 125\n")
    lines = {d.section: d for d in drift_report(level, 44100)}
    assert "c" not in lines  # a ramp has no single value
    assert lines["a"].samples_per_beat == 22050 and lines["a"].whole
    # 125 BPM at 44.1 kHz: 0.48 s = 21168 samples, whole
    assert lines["d"].samples_per_beat == 21168 and lines["d"].whole
    b = lines["b"]
    assert b.samples_per_beat == Fraction(60 * 44100, 133) and not b.whole
    # the suggestion is whole: 60 * 44100 / suggestion = round(samples per beat)
    assert 60 * 44100 / b.suggestion_bpm == round(b.samples_per_beat)
    assert '"whole": false' in game_json(level, 44100)
