"""Tests for ictus.timebase against published film numbers (docs/REFERENCE.md section 4).

Truth here is computed by routes other than the implementation's: labels are
enumerated one by one instead of counted in closed form, seconds come from
``frames * 1001 / 30000`` written out, and BPM from beat length in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import pytest

from ictus.errors import ParameterError
from ictus.timebase import (
    FPS_23_976,
    FPS_24,
    FPS_25,
    FPS_29_97_DF,
    FPS_29_97_NDF,
    FPS_30,
    FPS_48,
    FPS_50,
    FPS_59_94_DF,
    FPS_59_94_NDF,
    FPS_60,
    GAUGE_16MM,
    GAUGE_35MM,
    RATES,
    FilmGauge,
    FrameClick,
    FrameRate,
    PictureStart,
    Timecode,
    bpm_to_click,
    bpm_to_frames,
    click_to_bpm,
    feet_per_minute,
    format_click,
    format_feet,
    format_timecode,
    frames_per_day,
    frames_to_seconds,
    parse_click,
    parse_feet,
    parse_gauge,
    parse_rate,
    parse_timecode,
    seconds_to_frames,
    seconds_to_timecode,
    timecode_to_seconds,
)

# --------------------------------------------------------------------------- rates


@pytest.mark.parametrize(
    ("text", "fps", "nominal", "drop", "name"),
    [
        ("23.976", Fraction(24000, 1001), 24, False, "23.976"),
        ("23.98", Fraction(24000, 1001), 24, False, "23.976"),
        ("24", Fraction(24), 24, False, "24"),
        ("25", Fraction(25), 25, False, "25"),
        ("29.97", Fraction(30000, 1001), 30, True, "29.97df"),
        ("29.97df", Fraction(30000, 1001), 30, True, "29.97df"),
        ("29.97ndf", Fraction(30000, 1001), 30, False, "29.97ndf"),
        ("30", Fraction(30), 30, False, "30"),
        ("48", Fraction(48), 48, False, "48"),
        ("50", Fraction(50), 50, False, "50"),
        ("59.94", Fraction(60000, 1001), 60, True, "59.94df"),
        ("59.94df", Fraction(60000, 1001), 60, True, "59.94df"),
        ("59.94ndf", Fraction(60000, 1001), 60, False, "59.94ndf"),
        ("60", Fraction(60), 60, False, "60"),
    ],
)
def test_parse_rate_accepts_each_published_rate(
    text: str, fps: Fraction, nominal: int, drop: bool, name: str
) -> None:
    rate = parse_rate(text)
    assert rate.fps == fps
    assert rate.nominal == nominal
    assert rate.drop_frame is drop
    assert rate.name == name


def test_pulled_down_rates_are_exactly_1000_over_1001_of_nominal() -> None:
    # 23.976 etc. are labels; the true rates are nominal * 1000/1001, not the decimals.
    for rate in (FPS_23_976, FPS_29_97_DF, FPS_29_97_NDF, FPS_59_94_DF, FPS_59_94_NDF):
        assert rate.fps * 1001 == rate.nominal * 1000
        assert rate.fps != Fraction(rate.name.rstrip("ndf"))


def test_rates_dict_holds_every_constant_under_its_name() -> None:
    constants = [
        FPS_23_976, FPS_24, FPS_25, FPS_29_97_DF, FPS_29_97_NDF, FPS_30,
        FPS_48, FPS_50, FPS_59_94_DF, FPS_59_94_NDF, FPS_60,
    ]  # fmt: skip
    assert sorted(RATES.values(), key=lambda r: (r.fps, r.drop_frame)) == sorted(
        constants, key=lambda r: (r.fps, r.drop_frame)
    )
    for name, rate in RATES.items():
        assert rate.name == name
        assert parse_rate(name) == rate


def test_parse_rate_ignores_case_and_spaces() -> None:
    assert parse_rate(" 29.97NDF ") == FPS_29_97_NDF
    assert parse_rate("59.94DF") == FPS_59_94_DF


@pytest.mark.parametrize("text", ["29.976", "23.97", "24fps", "", "30df", "25df", "120", "29,97"])
def test_parse_rate_rejects_unknown_and_lists_the_choices(text: str) -> None:
    with pytest.raises(ParameterError) as info:
        parse_rate(text)
    message = str(info.value)
    for choice in ("23.976", "24", "25", "29.97df", "29.97ndf", "59.94ndf", "60"):
        assert choice in message


def test_frame_rate_rejects_impossible_combinations() -> None:
    with pytest.raises(ParameterError, match="drop-frame"):
        FrameRate(Fraction(25), 25, drop_frame=True)
    with pytest.raises(ParameterError, match="drop-frame"):
        FrameRate(Fraction(24000, 1001), 24, drop_frame=True)  # 23.976 has no DF
    with pytest.raises(ParameterError, match="drop-frame"):
        FrameRate(Fraction(30), 30, drop_frame=True)  # DF only makes sense pulled down
    with pytest.raises(ParameterError, match="nominal"):
        FrameRate(Fraction(30000, 1001), 29)
    with pytest.raises(ParameterError, match="positive"):
        FrameRate(Fraction(0), 0)


def test_frame_rate_is_frozen() -> None:
    with pytest.raises(AttributeError):
        FPS_24.nominal = 25  # type: ignore[misc]


# ------------------------------------------------------------------ timecode truth


def enumerate_labels(nominal: int, dropped: int, minutes: int) -> Iterator[str]:
    """Every existing label of the first ``minutes`` minutes, in order, one by one.

    The drop rule as stated in prose: skip the first ``dropped`` labels of each
    minute whose number is not divisible by 10.
    """
    separator = ";" if dropped else ":"
    for total_minute in range(minutes):
        hours, minute = divmod(total_minute, 60)
        for second in range(60):
            for frame in range(nominal):
                if dropped and second == 0 and frame < dropped and minute % 10 != 0:
                    continue
                yield f"{hours:02d}:{minute:02d}:{second:02d}{separator}{frame:02d}"


def test_an_hour_of_29_97_df_labels_enumerated_one_by_one() -> None:
    labels = list(enumerate_labels(30, 2, 60))
    assert len(labels) == 107892  # published frames per hour at 29.97 DF
    for frame, label in enumerate(labels):
        assert format_timecode(frame, FPS_29_97_DF) == label
        assert parse_timecode(label, FPS_29_97_DF) == frame


def test_eleven_minutes_of_59_94_df_labels_enumerated_one_by_one() -> None:
    labels = list(enumerate_labels(60, 4, 11))
    # 11 minutes of 3600 labels, minus 4 in each of minutes 1..9.
    assert len(labels) == 11 * 3600 - 9 * 4
    for frame, label in enumerate(labels):
        assert format_timecode(frame, FPS_59_94_DF) == label
        assert parse_timecode(label, FPS_59_94_DF) == frame


@pytest.mark.parametrize("rate", [FPS_23_976, FPS_25, FPS_29_97_NDF, FPS_59_94_NDF])
def test_non_drop_labels_enumerated_one_by_one(rate: FrameRate) -> None:
    for frame, label in enumerate(enumerate_labels(rate.nominal, 0, 3)):
        assert format_timecode(frame, rate) == label
        assert parse_timecode(label, rate) == frame


def test_published_29_97_df_numbers() -> None:
    assert parse_timecode("00:10:00;00", FPS_29_97_DF) == 17982
    assert parse_timecode("01:00:00;00", FPS_29_97_DF) == 107892
    assert format_timecode(1800, FPS_29_97_DF) == "00:01:00;02"
    assert format_timecode(1799, FPS_29_97_DF) == "00:00:59;29"
    assert format_timecode(17982, FPS_29_97_DF) == "00:10:00;00"
    assert format_timecode(107892, FPS_29_97_DF) == "01:00:00;00"


@pytest.mark.parametrize("label", ["00:01:00;00", "00:01:00;01", "00:59:00;01", "13:37:00;00"])
def test_skipped_29_97_df_labels_are_rejected_and_say_why(label: str) -> None:
    with pytest.raises(ParameterError, match="does not exist") as info:
        parse_timecode(label, FPS_29_97_DF)
    assert "drop-frame" in str(info.value)


def test_59_94_df_skips_00_to_03_at_each_minute_not_divisible_by_10() -> None:
    for minute in range(60):
        for frame in range(4):
            label = f"00:{minute:02d}:00;{frame:02d}"
            if minute % 10 == 0:
                parse_timecode(label, FPS_59_94_DF)  # exists
            else:
                with pytest.raises(ParameterError, match="does not exist"):
                    parse_timecode(label, FPS_59_94_DF)
        if minute:
            first = parse_timecode(
                f"00:{minute:02d}:00;{0 if minute % 10 == 0 else 4:02d}", FPS_59_94_DF
            )
            # The first label of the minute directly follows the last of the one before.
            assert format_timecode(first - 1, FPS_59_94_DF) == f"00:{minute - 1:02d}:59;59"
    assert parse_timecode("00:10:00;00", FPS_59_94_DF) == 2 * 17982
    assert parse_timecode("01:00:00;00", FPS_59_94_DF) == 2 * 107892


def test_the_rate_not_the_separator_decides_drop_frame() -> None:
    # 00:01:00:00 is frame 1800 at NDF; at DF the same label does not exist, even
    # written with ':'.
    assert parse_timecode("00:01:00:00", FPS_29_97_NDF) == 1800
    assert format_timecode(1800, FPS_29_97_NDF) == "00:01:00:00"
    with pytest.raises(ParameterError, match="does not exist"):
        parse_timecode("00:01:00:00", FPS_29_97_DF)
    assert parse_timecode("00:01:00:02", FPS_29_97_DF) == 1800


def test_an_hour_of_29_97_ndf_labels_is_3603_6_seconds() -> None:
    assert timecode_to_seconds("01:00:00:00", FPS_29_97_NDF) == Fraction("3603.6")
    assert timecode_to_seconds("00:01:00:00", FPS_29_97_NDF) == Fraction("60.06")


def test_hit_at_one_minute_ndf_is_beat_120_12_at_120_bpm() -> None:
    seconds = timecode_to_seconds("00:01:00:00", FPS_29_97_NDF)
    beats = seconds * 120 / 60
    assert beats == Fraction("120.12")


def test_real_time_is_frames_times_1001_over_30000_for_df_and_ndf() -> None:
    for frame in (0, 1, 1799, 1800, 17982, 107892, 1234567):
        truth = Fraction(frame * 1001, 30000)
        assert frames_to_seconds(frame, FPS_29_97_DF) == truth
        assert frames_to_seconds(frame, FPS_29_97_NDF) == truth
        assert frames_to_seconds(frame, FPS_59_94_DF) == truth / 2


def test_df_hour_label_is_within_a_frame_of_an_hour_of_real_time() -> None:
    real = timecode_to_seconds("01:00:00;00", FPS_29_97_DF)
    assert real == Fraction(107892 * 1001, 30000) == Fraction("3599.9964")
    assert abs(real - 3600) < Fraction(1001, 30000)


@pytest.mark.parametrize("separator", [":", ";", "."])
def test_df_accepts_all_three_separators(separator: str) -> None:
    assert parse_timecode(f"00:10:00{separator}00", FPS_29_97_DF) == 17982


@pytest.mark.parametrize("separator", [":", "."])
def test_ndf_accepts_colon_and_dot(separator: str) -> None:
    assert parse_timecode(f"01:00:08{separator}00", FPS_24) == (3600 + 8) * 24


@pytest.mark.parametrize("rate", [FPS_24, FPS_25, FPS_29_97_NDF, FPS_59_94_NDF])
def test_semicolon_at_a_non_drop_rate_is_refused(rate: FrameRate) -> None:
    with pytest.raises(ParameterError, match="drop-frame"):
        parse_timecode("00:01:00;02", rate)


@pytest.mark.parametrize(
    ("label", "rate", "match"),
    [
        ("00:00:00:24", FPS_24, r"frames must be 0\.\.23"),
        ("00:00:00:24", FPS_23_976, r"frames must be 0\.\.23"),
        ("00:00:00:25", FPS_25, r"frames must be 0\.\.24"),
        ("00:00:00;30", FPS_29_97_DF, r"frames must be 0\.\.29"),
        ("00:00:00:60", FPS_60, r"frames must be 0\.\.59"),
        ("00:60:00:00", FPS_25, "minutes"),
        ("00:00:60:00", FPS_25, "seconds"),
        ("24:00:00:00", FPS_25, "hours"),
        ("-00:00:01:00", FPS_25, "negative"),
        ("-01:00:00;00", FPS_29_97_DF, "negative"),
        ("00:00:01", FPS_25, "malformed"),
        ("0:0:1:0", FPS_25, "malformed"),
        ("00-00-01-00", FPS_25, "malformed"),
        ("00:00:01:00:00", FPS_25, "malformed"),
        ("ab:cd:ef:gh", FPS_25, "malformed"),
        ("", FPS_25, "malformed"),
    ],
)
def test_bad_labels_are_rejected(label: str, rate: FrameRate, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        parse_timecode(label, rate)


def test_labels_at_the_edges_of_the_day() -> None:
    assert parse_timecode("00:00:00:00", FPS_25) == 0
    assert parse_timecode("23:59:59:24", FPS_25) == 24 * 3600 * 25 - 1
    assert format_timecode(24 * 3600 * 25 - 1, FPS_25) == "23:59:59:24"
    assert frames_per_day(FPS_29_97_DF) == 24 * 107892
    assert format_timecode(24 * 107892 - 1, FPS_29_97_DF) == "23:59:59;29"
    with pytest.raises(ParameterError, match="no timecode"):
        format_timecode(24 * 107892, FPS_29_97_DF)
    with pytest.raises(ParameterError, match="no timecode"):
        format_timecode(-1, FPS_24)


def test_timecode_dataclass_round_trip_and_checks() -> None:
    tc = Timecode.parse("01:00:08:00", FPS_24)
    assert (tc.hours, tc.minutes, tc.seconds, tc.frames) == (1, 0, 8, 0)
    assert tc.to_frame() == 86592
    assert Timecode.from_frame(86592, FPS_24) == tc
    assert str(Timecode(0, 10, 0, 0, FPS_29_97_DF)) == "00:10:00;00"
    with pytest.raises(ParameterError, match="does not exist"):
        Timecode(0, 1, 0, 1, FPS_29_97_DF)
    with pytest.raises(ParameterError, match=">= 0"):
        Timecode(0, 0, -1, 0, FPS_24)
    with pytest.raises(ParameterError, match="int"):
        Timecode(0, 0, 1.5, 0, FPS_24)  # type: ignore[arg-type]


def test_seconds_to_frames_rounding_modes() -> None:
    # 1/48 s is exactly half a frame at 24 fps: nearest rounds halves up.
    assert seconds_to_frames(Fraction(1, 48), FPS_24) == 1
    assert seconds_to_frames(Fraction(1, 48), FPS_24, "floor") == 0
    assert seconds_to_frames(Fraction(1, 48), FPS_24, "ceil") == 1
    assert seconds_to_frames(Fraction(1, 50), FPS_24) == 0
    assert seconds_to_frames(Fraction(1, 46), FPS_24) == 1
    assert seconds_to_frames(Fraction(1, 24), FPS_24, "ceil") == 1
    assert seconds_to_frames(Fraction(1, 24), FPS_24, "floor") == 1
    # 60.06 s at 29.97 is exactly frame 1800; a float 60.06 must not land on 1799.
    assert seconds_to_frames(60.06, FPS_29_97_NDF, "floor") == 1800
    assert seconds_to_frames("60.06", FPS_29_97_NDF, "floor") == 1800
    assert seconds_to_frames(60, FPS_29_97_NDF, "floor") == 1798  # 60 s = 1798.2 frames
    with pytest.raises(ParameterError, match="rounding"):
        seconds_to_frames(1, FPS_24, "up")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="finite"):
        seconds_to_frames(float("inf"), FPS_24)


def test_seconds_to_timecode() -> None:
    # DF keeps labels near real time; NDF labels lag 3.6 s per hour.
    assert seconds_to_timecode(3600, FPS_29_97_DF) == "01:00:00;00"
    assert seconds_to_timecode(3600, FPS_29_97_NDF) == "00:59:56:12"
    assert seconds_to_timecode(Fraction("3603.6"), FPS_29_97_NDF) == "01:00:00:00"
    assert seconds_to_timecode(8, FPS_24) == "00:00:08:00"


# --------------------------------------------------------------------------- feet


def test_35mm_runs_90_feet_per_minute_at_24_fps() -> None:
    assert GAUGE_35MM.frames_per_foot == 16
    assert feet_per_minute(GAUGE_35MM, FPS_24) == 90
    assert format_feet(24 * 60, GAUGE_35MM) == "90+00"
    assert parse_feet("90+00", GAUGE_35MM) == 24 * 60


def test_16mm_has_40_frames_per_foot() -> None:
    assert format_feet(40, GAUGE_16MM) == "1+00"
    assert format_feet(79, GAUGE_16MM) == "1+39"
    assert parse_feet("1+39", GAUGE_16MM) == 79
    with pytest.raises(ParameterError, match=r"0\.\.39"):
        parse_feet("1+40", GAUGE_16MM)


def test_feet_format() -> None:
    assert format_feet(0, GAUGE_35MM) == "0+00"
    assert format_feet(123 * 16 + 4, GAUGE_35MM) == "123+04"
    assert parse_feet("123+04", GAUGE_35MM) == 1972
    assert parse_feet("123+4", GAUGE_35MM) == 1972


def test_academy_leader_marks_at_24_fps() -> None:
    reel = PictureStart.from_timecode("01:00:00:00", FPS_24, GAUGE_35MM)
    assert reel.start_frame == 3600 * 24
    assert reel.timecode_to_feet("01:00:00:00", FPS_24) == "0+00"
    assert reel.feet_to_timecode("9+00", FPS_24) == "01:00:06:00"  # 2-pop
    assert reel.feet_to_timecode("12+00", FPS_24) == "01:00:08:00"  # first frame of action
    assert reel.timecode_to_feet("01:00:08:00", FPS_24) == "12+00"
    # 2-pop is two seconds before action: 3 feet of 16 frames = 48 frames.
    assert reel.to_frame("12+00") - reel.to_frame("9+00") == 2 * 24
    with pytest.raises(ParameterError, match="before picture start"):
        reel.timecode_to_feet("00:59:59:23", FPS_24)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("3+16", "0..15"),
        ("-1+00", "negative"),
        ("12", "malformed"),
        ("1+2+3", "malformed"),
        ("a+b", "malformed"),
        ("", "malformed"),
    ],
)
def test_bad_feet_are_rejected(text: str, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        parse_feet(text, GAUGE_35MM)


def test_gauges() -> None:
    assert parse_gauge("35mm") is GAUGE_35MM
    assert parse_gauge("16MM") is GAUGE_16MM
    with pytest.raises(ParameterError, match="35mm"):
        parse_gauge("8mm")
    with pytest.raises(ParameterError):
        FilmGauge("bad", 0)
    with pytest.raises(ParameterError, match="before picture start"):
        format_feet(-1, GAUGE_35MM)


# -------------------------------------------------------------------- frame clicks


def bpm_by_beat_length(frames: int, eighths: int, fps: Fraction) -> Fraction:
    """Truth by another route: seconds per beat from the frame length, then 60 / that."""
    seconds_per_frame = 1 / fps
    seconds_per_beat = frames * seconds_per_frame + eighths * seconds_per_frame / 8
    return 60 / seconds_per_beat


@pytest.mark.parametrize(
    ("click", "frames", "eighths", "published"),
    [
        ("12-0", 12, 0, "120.000"),
        ("12-2", 12, 2, "117.551"),
        ("16-3", 16, 3, "87.939"),
        ("13-2", 13, 2, "108.679"),
        ("24-0", 24, 0, "60.000"),
    ],
)
def test_published_clicks_at_24_fps(click: str, frames: int, eighths: int, published: str) -> None:
    bpm = click_to_bpm(parse_click(click), FPS_24)
    assert bpm == bpm_by_beat_length(frames, eighths, Fraction(24))
    assert abs(bpm - Fraction(published)) <= Fraction(1, 2000)  # equal to 3 decimals
    assert f"{float(bpm):.3f}" == published
    assert format_click(parse_click(click)) == click


def test_12_0_stays_12_frames_under_pull_down() -> None:
    click = FrameClick.parse("12-0")
    assert click.frames_per_beat == 12
    bpm = click.bpm(FPS_23_976)
    assert bpm == Fraction(120 * 1000, 1001)
    assert f"{float(bpm):.3f}" == "119.880"
    assert click.seconds_per_beat(FPS_23_976) == Fraction(12 * 1001, 24000)


def test_parse_click_exact_values() -> None:
    assert parse_click("12-2") == 12 + Fraction(2, 8)
    assert parse_click("1-0") == 1
    assert parse_click("36-7") == Fraction(36 * 8 + 7, 8)


def test_100_bpm_at_24_fps_is_14_3_plus() -> None:
    text, exact = bpm_to_click(100, FPS_24)
    assert exact == Fraction(24 * 60, 100) == Fraction("14.4")
    assert text == "14-3+"
    assert parse_click("14-3") == Fraction("14.375") < exact  # + : true beat is longer


def test_click_marks_point_the_documented_way() -> None:
    # 102 BPM: 1440/102 = 14.1176 frames, nearest eighth 14.125 (14-1) is larger -> "-".
    text, exact = bpm_to_click(102, FPS_24)
    assert text == "14-1-"
    assert exact < parse_click("14-1")
    # On the grid: no mark.
    assert bpm_to_click(Fraction(5760, 49), FPS_24) == ("12-2", Fraction(49, 4))
    assert bpm_to_click("120", FPS_24)[0] == "12-0"
    # A half-way value (exactly 1/16 frame off) shows the larger click, marked "-".
    assert format_click(Fraction(12 * 16 + 1, 16)) == "12-1-"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("0-4", "frames must be >= 1"),
        ("12-8", "eighths must be 0..7"),
        ("12", "malformed"),
        ("12.25", "malformed"),
        ("-1-0", "malformed"),
        ("12-2+", "approximate"),
        ("14-3-", "approximate"),
        ("", "malformed"),
    ],
)
def test_bad_clicks_are_rejected(text: str, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        parse_click(text)


def test_click_value_errors() -> None:
    with pytest.raises(ParameterError, match="> 0"):
        click_to_bpm(Fraction(0), FPS_24)
    with pytest.raises(ParameterError, match="> 0"):
        bpm_to_frames(-10, FPS_24)
    with pytest.raises(ParameterError, match="at least 1 frame"):
        format_click(Fraction(1, 2))
    with pytest.raises(ParameterError, match="exact"):
        click_to_bpm(12.5, FPS_24)  # type: ignore[arg-type]


def test_frame_click_dataclass() -> None:
    click = FrameClick.from_bpm(100, FPS_24)
    assert click.frames_per_beat == Fraction(72, 5)
    assert not click.on_grid
    assert str(click) == "14-3+"
    assert click.bpm(FPS_24) == 100
    assert FrameClick.parse("13-2").on_grid
    with pytest.raises(ParameterError):
        FrameClick(Fraction(-1))
