"""Marker files (REAPER, Audacity, CSV) parsed back the way each program reads them and
compared with the grid, and with the map's exact section times (a second route)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ictus.errors import ParameterError
from ictus.formats import parse_click
from ictus.formats.export.markers import write_markers
from ictus.tempomap import (
    ClickGrid,
    CountIn,
    Meter,
    Section,
    Tempo,
    TempoMap,
    build_grid,
    section_times,
)

ICTUS = str(Path(sys.executable).parent / "ictus")
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "example.click"

SONG = parse_click(
    """\
count-in: 1 bar
intro:  2 4/4 120
        2 4/4 90
verse:  3 3/4 100-140
chorus: 2 7/8 (2+2+3) e=280
        1 4/4 60-80 ramp=period
"""
)


# ---------------------------------------------------------- reading the files back


def read_audacity(text: str) -> list[tuple[float, float, str]]:
    """As Audacity's importer does: one label a line, tab separated start, end, text."""
    rows = []
    for line in text.splitlines():
        start, end, label = line.split("\t")
        rows.append((float(start), float(end), label))
    return rows


def reaper_seconds(text: str) -> float:
    m = re.fullmatch(r"(\d+):(\d\d)\.(\d\d\d)", text)
    assert m is not None, text
    return int(m.group(1)) * 60 + int(m.group(2)) + int(m.group(3)) / 1000


def read_reaper(text: str) -> list[dict[str, str]]:
    assert text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert text.split("\r\n", 1)[0] == "#,Name,Start,End,Length"
    return rows


def read_csv(text: str) -> list[dict[str, str]]:
    assert text.split("\n", 1)[0] == "bar,time_s,end_s,label"
    return list(csv.DictReader(io.StringIO(text)))


def written(grid: ClickGrid, fmt: str, per: str, *, cues: bool = False) -> str:
    out = io.StringIO(newline="")
    write_markers(grid, out, fmt, per, cues=cues)
    return out.getvalue()


# ------------------------------------------------------------ what the grid says


def bar_starts(grid: ClickGrid) -> list[tuple[int, float, int]]:
    """(bar, time, section index) of every bar's first click, walking the clicks."""
    rows: list[tuple[int, float, int]] = []
    for i in range(len(grid)):
        if not rows or rows[-1][0] != int(grid.bar[i]):
            rows.append((int(grid.bar[i]), float(grid.time[i]), int(grid.section[i])))
    return rows


def expected(grid: ClickGrid, per: str) -> list[tuple[int, float, float, str]]:
    """(bar, start, end, name) of each marker."""
    bars = bar_starts(grid)
    ends = [t for _, t, _ in bars[1:]] + [grid.duration]
    count_in = sum(1 for b, _, _ in bars if b <= 0)
    if per == "bar":
        result = []
        for k, ((bar, t, s), end) in enumerate(zip(bars, ends, strict=True)):
            if bar <= 0:
                name = "count-in" if count_in == 1 else f"count-in {k + 1}"
            else:
                new = k == 0 or bars[k - 1][2] != s
                label = grid.section_names[s]
                name = f"{bar} {label}" if new and label else str(bar)
            result.append((bar, t, end, name))
        return result
    runs: list[list[tuple[int, float, float, int]]] = []
    for (bar, t, s), end in zip(bars, ends, strict=True):
        if runs and runs[-1][-1][3] == s:
            runs[-1].append((bar, t, end, s))
        else:
            runs.append([(bar, t, end, s)])
    result = []
    for run in runs:
        first, last = run[0], run[-1]
        name = grid.section_names[first[3]] or (
            f"bar {first[0]}" if first[0] == last[0] else f"bars {first[0]}-{last[0]}"
        )
        result.append((first[0], first[1], last[2], name))
    return result


def check_all_formats(grid: ClickGrid) -> None:
    for per in ("section", "bar"):
        want = expected(grid, per)
        assert want

        rows = read_csv(written(grid, "csv", per))
        assert [(int(r["bar"]), r["label"]) for r in rows] == [(b, n) for b, _, _, n in want]
        for r, (_, start, end, _) in zip(rows, want, strict=True):
            assert float(r["time_s"]) == pytest.approx(start, abs=1e-9)
            assert float(r["end_s"]) == pytest.approx(end, abs=1e-9)

        labels = read_audacity(written(grid, "audacity", per))
        # Audacity labels carry 6 decimals: half a unit (5e-7) plus the float error of the
        # difference itself (2.054688 - 2.0546875 is 5.0000000001e-7 in binary)
        half_unit = 5e-7 + 1e-12
        assert [label for _, _, label in labels] == [n for _, _, _, n in want]
        for (start, end, _), (_, t0, t1, _) in zip(labels, want, strict=True):
            assert start == pytest.approx(t0, abs=half_unit)
            # sections are regions, bars are point labels (start == end)
            assert end == pytest.approx(t1 if per == "section" else t0, abs=half_unit)

        reaper = read_reaper(written(grid, "reaper", per))
        kind = "R" if per == "section" else "M"
        assert [r["#"] for r in reaper] == [f"{kind}{n}" for n in range(1, len(want) + 1)]
        assert [r["Name"] for r in reaper] == [n for _, _, _, n in want]
        for r, (_, t0, t1, _) in zip(reaper, want, strict=True):
            assert reaper_seconds(r["Start"]) == pytest.approx(t0, abs=5e-4 + 1e-9)
            if per == "section":
                assert reaper_seconds(r["End"]) == pytest.approx(t1, abs=5e-4 + 1e-9)
                length = reaper_seconds(r["End"]) - reaper_seconds(r["Start"])
                assert reaper_seconds(r["Length"]) == pytest.approx(length, abs=1e-9)
            else:
                assert r["End"] == r["Length"] == ""


# ------------------------------------------------------------------------- tests


@pytest.mark.parametrize(
    "count_in", [CountIn(), CountIn(bars=1), CountIn(bars=2), CountIn(beats=3)]
)
def test_song_every_format(count_in: CountIn) -> None:
    check_all_formats(build_grid(SONG.with_count_in(count_in)))


def test_sections_against_the_maps_exact_section_times() -> None:
    """A second route: the map's own section starts (exact Fractions), not the grid."""
    tempo_map = SONG.with_count_in(CountIn())
    rows = read_csv(written(build_grid(tempo_map), "csv", "section"))
    times = section_times(tempo_map)
    # an unlabelled section is a region of its own, named by its bars
    assert [r["label"] for r in rows] == ["intro", "bars 3-4", "verse", "chorus", "bar 10"]
    assert [int(r["bar"]) for r in rows] == [1, 3, 5, 8, 10]
    for r, (start, length) in zip(rows, times, strict=True):
        assert float(r["time_s"]) == pytest.approx(float(start), abs=1e-9)
        assert float(r["end_s"]) == pytest.approx(float(start + length), abs=1e-9)


def test_example_map_regions_and_count_in() -> None:
    tempo_map = parse_click(EXAMPLE.read_text())
    grid = build_grid(tempo_map)
    reaper = read_reaper(written(grid, "reaper", "section"))
    assert [r["Name"] for r in reaper] == [
        "count-in",
        "intro",
        "verse",
        "pre",
        "chorus",
        "bridge",
        "break",
        "outro",
    ]
    # the count-in bar is 4 beats at 96: 2.5 s; intro 4 bars of 2.5 s
    assert [r["Start"] for r in reaper[:3]] == ["0:00.000", "0:02.500", "0:12.500"]
    check_all_formats(grid)


def test_start_from_a_label_and_scale() -> None:
    grid = build_grid(SONG.with_scale(Fraction(9, 10)), start_label="verse")
    check_all_formats(grid)
    rows = read_csv(written(grid, "csv", "bar"))
    assert [r["label"] for r in rows[:2]] == ["count-in", "5 verse"]
    assert float(rows[0]["time_s"]) == 0


def test_unlabelled_map() -> None:
    tempo_map = TempoMap((Section(3, Tempo(120)), Section(1, Tempo(60), Meter(3, 4))))
    grid = build_grid(tempo_map)
    assert [r[2] for r in read_audacity(written(grid, "audacity", "section"))] == ["bars 1-4"]
    one = build_grid(TempoMap((Section(1, Tempo(120)),)))
    assert read_audacity(written(one, "audacity", "section")) == [(0.0, 2.0, "bar 1")]


def test_names_that_need_quoting_or_cleaning() -> None:
    grid = build_grid(TempoMap((Section(2, Tempo(120), label="a"),)))
    odd = 'Verse, "take 2"\tloud\nend'
    grid = replace(grid, section_names=(grid.section_names[0], odd))
    clean = 'Verse, "take 2" loud end'
    assert read_reaper(written(grid, "reaper", "section"))[0]["Name"] == clean
    assert read_audacity(written(grid, "audacity", "section"))[0][2] == clean
    assert read_csv(written(grid, "csv", "section"))[0]["label"] == odd  # csv quotes it all


def test_long_times_in_minutes() -> None:
    grid = build_grid(TempoMap((Section(100, Tempo(60)), Section(1, Tempo(60), label="end"))))
    rows = read_reaper(written(grid, "reaper", "section"))
    assert [(r["Start"], r["End"], r["Length"]) for r in rows] == [
        ("0:00.000", "6:40.000", "6:40.000"),
        ("6:40.000", "6:44.000", "0:04.000"),
    ]


def test_bad_choices() -> None:
    grid = build_grid(SONG)
    with pytest.raises(ParameterError, match="reaper, audacity, csv"):
        write_markers(grid, io.StringIO(), "cubase")
    with pytest.raises(ParameterError, match="section or bar"):
        write_markers(grid, io.StringIO(), "csv", per="beat")


# --------------------------------------------------------- round trip (hypothesis)

METERS = [Meter(4, 4), Meter(3, 4), Meter(6, 8), Meter(7, 8, (2, 2, 3)), Meter(5, 4)]


@st.composite
def maps(draw: st.DrawFn) -> TempoMap:
    sections = []
    for i in range(draw(st.integers(1, 6))):
        bpm = draw(st.integers(30, 300))
        end = draw(st.one_of(st.none(), st.integers(30, 300)))
        sections.append(
            Section(
                draw(st.integers(1, 5)),
                Tempo(bpm),
                draw(st.sampled_from(METERS)),
                tempo_end=None if end is None else Tempo(end),
                ramp=draw(st.sampled_from(["beats", "time", "period"])),
                label=draw(st.sampled_from([None, f"part{i}"])),
                sub=draw(st.integers(1, 3)),
            )
        )
    count_in = draw(
        st.sampled_from([CountIn(), CountIn(bars=1), CountIn(bars=3), CountIn(beats=2)])
    )
    return TempoMap(tuple(sections), count_in=count_in)


@settings(max_examples=60, deadline=None)
@given(tempo_map=maps(), start=st.integers(0, 3))
def test_round_trip(tempo_map: TempoMap, start: int) -> None:
    start_bar = min(start, tempo_map.total_bars) or None
    check_all_formats(build_grid(tempo_map, start_bar=start_bar))


# --------------------------------------------------------------------------- CLI


def test_cli_writes_a_file_and_stdout(tmp_path: Path) -> None:
    out = tmp_path / "markers.csv"
    proc = subprocess.run(
        [ICTUS, "export-markers", str(EXAMPLE), "--format", "reaper", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert proc.stdout == "" and proc.stderr == f"wrote {out}\n"
    grid = build_grid(parse_click(EXAMPLE.read_text()))
    assert out.read_bytes().decode() == written(grid, "reaper", "section", cues=True)
    proc = subprocess.run(
        [
            ICTUS,
            "export-markers",
            str(EXAMPLE),
            "--format",
            "audacity",
            "--per",
            "bar",
            "--count-in",
            "2",
            "--scale",
            "90%",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    grid = build_grid(
        parse_click(EXAMPLE.read_text()).with_count_in(CountIn(bars=2)).with_scale(Fraction(9, 10))
    )
    assert proc.stdout == written(grid, "audacity", "bar", cues=True)
    assert read_audacity(proc.stdout)[:3] == [
        (0.0, 0.0, "count-in 1"),
        pytest.approx((25 / 9, 25 / 9, "count-in 2")),
        pytest.approx((50 / 9, 50 / 9, "1 intro")),
    ]


def test_cli_errors(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ICTUS, "export-markers", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    proc = run(str(EXAMPLE), "--format", "cubase")
    assert proc.returncode == 2 and "reaper, audacity, csv" in proc.stderr
    proc = run(str(EXAMPLE), "--per", "beat")
    assert proc.returncode == 2 and "section, bar" in proc.stderr
    proc = run(str(tmp_path / "missing.click"))
    assert proc.returncode == 1 and proc.stderr.startswith("ictus: error: ")
    target = tmp_path / "no" / "such" / "dir.csv"
    proc = run(str(EXAMPLE), "-o", str(target))
    assert proc.returncode == 1 and "does not exist" in proc.stderr
    assert not target.parent.exists()
    assert "Examples" in run("--help").stdout


def test_cues_are_markers_in_every_format() -> None:
    """Issue 9.5: cues were missing. Times by hand: count-in 1 bar of 4/4 at 120 (2 s),
    intro 2 bars at 120 (4 s), then verse at 60 (4 s a bar): "Build" on the verse's
    bar 2 beat 3 is 2 + 4 + 4 + 2 = 12 s, "Go" on its first beat 6 s."""
    tempo_map = parse_click(
        'count-in: 1 bar\nintro: 2 4/4 120\nverse: 2 4/4 60 cue="Go" cue@2.3="Build"\n'
    )
    grid = build_grid(tempo_map)
    want = [("Go", 6.0), ("Build", 12.0)]
    reaper = read_reaper(written(grid, "reaper", "section", cues=True))
    points = [(r["Name"], reaper_seconds(r["Start"])) for r in reaper if r["#"].startswith("M")]
    assert points == want
    assert [r["#"] for r in reaper] == ["R1", "R2", "R3", "M1", "M2"]
    labels = read_audacity(written(grid, "audacity", "section", cues=True))
    assert [(name, start) for start, end, name in labels if start == end] == want
    assert [name for _, _, name in labels] == ["count-in", "intro", "verse", "Go", "Build"]
    rows = read_csv(written(grid, "csv", "bar", cues=True))
    assert [(r["label"], float(r["time_s"])) for r in rows if r["label"] in ("Go", "Build")] == want
    assert [r["bar"] for r in rows if r["label"] == "Build"] == ["4"]
    # the bar markers keep their numbers: M1..M5 for bars, then the cues
    reaper_bars = read_reaper(written(grid, "reaper", "bar", cues=True))
    assert [r["#"] for r in reaper_bars][-2:] == ["M6", "M7"]
