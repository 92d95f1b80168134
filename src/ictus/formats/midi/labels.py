"""Marker texts <-> section labels and cues, shared by the MIDI reader and writer.

A marker in a DAW may say anything ("Verse 1/(Moderato)"); a section label may only use
``[A-Za-z0-9_.-]``. :func:`label_from_text` makes a label from a marker and leaves a
text that already is a label alone, so labels survive ``.click -> .mid -> .click``.

>>> label_from_text("Verse 1/(Moderato)"), label_from_text("chorus_2"), label_from_text("Été")
('Verse_1_Moderato', 'chorus_2', 'Ete')
>>> cue_text('He said "go"\\nnow\\u2028!')
"He said 'go' now !"
>>> is_rehearsal_mark("[B]"), is_rehearsal_mark("Verse 2"), is_rehearsal_mark("Words by X")
(True, True, False)
"""

from __future__ import annotations

import re
import unicodedata

from ictus.tempomap.model import CountIn

_LABEL_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
#: words the .click format reads as headers (``title: ...``), so no label may be one
_HEADER_WORDS = frozenset({"title", "count-in", "scale"})
_MAX_LABEL = 48
_BREAKS = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

# Rehearsal-style text events: letters and numbers as printed in parts ("A", "[B]",
# "12", "Rehearsal C") and the section words of songs. Anything else in a text event
# (credits, copyright, comments) is not a place in the music.
_REHEARSAL_RE = re.compile(
    r"""^\s*(?:
        [\[(]?(?-i:[A-Z]{1,2}[0-9]{0,2}|[0-9]{1,3})[\])]?
      | (?:rehearsal|reh\.?|letter|section|part)\s+\S{1,8}
      | (?:intro|verse|pre-?chorus|chorus|refrain|bridge|middle\s*8|solo|interlude
          |breakdown|break|build|drop|outro|coda|tag|vamp|ending|instrumental|hook
          |trio|tutti|segue)\b[^\n]{0,24}
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)

#: the marker the writer puts at tick 0 when the map has a count-in (the .click header)
_COUNT_IN_RE = re.compile(r"^count-in:\s*(\d+)\s+(bars?|beats?)\s*$", re.IGNORECASE)


def label_from_text(text: str) -> str | None:
    """A section label for a marker text, or None when nothing of it is usable."""
    text = text.strip()
    if not _LABEL_RE.match(text):
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        text = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_text).strip("_.-")
    text = text[:_MAX_LABEL]
    if not text:
        return None
    if text.lower() in _HEADER_WORDS:
        text += "_"
    return text


def unique_label(label: str, used: set[str]) -> str:
    """``label``, or ``label-2``, ``label-3``... when it is taken; records the result.

    >>> used = {"A"}
    >>> unique_label("A", used), unique_label("A", used), sorted(used)
    ('A-2', 'A-3', ['A', 'A-2', 'A-3'])
    """
    candidate, n = label, 1
    while candidate in used:
        n += 1
        candidate = f"{label}-{n}"
    used.add(candidate)
    return candidate


def cue_text(text: str) -> str:
    """Text usable as a cue: one line, no double quotes, blanks collapsed."""
    text = text.replace('"', "'")
    # control characters and line/paragraph separators would break a one-line cue
    text = "".join(" " if unicodedata.category(c) in _BREAKS or c < " " else c for c in text)
    return " ".join(text.split())


def is_rehearsal_mark(text: str) -> bool:
    """Whether a MIDI text event names a place in the music (rehearsal mark, song part)."""
    return bool(_REHEARSAL_RE.match(text))


def count_in_marker(count_in: CountIn) -> str:
    """The marker text that says how long the exported count-in is.

    >>> count_in_marker(CountIn(bars=2)), count_in_marker(CountIn(beats=1))
    ('count-in: 2 bars', 'count-in: 1 beat')
    """
    n, kind = (count_in.bars, "bar") if count_in.bars else (count_in.beats, "beat")
    return f"count-in: {n} {kind}{'s' if n != 1 else ''}"


def parse_count_in_marker(text: str) -> CountIn | None:
    """Inverse of :func:`count_in_marker` (None for any other text).

    >>> parse_count_in_marker("Count-in: 4 beats"), parse_count_in_marker("Intro")
    (CountIn(bars=0, beats=4, volume=1.0), None)
    """
    m = _COUNT_IN_RE.match(text.strip())
    if m is None or int(m.group(1)) == 0:
        return None
    n = int(m.group(1))
    try:
        return CountIn(bars=n) if m.group(2).lower().startswith("bar") else CountIn(beats=n)
    except ValueError:  # more than the model allows: not our marker
        return None
