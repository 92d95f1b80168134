"""The show file: typed values from TOML, errors at file:line:column with the key."""

from __future__ import annotations

import re
import string
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ictus.errors import IctusError, ParseError
from ictus.show import (
    Advance,
    At,
    BarBeat,
    ControlChange,
    ProgramChange,
    load_show,
    plan_song,
)
from ictus.show.showfile import key_positions
from showkit import make_show, speech_cache  # noqa: F401  (autouse)

EXAMPLE = Path(__file__).parent.parent / "examples" / "show" / "show.toml"


def test_loads_typed_values(tmp_path: Path) -> None:
    show = load_show(make_show(tmp_path))
    assert show.setlist == ("four", "seven")
    assert [o.name for o in show.outputs] == ["foh", "drums", "keys"]
    assert show.output("foh").main and not show.output("drums").main
    assert show.click("drummer").sub == 4
    assert show.click("singer").levels == ("accent", "normal")
    four = show.song("four")
    assert four.advance is Advance.AUTO and four.advance_seconds == 3.0
    assert show.song("seven").advance is Advance.WAIT_FOR_GO
    assert [s.name for s in four.stems] == ["bass", "pad"]
    assert four.stems[0].gain == 0.5 and four.stems[0].path == tmp_path / "bass.wav"
    assert four.cues[0].at == At("chorus") and four.cues[0].text == "last time"
    assert four.midi[0].message == ProgramChange(12, channel=2)
    assert four.midi[1].at == BarBeat(3, 2)
    assert four.midi[1].message == ControlChange(20, 127)
    assert show.song("seven").vamps == ("vamp",)


def test_midi_events_land_on_their_bar_frames(tmp_path: Path) -> None:
    show = load_show(make_show(tmp_path))
    plan = plan_song(show, "four")
    plan.close()
    # exact truth: 4/4 at 120 after a count-in bar, so bar b beat k starts at
    # 2 + (b - 1) * 2 + (k - 1) / 2 seconds; the chorus is bar 7
    assert [(frame, raw) for frame, raw, _ in plan.midi] == [
        (int((2 + 2 * 2 + Fraction(1, 2)) * 48000), bytes((0xB0, 20, 127))),
        (((2 + 6 * 2) * 48000), bytes((0xC1, 12))),
    ]
    assert plan.bar1_frame == 2 * 48000


def test_example_show_loads() -> None:
    show = load_show(EXAMPLE)
    assert show.setlist == ("opener", "seven", "closer")
    seven = show.song("seven")
    assert str(seven.tempo_map.sections[0].meter) == "7/8 (2+2+3)"
    assert seven.vamps == ("vamp",)
    assert any(isinstance(e.message, ProgramChange) for e in show.song("opener").midi)


def _error(tmp_path: Path, text: str) -> ParseError:
    for name in ("four.click",):
        (tmp_path / name).write_text("verse: 2 4/4 120\n")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ParseError) as info:
        load_show(path)
    return info.value


BASE = """\
setlist = ["four"]
[outputs]
foh = { channels = [1, 2], main = true }
[mixes.foh]
stems = 1.0
[songs.four]
map = "four.click"
"""


@pytest.mark.parametrize(
    ("append", "line", "key", "words"),
    [
        ('stems.bass = { path = "b.wav", gain = 7 }\n', 8, "songs.four.stems.bass", "0..4"),
        ("tempo = 3\n", 8, "songs.four.tempo", "unknown key"),
        ('cues = [{ at = "bridge", text = "go" }]\n', 8, "songs.four.cues[0].at", "bridge"),
        ("midi = [{ at = 1, program = 200 }]\n", 8, "songs.four.midi[0].program", "0..127"),
        ('midi = [{ at = "9", program = 2 }]\n', 8, "songs.four.midi[0].at", "outside"),
        ("midi = [{ at = 1, program = 2, note = 3 }]\n", 8, "songs.four.midi[0]", "exactly one"),
        ('advance = "later"\n', 8, "songs.four.advance", "go"),
        ("timecode_hour = 24\n", 8, "songs.four.timecode_hour", "0..23"),
        ('vamps = ["solo"]\n', 8, "songs.four.vamps[0]", "no section is labelled 'solo'"),
        ("\n\n[outputs.mon]\nchannels = [0]\n", 11, "outputs.mon.channels", "1..64"),
        ('\n[clicks.x]\nvoice = "gong"\n', 10, "clicks.x.voice", "unknown voice"),
    ],
)
def test_errors_name_file_line_and_key(
    tmp_path: Path, append: str, line: int, key: str, words: str
) -> None:
    err = _error(tmp_path, BASE + append)
    message = str(err)
    assert message.startswith(f"{tmp_path / 'bad.toml'}:{line}:"), message
    assert f" {key}: " in message and words in message, message
    assert "\n" not in message


def test_toml_syntax_error_has_its_line(tmp_path: Path) -> None:
    err = _error(tmp_path, BASE + "stems = {\n")
    assert str(err).startswith(f"{tmp_path / 'bad.toml'}:8:")


def test_missing_map_is_an_error_at_map(tmp_path: Path) -> None:
    err = _error(tmp_path, BASE.replace("four.click", "nope.click"))
    assert ":7:1: songs.four.map: " in str(err) and "no such file" in str(err)


def test_setlist_names_unknown_song(tmp_path: Path) -> None:
    err = _error(tmp_path, BASE.replace('["four"]', '["four", "five"]'))
    assert ":1:1: setlist[1]: no song 'five'" in str(err)


def test_missing_file() -> None:
    with pytest.raises(IctusError, match="no such file"):
        load_show("/no/such/show.toml")


# -- key positions against generated TOML: the reported line holds the key ---------------

_names = st.text(string.ascii_lowercase + "_", min_size=1, max_size=8)
_values = st.one_of(
    st.integers(-5, 5).map(str),
    st.text(string.ascii_letters + " #=[]{},", max_size=6).map(lambda s: f'"{s}"'),
)


@st.composite
def _documents(draw: st.DrawFn) -> tuple[str, list[tuple[tuple[str, ...], str]]]:
    """TOML text of tables with plain and inline-table keys; each key and its line text."""
    lines: list[str] = []
    keys: list[tuple[tuple[str, ...], str]] = []
    tables = draw(st.lists(_names, min_size=1, max_size=4, unique=True))
    for table in tables:
        lines.append(f"[{table}]")
        keys.append(((table,), lines[-1]))
        for key in draw(st.lists(_names, max_size=4, unique=True)):
            if draw(st.booleans()):
                inner = draw(st.lists(_names, min_size=1, max_size=3, unique=True))
                body = ", ".join(f"{k} = {draw(_values)}" for k in inner)
                lines.append(f"{key} = {{ {body} }}")
                keys.extend(((table, key, k), lines[-1]) for k in inner)
            else:
                lines.append(f"{key} = {draw(_values)}")
            keys.append(((table, key), lines[-1]))
    return "\n".join(lines) + "\n", keys


@settings(max_examples=150, deadline=None)
@given(_documents())
def test_key_positions_point_at_the_key(doc: tuple[str, list[tuple[tuple[str, ...], str]]]) -> None:
    import tomllib

    text, keys = doc
    tomllib.loads(text)  # the generator makes valid TOML
    positions = key_positions(text)
    lines = text.splitlines()
    for path, line_text in keys:
        line, column = positions[path]
        assert lines[line - 1] == line_text
        assert re.match(rf"\[?{re.escape(path[-1])}\b", lines[line - 1][column - 1 :])


# -- positions and MIDI messages: parse/format round trips, bytes read back by mido -------


@given(st.integers(1, 10_000), st.integers(1, 64))
def test_positions_round_trip(bar: int, beat: int) -> None:
    from ictus.show.model import parse_position

    assert parse_position(str(BarBeat(bar, beat))) == BarBeat(bar, beat)
    assert parse_position(bar) == parse_position(str(bar)) == BarBeat(bar)


@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,12}", fullmatch=True))
def test_labels_are_positions(label: str) -> None:
    from ictus.show.model import parse_position

    assert parse_position(label) == At(label)


@given(st.integers(0, 127), st.integers(0, 127), st.integers(1, 127), st.integers(1, 16))
def test_midi_bytes_as_mido_reads_them(a: int, b: int, velocity: int, channel: int) -> None:
    import mido

    from ictus.show import Note

    pc = mido.Message.from_bytes(list(ProgramChange(a, channel).raw()))
    assert (pc.type, pc.program, pc.channel) == ("program_change", a, channel - 1)
    cc = mido.Message.from_bytes(list(ControlChange(a, b, channel).raw()))
    assert (cc.type, cc.control, cc.value, cc.channel) == ("control_change", a, b, channel - 1)
    note = Note(a, velocity, channel)
    on, off = (
        mido.Message.from_bytes(list(note.raw())),
        mido.Message.from_bytes(list(note.raw_off())),
    )
    assert (on.type, on.note, on.velocity, on.channel) == ("note_on", a, velocity, channel - 1)
    assert (off.type, off.note, off.channel) == ("note_off", a, channel - 1)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ProgramChange(128),
        lambda: ProgramChange(1, channel=0),
        lambda: ControlChange(1, 128),
        lambda: ProgramChange(True),  # a bool is not a number here
    ],
)
def test_midi_values_out_of_range(make: object) -> None:
    with pytest.raises(ValueError, match=r"must be a whole number \d+\.\.\d+"):
        make()  # type: ignore[operator]


def test_vamps_as_bars_and_frames(tmp_path: Path) -> None:
    show = load_show(make_show(tmp_path))
    plan = plan_song(show, "seven")
    plan.close()
    # 7/8 at e=120: a bar is 3.5 s; a count-in bar; the vamp is bar 3, the last but one
    (vamp,) = plan.vamps
    assert (vamp.label, vamp.first_bar, vamp.last_bar) == ("vamp", 3, 3)
    assert (vamp.start_frame, vamp.end_frame) == (int(3.5 * 3 * 48000), int(3.5 * 4 * 48000))
