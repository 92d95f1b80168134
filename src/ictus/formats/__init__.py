"""Readers and writers of tempo maps, picked by name or by file extension.

=========  ==========================  =====================
name       extensions                  read / write
=========  ==========================  =====================
click      .click .txt                 both
klick      .klick                      both
json       .json                       both
midi       .mid .midi .smf             both (binary)
musicxml   .musicxml .mxl .xml         read
reaper     .rpp                        write (a REAPER project: tempo, regions, cues)
=========  ==========================  =====================

``-`` reads standard input (``.click`` syntax unless it starts with ``{`` or a format
is named). Every reader raises :class:`~ictus.errors.ParseError` or
:class:`~ictus.errors.IctusError` with the file name in the message. Binary formats
are imported lazily (their libraries load only when such a file is read), and take
format-specific keyword options (``read_map("song.mid", click_unit="file")``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import ictus.paths as paths
from ictus.atomic import note_input
from ictus.errors import IctusError, ParameterError, ParseError
from ictus.formats.clickfile import format_click, parse_click, parse_klick
from ictus.limits import MAX_INPUT_BYTES, read_input
from ictus.tempomap.grid import check_size
from ictus.tempomap.model import TempoMap

Reader = Callable[[str, str], TempoMap]
Writer = Callable[[TempoMap], str]
FileReader = Callable[..., TempoMap]  # (path, **options) -> TempoMap
FileWriter = Callable[..., None]  # (tempo_map, path, **options) -> None


def _read_midi(path: str, **options: Any) -> TempoMap:
    from ictus.formats.midi import read_midi

    return read_midi(path, **options)


def _write_midi(tempo_map: TempoMap, path: str, **options: Any) -> None:
    from ictus.formats.midi import write_midi

    write_midi(tempo_map, path, **options)


def _read_musicxml(path: str, **options: Any) -> TempoMap:
    from ictus.formats.musicxml import read_musicxml

    return read_musicxml(path, **options)


# JSON and klick export load when used: `ictus render song.click` starts without them


def from_json(text: str, filename: str = "<string>") -> TempoMap:
    """Read a JSON tempo map (:func:`ictus.formats.jsonmap.from_json`)."""
    from ictus.formats.jsonmap import from_json as read

    return read(text, filename)


def to_json(tempo_map: TempoMap) -> str:
    """JSON text for ``tempo_map`` (:func:`ictus.formats.jsonmap.to_json`)."""
    from ictus.formats.jsonmap import to_json as write

    return write(tempo_map)


def format_klick(
    tempo_map: TempoMap,
    *,
    lossy: bool = False,
    source: str | None = None,
    lines: Sequence[int] | None = None,
) -> str:
    """``tempo_map`` in klick's syntax (:func:`ictus.formats.klick_export.format_klick`)."""
    from ictus.formats.klick_export import format_klick as write

    return write(tempo_map, lossy=lossy, source=source, lines=lines)


FILE_READERS: dict[str, FileReader] = {"midi": _read_midi, "musicxml": _read_musicxml}
FILE_WRITERS: dict[str, FileWriter] = {"midi": _write_midi}

TEXT_READERS: dict[str, Reader] = {"click": parse_click, "klick": parse_klick, "json": from_json}


def _format_rpp(tempo_map: TempoMap) -> str:
    from ictus.formats.export.reaper import format_rpp

    return format_rpp(tempo_map)


TEXT_WRITERS: dict[str, Writer] = {
    "click": format_click,
    "klick": format_klick,
    "json": to_json,
    "reaper": _format_rpp,
}

EXTENSIONS: dict[str, str] = {
    ".click": "click",
    ".txt": "click",
    ".klick": "klick",
    ".json": "json",
    ".mid": "midi",
    ".midi": "midi",
    ".smf": "midi",
    ".musicxml": "musicxml",
    ".mxl": "musicxml",
    ".xml": "musicxml",
    ".rpp": "reaper",
}


def format_names() -> list[str]:
    return sorted({*TEXT_READERS, *FILE_READERS})


def guess_format(path: str, fmt: str | None = None) -> str:
    """The format name for ``path``: ``fmt`` if given, else by extension (default click)."""
    if fmt is not None:
        if fmt not in TEXT_READERS and fmt not in FILE_READERS and fmt not in TEXT_WRITERS:
            raise ParameterError(
                f"unknown format {fmt!r}; choose one of {', '.join(format_names())}"
            )
        return fmt
    return EXTENSIONS.get(paths.suffix(path).lower(), "click")


def read_map(source: str | os.PathLike[str], fmt: str | None = None, **options: Any) -> TempoMap:
    """Read a tempo map from a file path or ``-`` (standard input).

    Every error names the file (a reader's model error too: a tempo out of range in
    a MIDI file), and a map beyond ictus's limits (:mod:`ictus.limits`) is refused here.

    >>> read_map("no/such/file.click")
    Traceback (most recent call last):
    ...
    ictus.errors.IctusError: no/such/file.click: no such file
    """
    path = os.fspath(source)
    name = "<stdin>" if path == "-" else path
    try:
        tempo_map = _read_map(path, fmt, **options)
        check_size(tempo_map)
    except ParseError as err:
        if err.pos is not None or str(err).startswith(name):
            raise
        raise ParseError(f"{name}: {err}") from None
    except IctusError as err:
        if str(err).startswith(name):
            raise
        raise _with_name(err, name) from None
    return tempo_map


def _with_name(err: IctusError, name: str) -> IctusError:
    """The same error, its message starting with the file's name."""
    try:
        return type(err)(f"{name}: {err}")
    except TypeError:  # a kind with other constructor arguments
        return IctusError(f"{name}: {err}")


def _read_map(path: str, fmt: str | None, **options: Any) -> TempoMap:
    if path == "-":
        return _read_stdin_map(fmt)
    fmt = guess_format(path, fmt)
    if fmt not in TEXT_READERS and fmt not in FILE_READERS:
        raise ParameterError(f"{path}: ictus writes {fmt} files but does not read them")
    note_input(path)
    if fmt in FILE_READERS:
        if not os.path.exists(path):
            raise IctusError(f"{path}: no such file")
        return FILE_READERS[fmt](path, **options)
    if options:
        raise ParameterError(f"{', '.join(options)}: only for MIDI and MusicXML files")
    return TEXT_READERS[fmt](_read_text(path), path)


def _read_stdin_map(fmt: str | None) -> TempoMap:
    """A text tempo map from standard input: click unless ``fmt`` or a leading ``{`` says JSON."""
    text = sys.stdin.read(MAX_INPUT_BYTES + 1).removeprefix("\ufeff")  # Notepad's BOM
    if len(text) > MAX_INPUT_BYTES:
        raise ParameterError(f"<stdin>: more than {MAX_INPUT_BYTES >> 20} MB of tempo map")
    name = "<stdin>"
    if fmt is None and text.lstrip().startswith("{"):
        fmt = "json"
    fmt = guess_format(name, fmt)
    if fmt in FILE_READERS:
        raise ParameterError(f"{fmt} files cannot be read from standard input; give a path")
    if fmt not in TEXT_READERS:
        raise ParameterError(f"ictus writes {fmt} files but does not read them")
    return TEXT_READERS[fmt](text, name)


def _read_text(path: str) -> str:
    """A text file's contents; each way it can fail is one line naming the file."""
    try:
        # utf-8-sig: a byte-order mark (Notepad writes one) is not part of the text
        return read_input(path, "tempo map").decode("utf-8-sig")
    except FileNotFoundError:
        raise IctusError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IctusError(f"{path}: is a folder, not a tempo map") from None
    except UnicodeDecodeError as err:
        raise IctusError(f"{path}: not a text file (byte {err.start} is not UTF-8)") from None
    except OSError as err:
        raise IctusError(f"{path}: cannot read ({err.strerror})") from None


def write_map(
    tempo_map: TempoMap, dest: str | os.PathLike[str], fmt: str | None = None, **options: Any
) -> None:
    """Write ``tempo_map`` to ``dest`` (or ``-`` for standard output), atomically."""
    path = os.fspath(dest)
    fmt = guess_format(path, fmt)
    if fmt in FILE_WRITERS:
        if path == "-":
            raise ParameterError(f"{fmt} files cannot be written to standard output; give a path")
        FILE_WRITERS[fmt](tempo_map, path, **options)
        return
    if fmt not in TEXT_WRITERS:
        raise ParameterError(
            f"cannot write {fmt} files; write one of {', '.join(sorted(TEXT_WRITERS))}, midi"
        )
    if fmt == "klick":  # lossy=, source=, lines=: formats/klick_export.py
        text = format_klick(tempo_map, **options)
    elif options:
        raise ParameterError(f"{', '.join(options)}: only for MIDI and klick files")
    else:
        text = TEXT_WRITERS[fmt](tempo_map)
    if path == "-":
        sys.stdout.write(text)
        return
    from ictus.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.write(text)


__all__ = [
    "format_click",
    "format_klick",
    "from_json",
    "guess_format",
    "parse_click",
    "parse_klick",
    "read_map",
    "to_json",
    "write_map",
]
