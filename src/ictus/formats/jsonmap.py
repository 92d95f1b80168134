"""JSON import and export of the tempo-map model (schema ``ictus-tempo-map/1``).

Tempos are strings holding exact decimals or fractions (``"133.33"``, ``"400/3"``) so
nothing is lost; plain JSON numbers are accepted on input. The schema (all keys but
``sections``, ``bars`` and ``tempo`` optional)::

    {"format": "ictus-tempo-map/1", "title": "Song", "scale": "0.9",
     "count_in": {"bars": 1, "beats": 0, "volume": 1.0},
     "sections": [{"label": "verse", "bars": 8, "meter": "7/8", "grouping": [2, 2, 3],
                   "tempo": "96", "unit": "q.", "tempo_end": "104", "ramp": "beats",
                   "tempi": ["120", "121"], "steps": [["2.5", "130"]], "pattern": "X.x",
                   "sub": 2, "sub_pattern": "xX", "sub_volume": 1.0, "volume": 1.0,
                   "mute": false,
                   "cues": [{"text": "Verse", "bar": 1, "beat": 1}],
                   "gap": {"play": 3, "mute": 1}, "trainer": {"step": "4", "every": 2,
                   "end": "120"}, "layers": [{"pulses": 3, "sound": "clave"}]}]}

A random gap is ``"gap": {"share": "3/10", "seed": 7}``. A section with a ``trainer``
writes no ``steps``: the trainer sets them.

A map with a start timecode has ``"start": {"timecode": "01:00:00:00", "rate": "24"}``;
a frame-click tempo keeps its exact BPM in ``tempo`` and adds ``"frame_click": "12-2@24"``
(``"frame_click_end"`` for a ramp's end), which must agree with it.

>>> from ictus.formats.clickfile import parse_click
>>> m = parse_click("verse: 8 7/8 (2+2+3) e=312-280 ramp=period cue@2=\\"Go\\"")
>>> from_json(to_json(m)) == m
True
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from ictus.errors import ParameterError, ParseError, SourcePos
from ictus.formats.clickfile import frame_click_text, tempo_value
from ictus.limits import MAX_DIGITS, check_number_text
from ictus.tempomap.model import (
    CountIn,
    Cue,
    Meter,
    Section,
    Tempo,
    TempoMap,
    parse_unit,
    unit_name,
)
from ictus.tempomap.trainers import Gap, GapCycle, GapShare, Layer, SpeedTrainer
from ictus.timebase import Timecode, exact_number, format_number, parse_rate

FORMAT = "ictus-tempo-map/1"

_SECTION_KEYS = {
    "label",
    "bars",
    "meter",
    "grouping",
    "tempo",
    "unit",
    "tempo_end",
    "ramp",
    "tempi",
    "steps",
    "pattern",
    "sub",
    "sub_pattern",
    "sub_volume",
    "volume",
    "mute",
    "cues",
    "frame_click",
    "frame_click_end",
    "gap",
    "trainer",
    "layers",
}
_TOP_KEYS = {"format", "title", "scale", "count_in", "sections", "start"}


def _num(value: Fraction) -> str:
    return format_number(value)


def map_to_dict(tempo_map: TempoMap) -> dict[str, Any]:
    """The map as plain JSON-ready data."""
    sections = [_section_dict(s) for s in tempo_map.sections]
    out: dict[str, Any] = {"format": FORMAT}
    if tempo_map.title is not None:
        out["title"] = tempo_map.title
    if tempo_map.scale != 1:
        out["scale"] = _num(tempo_map.scale)
    if tempo_map.count_in:
        ci = tempo_map.count_in
        out["count_in"] = {"bars": ci.bars, "beats": ci.beats, "volume": ci.volume}
    if tempo_map.start is not None:
        out["start"] = {"timecode": str(tempo_map.start), "rate": tempo_map.start.rate.name}
    out["sections"] = sections
    return out


def _section_dict(s: Section) -> dict[str, Any]:
    """One section as JSON-ready data; only what differs from the defaults is written."""
    d: dict[str, Any] = {"bars": s.bars, "meter": f"{s.meter.count}/{s.meter.unit}"}
    if s.label is not None:
        d = {"label": s.label, **d}
    if s.meter.grouping is not None:
        d["grouping"] = list(s.meter.grouping)
    d.update(_tempo_dict(s))
    d.update(_sound_dict(s))
    return d


def _tempo_dict(s: Section) -> dict[str, Any]:
    """A section's tempo keys: the tempo, its unit and frame click, ramp, tempi, steps."""
    d: dict[str, Any] = {"tempo": _num(s.tempo.bpm)}
    if s.tempo.unit is not None:
        d["unit"] = unit_name(s.tempo.unit)
    if s.tempo.frame_click is not None:
        d["frame_click"] = frame_click_text(s.tempo)
    if s.tempo_end is not None:
        d["tempo_end"] = _num(s.tempo_end.bpm)
        d["ramp"] = s.ramp
        if s.tempo_end.frame_click is not None:
            d["frame_click_end"] = frame_click_text(s.tempo_end)
    if s.tempi is not None:
        d["tempi"] = [_num(t) for t in s.tempi]
    if s.trainer is not None:
        t = s.trainer
        d["trainer"] = {"step": _num(t.step), "every": t.every, "end": _num(t.end)}
    elif s.steps is not None:
        d["steps"] = [[_num(q), _num(t)] for q, t in s.steps]
    return d


def _sound_dict(s: Section) -> dict[str, Any]:
    """A section's sound keys: pattern, subdivision, volumes, mute and cues."""
    d: dict[str, Any] = {}
    if s.pattern is not None:
        d["pattern"] = s.pattern
    if s.sub != 1:
        d["sub"] = s.sub
    if s.sub_pattern is not None:
        d["sub_pattern"] = s.sub_pattern
    if s.sub_volume != 1.0:
        d["sub_volume"] = s.sub_volume
    if s.volume != 1.0:
        d["volume"] = s.volume
    if s.mute:
        d["mute"] = True
    if s.cues:
        d["cues"] = [{"text": c.text, "bar": c.bar, "beat": c.beat} for c in s.cues]
    if isinstance(s.gap, GapCycle):
        d["gap"] = {"play": s.gap.play, "mute": s.gap.mute}
    elif isinstance(s.gap, GapShare):
        d["gap"] = {"share": _num(s.gap.share), "seed": s.gap.seed}
    if s.layers:
        d["layers"] = [
            {"pulses": layer.pulses} | ({} if layer.sound is None else {"sound": layer.sound})
            for layer in s.layers
        ]
    return d


def _gap(d: dict[str, Any], where: str) -> Gap | None:
    """``{"play": 3, "mute": 1}`` or ``{"share": "3/10", "seed": 7}``."""
    raw = d.get("gap")
    if raw is None:
        return None
    if isinstance(raw, dict) and set(raw) == {"play", "mute"}:
        return GapCycle(_int(raw, "play", f"{where}.gap"), _int(raw, "mute", f"{where}.gap"))
    if isinstance(raw, dict) and set(raw) in ({"share"}, {"share", "seed"}):
        share = _exact(raw["share"], f"{where}.gap.share")
        return GapShare(share, _int(raw, "seed", f"{where}.gap", 0))
    raise ParameterError(
        f'{where}.gap: expected {{"play": 3, "mute": 1}} or {{"share": "3/10", "seed": 7}}'
    )


def _trainer(d: dict[str, Any], where: str) -> SpeedTrainer | None:
    """``{"step": "4", "every": 2, "end": "120"}`` (a negative step slows down)."""
    raw = d.get("trainer")
    if raw is None:
        return None
    if not isinstance(raw, dict) or not {"step", "end"} <= set(raw) <= {"step", "every", "end"}:
        raise ParameterError(f'{where}.trainer: expected {{"step": "4", "every": 2, "end": "120"}}')
    if d.get("steps") is not None:
        raise ParameterError(f"{where}: a trainer sets the steps itself: give one of them")
    return SpeedTrainer(
        _exact(raw["step"], f"{where}.trainer.step"),
        _int(raw, "every", f"{where}.trainer", 1),
        _exact(raw["end"], f"{where}.trainer.end"),
    )


def _layers(d: dict[str, Any], where: str) -> tuple[Layer, ...]:
    """``[{"pulses": 3, "sound": "clave"}, {"pulses": 5}]``."""
    raw = d.get("layers", [])
    if not isinstance(raw, list) or not all(
        isinstance(x, dict) and "pulses" in x and set(x) <= {"pulses", "sound"} for x in raw
    ):
        raise ParameterError(
            f'{where}.layers: expected a list of {{"pulses": 3, "sound": "clave"}}'
        )
    layers = []
    for i, x in enumerate(raw):
        sound = _text(x, "sound", f"{where}.layers[{i}]")
        layers.append(Layer(_int(x, "pulses", f"{where}.layers[{i}]"), sound))
    return tuple(layers)


def to_json(tempo_map: TempoMap) -> str:
    """JSON text for ``tempo_map`` (indented, one key per line)."""
    return json.dumps(map_to_dict(tempo_map), indent=2) + "\n"


def _exact(value: Any, where: str) -> Fraction:
    """The one rule (:func:`ictus.timebase.exact_number`): ``133.33`` is 13333/100, the
    same map as the ``.click`` line ``133.33`` (JSON numbers arrive as floats)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParameterError(f'{where}: expected a number or a string such as "96.5"')
    if isinstance(value, str):
        check_number_text(value, where)
    try:
        return exact_number(value, where)
    except ParameterError:
        # JSON's Infinity and NaN, "1/0", "abc"
        raise ParameterError(f"{where}: expected a finite number, got {value!r}") from None


def _int(d: dict[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{where}.{key}: expected a whole number, got {value!r}")
    return value


def _float(d: dict[str, Any], key: str, where: str, default: float) -> float:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"{where}.{key}: expected a number, got {value!r}")
    return float(value)


def _tempo(d: dict[str, Any], key: str, click_key: str, where: str, unit: Any) -> Tempo:
    """A BPM, or a frame click (``"12-2@24"``) that must agree with the BPM beside it."""
    bpm = _exact(d[key], f"{where}.{key}")
    click = d.get(click_key)
    if click is None:
        try:
            return Tempo(bpm, unit)
        except ParameterError as err:
            raise ParameterError(f"{where}.{key}: {err}") from None
    if not isinstance(click, str) or "@" not in click:
        raise ParameterError(f'{where}.{click_key}: expected a frame click such as "12-2@24"')
    tempo = tempo_value(click, unit)
    if tempo.bpm != bpm:
        raise ParameterError(
            f"{where}.{click_key}: {click} is {float(tempo.bpm):.3f} BPM, but {key} is {d[key]}"
        )
    return tempo


def _text(d: dict[str, Any], key: str, where: str) -> Any:
    """An optional string value; anything else is a clear error, not a crash later."""
    value = d.get(key)
    if value is not None and not isinstance(value, str):
        raise ParameterError(f"{where}.{key}: expected a string, got {value!r}")
    return value


def _section(d: Any, where: str) -> Section:
    """One section; every error names its place (``sections[2].tempo: ...``)."""
    try:
        return _section_unchecked(d, where)
    except ParameterError as err:
        message = str(err)
        raise ParameterError(
            message if message.startswith(where) else f"{where}: {message}"
        ) from None


def _section_unchecked(d: Any, where: str) -> Section:
    if not isinstance(d, dict):
        raise ParameterError(f"{where}: expected an object")
    unknown = set(d) - _SECTION_KEYS
    if unknown:
        raise ParameterError(
            f"{where}: unknown key {sorted(unknown)[0]!r}; "
            f"keys are {', '.join(sorted(_SECTION_KEYS))}"
        )
    if "tempo" not in d or "bars" not in d:
        raise ParameterError(f"{where}: 'bars' and 'tempo' are required")
    count, unit, grouping = _meter_parts(d, where)
    for key in ("unit", "pattern", "label", "ramp", "sub_pattern"):
        _text(d, key, where)
    beat_unit = parse_unit(d["unit"]) if d.get("unit") is not None else None
    tempo = _tempo(d, "tempo", "frame_click", where, beat_unit)
    tempo_end = None
    if d.get("tempo_end") is not None:
        tempo_end = _tempo(d, "tempo_end", "frame_click_end", where, beat_unit)
    tempi = _tempi(d, where)
    steps = _steps(d, where)
    cues = _cues(d, where)
    sub = d.get("sub", 1)
    if sub != "pulse" and (isinstance(sub, bool) or not isinstance(sub, int)):
        raise ParameterError(f'{where}.sub: expected 1..16 or "pulse", got {sub!r}')
    mute = d.get("mute", False)
    if not isinstance(mute, bool):
        raise ParameterError(f"{where}.mute: expected true or false")
    return Section(
        bars=_int(d, "bars", where),
        tempo=tempo,
        meter=Meter(count, unit, grouping),
        tempo_end=tempo_end,
        ramp=d.get("ramp", "beats"),
        tempi=tempi,
        steps=steps,
        pattern=d.get("pattern"),
        sub=sub,
        sub_pattern=d.get("sub_pattern"),
        sub_volume=_float(d, "sub_volume", where, 1.0),
        volume=_float(d, "volume", where, 1.0),
        mute=mute,
        label=d.get("label"),
        cues=cues,
        gap=_gap(d, where),
        trainer=_trainer(d, where),
        layers=_layers(d, where),
    )


def _meter_parts(d: dict[str, Any], where: str) -> tuple[int, int, tuple[int, ...] | None]:
    """The meter's count and unit (``"7/8"``) and its optional grouping, checked for
    shape only: the :class:`Meter` itself judges the numbers."""
    meter_text = d.get("meter", "4/4")
    try:
        count, unit = (int(x) for x in str(meter_text).split("/"))
    except ValueError:
        raise ParameterError(
            f'{where}.meter: expected N/D such as "7/8", got {meter_text!r}'
        ) from None
    grouping = d.get("grouping")
    if grouping is not None and (
        not isinstance(grouping, list) or not all(isinstance(g, int) for g in grouping)
    ):
        raise ParameterError(f"{where}.grouping: expected a list of whole numbers")
    return count, unit, tuple(grouping) if grouping is not None else None


def _tempi(d: dict[str, Any], where: str) -> tuple[Fraction, ...] | None:
    """The optional per-bar tempo list."""
    if d.get("tempi") is None:
        return None
    if not isinstance(d["tempi"], list):
        raise ParameterError(f"{where}.tempi: expected a list")
    return tuple(_exact(t, f"{where}.tempi[{i}]") for i, t in enumerate(d["tempi"]))


def _steps(d: dict[str, Any], where: str) -> tuple[tuple[Fraction, Fraction], ...] | None:
    """The optional [position, tempo] steps."""
    if d.get("steps") is None:
        return None
    raw = d["steps"]
    if not isinstance(raw, list) or not all(isinstance(x, list) and len(x) == 2 for x in raw):
        raise ParameterError(f"{where}.steps: expected a list of [position, tempo] pairs")
    return tuple(
        (_exact(q, f"{where}.steps[{i}][0]"), _exact(t, f"{where}.steps[{i}][1]"))
        for i, (q, t) in enumerate(raw)
    )


def _cues(d: dict[str, Any], where: str) -> tuple[Cue, ...]:
    """The section's cues, each ``{"text": ..., "bar": 1, "beat": 1}``."""
    if not isinstance(d.get("cues", []), list):
        raise ParameterError(f"{where}.cues: expected a list")
    cues = []
    for i, c in enumerate(d.get("cues", [])):
        if not isinstance(c, dict) or not isinstance(c.get("text"), str):
            raise ParameterError(
                f'{where}.cues[{i}]: expected {{"text": ..., "bar": 1, "beat": 1}}'
            )
        try:
            cues.append(
                Cue(
                    c["text"],
                    _int(c, "bar", f"{where}.cues[{i}]", 1),
                    _int(c, "beat", f"{where}.cues[{i}]", 1),
                )
            )
        except ParameterError as err:
            message = str(err)
            if not message.startswith(where):
                message = f"{where}.cues[{i}]: {message}"
            raise ParameterError(message) from None
    return tuple(cues)


def dict_to_map(data: Any) -> TempoMap:
    """Build a map from data shaped like :func:`map_to_dict`'s output."""
    if not isinstance(data, dict):
        raise ParameterError("expected a JSON object with a 'sections' list")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ParameterError(
            f"unknown key {sorted(unknown)[0]!r}; keys are {', '.join(sorted(_TOP_KEYS))}"
        )
    if data.get("format", FORMAT) != FORMAT:
        raise ParameterError(f"format {data['format']!r} is not {FORMAT!r}")
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        raise ParameterError("'sections' must be a non-empty list")
    ci = data.get("count_in") or {}
    if not isinstance(ci, dict):
        raise ParameterError("count_in: expected an object")
    count_in = CountIn(
        bars=_int(ci, "bars", "count_in", 0),
        beats=_int(ci, "beats", "count_in", 0),
        volume=_float(ci, "volume", "count_in", 1.0),
    )
    title = data.get("title")
    if title is not None and not isinstance(title, str):
        raise ParameterError("title: expected a string")
    return TempoMap(
        tuple(_section(s, f"sections[{i}]") for i, s in enumerate(sections)),
        title=title,
        count_in=count_in,
        scale=_exact(data.get("scale", 1), "scale"),
        start=_start(data.get("start")),
    )


def _start(value: Any) -> Timecode | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(value.get(k), str) for k in ("timecode", "rate")
    ):
        raise ParameterError('start: expected {"timecode": "01:00:00:00", "rate": "24"}')
    return Timecode.parse(value["timecode"], parse_rate(value["rate"]))


def from_json(text: str, filename: str = "<string>") -> TempoMap:
    """Read JSON text; errors name the file and line:column (syntax) or the key path."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ParseError(f"{filename}: JSON nested too deeply to be a tempo map") from None
    except ValueError as err:
        if not isinstance(err, json.JSONDecodeError):
            # Python's int-string limit: a number of thousands of digits
            raise ParseError(
                f"{filename}: a number of more than {MAX_DIGITS} digits in the JSON"
            ) from None
        lines = text.splitlines()
        # a file cut short can be reported on the line after its last one
        line = lines[err.lineno - 1] if 0 < err.lineno <= len(lines) else ""
        raise ParseError(
            f"invalid JSON: {err.msg}", SourcePos(filename, err.lineno, err.colno, line)
        ) from None
    try:
        return dict_to_map(data)
    except ParameterError as err:
        raise ParseError(f"{filename}: {err}") from None
