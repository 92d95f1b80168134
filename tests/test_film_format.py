"""Frame clicks and start timecodes in the .click and JSON formats, and the timecode column
of beat lists."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ictus.errors import ParameterError, ParseError
from ictus.formats import format_click, from_json, parse_click, to_json
from ictus.formats.export.beatlist import (
    HEADER,
    click_timecodes,
    seconds_from_map_start,
    write_beats,
)
from ictus.tempomap import CountIn, Section, Tempo, TempoMap, build_grid
from ictus.timebase import FPS_23_976, FPS_24, FPS_29_97_DF, RATES, FrameRate, Timecode

NINE = "index,time_s,sample,bar,beat,sub,level,tempo_bpm,section"


def test_frame_click_tempo_is_exact() -> None:
    m = parse_click("m1: 4 4/4 12-2@24\n")
    tempo = m.sections[0].tempo
    assert tempo.bpm == Fraction(60 * 24) / Fraction(98, 8)  # 60 s / (12.25 frames / 24)
    assert tempo.frame_click == (Fraction(49, 4), FPS_24)
    # the grid: every beat 12.25 frames later
    grid = build_grid(m)
    assert grid.time[1] * 24 == pytest.approx(12.25, abs=1e-12)


def test_frame_click_keeps_frames_under_pull_down() -> None:
    m = parse_click("4 4/4 12-0@23.976\n")
    assert m.sections[0].tempo.bpm == Fraction(120000, 1001)
    grid = build_grid(m)
    # 12 frames of 1001/24000 s each
    assert grid.time[1] == pytest.approx(12 * 1001 / 24000, abs=1e-12)


def test_frame_clicks_round_trip_through_the_text() -> None:
    text = (
        "title: Cue 1m2\n"
        "count-in: 1 bar\n"
        "start: 01:00:00:00 @ 23.976\n"
        "a: 4 4/4 12-2@24\n"
        "b: 2 4/4 100-12-0@23.976 ramp=time\n"
        "c: 2 6/8 e=6-4@29.97df\n"
        "d: 1 4/4 13-2@25-120\n"
    )
    m = parse_click(text)
    written = format_click(m)
    for part in ("start: 01:00:00:00 @ 23.976", "12-2@24", "100-12-0@23.976 ramp=time",
                 "e=6-4@29.97df", "13-2@25-120"):  # fmt: skip
        assert part in written
    assert parse_click(written) == m
    assert from_json(to_json(m)) == m
    assert m.sections[2].tempo.unit == Fraction(1, 8)
    assert m.sections[1].tempo_end is not None
    assert m.sections[1].tempo_end.frame_click == (Fraction(12), FPS_23_976)


def test_start_header() -> None:
    m = parse_click("start: 01:00:00;02 @ 29.97\n4 4/4 120\n")
    assert m.start == Timecode.parse("01:00:00;02", FPS_29_97_DF)
    assert "start: 01:00:00;02 @ 29.97df" in format_click(m)
    # a section labelled start is still a section
    m2 = parse_click("start: 4 4/4 120\nend: 1 4/4 120\n")
    assert m2.start is None and m2.sections[0].label == "start"
    assert parse_click(format_click(m2)) == m2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("start: 01:00:00:00\n4 4/4 120", "TIMECODE @ RATE"),
        ("start: 01:00:00:00 @ 29.976\n4 4/4 120", "unknown frame rate"),
        ("start: 00:01:00;00 @ 29.97\n4 4/4 120", "does not exist"),
        ("start: 01:00:00:00 @ 24\nstart: 01:00:00:00 @ 24\n4 4/4 120", "given twice"),
        ("4 4/4 12-8@24", "eighths must be 0..7"),
        ("4 4/4 0-4@24", "frames must be >= 1"),
        ("4 4/4 12-2@24fps", "unknown frame rate"),
        ("4 4/4 12-2@24,120,120,120", "per-beat"),
    ],
)
def test_bad_frame_clicks_and_starts(line: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_click(line, "cue.click")
    assert str(info.value).startswith("cue.click:")


def test_model_checks_frame_clicks() -> None:
    with pytest.raises(ParameterError, match="not the frame click"):
        Tempo(120, None, (Fraction(13), FPS_24))
    with pytest.raises(ParameterError, match="eighths"):
        Tempo.from_frame_click(Fraction(72, 5), FPS_24)
    with pytest.raises(ParameterError, match="Timecode"):
        TempoMap((Section(1, Tempo(120)),), start="01:00:00:00")  # type: ignore[arg-type]
    assert Tempo.from_frame_click(Fraction(12), FPS_24) != Tempo(120)  # it remembers the click
    assert Tempo.from_frame_click(Fraction(12), FPS_24).bpm == Tempo(120).bpm


def test_json_start_and_click_must_agree() -> None:
    m = parse_click("start: 01:00:00:00 @ 24\n4 4/4 12-2@24\n")
    data = json.loads(to_json(m))
    assert data["start"] == {"timecode": "01:00:00:00", "rate": "24"}
    assert data["sections"][0]["frame_click"] == "12-2@24"
    data["sections"][0]["tempo"] = "117.5"
    with pytest.raises(ParseError, match=r"12-2@24 is 117\.551 BPM"):
        from_json(json.dumps(data))
    data["sections"][0]["tempo"] = "5760/49"
    data["start"] = {"timecode": "00:01:00;00", "rate": "29.97"}
    with pytest.raises(ParseError, match="does not exist"):
        from_json(json.dumps(data))


rates = st.sampled_from(sorted(RATES.values(), key=lambda r: r.name))


@given(st.integers(8, 8 * 60), rates, st.integers(1, 16), rates, st.integers(0, 10**6))
def test_any_frame_click_and_start_round_trip(
    eighths: int, rate: FrameRate, bars: int, start_rate: FrameRate, frame: int
) -> None:
    frames_per_beat = Fraction(eighths, 8)
    start = Timecode.from_frame(frame, start_rate)
    m = TempoMap((Section(bars, Tempo.from_frame_click(frames_per_beat, rate)),), start=start)
    text = format_click(m)
    assert f"@{rate.name}" in text
    assert parse_click(text) == m
    assert from_json(to_json(m)) == m
    # the BPM is 60 * fps / frames, computed here from seconds per beat
    assert m.sections[0].tempo.bpm == 60 / (frames_per_beat / rate.fps)


# ------------------------------------------------------------------ beat lists


def beats_csv(tempo_map: TempoMap, **grid_args: object) -> list[list[str]]:
    out = io.StringIO()
    write_beats(build_grid(tempo_map, **grid_args), out, rate=48000, tempo_map=tempo_map)  # type: ignore[arg-type]
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_nine_columns_stay_exact_without_a_start() -> None:
    m = parse_click("count-in: 1 bar\n2 4/4 120\n")
    rows = beats_csv(m)
    assert ",".join(rows[0]) == NINE == ",".join(HEADER)
    assert all(len(r) == 9 for r in rows)
    plain = io.StringIO()
    write_beats(build_grid(m), plain, rate=48000)
    assert plain.getvalue() == "\n".join(",".join(r) for r in rows) + "\n"


def test_timecode_column_after_the_nine() -> None:
    m = parse_click("start: 01:00:00:00 @ 23.976\ncount-in: 1 bar\n2 4/4 12-0@23.976\n")
    rows = beats_csv(m)
    assert ",".join(rows[0]) == NINE + ",timecode"
    # 12 frames a beat from 01:00:00:00; the warning bar is the 48 frames before it
    labels = [r[9] for r in rows[1:]]
    expected = []
    for beat in range(-4, 8):
        frame = 86400 + 12 * beat
        s, f = divmod(frame, 24)
        expected.append(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{f:02d}")
    assert labels == expected
    data = []
    out = io.StringIO()
    write_beats(build_grid(m), out, fmt="json", rate=48000, tempo_map=m)
    data = json.loads(out.getvalue())
    assert [d["timecode"] for d in data] == expected


def test_timecodes_from_a_later_start_bar_keep_their_place_in_picture() -> None:
    m = TempoMap(
        (Section(2, Tempo(120), label="a"), Section(2, Tempo(90), label="b")),
        count_in=CountIn(bars=1),
        start=Timecode.parse("01:00:00:00", FPS_24),
    )
    whole = click_timecodes(m, build_grid(m))
    later = click_timecodes(m, build_grid(m, start_label="b"))
    # the music clicks of the later start are the last clicks of the whole map
    music = later[4:]
    assert music == whole[-len(music) :]
    # section b starts 8 beats of 0.5 s = 4 s = 96 frames after 01:00:00:00
    assert later[4] == "01:00:04:00"
    # and its 90 BPM count-in (4 beats of 2/3 s) sits before it
    seconds = seconds_from_map_start(m, build_grid(m, start_label="b"))
    assert seconds[:5].tolist() == pytest.approx([4 - 8 / 3, 4 - 2, 4 - 4 / 3, 4 - 2 / 3, 4])
