"""ictus's own MIDI files come back as they went out.

MIDI cannot hold a ramp, a label's exact spelling or an accent pattern, so the writer
turns ramps into tempo steps of exact length (what every DAW needs). To read its own
file back as the same map (the same sections, labels, cues and ramps, not a row of
one-bar ``steps=`` sections), the writer also stores the map's ``.click`` text in one
*sequencer-specific* meta event (``FF 7F``) at tick 0 of the tempo track. The MIDI
standard lets every other reader skip such events, and DAWs do.

The reader trusts that text only while the file still says what it said: the event
also holds a SHA-256 digest of every tempo and time signature event the writer wrote
(tick, value), and the reader compares it with the file's own. A file whose tempo or
meters were edited afterwards (by a tool that kept the event) is read from its events
as any other file.

Payload: ``0x7D`` (the MIDI manufacturer ID for non-commercial use), ``ictus-map/1``,
a newline, ``timing=<hex digest>``, a newline, then the ``.click`` text (UTF-8).

>>> from ictus.formats.clickfile import parse_click
>>> timing = [(0, "set_tempo", 500000), (0, "time_signature", (4, 4, 24))]
>>> data = payload(parse_click("verse: 2 4/4 96-128\\n"), timing)
>>> data[:12], stored_map(data)[1] == digest(timing)
(b'}ictus-map/1', True)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ictus.errors import IctusError
from ictus.formats.clickfile import format_click, parse_click
from ictus.formats.midi.smf import Song
from ictus.tempomap.model import TempoMap

#: MIDI manufacturer ID 0x7D: "for non-commercial use", reserved for such private data
NON_COMMERCIAL = b"\x7d"
MAGIC = NON_COMMERCIAL + b"ictus-map/1\n"
TIMING_KINDS = ("set_tempo", "time_signature")

Timing = Iterable[tuple[int, str, object]]


def digest(timing: Timing) -> str:
    """SHA-256 of (tick, kind, value) events, in a fixed order (files may list events of
    one tick in any track order)."""
    rows = sorted(f"{tick} {kind} {value!r}" for tick, kind, value in timing)
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def payload(tempo_map: TempoMap, timing: Timing) -> bytes | None:
    """The sequencer-specific data that carries ``tempo_map`` and the digest of the tempo
    and time signature events written with it; None if ``.click`` text cannot hold it."""
    try:
        text = format_click(tempo_map)
    except IctusError:
        return None
    return MAGIC + f"timing={digest(timing)}\n".encode() + text.encode("utf-8")


def stored_map(data: bytes) -> tuple[TempoMap, str] | None:
    """The map and timing digest in one sequencer-specific event, or None."""
    if not data.startswith(MAGIC):
        return None
    try:
        options, text = data[len(MAGIC) :].decode("utf-8").split("\n", 1)
        key, _, value = options.partition("=")
        if key != "timing":
            return None
        return parse_click(text, "<ictus map in the MIDI file>"), value
    except (UnicodeDecodeError, ValueError, IctusError):
        return None


def own_map(song: Song) -> TempoMap | None:
    """The map ictus stored in ``song``, if the file's tempo and meters still match it."""
    found = next(
        (
            stored
            for e in song.events
            if e.kind == "sequencer_specific" and e.tick == 0 and e.track == 0
            if (stored := stored_map(e.value)) is not None
        ),
        None,
    )
    if found is None or song.division & 0x8000:
        return None
    tempo_map, expected = found
    timing = [(e.tick, e.kind, e.value) for e in song.events if e.kind in TIMING_KINDS]
    return tempo_map if digest(timing) == expected else None
