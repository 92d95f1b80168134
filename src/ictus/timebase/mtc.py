"""MIDI Time Code messages for a frame: the full-frame SysEx and the 8 quarter frames.

Pure encoders (bytes out), like python-osc's ``osc_types``: the sync engine sends them,
tests and tools read them. docs/REFERENCE.md section 7:

- full frame: ``F0 7F 7F 01 01 (rr<<5 | hh) mm ss ff F7``;
- quarter frames: ``F1 0nnn dddd`` for pieces 0-7 = frame low/high, seconds low/high,
  minutes low/high, hours low, then ``0rrh`` (rate code and the hours' top bit);
  eight quarter frames span two frames;
- rate codes: 0 = 24, 1 = 25, 2 = 29.97 drop-frame, 3 = 30. 23.976 and 29.97 non-drop
  have no code of their own: they are sent as 24 and 30 (the labels are the same).

>>> from ictus.timebase.rates import FPS_25
>>> full_frame(parse_label("01:02:03:04", FPS_25), FPS_25).hex(" ")
'f0 7f 7f 01 01 21 02 03 04 f7'
"""

from __future__ import annotations

from ictus.errors import ParameterError
from ictus.timebase.rates import FrameRate
from ictus.timebase.timecode import Timecode, parse_timecode

#: MTC rate code by (nominal fps, drop-frame).
_RATE_CODES = {(24, False): 0, (25, False): 1, (30, True): 2, (30, False): 3}


def rate_code(rate: FrameRate) -> int:
    """The two-bit MTC rate code of ``rate`` (23.976 as 24, 29.97 NDF as 30).

    >>> from ictus.timebase.rates import FPS_23_976, FPS_29_97_DF, FPS_29_97_NDF
    >>> rate_code(FPS_23_976), rate_code(FPS_29_97_DF), rate_code(FPS_29_97_NDF)
    (0, 2, 3)
    """
    code = _RATE_CODES.get((rate.nominal, rate.drop_frame))
    if code is None:
        raise ParameterError(
            f"MIDI Time Code carries 24, 25, 29.97 drop-frame and 30 fps labels; "
            f"{rate.name} has no MTC rate"
        )
    return code


def parse_label(label: str, rate: FrameRate) -> int:
    """Frame number of a timecode label (a convenience for the examples)."""
    return parse_timecode(label, rate)


def full_frame(frame: int, rate: FrameRate) -> bytes:
    """The 10-byte full-frame SysEx that locates a receiver to ``frame``."""
    tc = Timecode.from_frame(frame, rate)
    return bytes(
        (
            0xF0,
            0x7F,
            0x7F,
            0x01,
            0x01,
            rate_code(rate) << 5 | tc.hours,
            tc.minutes,
            tc.seconds,
            tc.frames,
            0xF7,
        )
    )


def quarter_frames(frame: int, rate: FrameRate) -> list[bytes]:
    """The eight 2-byte quarter-frame messages that carry the label of ``frame``.

    They are sent over two frames, piece 0 at the start of ``frame``.

    >>> from ictus.timebase.rates import FPS_25
    >>> [m.hex() for m in quarter_frames(parse_label("01:02:03:04", FPS_25), FPS_25)]
    ['f104', 'f110', 'f123', 'f130', 'f142', 'f150', 'f161', 'f172']
    """
    tc = Timecode.from_frame(frame, rate)
    code = rate_code(rate)
    nibbles = (
        tc.frames & 0x0F,
        tc.frames >> 4 & 0x01,
        tc.seconds & 0x0F,
        tc.seconds >> 4 & 0x03,
        tc.minutes & 0x0F,
        tc.minutes >> 4 & 0x03,
        tc.hours & 0x0F,
        code << 1 | (tc.hours >> 4 & 0x01),
    )
    return [bytes((0xF1, piece << 4 | value)) for piece, value in enumerate(nibbles)]


def decode_quarter_frames(messages: list[bytes]) -> tuple[int, int, int, int, int]:
    """Inverse of :func:`quarter_frames`: (hours, minutes, seconds, frames, rate code)."""
    if len(messages) != 8 or any(len(m) != 2 or m[0] != 0xF1 for m in messages):
        raise ParameterError("expected eight 2-byte quarter-frame messages (F1 xx)")
    pieces = {m[1] >> 4: m[1] & 0x0F for m in messages}
    if sorted(pieces) != list(range(8)):
        raise ParameterError("quarter frames must hold pieces 0 to 7 once each")
    frames = pieces[0] | pieces[1] << 4
    seconds = pieces[2] | pieces[3] << 4
    minutes = pieces[4] | pieces[5] << 4
    hours = pieces[6] | (pieces[7] & 0x01) << 4
    return hours, minutes, seconds, frames, pieces[7] >> 1
