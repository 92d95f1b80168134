"""What several commands share: loading a map with the user's options, voices, output.

Nothing heavy is imported at start-up: the map readers (and numpy with them) load when a
command first reads a map, so ``ictus --help`` and ``ictus timecode`` start fast.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from types import ModuleType
from typing import TYPE_CHECKING

from ictus.cli.options import DEFAULT_SOUND
from ictus.errors import IctusError, ParameterError

if TYPE_CHECKING:
    from ictus.sounds import Voice
    from ictus.tempomap.grid import ClickGrid
    from ictus.tempomap.model import CountIn, TempoMap

__all__ = [
    "DEFAULT_SOUND",
    "MissingExtra",
    "UsageError",
    "closed_pipe_is_fine",
    "fail",
    "format_clock",
    "load_grid",
    "load_map",
    "load_voice_for",
    "needs",
    "option_values",
    "parse_count_in",
    "parse_int_list",
    "parse_scale",
    "progress",
]


class UsageError(ParameterError):
    """A mistake in the command line itself (an option's value): ``ictus`` exits 2.

    Errors in the files a command reads stay :class:`~ictus.errors.IctusError` (exit 1).
    """


@contextmanager
def option_values() -> Iterator[None]:
    """Checks of option values made before any file is read: a ParameterError is a usage
    mistake (exit 2), whichever package found it.

    >>> with option_values():
    ...     raise ParameterError("--bit-depth: choose 16, 24 or 32f")
    Traceback (most recent call last):
    ...
    ictus.cli.common.UsageError: --bit-depth: choose 16, 24 or 32f
    """
    try:
        yield
    except UsageError:
        raise
    except ParameterError as err:
        raise UsageError(str(err)) from None


#: The optional dependencies a command may need: module -> (what it is, the extra).
EXTRAS = {
    "matplotlib": ("matplotlib", "plot"),
    "music21": ("music21", "musicxml"),
    "av": ("PyAV", "video"),
    "aiohttp": ("aiohttp", "web"),
}


class MissingExtra(IctusError):
    """A command needs an optional dependency that is not installed."""


def needs(module: str, command: str) -> ModuleType:
    """Import ``module`` for ``command``, or say in one line which extra installs it.

    >>> EXTRAS["no_such_module"] = ("a library", "demo")
    >>> needs("no_such_module", "ictus demo")
    Traceback (most recent call last):
    ...
    ictus.cli.common.MissingExtra: ictus demo needs a library, ... 'ictus[demo]'
    >>> del EXTRAS["no_such_module"]
    """
    what, extra = EXTRAS[module]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(
            f"{command} needs {what}, which is not installed: pip install 'ictus[{extra}]'"
        ) from None


def parse_count_in(text: str) -> CountIn:
    """``"1"`` or ``"1 bar"`` or ``"2 bars"`` or ``"4 beats"`` or ``"0"``.

    >>> parse_count_in("2"), parse_count_in("3 beats").beats
    (CountIn(bars=2, beats=0, volume=1.0), 3)
    """
    from ictus.tempomap.model import CountIn

    m = re.fullmatch(r"\s*(\d+)\s*(bars?|beats?)?\s*", text)
    if m is None:
        raise UsageError(f"--count-in: expected '1', '2 bars' or '4 beats', got {text!r}")
    n = int(m.group(1))
    if (m.group(2) or "bar").startswith("beat"):
        return CountIn(beats=n)
    return CountIn(bars=n)


def parse_scale(text: str) -> Fraction:
    """``0.9`` or ``90%``."""
    from ictus.limits import check_number_text

    t = text.strip()
    try:
        check_number_text(t, "--scale")  # 1e999999999 would take forever
    except ParameterError as err:
        raise UsageError(str(err)) from None
    try:
        value = Fraction(t[:-1]) / 100 if t.endswith("%") else Fraction(t)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"--scale: expected a factor such as 0.9 or 90%, got {text!r}") from None
    if not Fraction(1, 100) <= value <= 100:
        raise UsageError(f"--scale: must be 0.01..100, got {text}")
    return value


def parse_int_list(text: str, what: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"{what}: expected numbers separated by commas, got {text!r}") from None


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
    The option values are checked before the file is read (a mistake there exits 2).
    """
    from ictus.formats import guess_format, read_map

    with option_values():
        factor = parse_scale(scale) if scale is not None else None
        lead = parse_count_in(count_in) if count_in is not None else None
        source_format = guess_format(path, fmt)
    if source_format == "musicxml":
        needs("music21", "reading MusicXML")
    options: dict[str, object] = {}
    if click_unit is not None:
        options["click_unit"] = click_unit
    if bars is not None:
        options["bars"] = bars
    tempo_map = read_map(path, fmt, **options)
    if factor is not None:
        tempo_map = tempo_map.with_scale(tempo_map.scale * factor)
    if lead is not None:
        tempo_map = tempo_map.with_count_in(lead)
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
    from ictus.tempomap.grid import build_grid

    tempo_map = load_map(
        path, fmt=fmt, scale=scale, count_in=count_in, click_unit=click_unit, bars=bars
    )
    return build_grid(tempo_map, start_label=from_label, start_bar=from_bar)


def load_voice_for(
    sound: str | None, sound_file: str | None, rate: int, count_in_sound: str | None = None
) -> Voice:
    from ictus.sounds import load_voice, synth_voice

    if sound is not None and sound_file is not None:
        raise UsageError("give --sound or --sound-file, not both")
    if sound_file is not None:
        voice = load_voice([p for p in sound_file.split(",") if p], rate)
    else:
        with option_values():
            voice = synth_voice(sound or DEFAULT_SOUND, rate)
    if count_in_sound is not None:
        with option_values():
            voice = voice.with_count_in(synth_voice(count_in_sound, rate))
    return voice


def overwrite_inputs(allowed: bool) -> None:
    """``--overwrite-input``: let this command's output replace one of its inputs."""
    if allowed:
        from ictus.atomic import allow_overwriting_inputs

        allow_overwriting_inputs()


def fail(err: IctusError) -> None:
    """Print an error the way every command does: one line, plus the source line and caret."""
    from ictus.errors import ParseError, for_terminal, printable

    # what came from a file is escaped and cut: it must not drive the terminal, and a
    # line break quoted from it (a CSV field in quotes) stays on the one line
    text = err.display() if isinstance(err, ParseError) else for_terminal(printable(str(err)))
    sys.stderr.write(f"ictus: error: {text}\n")


Advance = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    pass


@contextmanager
def progress(label: str, enabled: bool) -> Iterator[Advance]:
    """A Rich progress bar on stderr while the block runs; yields ``advance(done, total)``.

    Disabled (``--quiet``, or stderr not a terminal), ``advance`` does nothing and Rich
    is not even imported.

    >>> with progress("rendering", enabled=False) as advance:
    ...     advance(1, 2)
    """
    if not enabled:
        yield _no_progress
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=1)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


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
