"""ictus's own MIDI files come back as they went out.

MIDI cannot hold a ramp, a label's exact spelling or an accent pattern, so the writer
turns ramps into tempo steps of exact length (what every DAW needs). To read its own
file back as the same map (the same sections, labels, cues and ramps, not a row of
one-bar ``steps=`` sections), the writer also stores the map's ``.click`` text in one
*sequencer-specific* meta event (``FF 7F``) at tick 0 of the tempo track. The MIDI
standard lets every other reader skip such events, and DAWs do.

The reader trusts that text only while the file still says what it said: it writes
the stored map again with the stored options and compares every tempo and time
signature event, tick for tick. A file whose tempo or meters were edited afterwards (by
a tool that kept the event) is read from its events as any other file.

Payload: ``0x7D`` (the MIDI manufacturer ID for non-commercial use), ``ictus-map/1``,
a newline, ``ramp-steps=<beat|8th|16th>``, a newline, then the ``.click`` text (UTF-8).

>>> from ictus.formats.clickfile import parse_click
>>> data = payload(parse_click("verse: 2 4/4 96-128\\n"), "beat")
>>> data[:12], stored_map(data)[1]
(b'}ictus-map/1', 'beat')
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ictus.errors import IctusError
from ictus.formats.clickfile import format_click, parse_click
from ictus.formats.midi.smf import Song, read_song
from ictus.tempomap.model import TempoMap

#: MIDI manufacturer ID 0x7D: "for non-commercial use", reserved for such private data
NON_COMMERCIAL = b"\x7d"
MAGIC = NON_COMMERCIAL + b"ictus-map/1\n"


def payload(tempo_map: TempoMap, ramp_steps: str) -> bytes | None:
    """The sequencer-specific data that carries ``tempo_map``; None if ``.click`` text
    cannot hold it."""
    try:
        text = format_click(tempo_map)
    except IctusError:
        return None
    return MAGIC + f"ramp-steps={ramp_steps}\n".encode() + text.encode("utf-8")


def stored_map(data: bytes) -> tuple[TempoMap, str] | None:
    """The map and ramp-steps option in one sequencer-specific event, or None."""
    if not data.startswith(MAGIC):
        return None
    try:
        options, text = data[len(MAGIC) :].decode("utf-8").split("\n", 1)
        key, _, ramp_steps = options.partition("=")
        if key != "ramp-steps":
            return None
        return parse_click(text, "<ictus map in the MIDI file>"), ramp_steps
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
    tempo_map, ramp_steps = found
    from ictus.formats.midi.writer import write_midi

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "again.mid")
        try:
            write_midi(tempo_map, path, ppq=song.division, ramp_steps=ramp_steps)
        except IctusError:
            return None
        again = read_song(Path(path).read_bytes(), path)
    if _timing(again) != _timing(song):
        return None
    return tempo_map


def _timing(song: Song) -> list[tuple[int, str, object]]:
    """Every tempo and time signature event: what the file's clock and bars are made of."""
    return [
        (e.tick, e.kind, e.value) for e in song.events if e.kind in ("set_tempo", "time_signature")
    ]
