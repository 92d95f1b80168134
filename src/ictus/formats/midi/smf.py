"""Standard MIDI File bytes -> the timed events a tempo map needs.

This layer walks the file's chunks and each track's events itself, so that a broken file
gets an error naming the track and the byte where reading stopped, and a merely sloppy
file is read the way DAWs read it (with a list of ``problems`` for one warning). Meta
events are decoded by mido (``mido.MetaMessage.from_bytes``), which also validates them;
channel messages only matter here for *when* they happen, so they are framed by their
fixed lengths (1 data byte for program change and channel pressure, else 2) and kept as
two numbers per file: the last tick where something starts and where something ends.

Ticks are plain integers; turning them into time is the reader's job
(:mod:`ictus.formats.midi.reader`), done with exact fractions.

>>> song = read_song(bytes.fromhex(
...     "4d546864000000060000000100604d54726b0000000c"   # MThd, format 0, 1 track, 96 ppq
...     "00ff510307a120"                                 # tick 0: set_tempo 500000
...     "8300ff2f00"), "x.mid")                          # tick 384: end of track
>>> song.division, [(e.tick, e.kind, e.value) for e in song.events], song.last_end
(96, [(0, 'set_tempo', 500000)], 384)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from ictus.errors import IctusError


class MidiFileError(IctusError):
    """A MIDI file cannot be read (the message names the file and the problem)."""


#: Meta event types the reader uses, by type byte, with mido's names for them.
TEXT_KINDS = {0x01: "text", 0x03: "track_name", 0x06: "marker", 0x07: "cue_marker"}
SET_TEMPO, TIME_SIGNATURE, END_OF_TRACK = 0x51, 0x58, 0x2F
SEQUENCER_SPECIFIC = 0x7F  # private data (ictus keeps its own map there: midi/own.py)


@dataclass(frozen=True)
class Event:
    """One event the tempo map needs: ``kind`` is a mido message type name.

    ``value`` is microseconds per quarter for ``set_tempo``, ``(numerator, denominator,
    clocks_per_click)`` for ``time_signature``, the decoded text for text events, and the
    raw bytes for ``sequencer_specific``.
    """

    tick: int
    track: int
    kind: str
    value: Any


@dataclass
class Song:
    """What :func:`read_song` found: header fields, events in playback order, problems."""

    format: int
    division: int
    events: list[Event] = field(default_factory=list)
    #: last tick where a note or a text/marker starts: the map must hold the bar it is in
    last_start: int | None = None
    #: last tick of any event (note-offs, controllers, end-of-track...): the map must
    #: reach it, but such an event may sit on the bar line that ends the map
    last_end: int = 0
    #: what was wrong but could be read around, in the order first seen, each once
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)


def _fail(name: str, problem: str) -> MidiFileError:
    return MidiFileError(f"{name}: {problem}")


def decode_text(data: bytes) -> str:
    """Text of a meta event: UTF-8 when it is valid UTF-8 (modern DAWs), else Latin-1.

    >>> decode_text("Café".encode()), decode_text("Café".encode("latin-1"))
    ('Café', 'Café')
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_song(data: bytes, name: str) -> Song:
    """Read a Standard MIDI File's bytes; ``name`` is used in messages.

    Raises
    ------
    MidiFileError
        When the file is not a MIDI file, is format 2, or a track cannot be framed
        (an undefined status byte, running status with nothing to run on).
    """
    if data[:4] == b"RIFF":
        raise _fail(name, "a RIFF MIDI (RMID) file; save it as a Standard MIDI File (.mid)")
    if data[:4] != b"MThd":
        raise _fail(name, "not a MIDI file (it does not start with 'MThd')")
    if len(data) < 14:
        raise _fail(name, f"the MIDI header is cut short (the file has {len(data)} bytes)")
    (size,) = struct.unpack(">L", data[4:8])
    if size < 6:
        raise _fail(name, f"the MIDI header is {size} bytes long, needs 6")
    fmt, announced, division = struct.unpack(">HHH", data[8:14])
    if fmt == 2:
        raise _fail(
            name, "format 2 (independent sequences) is not supported; save it as format 0 or 1"
        )
    song = Song(format=fmt, division=division)
    if fmt not in (0, 1):
        song.problem(f"the header says format {fmt}, which does not exist; read as format 1")
    if division == 0:
        raise _fail(name, "the header gives 0 ticks per quarter note")

    pos = 8 + size
    if pos > len(data):
        raise _fail(name, f"the MIDI header says {size} bytes, the file ends before that")
    tracks = _read_chunks(song, data, pos, name)
    if tracks == 0:
        raise _fail(name, "no track ('MTrk' chunk) in the file" + _also(song))
    if tracks != announced:
        song.problem(f"the header announces {announced} tracks, the file holds {tracks}")
    song.events.sort(key=lambda e: e.tick)  # stable: track order, then file order
    return song


def _read_chunks(song: Song, data: bytes, pos: int, name: str) -> int:
    """Read the chunks after the header (from ``pos``); returns how many tracks were read."""
    tracks = 0
    while pos < len(data):
        if len(data) - pos < 8:
            song.problem(f"{_bytes(len(data) - pos)} after the last chunk (ignored)")
            break
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack(">L", data[pos + 4 : pos + 8])
        body_start = pos + 8
        pos = body_start + size
        if chunk_id == b"MTrk":
            if pos > len(data):
                song.problem(
                    f"track {tracks + 1} is cut short ({size} bytes announced, "
                    f"{len(data) - body_start} present)"
                )
            _read_track(song, data[body_start:pos], tracks, body_start, name)
            tracks += 1
        elif all(0x20 <= b < 0x7F for b in chunk_id) and pos <= len(data):
            # the standard asks readers to skip chunks they do not know
            song.problem(f"skipped an unknown {chunk_id.decode('ascii')!r} chunk")
        else:
            song.problem(
                f"{_bytes(len(data) - body_start + 8)} of unreadable data at the end (ignored)"
            )
            break
    return tracks


def _also(song: Song) -> str:
    return f" ({'; '.join(song.problems)})" if song.problems else ""


def _read_varlen(body: bytes, pos: int) -> tuple[int, int]:
    """A variable-length quantity (at most 4 bytes) at ``pos``: (value, next pos)."""
    value = 0
    for i in range(4):
        byte = body[pos + i]  # IndexError at the end of the track: caller handles it
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    raise ValueError("a variable-length number longer than 4 bytes")


def _read_track(song: Song, body: bytes, index: int, offset: int, name: str) -> None:
    """Append one track's events to ``song`` (``offset``: where ``body`` starts in the file)."""
    track = index + 1
    pos, tick, running = 0, 0, 0
    ended = False
    while pos < len(body):
        event_start = pos
        try:
            delta, pos = _read_varlen(body, pos)
            tick += delta
            status = body[pos]
            if status < 0x80:
                if not running:
                    raise _fail(
                        name,
                        f"track {track}, byte {offset + pos}: a data byte where an event "
                        "should start (running status with no status before it)",
                    )
                status = running  # running status: the data starts here
            else:
                pos += 1
            if status == 0xFF:
                pos, ended = _meta_event(song, body, pos, tick, index)
                if ended:
                    break
            elif status in (0xF0, 0xF7):
                pos = _sysex_event(song, body, pos, tick)
            elif status >= 0xF0:
                raise _fail(
                    name,
                    f"track {track}, byte {offset + event_start}: status byte "
                    f"0x{status:02X} cannot appear in a MIDI file",
                )
            else:
                running = status
                pos = _channel_event(song, body, pos, tick, status)
        except IndexError:
            song.problem(
                f"track {track} ends inside an event ({_bytes(len(body) - event_start)} ignored)"
            )
            ended = True
            break
        except ValueError as err:
            raise _fail(name, f"track {track}, byte {offset + event_start}: {err}") from None
    if not ended:
        song.problem(f"no end-of-track event in track {track}")
    elif pos < len(body):
        song.problem(f"{_bytes(len(body) - pos)} after the end of track {track} (ignored)")


def _sysex_event(song: Song, body: bytes, pos: int, tick: int) -> int:
    """Skip a system-exclusive event whose length is at ``pos``; returns the next pos."""
    length, pos = _read_varlen(body, pos)
    pos += length
    if pos > len(body):
        raise IndexError
    song.last_end = max(song.last_end, tick)
    return pos


def _channel_event(song: Song, body: bytes, pos: int, tick: int, status: int) -> int:
    """Read a channel message's data bytes at ``pos``; returns the next pos.

    Only a sounding note-on moves where the music last starts; every message moves
    where it last ends.
    """
    size = 1 if status & 0xF0 in (0xC0, 0xD0) else 2
    values = body[pos : pos + size]
    pos += size
    if pos > len(body):
        raise IndexError
    if any(v > 0x7F for v in values):
        song.problem("data bytes above 127 in channel messages (read as 127)")
    if status & 0xF0 == 0x90 and values[1] > 0:
        song.last_start = tick if song.last_start is None else max(song.last_start, tick)
    song.last_end = max(song.last_end, tick)
    return pos


def _meta_event(song: Song, body: bytes, pos: int, tick: int, index: int) -> tuple[int, bool]:
    """Read the meta event whose type byte is at ``pos``; returns (next pos, end of track)."""
    kind = body[pos]
    length, data_start = _read_varlen(body, pos + 1)
    end = data_start + length
    if end > len(body):
        raise IndexError
    data = body[data_start:end]
    if kind == END_OF_TRACK:
        song.last_end = max(song.last_end, tick)
        return end, True
    if kind in TEXT_KINDS:
        text_kind = TEXT_KINDS[kind]
        song.events.append(Event(tick, index, text_kind, decode_text(data)))
        if text_kind != "track_name":
            song.last_start = tick if song.last_start is None else max(song.last_start, tick)
        song.last_end = max(song.last_end, tick)
        return end, False
    if kind == SEQUENCER_SPECIFIC:
        song.events.append(Event(tick, index, "sequencer_specific", bytes(data)))
        song.last_end = max(song.last_end, tick)
        return end, False
    message = _decode_meta(song, b"\xff" + body[pos:end], kind)
    song.last_end = max(song.last_end, tick)
    if message is None:
        return end, False
    if kind == SET_TEMPO:
        if message.tempo == 0:
            song.problem("a tempo of 0 microseconds per quarter note (ignored)")
        else:
            song.events.append(Event(tick, index, "set_tempo", int(message.tempo)))
    elif kind == TIME_SIGNATURE:
        num, den, cpc = int(message.numerator), int(message.denominator), message.clocks_per_click
        if num < 1 or den > 64:
            song.problem(f"an impossible time signature {num}/{den} (ignored)")
        else:
            song.events.append(Event(tick, index, "time_signature", (num, den, int(cpc))))
    return end, False


def _decode_meta(song: Song, raw: bytes, kind: int) -> Any:
    """Decode one meta event (``raw`` from its 0xFF on) with mido; a broken one is a
    problem, not an error."""
    import mido

    try:
        return mido.MetaMessage.from_bytes(raw)
    except Exception:  # mido raises several kinds for bad data; all mean "unusable event"
        names = {
            SET_TEMPO: "tempo",
            TIME_SIGNATURE: "time signature",
            0x59: "key signature",
            0x54: "SMPTE offset",
            0x00: "sequence number",
            0x20: "channel prefix",
            0x21: "MIDI port",
        }
        what = names.get(kind, f"meta event 0x{kind:02X}")
        song.problem(f"an invalid {what} (ignored)")
        return None


def _bytes(n: int) -> str:
    return "1 byte" if n == 1 else f"{n} bytes"
