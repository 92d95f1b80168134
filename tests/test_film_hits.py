"""Reading hit lists: CSV, REAPER, Pro Tools session text, Avid markers, EDL locators."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ictus.errors import IctusError, ParameterError, ParseError
from ictus.film.hits import GRIDS, clock_seconds, detect_format, parse_grid, parse_hits, read_hits
from ictus.timebase import FPS_23_976, FPS_24, FPS_25, FPS_29_97_DF


def test_csv_timecode_label_weight_grid_colour() -> None:
    text = (
        "Timecode,Label,Weight,Grid,Color\n"
        "01:00:04:00,door slam,2,8th,red\n"
        "01:00:02:12,glance,,,\n"
        "\n"
        "# a comment row\n"
    )
    hits = parse_hits(text, "h.csv", rate=FPS_24, start="01:00:00:00")
    assert [h.time for h in hits] == [Fraction(5, 2), Fraction(4)]  # sorted by time
    glance, door = hits
    assert (door.label, door.weight, door.grid, door.colour) == ("door slam", 2, "8th", "red")
    assert (glance.weight, glance.grid, glance.colour) == (1, "beat", None)
    assert door.line == 2


def test_csv_seconds_count_from_the_cue_start() -> None:
    hits = parse_hits("seconds,label\n4.5,a\n0:10.25,b\n", rate=FPS_24, start="01:00:00:00")
    assert [h.time for h in hits] == [Fraction(9, 2), Fraction(41, 4)]


def test_csv_frame_column_is_absolute() -> None:
    hits = parse_hits("frame\n86496\n", rate=FPS_24, start="01:00:00:00")
    assert hits[0].time == 4


def test_drop_frame_labels_and_real_time() -> None:
    # 00:01:00;02 is frame 1800 at 29.97 DF: 60.06 s of real time
    hits = parse_hits("timecode\n00:01:00;02\n", rate=FPS_29_97_DF)
    assert hits[0].time == Fraction("60.06")
    with pytest.raises(ParseError, match="does not exist"):
        parse_hits("timecode\n00:01:00;00\n", rate=FPS_29_97_DF)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("timecode\n00:00:01:00\n00:00:01:24\n", "h.csv:3:1", "frames must be 0..23"),
        ("label\nx\n", "h.csv:1:1", "one time column"),
        ("timecode,seconds\n1,2\n", "h.csv:1:1", "one time column"),
        ("timecode,weight\n00:00:01:00,heavy\n", "h.csv:2:13", "weight must be a number"),
        ("timecode,grid\n00:00:01:00,5ths\n", "h.csv:2:1", "unknown grid"),
        ("timecode,weight\n00:00:01:00,-1\n", "h.csv:2:1", ">= 0"),
        ("timecode,colour\n00:00:01:00,mauve\n", "h.csv:2:1", "streamer colour"),
        ("seconds\n1:75\n", "h.csv:2:1", "below 60"),
        ("", "h.csv:1:1", "empty"),
    ],
)
def test_bad_csv_rows_name_the_line(text: str, where: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_hits(text, "h.csv", rate=FPS_24)
    assert str(info.value).startswith(where), str(info.value)
    assert message in str(info.value)


def test_hits_before_the_cue_start_are_refused() -> None:
    with pytest.raises(ParseError, match="before the cue start"):
        parse_hits("timecode\n00:59:59:23\n", "h.csv", rate=FPS_24, start="01:00:00:00")


def test_reaper_marker_csv() -> None:
    text = (
        "#,Name,Start,End,Length,Color\n"
        "M1,Door,1:00:04:00,,,FF0000\n"
        "R1,Chase,0:06.500,0:09.000,0:02.500,\n"
        "M2,Kiss,8.25,,,\n"
    )
    assert detect_format(text) == "reaper"
    hits = parse_hits(text, rate=FPS_24, start="01:00:00:00")
    assert [(h.label, h.time) for h in hits] == [
        ("Door", Fraction(4)), ("Chase", Fraction(13, 2)), ("Kiss", Fraction(33, 4)),
    ]  # fmt: skip
    with pytest.raises(ParseError, match=r"bars\.beats"):
        parse_hits("#,Name,Start,End,Length\nM1,x,5.1.00,,\n", rate=FPS_24)


PRO_TOOLS = (
    "SESSION NAME:\tCue 1M1\n"
    "SAMPLE RATE:\t48000.000000\n"
    "BIT DEPTH:\t24-bit\n"
    "SESSION START TIMECODE:\t00:59:50:00\n"
    "TIMECODE FORMAT:\t24 Frame\n"
    "# OF AUDIO TRACKS:\t2\n"
    "\n\n"
    "M A R K E R S  L I S T I N G\n"
    "#   \tLOCATION     \tTIME REFERENCE    \tUNITS    \tNAME                 \t"
    "TRACK NAME   \tTRACK TYPE   \tCOMMENTS\n"
    "1   \t01:00:04:00  \t672000            \tSamples  \tDoor slam            \t"
    "Markers      \tRuler        \tbig one\n"
    "2   \t0:20.500     \t984000            \tSamples  \tCar                  \t"
    "Markers      \tRuler        \t\n"
)


def test_pro_tools_session_text() -> None:
    assert detect_format(PRO_TOOLS) == "protools"
    hits = parse_hits(PRO_TOOLS, rate=FPS_24, start="01:00:00:00")
    # a timecode location is used as is; the other goes through the sample reference:
    # 984000 samples at 48 kHz = 20.5 s after the session start 00:59:50:00 = 01:00:10:12
    assert [(h.label, h.time) for h in hits] == [
        ("Door slam - big one", Fraction(4)), ("Car", Fraction(21, 2)),
    ]  # fmt: skip


def test_pro_tools_rate_mismatch_is_named() -> None:
    with pytest.raises(ParseError, match="--fps 24"):
        parse_hits(PRO_TOOLS, "s.txt", rate=FPS_25)
    older = PRO_TOOLS.replace("24 Frame", "23.976 Frame")
    assert parse_hits(older, rate=FPS_23_976, start="01:00:00:00")[0].label == "Door slam - big one"


def test_avid_marker_list() -> None:
    text = (
        "Editor\t01:00:04:00\tV1\tred\tDoor slam\t1\n"
        "Editor\t01:00:06:12\tV1\tgreen\tLook\t1\t\tgreen\n"
    )
    assert detect_format(text) == "avid"
    hits = parse_hits(text, rate=FPS_24, start="01:00:00:00")
    assert [(h.label, h.time, h.colour) for h in hits] == [
        ("Door slam", Fraction(4), "red"), ("Look", Fraction(13, 2), "green"),
    ]  # fmt: skip


def test_edl_locators_avid_and_resolve() -> None:
    text = (
        "TITLE: Reel 1\n"
        "FCM: NON-DROP FRAME\n"
        "\n"
        "001  AX       V     C        00:00:00:00 00:00:10:00 01:00:00:00 01:00:10:00\n"
        "* LOC: 01:00:04:00 RED     Door slam\n"
        "* LOC: 01:00:06:00 Kiss without a colour\n"
        "002  AX       V     C        00:00:00:00 00:00:01:00 01:00:08:00 01:00:08:01\n"
        " |C:ResolveColorBlue |M:Blue marker |D:1\n"
    )
    assert detect_format(text) == "edl"
    hits = parse_hits(text, rate=FPS_24, start="01:00:00:00")
    assert [(h.label, h.time, h.colour) for h in hits] == [
        ("Door slam", Fraction(4), "red"),
        ("Kiss without a colour", Fraction(6), None),
        ("Blue marker", Fraction(8), "blue"),
    ]
    with pytest.raises(ParseError, match="no locators"):
        parse_hits("TITLE: empty\n", "x.edl", rate=FPS_24)


def test_read_hits_from_files(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes("\ufefftimecode,label\n00:00:04:00,caf\u00e9\n".encode())
    assert read_hits(path, rate=FPS_24)[0].label == "caf\u00e9"
    latin = tmp_path / "pt.txt"
    latin.write_bytes(PRO_TOOLS.replace("Car", "Caf\xe9").encode("latin-1"))
    assert read_hits(latin, rate=FPS_24, start="01:00:00:00")[1].label == "Caf\u00e9"
    with pytest.raises(IctusError, match="no such file"):
        read_hits(tmp_path / "missing.csv", rate=FPS_24)
    with pytest.raises(ParameterError, match="format"):
        read_hits(path, rate=FPS_24, fmt="xml")


def test_grid_names() -> None:
    assert {parse_grid(x) for x in ("beat", "q", "8th", "eighth", "16", "triplet")} == set(GRIDS)
    with pytest.raises(ParameterError, match="beat, 8th, 16th, triplet"):
        parse_grid("quintuplet")


@given(
    st.lists(
        st.tuples(
            st.integers(0, 24 * 3600 * 24 - 1),
            st.text(alphabet="abcdefgh ,\"'", max_size=12).map(str.strip),
            st.integers(0, 9),
            st.sampled_from(sorted(GRIDS)),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_csv_round_trip(rows: list[tuple[int, str, int, str]]) -> None:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["timecode", "label", "weight", "grid"])
    for frame, label, weight, grid in rows:
        s, f = divmod(frame, 24)
        writer.writerow([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{f:02d}", label,
                         weight, grid])  # fmt: skip
    hits = parse_hits(out.getvalue(), rate=FPS_24)
    expected = sorted(
        ((Fraction(frame, 24), label, weight, grid) for frame, label, weight, grid in rows),
        key=lambda r: r[0],
    )
    assert [(h.time, h.label, h.weight, h.grid) for h in hits] == expected


@given(st.integers(0, 10**6), st.integers(0, 999))
def test_clock_seconds(whole: int, millis: int) -> None:
    value = Fraction(whole) + Fraction(millis, 1000)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    assert clock_seconds(f"{h}:{m:02d}:{s:02d}.{millis:03d}") == value
    assert clock_seconds(f"{whole}.{millis:03d}") == value
