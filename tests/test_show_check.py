"""check_show: the routing report, and one clear error for each show that must not play."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from ictus.show import ALLOW_CLICK_ON_MAIN, ShowError, check_show, load_show, plan_song
from showkit import line_of, make_show, speech_cache, write_stem  # noqa: F401  (autouse)

EXAMPLE = Path(__file__).parent.parent / "examples" / "show" / "show.toml"


def _problems(path: Path) -> tuple[str, ...]:
    with pytest.raises(ShowError) as info:
        check_show(load_show(path))
    return info.value.problems


def test_report_says_where_every_source_goes(tmp_path: Path) -> None:
    report = str(check_show(load_show(make_show(tmp_path))))
    assert "click 'drummer' -> drums x1" in report
    assert "cues -> drums x0.5, keys x1" in report
    assert "stem 'bass' -> foh x1, drums x0.5, keys x0.25" in report
    assert "main foh gets: stem 'bass', stem 'keys', stem 'pad'" in report
    assert "resampled from 44100 Hz" in report


def test_example_show_is_accepted(tmp_path: Path) -> None:
    # the example's stems are generated, never committed: make them in a copy
    import shutil
    import subprocess
    import sys

    shutil.copytree(EXAMPLE.parent, tmp_path / "show", ignore=shutil.ignore_patterns("stems"))
    tool = Path(__file__).parent.parent / "tools" / "make-example-show.py"
    subprocess.run(
        [sys.executable, str(tool), str(tmp_path / "show")], check=True, capture_output=True
    )
    report = check_show(load_show(tmp_path / "show" / "show.toml"))
    assert "main foh gets: stem 'bass', stem 'keys', stem 'pad'" in str(report)


def test_click_on_main_is_refused(tmp_path: Path) -> None:
    path = make_show(tmp_path, foh='click = "singer"\ncues = 0.2\n')
    problems = _problems(path)
    click, cues = (line_of(path, key, "[mixes.foh]") for key in ("click", "cues"))
    assert len(problems) == 2
    assert f"show.toml:{click}:1: mixes.foh.click: click 'singer' would reach 'foh'" in problems[0]
    assert "marked main" in problems[0] and ALLOW_CLICK_ON_MAIN in problems[0]
    assert f"show.toml:{cues}:1: mixes.foh.cues: cues would reach 'foh'" in problems[1]


def test_a_near_miss_phrase_does_not_allow_it(tmp_path: Path) -> None:
    problems = _problems(
        make_show(
            tmp_path,
            extra='allow_click_on_main = "yes click in front of house"\n',
            foh='click = "singer"\n',
        )
    )
    assert any("allow_click_on_main: must be exactly" in p for p in problems)
    assert any("would reach 'foh'" in p for p in problems)


def test_the_exact_phrase_allows_it(tmp_path: Path) -> None:
    path = make_show(
        tmp_path, extra=f'allow_click_on_main = "{ALLOW_CLICK_ON_MAIN}"\n', foh='click = "singer"\n'
    )
    report = check_show(load_show(path))
    assert "click 'singer' -> foh x1" in str(report)


def test_plan_refuses_a_leak_even_unchecked(tmp_path: Path) -> None:
    show = load_show(make_show(tmp_path, foh="cues = 1.0\n"))
    with pytest.raises(ValueError, match="marked main"):
        plan_song(show, "four")


def test_missing_stem(tmp_path: Path) -> None:
    path = make_show(tmp_path)
    (tmp_path / "pad.flac").unlink()
    (problem,) = _problems(path)
    assert problem.endswith(f"songs.four.stems.pad: {tmp_path / 'pad.flac'}: no such file")
    assert f":{line_of(path, 'stems.pad')}:1:" in problem


def test_unknown_output(tmp_path: Path) -> None:
    path = make_show(tmp_path, foh="[mixes.monitors]\ncues = 1.0\n")
    (problem,) = _problems(path)
    assert "mixes.monitors: no output 'monitors'; outputs: foh, drums, keys" in problem


def test_stem_shorter_than_its_map(tmp_path: Path) -> None:
    path = make_show(tmp_path)
    write_stem(tmp_path / "bass.wav", 15.9, 48000, 1, 1)
    (problem,) = _problems(path)
    assert "songs.four.stems.bass:" in problem
    assert "15.900 s long, shorter than the map four.click (16.000 s from bar 1)" in problem


def test_resampled_stem_length_is_checked_at_the_show_rate(tmp_path: Path) -> None:
    path = make_show(tmp_path)
    # 14 s from bar 1 are needed: 13.99 s at 44.1 kHz is short, 14.0 s is enough
    write_stem(tmp_path / "keys-44k.wav", 13.99, 44100, 2, 3)
    (problem,) = _problems(path)
    assert "songs.seven.stems.keys" in problem and "shorter than the map" in problem
    write_stem(tmp_path / "keys-44k.wav", 14.0, 44100, 2, 3)
    check_show(load_show(path))


def test_sample_rate_that_cannot_be_converted(tmp_path: Path) -> None:
    path = make_show(tmp_path)
    soundfile.write(tmp_path / "bass.wav", np.zeros(4000 * 17, np.float32), 4000)
    (problem,) = _problems(path)
    assert "is at 4000 Hz, which cannot be converted to 48000 Hz" in problem


def test_channels_shared_by_two_outputs(tmp_path: Path) -> None:
    path = make_show(tmp_path)
    path.write_text(path.read_text().replace("channels = [5]", "channels = [2]"))
    problems = _problems(path)
    assert any("outputs.keys.channels: channel 2 is also output 'foh'" in p for p in problems)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = make_show(tmp_path, foh='click = "drummer"\n')
    (tmp_path / "bass.wav").unlink()
    write_stem(tmp_path / "keys-44k.wav", 1.0, 44100, 2, 3)
    problems = _problems(path)
    assert len(problems) == 3
    assert all(p.startswith(str(path)) and "\n" not in p for p in problems)


def test_a_scaled_map_with_stems(tmp_path: Path) -> None:
    path = make_show(tmp_path)
    click = tmp_path / "four.click"
    click.write_text("scale: 110%\n" + click.read_text())  # faster: the stems are long enough
    (problem,) = _problems(path)
    assert "songs.four.map: four.click plays at 110 % (scale)" in problem
    assert "drift" in problem


def test_a_stem_layout_that_does_not_fit(tmp_path: Path) -> None:
    path = make_show(tmp_path)
    write_stem(tmp_path / "pad.flac", 16.5, 48000, 3, 2)  # three channels, stereo outputs
    problems = _problems(path)
    assert any(
        "songs.four.stems.pad: a 3-channel stem cannot go to output 'foh' (2 channels)" in p
        for p in problems
    )


def test_a_misspelt_stem_in_a_mix(tmp_path: Path) -> None:
    path = make_show(tmp_path, foh="stem_gains = { bas = 0.5 }\n")
    (problem,) = _problems(path)
    assert f":{line_of(path, 'stem_gains', '[mixes.foh]')}:16: mixes.foh.stem_gains.bas:" in problem
    assert "no song has a stem 'bas'; stems: bass, keys, pad" in problem
