"""Issue 9.9: klick export refusals name the feature and the line; --lossy drops each
with one warning."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from ictus.errors import ParameterError
from ictus.formats import parse_click, parse_klick
from ictus.formats.klick_export import KlickWarning, format_klick, section_lines
from test_clickfile import tempo_maps

ICTUS = str(Path(sys.executable).parent / "ictus")

SONG = """title: Song
count-in: 1 bar
# the map
intro: 2 4/4 120
verse: 4 7/8 (2+2+3) e=300 cue="Verse"

bridge: 2 4/4 120-140 ramp=time sub=2 mute
out: 1 6/8 q.=60 steps=1.5:100
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ICTUS, *args], capture_output=True, text=True, timeout=120)


def test_section_lines_skip_headers_comments_and_blanks() -> None:
    assert section_lines(SONG) == [4, 5, 7, 8]


def test_refusal_names_the_feature_and_the_line(tmp_path: Path) -> None:
    src = tmp_path / "song.click"
    src.write_text(SONG)
    proc = run("convert", str(src), str(tmp_path / "song.klick"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    message = proc.stderr.strip().splitlines()[-1]
    assert f"{src}:5: klick's format cannot hold section 2 (verse)" in message
    assert 'cue="Verse", (2+2+3) (klick clicks every pulse), e=' in message
    assert "--lossy" in message
    assert not (tmp_path / "song.klick").exists()


def test_lossy_drops_each_with_one_warning(tmp_path: Path) -> None:
    src = tmp_path / "song.click"
    src.write_text(SONG)
    proc = run("convert", str(src), str(tmp_path / "song.klick"), "--lossy")
    assert proc.returncode == 0, proc.stderr
    dropped = [line for line in proc.stderr.splitlines() if "dropped" in line]
    want = [
        (5, 'cue="Verse"'),
        (5, "(2+2+3)"),
        (5, "e="),
        (7, "sub=2"),
        (7, "ramp=time"),
        (7, "mute"),
        (8, "q.="),
        (8, "steps=1.5:100"),
    ]
    assert len(dropped) == len(want)
    for line, (number, feature) in zip(dropped, want, strict=True):
        assert f"{src}:{number}: " in line and f"dropped {feature}" in line
    # written by hand: what klick gets once each is dropped
    text = (tmp_path / "song.klick").read_text()
    assert text == (
        "intro: 2 4/4 120\n"
        "verse: 4 7/8 150\n"  # e=300 is 150 quarter notes a minute
        "bridge: 2 4/4 120-140 0\n"  # mute: volume 0
        "out: 1 6/8 90\n"
    )
    assert parse_klick(text).total_bars == 9


def test_a_tempo_no_decimal_can_write_is_rounded() -> None:
    with pytest.raises(ParameterError, match=r"the tempo q=400/3"):
        format_klick(parse_click("a: 2 4/4 q=400/3\n"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert format_klick(parse_click("a: 2 4/4 q=400/3\n"), lossy=True) == "a: 2 4/4 133.333\n"
    assert [w.category for w in caught] == [KlickWarning]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tempo_maps())
def test_lossy_output_is_always_klick(m) -> None:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KlickWarning)
        text = format_klick(m, lossy=True)
    back = parse_klick(text)
    assert [s.bars for s in back.sections] == [s.bars for s in m.sections]
