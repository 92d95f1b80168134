"""What several commands share: loading a map with the user's options, voices, output."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import TYPE_CHECKING

from ictus.errors import IctusError, ParameterError
from ictus.formats import read_map
from ictus.tempomap.grid import ClickGrid, build_grid
from ictus.tempomap.model import CountIn, TempoMap

if TYPE_CHECKING:
    from ictus.sounds import Voice

DEFAULT_SOUND = "woodblock"


def parse_count_in(text: str) -> CountIn:
    """``"1"`` or ``"1 bar"`` or ``"2 bars"`` or ``"4 beats"`` or ``"0"``.

    >>> parse_count_in("2"), parse_count_in("3 beats").beats
    (CountIn(bars=2, beats=0, volume=1.0), 3)
    """
    m = re.fullmatch(r"\s*(\d+)\s*(bars?|beats?)?\s*", text)
    if m is None:
        raise ParameterError(f"--count-in: expected '1', '2 bars' or '4 beats', got {text!r}")
    n = int(m.group(1))
    if (m.group(2) or "bar").startswith("beat"):
        return CountIn(beats=n)
    return CountIn(bars=n)


def parse_scale(text: str) -> Fraction:
    """``0.9`` or ``90%``."""
    t = text.strip()
    from ictus.limits import check_number_text

    check_number_text(t, "--scale")
    try:
        value = Fraction(t[:-1]) / 100 if t.endswith("%") else Fraction(t)
    except (ValueError, ZeroDivisionError):
        raise ParameterError(
            f"--scale: expected a factor such as 0.9 or 90%, got {text!r}"
        ) from None
    if not Fraction(1, 100) <= value <= 100:
        raise ParameterError(f"--scale: must be 0.01..100, got {text}")
    return value


def parse_int_list(text: str, what: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ParameterError(
            f"{what}: expected numbers separated by commas, got {text!r}"
        ) from None


def load_map(
    path: str,
    *,
    fmt: str | None = None,
    scale: str | None = None,
    count_in: str | None = None,
    click_unit: str | None = None,
    bars: int | None = None,
) -> TempoMap:
    """Read a map and apply the command line's scale and count-in.

    ``click_unit`` and ``bars`` are options of the MIDI reader (``--click-unit``, ``--bars``).
    """
    options: dict[str, object] = {}
    if click_unit is not None:
        options["click_unit"] = click_unit
    if bars is not None:
        options["bars"] = bars
    tempo_map = read_map(path, fmt, **options)
    if scale is not None:
        tempo_map = tempo_map.with_scale(tempo_map.scale * parse_scale(scale))
    if count_in is not None:
        tempo_map = tempo_map.with_count_in(parse_count_in(count_in))
    return tempo_map


def load_grid(
    path: str,
    *,
    fmt: str | None = None,
    scale: str | None = None,
    count_in: str | None = None,
    from_label: str | None = None,
    from_bar: int | None = None,
    click_unit: str | None = None,
    bars: int | None = None,
) -> ClickGrid:
    tempo_map = load_map(
        path, fmt=fmt, scale=scale, count_in=count_in, click_unit=click_unit, bars=bars
    )
    return build_grid(tempo_map, start_label=from_label, start_bar=from_bar)


def load_voice_for(sound: str | None, sound_file: str | None, rate: int) -> Voice:
    from ictus.sounds import load_voice, synth_voice

    if sound is not None and sound_file is not None:
        raise ParameterError("give --sound or --sound-file, not both")
    if sound_file is not None:
        return load_voice([p for p in sound_file.split(",") if p], rate)
    return synth_voice(sound or DEFAULT_SOUND, rate)


def overwrite_inputs(allowed: bool) -> None:
    """``--overwrite-input``: let this command's output replace one of its inputs."""
    if allowed:
        from ictus.atomic import allow_overwriting_inputs

        allow_overwriting_inputs()


def fail(err: IctusError) -> None:
    """Print an error the way every command does: one line, plus the source line and caret."""
    from ictus.errors import ParseError, for_terminal

    # what came from a file is escaped and cut: it must not drive the terminal
    text = err.display() if isinstance(err, ParseError) else for_terminal(str(err))
    sys.stderr.write(f"ictus: error: {text}\n")


@contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[object]:
    """A Rich progress bar on a terminal (stderr), or nothing."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        yield progress


@contextmanager
def closed_pipe_is_fine() -> Iterator[None]:
    """``ictus beats ... | head`` closes the pipe early: stop writing, exit 0, no noise."""
    import os

    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # later flushes (at exit) would fail again: point stdout at /dev/null
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(0) from None
    except OSError as err:
        if err.filename is not None:  # a named file's error belongs to its command
            raise
        # a full disk or /dev/full behind `> file`: say so once, like any other error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise IctusError(f"standard output: cannot write ({err.strerror or err})") from None


def format_clock(seconds: float) -> str:
    """``h:mm:ss.mmm`` or ``m:ss.mmm``.

    >>> format_clock(75.5), format_clock(3723.25)
    ('1:15.500', '1:02:03.250')
    """
    sign = "-" if seconds < 0 else ""
    ms = round(abs(seconds) * 1000)
    h, rem = divmod(ms, 3600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    if h:
        return f"{sign}{h}:{m:02d}:{s:02d}.{ms:03d}"
    return f"{sign}{m}:{s:02d}.{ms:03d}"
