"""The one root exception of ictus and its kinds.

Every error a user can cause is an :class:`IctusError`; the command line prints its
message on one line (plus the offending source line and a caret when there is one)
and exits non-zero, never with a traceback.
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

#: The most characters of a source line or a message echoed to the terminal: a 10 MB
#: token is shown by its start and end, not in full (twice).
ECHO_WIDTH = 120
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    r"""``text`` with control characters shown escaped, safe to print on a terminal.

    A source line may hold an escape sequence that would clear the screen or set the
    window title, a NUL, or a bidirectional override that reorders what is shown;
    each is written the way Python writes it in a string.

    >>> printable("verse\x1b]0;pwned\x07\x1b[2J: 4 4/4 120\x00")
    'verse\\x1b]0;pwned\\x07\\x1b[2J: 4 4/4 120\\x00'
    >>> printable("Refrän\t1")
    'Refrän 1'
    """
    if text.isprintable():
        return text
    return "".join(_escaped(c) for c in text)


def _escaped(c: str) -> str:
    if c.isprintable():
        return c
    if c == "\t":  # one blank: the caret below counts characters, a tab has no width
        return " "
    if unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS:
        return repr(c)[1:-1]
    return c


def shorten(text: str, width: int = ECHO_WIDTH, keep: int | None = None) -> tuple[str, int]:
    """Cut ``text`` to about ``width`` characters around position ``keep`` (0-based).

    Returns the shown text and where ``keep`` is in it. Cut ends are marked ``...``.

    >>> shorten("x" * 1000 + " here " + "y" * 1000, 20, 1001)
    ('...xxxxxxxxx here yyyyy...', 13)
    >>> shorten("short", 20)
    ('short', 0)
    """
    if len(text) <= width:
        return text, keep or 0
    at = min(max(keep or 0, 0), len(text))
    start = max(0, min(at - width // 2, len(text) - width))
    end = start + width
    head = "..." if start > 0 else ""
    tail = "..." if end < len(text) else ""
    return head + text[start:end] + tail, at - start + len(head)


def for_terminal(message: str, width: int = 4 * ECHO_WIDTH) -> str:
    """A message as printed: control characters escaped, each line cut to ``width``.

    >>> len(for_terminal("got '" + "9" * 10_000_000 + "'"))
    508
    """
    lines = []
    for line in message.split("\n"):
        shown = printable(line)
        if len(shown) > width:
            cut = len(shown) - width
            shown = f"{shown[: width - 60]} ...({cut} characters)... {shown[-60:]}"
        lines.append(shown)
    return "\n".join(lines)


class IctusError(Exception):
    """Root of every error ictus raises on purpose."""


class ParameterError(IctusError, ValueError):
    """A value is out of range or of the wrong kind (also a :class:`ValueError`).

    >>> raise ParameterError("tempo must be > 0, got -3")
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: tempo must be > 0, got -3
    """


class SourcePos(NamedTuple):
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
        r"""The one-line message, then the source line with a caret (when known).

        What is echoed is safe for a terminal: control characters are escaped (the
        caret still points at the column), and a long line is cut around the column.

        >>> err = ParseError("bad", SourcePos("x.click", 1, 8, "a\x1b[2J: 1 4/4 fast"))
        >>> print(err.display())
        x.click:1:8: bad
          a\x1b[2J: 1 4/4 fast
                    ^
        """
        # a line break quoted from the file (a CSV field in quotes) is shown escaped:
        # the message stays one line
        one_line = for_terminal(printable(self._one_line()))
        if self.pos is None or not self.pos.text:
            return one_line
        text = self.pos.text
        before = len(printable(text[: self.pos.column - 1]))
        line, at = shorten(printable(text), ECHO_WIDTH, before)
        caret = " " * at + "^"
        return f"{one_line}\n  {line}\n  {caret}"


class IctusWarning(UserWarning):
    """Something was read leniently (a DAW's quirk in a file); the command goes on.

    The command line prints it as one line: ``ictus: warning: ...``.
    """


class AudioFileError(IctusError):
    """An audio file cannot be read or written (names the file and the reason)."""
