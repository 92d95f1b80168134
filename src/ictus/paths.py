"""File names read as :mod:`pathlib` reads them, without importing pathlib.

``pathlib`` brings ``urllib.parse`` and ``ipaddress`` with it, 3 ms of every start-up;
the modules every render imports (:mod:`ictus.atomic`, :mod:`ictus.formats`,
:mod:`ictus.render.writer`) need only a name's parts. These functions give exactly
what ``str(PurePosixPath(p))``, ``.parent``, ``.name`` and ``.suffix`` give on POSIX
(tests/test_paths.py checks them against pathlib); elsewhere they ask pathlib.

>>> normal("./takes//click.wav/"), parent("takes/click.wav"), name("takes/click.wav")
('takes/click.wav', 'takes', 'click.wav')
>>> suffix("click.WAV"), suffix(".hidden"), suffix("click."), parent("click.wav")
('.WAV', '', '', '.')
"""

from __future__ import annotations

import os

__all__ = ["name", "normal", "parent", "suffix"]

_POSIX = os.name == "posix"


def _parts(path: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """pathlib's parse: the root ('', '/' or '//') and the parts without '' and '.'."""
    text = os.fspath(path)
    root = ""
    if text.startswith("/"):
        rest = text.lstrip("/")
        # POSIX: exactly two leading slashes may mean something else; more are one
        root = "//" if len(text) - len(rest) == 2 else "/"
        text = rest
    return root, [part for part in text.split("/") if part and part != "."]


def normal(path: str | os.PathLike[str]) -> str:
    """``str(Path(path))``: no repeated or trailing slashes, no ``.`` parts."""
    if not _POSIX:
        from pathlib import Path

        return str(Path(path))
    root, parts = _parts(path)
    return root + "/".join(parts) or "."


def parent(path: str | os.PathLike[str]) -> str:
    """``str(Path(path).parent)``: ``.`` for a bare name, the root for the root."""
    if not _POSIX:
        from pathlib import Path

        return str(Path(path).parent)
    root, parts = _parts(path)
    return root + "/".join(parts[:-1]) or "."


def name(path: str | os.PathLike[str]) -> str:
    """``Path(path).name``: the last part ('' for the root or ``.``)."""
    if not _POSIX:
        from pathlib import Path

        return Path(path).name
    _, parts = _parts(path)
    return parts[-1] if parts else ""


def suffix(path: str | os.PathLike[str]) -> str:
    """``Path(path).suffix``: from the last dot of the name, if it neither starts nor ends it."""
    last = name(path)
    dot = last.rfind(".")
    return last[dot:] if 0 < dot < len(last) - 1 else ""
