"""Bad input on the command line: a non-zero exit, one clear message, no traceback, no file.

Every test runs ``ictus`` in an empty folder holding only its inputs and checks that
nothing else appears there (no output file, no leftover temporary file). The many cases
run the command line's entry point (:func:`ictus.cli.main.main`, what the installed
script calls) in-process, to stay fast; :func:`test_installed_script_fails_the_same_way`
checks on a sample that the installed script, as a subprocess, behaves identically.
"""

from __future__ import annotations

import io
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ictus.cli.main import main

ICTUS = str(Path(sys.executable).parent / "ictus")
VOICES = ("beep", "woodblock", "cowbell", "rim", "hihat", "tock")
GOOD = "# a song\ntitle: Song\nintro: 2 4/4 120\nverse: 4 3/4 90\n"  # bars 1..6


@dataclass
class Result:
    code: int
    out: str
    err: str


Runner = Callable[..., Result]
Fails = Callable[..., str]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "song.click").write_text(GOOD)
    return tmp_path


@pytest.fixture
def cli(folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> Runner:
    """Run ``ictus ARGS`` in-process in ``folder``, as the installed script does."""
    monkeypatch.chdir(folder)

    def call(*args: str, stdin: str | None = None) -> Result:
        monkeypatch.setattr(sys, "argv", ["ictus", *args])
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        extra = ""
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except Exception:  # what the script would show as a traceback
            code, extra = 1, traceback.format_exc()
        out, err = capsys.readouterr()
        return Result(code, out, err + extra)

    return call


def subprocess_run(folder: Path, *args: str) -> Result:
    proc = subprocess.run([ICTUS, *args], capture_output=True, text=True, cwd=folder,
                          timeout=120, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def check_failure(result: Result, folder: Path, before: list[str], code: int | None) -> str:
    assert result.code != 0, result.err
    if code is not None:
        assert result.code == code
    err = result.err
    assert err.strip(), "no message"
    assert "Traceback" not in err, err
    assert result.out == "", "partial output on stdout"
    after = sorted(p.name for p in folder.iterdir())
    assert after == before, f"files appeared: {sorted(set(after) - set(before))}"
    return err


@pytest.fixture
def fails(cli: Runner, folder: Path) -> Fails:
    """Run ictus; assert a clean failure that created nothing; return stderr."""

    def check(*args: str, code: int | None = None, stdin: str | None = None) -> str:
        before = sorted(p.name for p in folder.iterdir())
        return check_failure(cli(*args, stdin=stdin), folder, before, code)

    return check


def points_at(err: str, file: str, line: int, text: str, column: int) -> None:
    """``err`` is ``file:line:column: ...``, then the source line and a caret under column."""
    assert f"{file}:{line}:{column}: " in err, err
    lines = err.splitlines()
    shown = [i for i, x in enumerate(lines) if x.rstrip().endswith(text) and x.strip() == text]
    assert shown, f"source line {text!r} not shown:\n{err}"
    i = shown[0]
    assert i + 1 < len(lines), err
    caret = lines[i + 1]
    assert caret.strip() == "^", err
    assert caret.index("^") == lines[i].index(text) + column - 1, err


def map_with(folder: Path, bad_line: str, name: str = "song.click") -> None:
    """A map whose third line is ``bad_line`` (a comment and a header come first)."""
    (folder / name).write_text(f"# my song\ntitle: Test\n{bad_line}\noutro: 1 4/4 100\n")


# --------------------------------------------------------------- errors in the map


# (bad line, the token the caret must point at, words the message must contain)
MAP_ERRORS = {
    "zero bars": ("verse: 0 4/4 120", "0", "bars"),
    "negative bars": ("verse: -2 4/4 120", "-2", "bars"),
    "tempo 0": ("verse: 4 4/4 0", "0", "tempo"),
    "tempo nan": ("verse: 4 4/4 nan", "nan", "tempo"),
    "tempo -5": ("verse: 4 4/4 -5", "-5", "tempo"),
    "tempo inf": ("verse: 4 4/4 inf", "inf", "tempo"),
    "ramp to 0": ("verse: 4 4/4 120-0", "120-0", "tempo"),
    "meter 0/4": ("verse: 4 0/4 120", "0/4", "0/4"),
    "meter 4/0": ("verse: 4 4/0 120", "4/0", "4/0"),
    "pattern too short": ("verse: 4 4/4 120 X.x", "X.x", "pattern"),
    "pattern too long": ("verse: 2 3/4 120 X.x.", "X.x.", "pattern"),
    "per-beat list too short": ("verse: 1 4/4 120,121,122", "120,121,122", "need 4"),
    "per-beat list too long": ("verse: 1 3/4 120,121,122,123", "120,121,122,123", "need 3"),
    "unknown option": ("verse: 4 4/4 120 swing=60", "swing=60", "swing"),
    "grouping mismatch": ("verse: 4 7/8 (2+2+2) e=312", "7/8", "2+2+2"),
}


@pytest.mark.parametrize("case", list(MAP_ERRORS))
def test_bad_map_render(folder: Path, fails: Fails, case: str) -> None:
    line, token, words = MAP_ERRORS[case]
    map_with(folder, line)
    err = fails("render", "song.click", "-o", "out.wav")
    points_at(err, "song.click", 3, line, line.index(" " + token) + 2)
    assert words in err


@pytest.mark.parametrize("args", [["beats", "MAP"], ["info", "MAP"], ["plot", "MAP", "-o", "t.png"],
                                  ["convert", "MAP", "out.json"]], ids=lambda a: a[0])
def test_bad_map_every_command(folder: Path, fails: Fails, args: list[str]) -> None:
    line = "verse: 4 4/4 0"
    map_with(folder, line)
    err = fails(*[a.replace("MAP", "song.click") for a in args])
    points_at(err, "song.click", 3, line, 14)


def test_bad_klick_file(folder: Path, fails: Fails) -> None:
    line = "verse: 4 4/4 120 sub=2"
    (folder / "song.klick").write_text(f"intro: 2 4/4 120\n{line}\n")
    err = fails("render", "song.klick", "-o", "out.wav")
    points_at(err, "song.klick", 2, line, 18)
    assert "klick" in err


def test_bad_json_map(folder: Path, fails: Fails) -> None:
    (folder / "song.json").write_text('{"sections": [{"bars": 4, "tempo": "0"}]}')
    err = fails("render", "song.json", "-o", "out.wav")
    assert "song.json" in err and "tempo" in err


@pytest.mark.parametrize("text", ['{"sections": [', '{"sections": [\n', '{"sections":\n\n'],
                         ids=["no newline", "newline", "blank lines"])
def test_truncated_json_map(folder: Path, fails: Fails, text: str) -> None:
    """A JSON file cut short: the error is at its end (line 1 or 2), never a traceback."""
    (folder / "broken.json").write_text(text)
    err = fails("beats", "broken.json")
    assert "broken.json:" in err and "JSON" in err


def test_empty_map(folder: Path, fails: Fails) -> None:
    (folder / "empty.click").write_text("# nothing here\n\n")
    err = fails("render", "empty.click", "-o", "out.wav")
    assert "empty.click" in err


def test_bad_map_on_stdin(folder: Path, fails: Fails) -> None:
    err = fails("beats", "-", stdin="a: 4 4/4 120\nb: 0 4/4 120\n")
    points_at(err, "<stdin>", 2, "b: 0 4/4 120", 4)


def test_missing_map_file(folder: Path, fails: Fails) -> None:
    err = fails("render", "nosuch.click", "-o", "out.wav")
    assert "nosuch.click" in err


def test_map_is_a_folder(folder: Path, fails: Fails) -> None:
    (folder / "dir.click").mkdir()
    err = fails("beats", "dir.click")
    assert "dir.click" in err


def test_map_not_text(folder: Path, fails: Fails) -> None:
    (folder / "bin.click").write_bytes(b"\xff\xfe\x00garbage\x80")
    assert "bin.click" in fails("beats", "bin.click")


def test_unknown_map_format(folder: Path, fails: Fails) -> None:
    assert "yaml" in fails("beats", "song.click", "--from", "yaml")


# ----------------------------------------------------------------- bad options


def test_unknown_option(folder: Path, fails: Fails) -> None:
    err = fails("render", "song.click", "-o", "out.wav", "--bogus", code=2)
    assert "--bogus" in err


def test_missing_output_option(folder: Path, fails: Fails) -> None:
    fails("render", "song.click", code=2)


def test_unknown_sound_lists_choices(folder: Path, fails: Fails) -> None:
    err = fails("render", "song.click", "-o", "out.wav", "--sound", "gong")
    assert "gong" in err
    for name in VOICES:
        assert name in err


def test_sound_and_sound_file_together(folder: Path, fails: Fails) -> None:
    soundfile.write(folder / "s.wav", np.array([0.5], dtype=np.float32), 48000)
    fails("render", "song.click", "-o", "out.wav", "--sound", "beep", "--sound-file",
          "s.wav")


def test_unreadable_sample_file(folder: Path, fails: Fails) -> None:
    (folder / "click.wav").write_text("this is not audio\n")
    err = fails("render", "song.click", "-o", "out.wav", "--sound-file", "click.wav")
    assert "click.wav" in err


def test_missing_sample_file(folder: Path, fails: Fails) -> None:
    soundfile.write(folder / "acc.wav", np.array([0.5], dtype=np.float32), 48000)
    err = fails("render", "song.click", "-o", "out.wav", "--sound-file",
                "acc.wav,nosuch.wav")
    assert "nosuch.wav" in err


def test_too_many_sample_files(folder: Path, fails: Fails) -> None:
    soundfile.write(folder / "s.wav", np.array([0.5], dtype=np.float32), 48000)
    fails("render", "song.click", "-o", "out.wav", "--sound-file",
          "s.wav,s.wav,s.wav,s.wav")


def test_output_in_missing_folder(folder: Path, fails: Fails) -> None:
    err = fails("render", "song.click", "-o", "nosuch/out.wav")
    assert "nosuch" in err
    assert not (folder / "nosuch").exists()


def test_output_is_a_folder(folder: Path, fails: Fails) -> None:
    (folder / "out.wav").mkdir()
    assert "out.wav" in fails("render", "song.click", "-o", "out.wav")


@pytest.mark.parametrize("name", ["out.xyz", "out"])
def test_unknown_output_extension(folder: Path, fails: Fails, name: str) -> None:
    err = fails("render", "song.click", "-o", name)
    assert name in err


def test_unknown_format_option(folder: Path, fails: Fails) -> None:
    assert "m4a" in fails("render", "song.click", "-o", "out.wav", "--format", "m4a")


def test_flac_32f(folder: Path, fails: Fails) -> None:
    err = fails("render", "song.click", "-o", "out.flac", "--bit-depth", "32f")
    assert "16" in err and "24" in err


@pytest.mark.parametrize("ext", ["wav", "ogg", "mp3"])
def test_bad_bit_depth(folder: Path, fails: Fails, ext: str) -> None:
    """--bit-depth 12 is not a bit depth, whatever the format."""
    fails("render", "song.click", "-o", f"out.{ext}", "--bit-depth", "12")


def test_mp3_rate_too_high(folder: Path, fails: Fails) -> None:
    assert "48000" in fails("render", "song.click", "-o", "out.mp3", "-r", "96000")


@pytest.mark.parametrize("rate", ["0", "-48000", "1000000"])
def test_bad_sample_rate(folder: Path, fails: Fails, rate: str) -> None:
    fails("render", "song.click", "-o", "out.wav", "--sample-rate", rate)


def test_click_on_beyond_channels(folder: Path, fails: Fails) -> None:
    err = fails("render", "song.click", "-o", "out.wav", "--channels", "8",
                "--click-on", "9")
    assert "9" in err and "8" in err


@pytest.mark.parametrize(("channels", "click_on"), [("8", "0"), ("2", "1,x"), ("0", None),
                                                    ("65", None)])
def test_bad_channels(folder: Path, fails: Fails, channels: str, click_on: str | None) -> None:
    opts = ["--click-on", click_on] if click_on else []
    fails("render", "song.click", "-o", "out.wav", "--channels", channels, *opts)


@pytest.mark.parametrize("gain", ["accent=loud", "beat=-3", "normal", "sub=60"])
def test_bad_gain(folder: Path, fails: Fails, gain: str) -> None:
    fails("render", "song.click", "-o", "out.wav", "--gain", gain)


def test_from_label_missing(folder: Path, fails: Fails) -> None:
    err = fails("render", "song.click", "-o", "out.wav", "--from-label", "chorus")
    assert "chorus" in err
    assert "intro" in err and "verse" in err  # the labels there are


@pytest.mark.parametrize("bar", ["7", "0", "-1"])
def test_from_bar_outside(folder: Path, fails: Fails, bar: str) -> None:
    err = fails("render", "song.click", "-o", "out.wav", "--from-bar", bar)
    assert bar in err


def test_from_label_and_from_bar(folder: Path, fails: Fails) -> None:
    fails("render", "song.click", "-o", "out.wav", "--from-label", "verse",
          "--from-bar", "2")


@pytest.mark.parametrize("value", ["abc", "-1", "two bars", "1 bra", "100"])
def test_bad_count_in(folder: Path, fails: Fails, value: str) -> None:
    err = fails("render", "song.click", "-o", "out.wav", "--count-in", value)
    assert "count-in" in err


@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf", "1000", "%", "0.9x"])
def test_bad_scale(folder: Path, fails: Fails, value: str) -> None:
    err = fails("render", "song.click", "-o", "out.wav", "--scale", value)
    assert "scale" in err


def test_bad_beats_format(folder: Path, fails: Fails) -> None:
    assert "xml" in fails("beats", "song.click", "--format", "xml")


def test_plot_bad_extension(folder: Path, fails: Fails) -> None:
    assert "t.jpg" in fails("plot", "song.click", "-o", "t.jpg")


def test_convert_to_unknown_format(folder: Path, fails: Fails) -> None:
    fails("convert", "song.click", "out.yaml", "--to", "yaml")


def test_sounds_preview_errors(folder: Path, fails: Fails) -> None:
    assert "-o" in fails("sounds", "--preview", "beep")
    err = fails("sounds", "--preview", "gong", "-o", "p.wav")
    assert all(name in err for name in VOICES)


def test_failed_render_keeps_existing_output(folder: Path, fails: Fails) -> None:
    (folder / "out.wav").write_bytes(b"yesterday's take")
    fails("render", "song.click", "-o", "out.wav", "--sound", "gong")
    map_with(folder, "verse: 4 4/4 0")
    fails("render", "song.click", "-o", "out.wav")
    assert (folder / "out.wav").read_bytes() == b"yesterday's take"


# ------------------------------------------------- the same, from the installed script

SCRIPT_CASES = {
    "map error": (["render", "song.click", "-o", "out.wav"], "verse: 4 4/4 0"),
    "unknown option": (["render", "song.click", "-o", "out.wav", "--bogus"], None),
    "unknown sound": (["render", "song.click", "-o", "out.wav", "--sound", "gong"], None),
    "missing folder": (["render", "song.click", "-o", "nosuch/out.wav"], None),
    "bad scale": (["beats", "song.click", "--scale", "0"], None),
    "truncated json": (["beats", "broken.json"], None),
}


@pytest.mark.parametrize("case", list(SCRIPT_CASES))
def test_installed_script_fails_the_same_way(folder: Path, cli: Runner, case: str) -> None:
    args, bad_line = SCRIPT_CASES[case]
    if bad_line is not None:
        map_with(folder, bad_line)
    (folder / "broken.json").write_text('{"sections": [')
    before = sorted(p.name for p in folder.iterdir())
    script = subprocess_run(folder, *args)
    check_failure(script, folder, before, None)
    here = cli(*args)
    assert (script.code, script.out, script.err) == (here.code, here.out, here.err)


# ------------------------------------------- usage mistakes exit 2, as the README says


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("render", "song.click", "-o", "out.wav", "--bit-depth", "20"), ("20", "16, 24, 32f")),
        (("render", "song.click", "-o", "out.wav", "--scale", "0"), ("--scale",)),
        (("render", "song.click", "-o", "out.wav", "--count-in", "two"), ("--count-in",)),
        (("render", "song.click", "-o", "out.wav", "--sound", "gong"), ("gong",)),
        (("render", "song.click", "-o", "out.wav", "--click-on", "x"), ("--click-on",)),
        (("render", "song.click", "-o", "out.wav", "-c", "2", "--click-on", ""),
         ("--click-on names no output", "1..2")),
        (("play", "song.click", "--backend", "alsa"), ("alsa", "jack, portaudio, null")),
        (("play", "song.click", "--latency", "soon"), ("--latency",)),
        (("play", "song.click", "-b", "null", "--gain", "loud"), ("loud",)),
        (("play", "song.click", "-b", "null", "-c", "2", "--click-on", "3"), ("3",)),
        (("render", "song.click", "-o", "out.wav", "--overs", "maybe"), ("--overs",)),
        (("export-markers", "song.click", "--format", "rpp"), ("rpp", "reaper")),
        (("export-markers", "song.click", "--per", "beat"), ("beat", "section")),
        (("beats", "song.click", "--scale", "fast"), ("--scale",)),
        (("film", "fit", "hits.csv", "--range", "140-100"), ("--range",)),
        (("timecode", "01:00:00:00", "--fps", "23"), ("23",)),
        (("sounds", "-o", "w.wav"), ("--preview",)),
    ],
)
def test_usage_mistakes_exit_2(fails: Fails, args: tuple[str, ...], words: tuple[str, ...]
                               ) -> None:
    err = fails(*args, code=2)
    assert err.count("\n") == 1, err
    for word in words:
        assert word in err


def test_a_bad_map_still_exits_1(folder: Path, fails: Fails) -> None:
    map_with(folder, "verse: 4 4/4 0")
    fails("render", "song.click", "-o", "out.wav", code=1)


@pytest.mark.parametrize("dest", ["x.klick2", "x.wav", "noextension"])
def test_convert_refuses_an_output_it_cannot_name(fails: Fails, dest: str) -> None:
    err = fails("convert", "song.click", dest, code=2)
    for ext in (".click", ".klick", ".json", ".mid"):
        assert ext in err, err
    assert "--to" in err
