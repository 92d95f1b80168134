"""Fuzzing the readers: parse_click, parse_klick and from_json.

The contract: whatever text comes in, a reader either returns a TempoMap or raises an
:class:`ictus.errors.IctusError` (a user error with a message), never anything else
(no ZeroDivisionError, TypeError, IndexError, OverflowError ... and no traceback in
the CLI). A map that was read must then build into a grid, or fail with an IctusError.

Inputs: random text over the syntax's own characters, random lines of real tokens,
valid maps with characters inserted, deleted or replaced, and (for JSON) valid maps
with one value swapped for a random JSON value. The grid is only built for maps of a
modest number of clicks, to keep the run short (the size of a map is not bounded by
the readers: ``1 100000000/4 120`` is a valid map of 10^8 clicks).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ictus.errors import IctusError
from ictus.formats.clickfile import format_click, parse_click, parse_klick
from ictus.formats.jsonmap import from_json, map_to_dict, to_json
from ictus.formats.klick_export import format_klick
from ictus.tempomap import TempoMap, build_grid
from test_clickfile import KLICK_MANUAL_EXAMPLE, README_EXAMPLE, tempo_maps

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
MAX_CLICKS = 20_000


def clicks_estimate(m: TempoMap) -> int:
    """An upper bound of the grid's size, computed without building it."""
    total = 0
    for s in m.sections:
        per_beat = s.sub if isinstance(s.sub, int) else 1
        total += s.bars * max(s.meter.count, s.beats_per_bar * per_beat)
    first = m.sections[0]
    return total + m.count_in.bars * max(first.meter.count, first.beats_per_bar) \
        + m.count_in.beats


def read_then_build(reader, text: str) -> None:
    """Read ``text``; only IctusError may escape, and a map read must build."""
    try:
        m = reader(text)
    except IctusError:
        return
    assert isinstance(m, TempoMap)
    if clicks_estimate(m) > MAX_CLICKS:
        return
    try:
        grid = build_grid(m)
    except IctusError:
        return
    assert len(grid) > 0
    labels = m.labels()
    if labels:
        try:
            build_grid(m, start_label=labels[-1])
            build_grid(m, start_bar=m.total_bars)
        except IctusError:
            pass


# -- material ------------------------------------------------------------------------------

CLICK_CORPUS = [
    README_EXAMPLE,
    KLICK_MANUAL_EXAMPLE,
    "title: Corpus\ncount-in: 2 beats vol=0.5\nscale: 90%\n"
    "l: 2 6/8 q.=92,93,94,95 sub-vol=0.5\n"
    "m: 1 4/4 q=400/3-120 ramp=period\n"
    'b: 3 7/8 (2+2+3) e=312 X.x sub=pulse cue@2.3="x"\n'
    "s: 2 4/4 120 steps=2.5:130,5:140 vol=0.25\n",
    "1 3/4 120,130,140\n2 9/16 h.=40-50 ramp=time mute\n",
]

CLICK_PIECES = [
    *"0123456789/.-+=,:()\"# \tXx.qeshw\n",
    "ramp=", "sub=", "sub-vol=", "cue@", "cue=", "pulse", "vol=", "steps=", "/0", "0", "99999",
    "e=", "q.=", "h.=", "mute", "title:", "count-in:", "scale:", "bar", "beats", "%", "\r",
    "\u2028", "\x0c", "é", "\x00", "1e5", "nan", "inf", "-1", "1/0", "0.0",
]

CLICK_TOKENS = [
    "intro:", "v:", "title:", "count-in:", "scale:", "8", "0", "-2", "1", "4/4", "7/8",
    "(2+2+3)", "(3+3)", "6/8", "0/4", "4/0", "4/65", "120", "96-104", "120,122,124,126",
    "q.=92", "e=312", "q=400/3", "q=1/0", "0", "nan", "X.x.", "Xxx", ".", "0.5", "vol=0.8",
    "sub=2", "sub=pulse", "sub=0", "ramp=time", "ramp=sine", "mute", 'cue="A"', 'cue@2.2="B"',
    'cue="open', "steps=2:130", "steps=0:1", "2 bars", "beats", "90%", "#", "swing=1",
]

JSON_PIECES = [
    *'0123456789{}[],:"-.e \n',
    "null", "true", "false", "NaN", "Infinity", "-Infinity", "1e999", '"q"', '"q."', "[]",
    "{}", '"1/0"', '"0"', '"x"', '"pulse"', '"7/8"', "[2,2,3]", '"X.x"', "-1", "0.0",
]

JSON_KEYS = ["format", "title", "scale", "count_in", "sections", "label", "bars", "meter",
             "grouping", "tempo", "unit", "tempo_end", "ramp", "tempi", "steps", "pattern",
             "sub", "sub_volume", "volume", "mute", "cues", "text", "bar", "beat", "beats"]

json_scalars = (st.none() | st.booleans() | st.integers(-10, 10**6)
                | st.floats(allow_nan=True, allow_infinity=True)
                | st.sampled_from(["120", "q.", "7/8", "1/0", "X.x.", "pulse", "beats", "", "x"])
                | st.text(max_size=8))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(JSON_KEYS) | st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated(draw, texts: st.SearchStrategy[str], pieces: list[str]) -> str:
    """A text with 1-4 characters inserted, deleted or replaced."""
    text = draw(texts)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        at = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from(pieces))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + piece + text[at + 1:]
    return text


click_texts = st.sampled_from(CLICK_CORPUS) | tempo_maps().map(format_click)
klick_texts = st.sampled_from([KLICK_MANUAL_EXAMPLE, "1 3/4 120,130,140\n4 120-140 X.x. 0.5\n"]) \
    | tempo_maps(klick=True).map(format_klick)
json_texts = st.sampled_from([to_json(parse_click(t)) for t in CLICK_CORPUS]) \
    | tempo_maps(wide=True).map(to_json)
token_lines = st.lists(
    st.lists(st.sampled_from(CLICK_TOKENS), min_size=1, max_size=7).map(" ".join),
    min_size=1, max_size=4,
).map("\n".join)


# -- .click and klick --------------------------------------------------------------------


@FUZZ
@given(st.lists(st.sampled_from(CLICK_PIECES) | st.characters(), max_size=60).map("".join))
def test_random_text(text):
    read_then_build(parse_click, text)
    read_then_build(parse_klick, text)


@FUZZ
@given(token_lines)
def test_random_lines_of_real_tokens(text):
    read_then_build(parse_click, text)
    read_then_build(parse_klick, text)


@FUZZ
@given(mutated(click_texts, CLICK_PIECES))
def test_mutated_click_maps(text):
    read_then_build(parse_click, text)


@FUZZ
@given(mutated(klick_texts, CLICK_PIECES))
def test_mutated_klick_maps(text):
    read_then_build(parse_klick, text)
    read_then_build(parse_click, text)


# -- JSON ------------------------------------------------------------------------------------


@FUZZ
@given(mutated(json_texts, JSON_PIECES))
def test_mutated_json_text(text):
    read_then_build(from_json, text)


@FUZZ
@given(json_values)
def test_random_json_documents(value):
    read_then_build(from_json, json.dumps(value))
    read_then_build(from_json, json.dumps({"sections": [value]}))


@st.composite
def json_with_one_value_swapped(draw) -> str:
    data = map_to_dict(draw(tempo_maps(wide=True)))
    value = draw(json_values)
    where = draw(st.sampled_from(["top", "section", "count_in", "cue"]))
    if where == "top":
        data[draw(st.sampled_from(["format", "title", "scale", "count_in", "sections"]))] = value
    elif where == "count_in":
        ci = data.setdefault("count_in", {"bars": 1})
        ci[draw(st.sampled_from(["bars", "beats", "volume"]))] = value
    else:
        section = draw(st.sampled_from(data["sections"]))
        if where == "cue":
            cue = {"text": "c", "bar": 1, "beat": 1}
            cue[draw(st.sampled_from(["text", "bar", "beat"]))] = value
            section["cues"] = [cue]
        else:
            section[draw(st.sampled_from(JSON_KEYS[5:20]))] = value
    return json.dumps(data)


@FUZZ
@given(json_with_one_value_swapped())
def test_json_maps_with_one_value_of_the_wrong_kind(text):
    read_then_build(from_json, text)


# -- a fixed corpus: inputs that escaped as non-IctusError when these tests were written ----

REGRESSIONS = [
    (parse_click, "1 4/4 q=1/0"),
    (parse_click, "1 4/4 q=120-1/0"),
    (parse_click, "l: 1 4/4 q=92,93/0,94,95"),
    (parse_click, "1 4/4 q=1/0,1,1,1"),
    (parse_click, "2 4/4 120 steps=2:1/0"),
    (parse_click, "2 4/4 120 steps=1/0:130"),
    (parse_click, "1 4/4 1" + "0" * 400),  # a tempo past float range
    (parse_click, "1 4/4 0." + "0" * 400 + "1"),  # a tempo that is 0.0 as a float
    (parse_klick, "1 4/4 1" + "0" * 400),
    (parse_click, "2 4/4 120 steps=2:1" + "0" * 400),
    (from_json, '{"sections": [{"bars": 1, "tempo": "1e400"}]}'),
    (from_json, '{"sections": [{"bars": 1, "tempo": "1e-400"}]}'),
    (from_json, '{"sections": [{"bars": 1, "tempo": Infinity}]}'),
    (from_json, '{"sections": [{"bars": 1, "tempo": 120}], "scale": -Infinity}'),
    (from_json, '{"sections": [{"bars": 1, "tempo": "120", "unit": 8}]}'),
    (from_json, '{"sections": [{"bars": 1, "tempo": "120", "pattern": 1}]}'),
    (from_json, '{"sections": [{"bars": 1, "tempo": "120", "label": 1}]}'),
    (from_json, '{"sections": [{"bars": 1, "tempo": "120", "cues": 1}]}'),
    (from_json, '{"sections": [{"bars": 1, "tempo": "120",\n'),
]


@pytest.mark.parametrize(("reader", "text"), REGRESSIONS,
                         ids=[f"{r.__name__}-{i}" for i, (r, _) in enumerate(REGRESSIONS)])
def test_known_hard_inputs(reader, text):
    read_then_build(reader, text)
