"""The one root exception of ictus and its kinds.

Every error a user can cause is an :class:`IctusError`; the command line prints its
message on one line (plus the offending source line and a caret when there is one)
and exits non-zero, never with a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class IctusError(Exception):
    """Root of every error ictus raises on purpose."""


class ParameterError(IctusError, ValueError):
    """A value is out of range or of the wrong kind (also a :class:`ValueError`).

    >>> raise ParameterError("tempo must be > 0, got -3")
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: tempo must be > 0, got -3
    """


@dataclass(frozen=True)
class SourcePos:
    """Where in a text file something is: 1-based line and column."""

    file: str
    line: int
    column: int
    text: str = ""  # the whole source line, for the caret display


class ParseError(IctusError, ValueError):
    """A source file is malformed at a known place.

    ``str(err)`` is the one-line form ``file:line:column: message``; :meth:`display`
    adds the source line and a caret under the column.

    >>> err = ParseError("expected a tempo", SourcePos("song.click", 3, 9, "verse: 8 4/4 fast"))
    >>> str(err)
    'song.click:3:9: expected a tempo'
    >>> print(err.display())
    song.click:3:9: expected a tempo
      verse: 8 4/4 fast
              ^
    """

    def __init__(self, message: str, pos: SourcePos | None = None) -> None:
        self.message = message
        self.pos = pos
        super().__init__(self._one_line())

    def _one_line(self) -> str:
        if self.pos is None:
            return self.message
        p = self.pos
        return f"{p.file}:{p.line}:{p.column}: {self.message}"

    def display(self) -> str:
        """The one-line message, then the source line with a caret (when known)."""
        if self.pos is None or not self.pos.text:
            return self._one_line()
        caret = " " * (self.pos.column - 1) + "^"
        return f"{self._one_line()}\n  {self.pos.text}\n  {caret}"


class IctusWarning(UserWarning):
    """Something was read leniently (a DAW's quirk in a file); the command goes on.

    The command line prints it as one line: ``ictus: warning: ...``.
    """


class AudioFileError(IctusError):
    """An audio file cannot be read or written (names the file and the reason)."""
