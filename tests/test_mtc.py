"""MIDI Time Code bytes against docs/REFERENCE.md section 7 and the MTC specification's layout."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ictus.errors import ParameterError
from ictus.timebase import format_timecode, parse_rate
from ictus.timebase.mtc import decode_quarter_frames, full_frame, quarter_frames, rate_code
from ictus.timebase.timecode import parse_timecode


def test_reference_full_frame_at_25_fps():
    rate = parse_rate("25")
    frame = parse_timecode("01:02:03:04", rate)
    assert full_frame(frame, rate) == bytes.fromhex("F07F7F0101210203 04F7".replace(" ", ""))


def test_drop_frame_full_frame_uses_code_2_and_the_dropped_label():
    rate = parse_rate("29.97")
    # frame 1800 is 00:01:00;02 (docs/REFERENCE.md section 4); rate code 2 in bits 5-6
    assert full_frame(1800, rate) == bytes([0xF0, 0x7F, 0x7F, 1, 1, 2 << 5, 1, 0, 2, 0xF7])


@pytest.mark.parametrize(
    ("name", "code"),
    [("23.976", 0), ("24", 0), ("25", 1), ("29.97", 2), ("29.97ndf", 3), ("30", 3)],
)
def test_rate_codes(name, code):
    assert rate_code(parse_rate(name)) == code


@pytest.mark.parametrize("name", ["48", "50", "59.94", "60"])
def test_rates_mtc_cannot_carry_are_refused(name):
    with pytest.raises(ParameterError, match="MTC"):
        full_frame(0, parse_rate(name))


def test_quarter_frames_of_a_known_label():
    rate = parse_rate("30")
    # 23:59:59:29 at 30 fps: every field at its largest, hours' top bit set (23 = 0x17)
    frame = parse_timecode("23:59:59:29", rate)
    msgs = quarter_frames(frame, rate)
    assert [m[0] for m in msgs] == [0xF1] * 8
    assert [m[1] >> 4 for m in msgs] == list(range(8))
    assert [m[1] & 0x0F for m in msgs] == [0xD, 0x1, 0xB, 0x3, 0xB, 0x3, 0x7, 3 << 1 | 1]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["23.976", "24", "25", "29.97", "29.97ndf", "30"]), st.data())
def test_quarter_frames_decode_to_the_label(name, data):
    rate = parse_rate(name)
    frame = data.draw(st.integers(0, 1_000_000))  # under 24 h of labels at every rate
    hours, minutes, seconds, frames, code = decode_quarter_frames(quarter_frames(frame, rate))
    sep = ";" if rate.drop_frame else ":"
    assert f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{frames:02d}" == format_timecode(
        frame, rate
    )
    assert code == rate_code(rate)
    # the full frame carries the same label
    ff = full_frame(frame, rate)
    assert (ff[5] & 0x1F, ff[6], ff[7], ff[8], ff[5] >> 5) == (
        hours,
        minutes,
        seconds,
        frames,
        code,
    )
