"""Broken MIDI files: read with one warning, or refused with one line naming the file.

``shared/data/midi/invalid/`` holds real broken files (drywetmidi's collection, one
folder per flaw). Every one of them must either import with a :class:`MidiWarning` or
fail with a one-line :class:`IctusError` that starts with the file's path, never with
another exception; through the command line, never with a traceback. Hypothesis then
breaks a valid file in random ways for the same promise.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ictus.errors import IctusError
from ictus.formats.midi import MidiWarning, read_midi
from ictus.tempomap import build_grid
from inprocess import Ran, script

INVALID = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "midi" / "invalid"
FILES = sorted(INVALID.iterdir())

#: what each kind of flaw gets: DAWs open the first kind, nobody can read the second
LENIENT = (
    "Extra_Track_Chunk",
    "Invalid_Channel_Event_Parameter_Value",
    "Invalid_Chunk_Size",
    "Invalid_Key_Signature_Key",
    "Invalid_Key_Signature_Scale",
    "Invalid_Meta_Event_Parameter_Value",
    "Invalid_SMPTE_Frames",
    "No_End_of_Track",
    "Unexpected_Track_Chunks_Count",
    "Unknown_File_Format",
)
REFUSED = ("No_Header_Chunk", "Not_Enough_Bytes", "Unknown_Channel_Event", "Unknown_Chunk_Id")


def outcome(path: str) -> tuple[str, str]:
    """("ok", warning text) or ("error", message); anything else propagates and fails."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            tempo_map = read_midi(path)
        except IctusError as err:
            return "error", str(err)
    build_grid(tempo_map)  # the map it made is a playable map
    messages = [str(w.message) for w in caught if issubclass(w.category, MidiWarning)]
    assert len(messages) == 1, messages  # warned once, with everything in it
    assert len(caught) == 1, [str(w.message) for w in caught]
    return "ok", messages[0]


def test_the_broken_files_are_there():
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:40])
def test_every_broken_file_warns_once_or_fails_in_one_line(path):
    kind, message = outcome(str(path))
    assert message.startswith(f"{path}: ")
    assert "\n" not in message and len(message) > len(str(path)) + 10
    category = path.name.split("__")[0]
    if category in LENIENT:
        assert kind == "ok", message
    elif category in REFUSED:
        assert kind == "error", message
    else:  # a category decided either way by its content (running status): still clean
        assert kind in ("ok", "error")


def test_what_the_messages_say():
    said = {p.name.split("__")[0]: outcome(str(p))[1] for p in FILES}
    assert "no end-of-track" in said["No_End_of_Track"]
    assert "key signature" in said["Invalid_Key_Signature_Key"]
    assert "SMPTE offset" in said["Invalid_SMPTE_Frames"]
    assert "does not exist" in said["Unknown_File_Format"]
    assert "not a MIDI file" in said["No_Header_Chunk"]
    assert "0xFE" in said["Unknown_Channel_Event"] or "0xFC" in said["Unknown_Channel_Event"]
    assert "'MXrk'" in said["Unknown_Chunk_Id"]
    assert "announces" in said["Unexpected_Track_Chunks_Count"]


def test_the_tempo_map_of_a_lenient_file_is_read_exactly():
    # no end-of-track in satsara1: its 34 tempo changes still make the map
    path = INVALID / "No_End_of_Track__satsara1.mid"
    with pytest.warns(MidiWarning):
        tempo_map = read_midi(path)
    tempos = {s.tempo.bpm for s in tempo_map.sections} | {
        t for s in tempo_map.sections for _, t in s.steps or ()
    }
    assert len(tempos) > 10


def check_beats(path: Path, result: Ran) -> None:
    assert "Traceback" not in result.err
    assert result.code in (0, 1), result.err
    kind, message = outcome(str(path))
    if kind == "error":
        assert result.code == 1
        assert result.err == f"ictus: error: {message}\n"
        assert result.out == ""
    else:
        assert result.code == 0
        assert message in result.err
        assert result.out.startswith("index,time_s,")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:40])
def test_the_command_line_never_shows_a_traceback(path, ictus_cli):
    check_beats(path, ictus_cli("beats", str(path), env={"COLUMNS": "100"}))


#: one file read with a warning, one refused: the installed script, as a subprocess,
#: answers each exactly as the in-process runs above do
SAMPLE = [next(p for p in FILES if p.name.startswith(k)) for k in ("No_End_of_Track", "Not_Enough")]


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: p.name[:40])
def test_the_installed_script_answers_the_same(path, ictus_cli):
    ran = script("beats", str(path), env=dict(os.environ, COLUMNS="100"))
    check_beats(path, ran)
    assert ran == ictus_cli("beats", str(path), env={"COLUMNS": "100"})


# -- hypothesis: any damage to a valid file ------------------------------------------


def _valid_bytes(tmp: Path) -> bytes:
    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    conductor = mido.MidiTrack(
        [
            mido.MetaMessage("time_signature", numerator=3, denominator=4),
            mido.MetaMessage("set_tempo", tempo=600000),
            mido.MetaMessage("marker", text="A", time=288),
            mido.MetaMessage("key_signature", key="D"),
            mido.MetaMessage("set_tempo", tempo=450000, time=100),
        ]
    )
    notes = mido.MidiTrack()
    for k in range(8):
        notes.append(mido.Message("note_on", note=60 + k, velocity=80, time=0 if k == 0 else 48))
        notes.append(mido.Message("note_off", note=60 + k, time=48))
    mid.tracks.extend([conductor, notes])
    path = tmp / "valid.mid"
    mid.save(path)
    return path.read_bytes()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_damaged_files_never_raise_anything_else(tmp_path, data):
    original = bytearray(_valid_bytes(tmp_path))
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 6))):
        action = data.draw(st.sampled_from(["set", "cut", "insert", "delete"]))
        if not damaged:
            break
        at = data.draw(st.integers(0, len(damaged) - 1))
        if action == "set":
            damaged[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del damaged[at:]
        elif action == "insert":
            damaged[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del damaged[at : at + data.draw(st.integers(1, 8))]
    path = tmp_path / "damaged.mid"
    path.write_bytes(bytes(damaged))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            tempo_map = read_midi(path, bars=data.draw(st.none() | st.integers(1, 50)))
        except IctusError as err:
            assert str(err).startswith(f"{path}: ") and "\n" not in str(err)
            return
    assert all(issubclass(w.category, MidiWarning) for w in caught)
    assert len(caught) <= 1
    if len(build_grid(tempo_map)) > 2_000_000:
        pytest.fail("an absurd map from a damaged file")
