"""The one rule for user numbers: ``133.33`` means 13333/100 wherever it is written.

Truth: the decimal value of the digits as typed (``Fraction("133.33")``, Python's own
decimal parser), compared with what each entry point (.click, JSON numbers and strings,
the model, timebase) makes of the same digits; and a grid's clicks compared exactly
between the two file formats.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ictus.errors import ParameterError
from ictus.formats.clickfile import format_number as old_home
from ictus.formats.clickfile import parse_click
from ictus.formats.jsonmap import from_json
from ictus.tempomap import Tempo, build_grid
from ictus.timebase import FPS_24, bpm_to_frames, exact_number, format_number

CLICK = """title: Same
count-in: 1 bar
a: 4 4/4 133.33
b: 2 7/8 (2+2+3) 96.5-101.25 ramp=time
c: 3 4/4 q=133.33,99.9,120,60.06,133.33,99.9,120,60.06,133.33,99.9,120,60.06
scale: 0.9
"""

JSON = """{"format": "ictus-tempo-map/1", "title": "Same", "scale": 0.9,
 "count_in": {"bars": 1},
 "sections": [
  {"label": "a", "bars": 4, "meter": "4/4", "tempo": 133.33},
  {"label": "b", "bars": 2, "meter": "7/8", "grouping": [2, 2, 3], "tempo": 96.5,
   "tempo_end": 101.25, "ramp": "time"},
  {"label": "c", "bars": 3, "meter": "4/4", "tempo": 133.33,
   "tempi": [133.33, 99.9, 120, 60.06, 133.33, 99.9, 120, 60.06, 133.33, 99.9, 120, 60.06]}
 ]}"""


def test_click_and_json_numbers_make_the_same_map_and_grid() -> None:
    from_click, from_js = parse_click(CLICK), from_json(JSON)
    assert from_click.sections[0].tempo.bpm == F("133.33") == F(13333, 100)
    assert from_js.sections[0].tempo.bpm == F(13333, 100)
    assert from_js.scale == F(9, 10)
    assert from_js == from_click
    a, b = build_grid(from_click), build_grid(from_js)
    assert len(a) == len(b)
    for name in ("time", "bar", "beat", "sub", "level", "tempo", "position", "volume"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_json_number_and_string_agree() -> None:
    with_number = from_json('{"sections": [{"bars": 1, "tempo": 60.06}]}')
    with_string = from_json('{"sections": [{"bars": 1, "tempo": "60.06"}]}')
    assert with_number == with_string
    assert with_number.sections[0].tempo.bpm == F(3003, 50)


def test_model_and_timebase_read_a_float_by_its_digits() -> None:
    assert Tempo(133.33).bpm == F(13333, 100)
    assert Tempo(133.33) == Tempo("133.33")
    assert Tempo(0.1).bpm == F(1, 10)
    # a frame click of 100 BPM at 24 fps is 14.4 frames either way
    assert bpm_to_frames(100.0, FPS_24) == bpm_to_frames("100", FPS_24) == F(72, 5)
    with pytest.raises(ParameterError, match="divides by zero"):
        exact_number("1/0", "tempo")
    with pytest.raises(ParameterError):
        Tempo(True)  # type: ignore[arg-type]


decimals = st.decimals(
    min_value="0.001", max_value="100000", places=6, allow_nan=False, allow_infinity=False
)


@given(decimals)
def test_every_entry_point_agrees_on_typed_digits(d: object) -> None:
    text = format(d, "f")
    truth = F(text)
    as_float = float(text)
    # shortest repr is the typed digits only when the float keeps them (<= 15 digits)
    assert exact_number(text, "x") == truth
    assert exact_number(as_float, "x") == F(repr(as_float))
    assert Tempo(text).bpm == truth
    if F(repr(as_float)) == truth:
        assert Tempo(as_float).bpm == truth
        json_map = from_json(f'{{"sections": [{{"bars": 1, "tempo": {text}}}]}}')
        assert json_map.sections[0].tempo.bpm == truth
    assert exact_number(format_number(truth), "x") == truth


def test_format_number_keeps_its_old_import() -> None:
    assert old_home is format_number
    assert [format_number(F(x)) for x in (96, "133.33", "400/3", "-3/8")] == [
        "96",
        "133.33",
        "400/3",
        "-0.375",
    ]
