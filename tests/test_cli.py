"""The ``ictus`` command line, run as a user runs it: a subprocess of the installed script."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

ICTUS = str(Path(sys.executable).parent / "ictus")
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "example.click"
HEADER = "index,time_s,sample,bar,beat,sub,level,tempo_bpm,section"
VOICES = ("beep", "woodblock", "cowbell", "rim", "hihat", "tock")

# Four sections with everything a beat list shows, and its rows worked out by hand:
# a 4/4 count-in at 120 (0, 0.5, 1, 1.5 s), intro at 120 (2 .. 3.5 s), verse at 90 in 3/4
# with its second beat silent (4, 4 2/3, 5 1/3 s), outro at 60 in 2/4 with eighths
# (6, 6.5, 7, 7.5 s); the map ends at 8 s.
SONG = """\
# a small song
title: Small
count-in: 1 bar
intro: 1 4/4 120
verse: 1 3/4 90 X.x
outro: 1 2/4 60 sub=2
"""
ROWS = [  # time, bar, beat, sub, level, tempo, section
    (0, 0, 1, 0, "accent", 120, "count-in"),
    (0.5, 0, 2, 0, "normal", 120, "count-in"),
    (1, 0, 3, 0, "normal", 120, "count-in"),
    (1.5, 0, 4, 0, "normal", 120, "count-in"),
    (2, 1, 1, 0, "accent", 120, "intro"),
    (2.5, 1, 2, 0, "normal", 120, "intro"),
    (3, 1, 3, 0, "normal", 120, "intro"),
    (3.5, 1, 4, 0, "normal", 120, "intro"),
    (4, 2, 1, 0, "accent", 90, "verse"),
    (4 + 2 / 3, 2, 2, 0, "silent", 90, "verse"),
    (4 + 4 / 3, 2, 3, 0, "normal", 90, "verse"),
    (6, 3, 1, 0, "accent", 60, "outro"),
    (6.5, 3, 1, 1, "sub", 60, "outro"),
    (7, 3, 2, 0, "normal", 60, "outro"),
    (7.5, 3, 2, 1, "sub", 60, "outro"),
]


def run(*args: str, cwd: Path | None = None, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ICTUS, *args], capture_output=True, text=True, cwd=cwd, input=stdin,
                          timeout=120, check=False)


def ok(*args: str, cwd: Path | None = None, stdin: str | None = None
       ) -> subprocess.CompletedProcess[str]:
    proc = run(*args, cwd=cwd, stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture
def song(tmp_path: Path) -> Path:
    path = tmp_path / "song.click"
    path.write_text(SONG)
    return path


def check_rows(rows: list[dict[str, object]], rate: int) -> None:
    assert len(rows) == len(ROWS)
    for i, (row, (t, bar, beat, sub, level, tempo, section)) in enumerate(
            zip(rows, ROWS, strict=True)):
        assert int(row["index"]) == i  # type: ignore[call-overload]
        assert float(row["time_s"]) == pytest.approx(t, abs=1e-9)  # type: ignore[arg-type]
        assert int(row["sample"]) == round(t * rate)  # type: ignore[call-overload]
        got = (int(row["bar"]), int(row["beat"]), int(row["sub"]))  # type: ignore[call-overload]
        assert got == (bar, beat, sub), row
        assert row["level"] == level
        assert float(row["tempo_bpm"]) == pytest.approx(tempo)  # type: ignore[arg-type]
        assert row["section"] == section


# ------------------------------------------------------------------------------ help


@pytest.mark.parametrize("command", ["", "render", "beats", "info", "plot", "convert", "sounds"])
def test_help_has_examples(command: str) -> None:
    proc = ok(*([command] if command else []), "--help")
    assert "Examples" in proc.stdout
    assert "ictus " in proc.stdout.split("Examples", 1)[1]  # the examples are commands


def test_short_help_and_version() -> None:
    assert "Examples" in ok("render", "-h").stdout
    assert ok("--version").stdout.strip().startswith("ictus ")


# ----------------------------------------------------------------------------- beats


@pytest.mark.parametrize("rate", [48000, 44100])
def test_beats_csv(song: Path, rate: int) -> None:
    out = ok("beats", str(song), "--sample-rate", str(rate)).stdout
    lines = out.splitlines()
    assert lines[0] == HEADER
    rows = list(csv.DictReader(io.StringIO(out)))
    check_rows(rows, rate)  # type: ignore[arg-type]
    for row in rows:
        assert len(row["time_s"].split(".")[1]) >= 9


def test_beats_default_format_and_rate(song: Path) -> None:
    out = ok("beats", str(song)).stdout
    assert out.splitlines()[0] == HEADER
    check_rows(list(csv.DictReader(io.StringIO(out))), 48000)  # type: ignore[arg-type]


def test_beats_json(song: Path) -> None:
    rows = json.loads(ok("beats", str(song), "--format", "json", "-r", "96000").stdout)
    assert isinstance(rows, list)
    for row in rows:
        assert list(row) == HEADER.split(",")
        for key in ("index", "sample", "bar", "beat", "sub"):
            assert isinstance(row[key], int)
        assert isinstance(row["time_s"], float) and isinstance(row["tempo_bpm"], float)
        assert isinstance(row["level"], str) and isinstance(row["section"], str)
    check_rows(rows, 96000)


def test_beats_of_the_example_map() -> None:
    rows = list(csv.DictReader(io.StringIO(ok("beats", str(EXAMPLE)).stdout)))
    assert {r["level"] for r in rows} == {"accent", "normal", "sub", "silent"}
    # count-in: one bar (bar 0) of four beats at 96
    ci = [r for r in rows if r["section"] == "count-in"]
    assert [(r["bar"], r["beat"]) for r in ci] == [("0", "1"), ("0", "2"), ("0", "3"), ("0", "4")]
    assert rows[4]["section"] == "intro" and float(rows[4]["time_s"]) == pytest.approx(2.5)
    # the 7/8 (2+2+3) bridge at e=312: three beats a bar, quarter tempo 156
    bridge = [r for r in rows if r["section"] == "bridge"]
    assert len(bridge) == 9 and {float(r["tempo_bpm"]) for r in bridge} == {156.0}
    assert [int(r["beat"]) for r in bridge] == [1, 2, 3] * 3
    # the muted break is listed, silent: 2 bars of 4
    brk = [r for r in rows if r["section"] == "break"]
    assert len(brk) == 8 and {r["level"] for r in brk} == {"silent"}
    # chorus sub=2: eighths between the beats
    chorus = [r for r in rows if r["section"] == "chorus"]
    assert len(chorus) == 64 and [r["sub"] for r in chorus[:4]] == ["0", "1", "0", "1"]
    for r in rows:
        assert int(r["sample"]) == round(float(r["time_s"]) * 48000)


def test_beats_klick_extension_and_from_klick(tmp_path: Path) -> None:
    body = "intro: 1 4/4 120\nverse: 1 3/4 90 X.x 0.8\nfast: 1 2/4 60,120\n"
    (tmp_path / "song.klick").write_text(body)
    (tmp_path / "song.txt").write_text(body)
    a = ok("beats", "song.klick", cwd=tmp_path).stdout
    b = ok("beats", "song.txt", "--from", "klick", cwd=tmp_path).stdout
    assert a == b
    rows = list(csv.DictReader(io.StringIO(a)))
    assert [r["level"] for r in rows] == ["accent", "normal", "normal", "normal",
                                          "accent", "silent", "normal", "accent", "normal"]
    # a per-beat tempo list: the second beat at 120
    assert [float(r["tempo_bpm"]) for r in rows[-2:]] == [60.0, 120.0]
    assert float(rows[-1]["time_s"]) == pytest.approx(2 + 2 + 1)
    # klick syntax has no options: read as klick, a .click option is an error
    extra = body + "end: 1 4/4 120 sub=2\n"
    (tmp_path / "opt.klick").write_text(extra)
    (tmp_path / "opt.txt").write_text(extra)
    assert run("beats", "opt.txt", cwd=tmp_path).returncode == 0  # .txt: .click syntax
    for args in (["opt.klick"], ["opt.txt", "--from", "klick"]):
        proc = run("beats", *args, cwd=tmp_path)
        assert proc.returncode != 0 and proc.stdout == ""
        assert f"{args[0]}:4:" in proc.stderr and "klick" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_stdin(song: Path) -> None:
    from_file = ok("beats", str(song)).stdout
    assert ok("beats", "-", stdin=SONG).stdout == from_file
    as_json = ok("convert", str(song), "-", "--to", "json").stdout
    assert ok("beats", "-", stdin=as_json).stdout == from_file
    klick = "intro: 1 4/4 120\n"
    assert ok("beats", "-", "--from", "klick", stdin=klick).stdout.count("\n") == 5


def test_beats_options(song: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(
        ok("beats", str(song), "--from-label", "verse", "--count-in", "0").stdout)))
    assert [r["section"] for r in rows] == ["verse"] * 3 + ["outro"] * 4
    assert float(rows[0]["time_s"]) == 0.0 and float(rows[3]["time_s"]) == pytest.approx(2.0)
    rows = list(csv.DictReader(io.StringIO(
        ok("beats", str(song), "--from-bar", "3", "--scale", "50%").stdout)))
    # count-in: one 2/4 bar at the outro's tempo, halved: 30 BPM, a beat every 2 s
    assert [r["section"] for r in rows] == ["count-in"] * 2 + ["outro"] * 4
    assert [float(r["time_s"]) for r in rows] == pytest.approx([0, 2, 4, 5, 6, 7])
    assert {float(r["tempo_bpm"]) for r in rows} == {30.0}


def test_beats_into_a_closed_pipe(tmp_path: Path) -> None:
    big = tmp_path / "big.click"
    big.write_text("a: 20000 4/4 200 sub=4\n")
    proc = subprocess.run(["bash", "-c", f"set -o pipefail; {ICTUS} beats {big} | head -n 2"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.stdout.splitlines() == [HEADER, "0,0.000000000,0,1,1,0,accent,200,a"]
    assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------------------ info


def test_info(song: Path) -> None:
    out = ok("info", str(song)).stdout
    for label in ("intro", "verse", "outro", "Small"):
        assert label in out
    assert "0:08.000" in out  # duration, count-in included
    assert "0:02.000" in out  # count-in / intro start


def test_info_example_duration() -> None:
    # count-in 2.5 s; intro 10; verse 20; pre: time ramp 96->104 over 16 quarters;
    # chorus 32 quarters at 104; bridge 10.5 quarters at 156; break 8 at 104;
    # outro: ramp 104->72 linear in beats over 16 quarters
    seconds = (2.5 + 10 + 20 + 120 * 16 / (96 + 104) + 32 * 60 / 104 + 10.5 * 60 / 156
               + 8 * 60 / 104 + 60 * 16 * math.log(72 / 104) / (72 - 104))
    ms = round(seconds * 1000)
    text = f"{ms // 60000}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
    out = ok("info", str(EXAMPLE)).stdout
    assert text in out, (text, out)
    for label in ("intro", "verse", "pre", "chorus", "bridge", "break", "outro"):
        assert label in out


def test_info_scale(song: Path) -> None:
    out = ok("info", str(song), "--scale", "0.5").stdout
    assert "0:16.000" in out


# ------------------------------------------------------------------------------ plot


def test_plot_png_and_svg(tmp_path: Path) -> None:
    ok("plot", str(EXAMPLE), "-o", str(tmp_path / "tempo.png"))
    assert (tmp_path / "tempo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "tempo.png").stat().st_size > 5000
    ok("plot", str(EXAMPLE), "-o", str(tmp_path / "tempo.svg"), "--count-in", "2")
    svg = (tmp_path / "tempo.svg").read_text()
    assert "<svg" in svg and svg.rstrip().endswith("</svg>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tempo.png", "tempo.svg"]


# --------------------------------------------------------------------------- convert


def test_convert_round_trip_example(tmp_path: Path) -> None:
    ok("convert", str(EXAMPLE), str(tmp_path / "a.json"))
    data = json.loads((tmp_path / "a.json").read_text())
    assert [s["label"] for s in data["sections"]] == ["intro", "verse", "pre", "chorus",
                                                       "bridge", "break", "outro"]
    ok("convert", str(tmp_path / "a.json"), str(tmp_path / "b.click"))
    assert ok("beats", str(tmp_path / "b.click")).stdout == ok("beats", str(EXAMPLE)).stdout
    # klick cannot hold groupings, subdivisions, mutes: a clear error and no file
    proc = run("convert", str(tmp_path / "b.click"), str(tmp_path / "c.klick"))
    assert proc.returncode != 0 and "klick" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.click"]


def test_convert_click_json_click_klick(tmp_path: Path) -> None:
    src = tmp_path / "song.click"
    src.write_text("intro: 2 4/4 120\nverse: 4 3/4 90-110 X.x 0.8\nlist: 1 2/4 60,90\n")
    ok("convert", str(src), str(tmp_path / "a.json"))
    ok("convert", str(tmp_path / "a.json"), str(tmp_path / "b.click"))
    ok("convert", str(tmp_path / "b.click"), str(tmp_path / "c.klick"))
    ok("convert", str(tmp_path / "c.klick"), str(tmp_path / "d.txt"), "--to", "json")
    # the map survived click -> json -> click -> klick unchanged
    assert json.loads((tmp_path / "d.txt").read_text()) == json.loads(
        (tmp_path / "a.json").read_text())
    assert ok("beats", str(tmp_path / "c.klick")).stdout == ok("beats", str(src)).stdout
    stdout = ok("convert", str(src), "-", "--to", "klick").stdout
    assert stdout == (tmp_path / "c.klick").read_text()


# ---------------------------------------------------------------------------- sounds


def test_sounds_list() -> None:
    out = ok("sounds").stdout
    for name in VOICES:
        assert name in out
    names = set(re.findall(r"^[│|]\s*([a-z][\w-]*)\s+[│|]", out, re.MULTILINE)) - {"voice"}
    assert len(names) >= 6 and set(VOICES) <= names, out


@pytest.mark.parametrize(("voice", "ext"), [("cowbell", "wav"), ("hihat", "flac")])
def test_sounds_preview(tmp_path: Path, voice: str, ext: str) -> None:
    out = tmp_path / f"preview.{ext}"
    ok("sounds", "--preview", voice, "-o", str(out))
    data, rate = soundfile.read(out)
    assert rate == 48000 and len(data) > rate  # a bar or two, not an empty file
    assert 0.3 < np.abs(data).max() <= 1.0
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


# ---------------------------------------------------------------------------- render


def test_render_summary(song: Path, tmp_path: Path) -> None:
    out = tmp_path / "click.wav"
    proc = ok("render", str(song), "-o", str(out))
    assert proc.stdout == ""
    assert str(out) in proc.stderr
    assert "0:08.000" in proc.stderr  # duration
    assert "14 clicks" in proc.stderr  # 15 clicks, one of them silent
    info = soundfile.info(out)
    assert (info.samplerate, info.channels, info.subtype) == (48000, 1, "PCM_24")
    assert info.frames >= 8 * 48000
    quiet = ok("render", str(song), "-o", str(tmp_path / "q.flac"), "-q", "-r", "44100",
               "--channels", "2", "--sound", "rim")
    assert quiet.stderr == "" and quiet.stdout == ""
    info = soundfile.info(tmp_path / "q.flac")
    assert (info.format, info.samplerate, info.channels) == ("FLAC", 44100, 2)


def test_render_every_builtin_voice_sounds_at_the_clicks(tmp_path: Path, song: Path) -> None:
    for voice in ("woodblock", "tock"):
        out = tmp_path / f"{voice}.wav"
        ok("render", str(song), "-o", str(out), "--sound", voice, "-q", "--bit-depth", "32f")
        data, rate = soundfile.read(out)
        for t, *_, level, _tempo, _section in ROWS:
            s = round(t * rate)
            seg = np.abs(data[s:s + rate // 50])
            if level == "silent":
                assert not seg.any(), (voice, t)
            else:
                assert seg.max() > 0.1, (voice, t)
            if s > 0:
                assert not data[s - 1], (voice, t)  # nothing before the click starts
