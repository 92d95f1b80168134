"""Tests for the JSON tempo-map format (ictus.formats.jsonmap, schema ictus-tempo-map/1).

Expected maps are built by hand with the model's constructors; round trips use the
Hypothesis strategy of test_clickfile.py in its ``wide`` form (any text, any float in
range, tempo lists with units, repeated labels): JSON has none of the text format's
spelling limits, so everything the model accepts must come back equal.
"""

from __future__ import annotations

import json
from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, given, settings

from ictus.errors import IctusError, ParseError
from ictus.formats.clickfile import parse_click
from ictus.formats.jsonmap import FORMAT, from_json, map_to_dict, to_json
from ictus.tempomap import CountIn, Cue, Meter, Section, Tempo, TempoMap
from test_clickfile import README_EXAMPLE, tempo_maps


def load(data: object) -> TempoMap:
    return from_json(json.dumps(data), "map.json")


def one(**section: object) -> dict:
    return {"sections": [{"bars": 1, "tempo": "120", **section}]}


def json_error(text: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        from_json(text, "map.json")
    return info.value


def data_error(data: object) -> ParseError:
    return json_error(json.dumps(data))


# -- reading and writing ----------------------------------------------------------------


def test_documented_schema_example_reads():
    data = {
        "format": "ictus-tempo-map/1", "title": "Song", "scale": "0.9",
        "count_in": {"bars": 1, "beats": 0, "volume": 1.0},
        "sections": [{
            "label": "verse", "bars": 8, "meter": "7/8", "grouping": [2, 2, 3],
            "tempo": "96", "unit": "q.", "tempo_end": "104", "ramp": "beats",
            "pattern": "X.x", "sub": 2, "sub_volume": 1.0, "volume": 1.0, "mute": False,
            "cues": [{"text": "Verse", "bar": 1, "beat": 1}],
        }],
    }
    m = load(data)
    assert m == TempoMap(
        (Section(8, Tempo(96, F(3, 8)), Meter(7, 8, (2, 2, 3)), tempo_end=Tempo(104, F(3, 8)),
                 pattern="X.x", sub=2, label="verse", cues=(Cue("Verse", 1, 1),)),),
        title="Song", count_in=CountIn(bars=1), scale=F(9, 10),
    )


def test_minimal_map_and_plain_json_numbers():
    m = load({"sections": [{"bars": 2, "tempo": 133.25}, {"bars": 1, "tempo": 90,
                                                           "tempi": [90, 91.5, "92", "400/3"]}]})
    assert m.sections[0] == Section(2, Tempo(F("133.25")))
    assert m.sections[1].tempi == (F(90), F("91.5"), F(92), F(400, 3))
    assert m.sections[0].meter == Meter(4, 4) and m.title is None and not m.count_in


def test_tempos_are_written_as_exact_strings():
    m = TempoMap((Section(2, Tempo(F(400, 3)), tempo_end=Tempo(F("133.33"))),
                  Section(1, Tempo(92, F(3, 8)))), scale=F(9, 10))
    data = json.loads(to_json(m))
    assert data["format"] == FORMAT == "ictus-tempo-map/1"
    assert data["scale"] == "0.9"
    first, second = data["sections"]
    assert (first["tempo"], first["tempo_end"]) == ("400/3", "133.33")
    assert (second["tempo"], second["unit"], second["meter"]) == ("92", "q.", "4/4")
    assert map_to_dict(m) == data


def test_readme_example_round_trips_through_json():
    m = parse_click(README_EXAMPLE)
    assert from_json(to_json(m)) == m


def test_steps_round_trip():
    m = parse_click("2 4/4 120 steps=2.5:130,5:140")
    data = json.loads(to_json(m))
    assert data["sections"][0]["steps"] == [["2.5", "130"], ["5", "140"]]
    assert from_json(to_json(m)) == m


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tempo_maps(wide=True))
def test_json_round_trip(m):
    text = to_json(m)
    assert from_json(text) == m, text
    json.loads(text)  # plain, standard JSON


@pytest.mark.parametrize("volume", [1e-05, 5e-324, 3.9999999999999996])
def test_extreme_float_volumes_round_trip(volume):
    m = TempoMap((Section(1, Tempo(120), volume=volume, sub=2, sub_volume=volume),),
                 count_in=CountIn(beats=2, volume=volume))
    assert from_json(to_json(m)) == m


def test_text_and_values_round_trip_in_json():
    m = TempoMap(
        (Section(1, Tempo(120), label="cue0", cues=(Cue("a b # c (d)"),)),
         Section(1, Tempo(60, F(3, 8)), Meter(6, 8), tempi=(F(90), F(100)), label="cue1")),
        title='Song #2 (live', scale=F(1, 3),
    )
    assert from_json(to_json(m)) == m


# -- bad input ----------------------------------------------------------------------------


def test_syntax_error_has_line_column_and_caret():
    text = '{\n  "sections": [\n    {"bars": 1 "tempo": "120"}\n  ]\n}\n'
    err = json_error(text)
    assert (err.pos.line, err.pos.column) == (3, 16)
    assert str(err).startswith("map.json:3:16: invalid JSON")
    assert err.display().split("\n")[1:] == ['      {"bars": 1 "tempo": "120"}',
                                             "  " + " " * 15 + "^"]


def test_empty_file():
    err = json_error("")
    assert (err.pos.line, err.pos.column) == (1, 1) and "invalid JSON" in err.message


@pytest.mark.parametrize("text", ['{\n', '{"sections": [\n', '{"sections": [{"bars": 1,\n\n'])
def test_truncated_file_ending_in_newline_is_a_parse_error(text):
    # a file cut short (a failed copy, an editor crash) ends on an empty last line
    err = json_error(text)
    assert err.pos is not None and err.pos.line == text.count("\n") + 1
    assert "invalid JSON" in err.message


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        ([], ["sections"]),
        ({}, ["sections"]),
        ({"sections": []}, ["sections"]),
        ({"sections": {}}, ["sections"]),
        ({"format": "other/2", "sections": [{"bars": 1, "tempo": 1}]}, ["other/2"]),
        ({"sections": [{"bars": 1, "tempo": 1}], "tempo": 1}, ["unknown key", "tempo"]),
        (one(swing=0.6), ["sections[0]", "swing"]),
        ({"sections": [{"bars": 1}]}, ["sections[0]", "tempo"]),
        ({"sections": [{"tempo": 1}]}, ["sections[0]", "bars"]),
        ({"sections": ["verse"]}, ["sections[0]"]),
        (one(bars=0), ["sections[0]", "bars"]),
        (one(bars=1.5), ["sections[0]", "bars"]),
        (one(bars=True), ["sections[0]", "bars"]),
        (one(meter="4/0"), ["sections[0]", "4/0"]),
        (one(meter="4/65"), ["sections[0]", "4/65"]),
        (one(meter="0/4"), ["sections[0]", "0/4"]),
        (one(meter="four"), ["sections[0]", "meter"]),
        (one(meter="7/8", grouping=[2, 2, 2]), ["sections[0]", "2+2+2"]),
        (one(grouping="223"), ["sections[0]", "grouping"]),
        (one(pattern="X.x"), ["sections[0]", "pattern"]),
        (one(pattern="Xyxx"), ["sections[0]", "Xyxx"]),
        (one(tempi=["120", "121"]), ["sections[0]", "tempo list"]),
        (one(tempi="120"), ["sections[0]", "tempi"]),
        (one(tempo_end="130", ramp="sine"), ["sections[0]", "sine"]),
        (one(sub=17), ["sections[0]", "17"]),
        (one(volume=5), ["sections[0]", "volume"]),
        (one(volume="loud"), ["sections[0]", "volume"]),
        (one(mute="yes"), ["sections[0]", "mute"]),
        (one(cues=[{"bar": 1}]), ["sections[0]", "cues[0]"]),
        (one(cues=[{"text": "x", "bar": "1"}]), ["sections[0]", "cues[0]", "bar"]),
        (one(tempo="fast"), ["sections[0]", "tempo"]),
        (one(tempo="1/0"), ["sections[0]", "tempo"]),
        (one(tempo=True), ["sections[0]", "tempo"]),
        ({**one(), "count_in": {"bars": 1, "beats": 2}}, ["count-in"]),
        ({**one(), "count_in": {"bars": "1"}}, ["count_in", "bars"]),
        ({**one(), "count_in": [1]}, ["count_in"]),
        ({**one(), "scale": "0"}, ["scale"]),
        ({**one(), "scale": 1000}, ["scale"]),
        ({**one(), "title": 5}, ["title"]),
    ],
)
def test_bad_data_is_a_parse_error_naming_the_place(data, fragments):
    err = data_error(data)
    assert isinstance(err, IctusError)
    assert str(err).startswith("map.json")
    for fragment in fragments:
        assert fragment in str(err), (fragment, str(err))


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"tempo": 0}, "tempo"),
        ({"tempo": "-96"}, "tempo"),
        ({"tempo_end": "0"}, "tempo_end"),
        ({"unit": "x"}, "unit"),
        ({"cues": [{"text": "x", "bar": 0}]}, "cues[0]"),
    ],
)
def test_value_errors_name_the_section_and_key(section, field):
    # the module promises errors that name the key path; here the second section is bad
    data = {"sections": [{"bars": 1, "tempo": "120"}, {"bars": 1, "tempo": "120", **section}]}
    err = data_error(data)
    assert "sections[1]" in str(err), str(err)
    assert field.split("[")[0] in str(err), str(err)


@pytest.mark.parametrize(
    "section",
    [
        {"unit": 4},
        {"unit": ["q"]},
        {"pattern": 4},
        {"pattern": ["X", "x", "x", "x"]},
        {"label": 4},
        {"cues": 4},
        {"cues": {"text": "x"}},
        {"sub": "2"},
        {"ramp": ["time"], "tempo_end": "130"},
    ],
)
def test_wrong_json_types_are_parse_errors(section):
    with pytest.raises(ParseError):
        load(one(**section))


@pytest.mark.parametrize(
    "text",
    [
        '{"sections": [{"bars": 1, "tempo": Infinity}]}',
        '{"sections": [{"bars": 1, "tempo": -Infinity}]}',
        '{"sections": [{"bars": 1, "tempo": NaN}]}',
        '{"sections": [{"bars": 1, "tempo": 120, "tempo_end": Infinity}]}',
        '{"sections": [{"bars": 1, "tempo": 120, "tempi": [1, 2, 3, Infinity]}]}',
        '{"sections": [{"bars": 4, "tempo": 120, "steps": [[Infinity, 130]]}]}',
        '{"sections": [{"bars": 1, "tempo": 120}], "scale": Infinity}',
        '{"sections": [{"bars": 1, "tempo": 120}], "count_in": {"bars": 1, "volume": NaN}}',
    ],
)
def test_non_finite_numbers_are_parse_errors(text):
    # Python's json module accepts NaN and Infinity; the reader must refuse them cleanly
    with pytest.raises(ParseError):
        from_json(text, "map.json")
