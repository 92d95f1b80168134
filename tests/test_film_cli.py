"""`ictus timecode` and `ictus film ...` run as a user runs them, against docs/REFERENCE.md.

Expected values are written out from the published numbers (docs/REFERENCE.md section 4-6)
or computed here by another route (exact fractions from the definitions), never by
calling the implementation.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from inprocess import run_ictus

ICTUS = str(Path(sys.executable).parent / "ictus")

# --fps text -> (exact fps, frames per labelled second, drop-frame)
RATES = {
    "23.976": (Fraction(24000, 1001), 24, False),
    "24": (Fraction(24), 24, False),
    "25": (Fraction(25), 25, False),
    "29.97": (Fraction(30000, 1001), 30, True),
    "29.97ndf": (Fraction(30000, 1001), 30, False),
    "30": (Fraction(30), 30, False),
    "48": (Fraction(48), 48, False),
    "50": (Fraction(50), 50, False),
    "59.94": (Fraction(60000, 1001), 60, True),
    "59.94ndf": (Fraction(60000, 1001), 60, False),
    "60": (Fraction(60), 60, False),
}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``ictus ARGS`` through the script's entry point, in-process (see tests/inprocess.py;
    :func:`test_the_installed_script_answers_as_run_does` holds it to the script)."""
    return run_ictus(*args, cwd=cwd)


def script_run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ICTUS, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def ok(*args: str, cwd: Path | None = None) -> str:
    proc = run(*args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


def fails(*args: str, cwd: Path | None = None) -> str:
    proc = run(*args, cwd=cwd)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("ictus: error:") or proc.returncode == 2, proc.stderr
    return proc.stderr


def frame_and_seconds(out: str) -> tuple[int, Fraction]:
    lines = dict(line.split(None, 1) for line in out.strip().splitlines())
    seconds = lines["seconds"].split()[0]
    return int(lines["frame"]), Fraction(seconds)


# ------------------------------------------------------------------- ictus timecode


@pytest.mark.parametrize("rate", list(RATES))
def test_timecode_accepts_every_contract_rate(rate: str) -> None:
    fps, nominal, drop = RATES[rate]
    # 00:10:00:00 is frame 10*60*nominal minus the labels dropped in minutes 1..9
    dropped = 9 * (nominal // 15) if drop else 0
    expected_frame = 600 * nominal - dropped
    sep = ";" if drop else ":"
    frame, seconds = frame_and_seconds(ok("timecode", f"00:10:00{sep}00", "--fps", rate))
    assert frame == expected_frame
    assert abs(seconds - expected_frame / fps) < Fraction(1, 10**8)
    assert ok("timecode", "--frames", str(expected_frame), "--fps", rate).strip() == (
        f"00:10:00{sep}00"
    )


def test_published_drop_frame_labels() -> None:
    assert ok("timecode", "--frames", "1800", "--fps", "29.97").strip() == "00:01:00;02"
    assert ok("timecode", "--frames", "1799", "--fps", "29.97").strip() == "00:00:59;29"
    assert ok("timecode", "--frames", "17982", "--fps", "29.97").strip() == "00:10:00;00"
    assert ok("timecode", "--frames", "107892", "--fps", "29.97").strip() == "01:00:00;00"
    # non-drop names the same frame differently
    assert ok("timecode", "--frames", "17982", "--fps", "29.97ndf").strip() == "00:09:59:12"
    assert frame_and_seconds(ok("timecode", "00:01:00;02", "--fps", "29.97"))[0] == 1800


@pytest.mark.parametrize(
    ("label", "rate"),
    [("00:01:00;00", "29.97"), ("00:01:00;01", "29.97"), ("00:01:00;03", "59.94"),
     ("00:00:00:24", "24"), ("00:00:00:25", "25"), ("25:00:00:00", "24"), ("1:2:3", "24")],
)  # fmt: skip
def test_labels_that_do_not_exist_exit_non_zero(label: str, rate: str) -> None:
    fails("timecode", label, "--fps", rate)


def test_the_120_12_beat_example() -> None:
    # a hit at 00:01:00:00 NDF is 60.06 s after 00:00:00:00: beat 120.12 at 120 BPM
    frame, seconds = frame_and_seconds(ok("timecode", "00:01:00:00", "--fps", "29.97ndf"))
    assert frame == 1800
    assert seconds == Fraction("60.06")
    assert seconds * 120 / 60 == Fraction("120.12")
    # and an hour of NDF labels is 3603.6 s
    assert frame_and_seconds(ok("timecode", "01:00:00:00", "--fps", "29.97ndf"))[1] == Fraction(
        "3603.6"
    )


def test_feet_and_frames_from_picture_start() -> None:
    # 35 mm: 16 frames a foot; 2-pop at 9+00, first frame of action at 12+00
    assert ok("timecode", "--feet", "9+00", "--fps", "24").strip() == "01:00:06:00"
    assert ok("timecode", "--feet", "12+00", "--fps", "24").strip() == "01:00:08:00"
    # 16 mm: 40 frames a foot
    out = ok("timecode", "--feet", "1+00", "--fps", "24", "--gauge", "16mm")
    assert out.strip() == "01:00:01:16"


def test_timecode_json() -> None:
    data = json.loads(ok("timecode", "00:00:00:01", "--fps", "23.976", "--format", "json"))
    assert data["frame"] == 1
    assert Fraction(data["seconds_exact"]) == Fraction(1001, 24000)


# ---------------------------------------------------------------------- film click


@pytest.mark.parametrize(
    ("click", "rate", "bpm"),
    [
        ("12-0", "24", "120.000"),
        ("12-2", "24", "117.551"),
        ("16-3", "24", "87.939"),
        ("13-2", "24", "108.679"),
        ("24-0", "24", "60.000"),
        ("12-0", "23.976", "119.880"),
        ("12-0", "25", "125.000"),
        ("10-0", "25", "150.000"),
        ("12-0", "29.97", "149.850"),
        ("15-0", "29.97ndf", "119.880"),
    ],
)
def test_frame_click_prints_bpm_to_three_decimals(click: str, rate: str, bpm: str) -> None:
    fps = RATES[rate][0]
    frames, eighths = (int(x) for x in click.split("-"))
    truth = 60 / ((frames + Fraction(eighths, 8)) / fps)  # 60 s / seconds per beat
    assert f"{float(truth):.3f}" == bpm
    assert ok("film", "click", click, "--fps", rate).strip() == bpm


@pytest.mark.parametrize(
    ("bpm", "rate", "expected"),
    [
        ("100", "24", "14-3+ 100.174"),  # 14.4 frames: just above 14-3
        ("102", "24", "14-1- 101.947"),  # 14.118 frames: just below 14-1 (14.125)
        ("120", "24", "12-0 120.000"),  # on the grid: no mark
        ("117.551", "24", "12-2+ 117.551"),  # the 3-decimal BPM is a hair slow of 12-2
        ("119.88", "23.976", "12-0+ 119.880"),  # 119.88 is a hair slow of 12-0 (119.88012)
    ],
)
def test_nearest_click_of_a_tempo(bpm: str, rate: str, expected: str) -> None:
    assert ok("film", "click", "--bpm", bpm, "--fps", rate).strip() == expected


def test_bad_clicks_and_rates_exit_non_zero() -> None:
    fails("film", "click", "12-8", "--fps", "24")
    fails("film", "click", "12-2", "--fps", "29.976")
    fails("film", "click", "--fps", "24")
    fails("timecode", "00:00:01:00", "--fps", "30df")


# ----------------------------------------------------------------------- film fit

CASE_ONE = (96, 192, 288, 336)  # docs/REFERENCE.md 5: 120 BPM "12-0", beats 8, 16, 24, 28
CASE_TWO = (53, 106, 212, 265)  # 108.679 BPM "13-2", beats 4, 8, 16, 20


def write_hits(path: Path, rows: list[str], header: str = "timecode,label") -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def frames_to_tc24(frame: int, hour: int = 0) -> str:
    seconds, ff = divmod(frame, 24)
    return f"{hour:02d}:{seconds // 60:02d}:{seconds % 60:02d}:{ff:02d}"


@pytest.mark.parametrize(
    ("frames", "lo_hi", "bpm", "click", "beats"),
    [
        (CASE_ONE, "100-140", Fraction(120), "12-0", [8, 16, 24, 28]),
        (CASE_TWO, "100-120", Fraction(5760, 53), "13-2", [4, 8, 16, 20]),
    ],
)
def test_reference_fitting_cases_as_json(
    tmp_path: Path,
    frames: tuple[int, ...],
    lo_hi: str,
    bpm: Fraction,
    click: str,
    beats: list[int],
) -> None:
    hits = write_hits(tmp_path / "hits.csv", [f"{frames_to_tc24(f)},h{f}" for f in frames])
    out = ok("film", "fit", str(hits), "--fps", "24", "--range", lo_hi, "--format", "json")
    candidates = json.loads(out)
    assert isinstance(candidates, list) and candidates
    best = candidates[0]
    for key in ("bpm", "click", "hits", "near", "miss", "errors_frames"):
        assert key in best
    assert best["bpm"] == float(bpm)
    assert round(best["bpm"], 3) == round(float(bpm), 3)
    assert best["click"] == click
    assert (best["hits"], best["near"], best["miss"]) == (4, 0, 0)
    assert best["errors_frames"] == [0.0, 0.0, 0.0, 0.0]
    assert best["beats"] == beats
    # ranked best first: nobody after it catches more
    assert all(c["hits"] <= best["hits"] for c in candidates)
    for c in candidates:
        assert len(c["errors_frames"]) == 4


def test_fit_seconds_column_and_start_offset(tmp_path: Path) -> None:
    # the same hits given as seconds, and as timecodes an hour in with --start
    seconds = write_hits(
        tmp_path / "s.csv", [f"{Fraction(f, 24)!s}" for f in CASE_ONE], header="seconds"
    )
    seconds.write_text("seconds\n" + "\n".join(f"{f / 24:.6f}" for f in CASE_ONE) + "\n")
    hour = write_hits(tmp_path / "h.csv", [f"{frames_to_tc24(f, 1)},x" for f in CASE_ONE])
    a = json.loads(ok("film", "fit", str(seconds), "--fps", "24", "--range", "100-140",
                      "--format", "json"))[0]  # fmt: skip
    b = json.loads(ok("film", "fit", str(hour), "--fps", "24", "--range", "100-140",
                      "--start", "01:00:00:00", "--format", "json"))[0]  # fmt: skip
    assert a["bpm"] == b["bpm"] == 120.0
    assert a["errors_frames"] == b["errors_frames"] == [0.0] * 4


def test_fit_pickup_moves_the_first_downbeat(tmp_path: Path) -> None:
    # case one shifted 31 frames later: without --pickup nothing fits exactly
    shifted = [f + 31 for f in CASE_ONE]
    hits = write_hits(tmp_path / "p.csv", [frames_to_tc24(f) + ",x" for f in shifted])
    plain = json.loads(ok("film", "fit", str(hits), "--fps", "24", "--range", "110-130",
                          "--format", "json"))[0]  # fmt: skip
    assert plain["hits"] < 4
    best = json.loads(ok("film", "fit", str(hits), "--fps", "24", "--range", "110-130",
                         "--pickup", "--format", "json"))[0]  # fmt: skip
    assert best["bpm"] == 120.0 and best["hits"] == 4
    assert best["errors_frames"] == [0.0] * 4
    # the downbeat is a whole number of beats (12 frames) before the first hit
    downbeat = round(best["downbeat_s"] * 24)
    assert (shifted[0] - downbeat) % 12 == 0 and 0 <= downbeat < 48


def test_fit_click_mode_and_map_output(tmp_path: Path) -> None:
    hits = write_hits(tmp_path / "c.csv", [f"{frames_to_tc24(f, 1)},h{f}" for f in CASE_TWO])
    out = tmp_path / "cue.click"
    result = json.loads(ok("film", "fit", str(hits), "--fps", "24", "--range", "100-120",
                           "--mode", "click", "--start", "01:00:00:00", "--format", "json",
                           "-o", str(out)))  # fmt: skip
    assert result[0]["click"] == "13-2"
    text = out.read_text()
    assert "start: 01:00:00:00 @ 24" in text
    assert "13-2@24" in text
    # the written map's beats land on the hits' frames: check with `ictus beats`
    rows = list(csv.DictReader(io.StringIO(ok("beats", str(out)))))
    music = [r for r in rows if int(r["bar"]) >= 1 and r["beat"] == "1"]
    downbeat_frames = [Fraction(r["time_s"]) for r in music]
    lead = Fraction(rows[[int(r["bar"]) for r in rows].index(1)]["time_s"])
    for f in CASE_TWO:
        assert any(abs((t - lead) * 24 - f) < Fraction(1, 1000) for t in downbeat_frames)


def test_fit_map_writes_a_click_file(tmp_path: Path) -> None:
    # no single tempo in 100-130 catches these: 12-0 for 16 beats, then 13-2
    hits = write_hits(tmp_path / "m.csv", [f"{frames_to_tc24(f)},h{f}" for f in
                                           (96, 192, 245, 298)])  # fmt: skip
    out = tmp_path / "map.click"
    data = json.loads(ok("film", "fit", str(hits), "--fps", "24", "--range", "100-130",
                         "--map", "--format", "json", "-o", str(out)))  # fmt: skip
    assert data["changes"] == 1
    assert data["status"] == ["hit"] * 4
    text = out.read_text()
    assert "12-0@24" in text and "13-2@24" in text
    assert "count-in: 1 bar" in text


def test_fit_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timecode,label\n00:00:04:00,ok\n00:00:04:30,bad frame\n")
    err = fails("film", "fit", str(bad), "--fps", "24", "--range", "100-140")
    assert f"{bad}:3:1:" in err and "frames must be 0..23" in err
    fails("film", "fit", str(bad), "--fps", "24", "--range", "140-100")
    fails("film", "fit", str(tmp_path / "missing.csv"), "--fps", "24")
    before = tmp_path / "before.csv"
    before.write_text("timecode\n00:59:59:00\n")
    err = fails("film", "fit", str(before), "--fps", "24", "--start", "01:00:00:00")
    assert "before the cue start" in err


# --------------------------------------------------------------- sheet, cues, help


def test_help_of_every_film_command_has_examples() -> None:
    for args in (("timecode",), ("film",), ("film", "click"), ("film", "fit"),
                 ("film", "sheet"), ("film", "video"), ("film", "cues")):  # fmt: skip
        out = ok(*args, "--help")
        assert "Examples:" in out


def test_sheet_csv_from_the_command_line(tmp_path: Path) -> None:
    cue = tmp_path / "cue.click"
    cue.write_text("title: 1m1\nstart: 01:00:08:00 @ 24\ncount-in: 1 bar\n2 4/4 12-0@24\n")
    hits = write_hits(tmp_path / "h.csv", ["01:00:10:00,door", "01:00:10:06,8th after"])
    rows = list(csv.DictReader(io.StringIO(ok("film", "sheet", str(cue), "--hits", str(hits),
                                              "-o", "-", "--format", "csv"))))  # fmt: skip
    beats = [r for r in rows if r["kind"] == "beat"]
    assert len(beats) == 12  # 4 warning clicks + 8 beats
    # 12 frames a beat from 01:00:08:00; warning clicks before it
    assert [r["timecode"] for r in beats[:6]] == [
        "01:00:06:00", "01:00:06:12", "01:00:07:00", "01:00:07:12", "01:00:08:00",
        "01:00:08:12",
    ]  # fmt: skip
    # feet from 01:00:00:00: 01:00:08:00 is 12+00 (action), 01:00:08:12 is 12+12
    assert beats[4]["feet"] == "12+00" and beats[5]["feet"] == "12+12"
    door = next(r for r in rows if "door" in r["hits"])
    assert (door["bar"], door["beat"], door["timecode"]) == ("2", "1", "01:00:10:00")
    eighth = next(r for r in rows if r["kind"] == "hit")
    assert (eighth["bar"], eighth["beat"], eighth["timecode"]) == ("2", "1.5", "01:00:10:06")
    assert {r["click"] for r in beats} == {"12-0"}


def test_cues_json_from_the_command_line(tmp_path: Path) -> None:
    level = tmp_path / "level.click"
    level.write_text("a: 2 4/4 120\nb: 1 4/4 133\n")
    proc = run("film", "cues", str(level), "--format", "json", "-r", "48000")
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert [c["sample"] for c in data["cue_points"][:5]] == [0, 24000, 48000, 72000, 96000]
    assert "133.000 BPM" in proc.stderr and "not whole" in proc.stderr
    loops = {x["name"]: x for x in data["loops"]}
    assert loops["a"]["length_samples"] == 192000 and loops["a"]["whole_samples"]
    assert not loops["b"]["whole_samples"]


# ------------------------------------------------ first contact: defaults that fit picture


@pytest.mark.parametrize(
    ("label", "rate", "gauge", "feet"),
    [
        # 10 s after picture start: 240 frames = 15 ft of 16 frames (35 mm), 6 ft of 40 (16 mm)
        ("01:00:10:00", "24", "35mm", "15+00"),
        ("01:00:10:00", "24", "16mm", "6+00"),
        # 25 fps: 3 s + 5 frames = 80 frames = 5 ft exactly (35 mm)
        ("01:00:03:05", "25", "35mm", "5+00"),
        ("01:00:00:07", "24", "35mm", "0+07"),
    ],
)
def test_timecode_label_prints_feet_and_frames(label: str, rate: str, gauge: str, feet: str
                                               ) -> None:
    out = ok("timecode", label, "--fps", rate, "--gauge", gauge)
    lines = dict(line.split(None, 1) for line in out.strip().splitlines())
    assert lines["feet"].split()[0] == feet
    assert "01:00:00:00" in lines["feet"] and gauge in lines["feet"]
    data = json.loads(ok("timecode", label, "--fps", rate, "--gauge", gauge, "--format", "json"))
    assert data["feet"] == feet and data["picture_start"] == "01:00:00:00"


def test_timecode_before_picture_start_has_no_feet() -> None:
    out = ok("timecode", "00:59:59:00", "--fps", "24")
    assert "feet none: before picture start" in out
    data = json.loads(ok("timecode", "00:59:59:00", "--fps", "24", "--format", "json"))
    assert data["feet"] is None


def test_fit_without_start_counts_from_the_hour_of_the_earliest_hit(tmp_path: Path) -> None:
    # REFERENCE.md case one, an hour in: 120 BPM, downbeat at 01:00:00:00
    hits = write_hits(tmp_path / "h.csv", [f"{frames_to_tc24(f, 1)},h{f}" for f in CASE_ONE])
    proc = run("film", "fit", str(hits), "--fps", "24", "--range", "100-140", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "01:00:00:00" in proc.stderr and "--start" in proc.stderr
    best = json.loads(proc.stdout)[0]
    assert best["bpm"] == 120.0 and best["click"] == "12-0"
    assert best["downbeat_timecode"] == "01:00:00:00"
    assert best["beats"] == [8, 16, 24, 28]  # an hour-long map would count 7200 more
    # the map written has the cue's few bars, not an hour of them, and starts at 01:00
    out = tmp_path / "cue.click"
    ok("film", "fit", str(hits), "--fps", "24", "--range", "100-140", "-o", str(out))
    text = out.read_text()
    assert "start: 01:00:00:00 @ 24" in text
    rows = list(csv.DictReader(io.StringIO(ok("beats", str(out)))))
    assert max(int(r["bar"]) for r in rows) <= 9  # hits end on beat 28: bar 8 in 4/4


def test_fit_help_examples_show_start() -> None:
    for args in (("--help",), ("film", "--help"), ("film", "fit", "--help")):
        out = ok(*args)
        examples = [x for x in out.splitlines() if x.strip().startswith("ictus film fit")]
        assert examples and all("--start" in x for x in examples), out


@pytest.mark.parametrize(
    "args",
    [
        ("timecode", "01:00:00;00", "--fps", "29.97"),  # an answer on stdout
        ("film", "click", "9+3", "--fps", "33"),  # a usage mistake (exit 2)
        ("film", "fit", "missing.csv", "--fps", "24"),  # an error (exit 1)
        ("film", "fit", "--help"),
    ],
)
def test_the_installed_script_answers_as_run_does(tmp_path: Path, args: tuple[str, ...]) -> None:
    """The tests above call the script's entry point in-process; the installed script, as a
    subprocess, gives the same exit code, stdout and stderr."""
    script = script_run(*args, cwd=tmp_path)
    here = run(*args, cwd=tmp_path)
    assert (script.returncode, script.stdout, script.stderr) == (
        here.returncode, here.stdout, here.stderr,
    )  # fmt: skip
