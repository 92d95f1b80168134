"""``ictus render`` without Typer (ictus.cli.quick) reads a command line as Typer does.

Typer (its click parser, with ictus's coercion installed as every run has it) is the
reference: for command lines made of render's own options in every spelling, with
good and bad values, unknown options, help, ``--`` and stray arguments, whatever the
quick path accepts it must read to exactly the keyword arguments Typer passes; the rest
it must leave to Typer (which then prints the help or the error, as before).
"""

from __future__ import annotations

import contextlib
import inspect
import io
from collections.abc import Callable
from typing import Any

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from ictus.cli import audio, coercion
from ictus.cli.app import typer_app
from ictus.cli.options import Area
from ictus.cli.quick import command_for, params_of, parse, quick_call

ERROR = "error"


def typer_reading(func: Callable[..., Any], args: list[str]) -> dict[str, Any] | str:
    """The keyword arguments Typer calls ``func`` with for ``args``, or ERROR."""
    seen: dict[str, Any] = {}

    def record(**kwargs: Any) -> None:
        seen.update(kwargs)

    record.__signature__ = inspect.signature(func, eval_str=True)  # type: ignore[attr-defined]
    record.__name__ = func.__name__
    area = Area()
    area.command()(record)
    coercion.install()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # help text
            typer_app(area)(args, standalone_mode=False)
    except (typer.Exit, typer.Abort, Exception) as err:  # a usage error, or help
        if not seen:
            return f"{ERROR}: {type(err).__name__}"
    return seen if seen else ERROR


WORDS = st.sampled_from([["song.click"], ["-"], ["two words.click"]])

# render's options in each spelling Typer takes, with values good and bad
GOOD = st.sampled_from(["44100", "16", "2", "90%", "song.wav", "Refrän", "x y", ""])
BAD = st.sampled_from(["48k", "-1", "-", "--x", "=", "1.5"])
NAMES = st.sampled_from(["--output", "-o", "--format", "--bit-depth", "--channels", "-c",
                         "--sample-rate", "-r", "--sound", "--scale", "--from-bar",
                         "--count-in", "--gain", "--overs", "--click-on", "--from"])
OPTION = st.one_of(
    st.tuples(NAMES, GOOD).map(list),
    st.tuples(NAMES, st.one_of(GOOD, BAD)).map(list),
    st.tuples(st.sampled_from(["--output", "--sample-rate", "--channels", "--scale"]),
              st.one_of(GOOD, BAD)).map(lambda t: [f"{t[0]}={t[1]}"]),
    st.sampled_from([["-q"], ["--quiet"], ["--overwrite-input"]]),
    st.sampled_from([["--quiet=yes"], ["-h"], ["--help"], ["--nope"], ["--"], ["-qr", "1"],
                     ["-r44100"], ["extra.click"], ["-"]]),
)


@settings(max_examples=500, deadline=None)
@given(extra=st.lists(OPTION, max_size=5), where=st.integers(0, 5), map_file=WORDS)
def test_the_quick_path_reads_what_typer_reads(
        extra: list[list[str]], where: int, map_file: list[str]) -> None:
    # a usable line (MAP and -o) with options around it, each in any spelling
    parts = [*extra[:where], map_file, ["-o", "out.wav"], *extra[where:]]
    args = [word for part in parts for word in part]
    params = params_of(audio.render)
    assert params is not None
    quick = parse(params, args)
    if quick is not None:
        assert quick == typer_reading(audio.render, args), args


def test_a_plain_render_line_takes_the_quick_path() -> None:
    line = ["song.click", "-o", "x.wav", "--bit-depth", "16", "-r", "44100", "-q"]
    params = params_of(audio.render)
    assert params is not None
    read = parse(params, line)
    assert read == typer_reading(audio.render, line)
    assert read is not None and read["sample_rate"] == 44100 and read["quiet"] is True


@pytest.mark.parametrize("line", [
    ["render", "song.click", "-o", "x.wav", "-h"],  # help: Typer prints it
    ["render", "song.click"],  # -o missing: Typer says so
    ["render", "song.click", "-o", "x.wav", "-r", "48k"],  # Typer words the mistake
    ["film", "fit", "hits.csv"],  # a group
    ["beats", "song.click"],  # an area that needs Typer
    ["--version"],
    [],
])
def test_everything_else_is_typers(line: list[str]) -> None:
    assert quick_call(line) is None


def test_only_render_and_sounds_run_quick() -> None:
    assert command_for("render") is audio.render and command_for("sounds") is audio.sounds
    assert command_for("beats") is None and command_for("film") is None
