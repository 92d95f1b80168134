"""ictus's own MIDI exports come back as the map that went out (issue 10), while other
readers still see only exact-duration tempo steps."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest

from ictus.formats import format_click, parse_click
from ictus.formats.midi import read_midi, write_midi
from ictus.tempomap import build_grid

MAPS = {
    "labels and a beats ramp": "intro: 2 4/4 96\nramp: 4 4/4 96-128\nout: 2 4/4 128\n",
    "three ramp shapes, meters, cues": (
        "title: Shapes\n"
        'a: 2 4/4 100-140 cue="go"\n'
        'b: 3 3/4 140-90 ramp=time cue@2.3="hit"\n'
        "c: 2 6/8 q.=60-80 ramp=period\n"
        "d: 1 7/8 (2+2+3) e=312\n"
        "e: 2 5/4 133.33 X.x.x\n"
    ),
    "count-in, steps, mute, scale": (
        "count-in: 2 bars\nscale: 90%\n"
        "verse: 4 4/4 120 steps=2.5:130,5:140\n"
        "break: 1 4/4 140 mute\n"
        "Outro-2.x: 2 2/4 70-60\n"
    ),
    "example.click": (Path(__file__).parent.parent / "examples" / "example.click").read_text(),
}


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("ramp_steps", ["beat", "16th"])
def test_own_export_reads_back_as_the_same_map_text(
    tmp_path: Path, name: str, ramp_steps: str
) -> None:
    tempo_map = parse_click(MAPS[name])
    path = tmp_path / "song.mid"
    write_midi(tempo_map, path, ramp_steps=ramp_steps)
    back = read_midi(path)
    assert format_click(back) == format_click(tempo_map)
    assert back == tempo_map


def strip_private(src: Path, dst: Path) -> None:
    """The file as a reader that skips sequencer-specific events sees it."""
    midi = mido.MidiFile(src)
    for track in midi.tracks:
        kept, carry = [], 0
        for msg in track:
            if msg.type == "sequencer_specific":
                carry += msg.time
                continue
            kept.append(msg.copy(time=msg.time + carry))
            carry = 0
        track[:] = kept
    midi.save(dst)


def test_others_see_the_same_tempo_steps(tmp_path: Path) -> None:
    """Every event but the private one is untouched; without it the ramp is steps again."""
    tempo_map = parse_click(MAPS["labels and a beats ramp"])
    write_midi(tempo_map, tmp_path / "own.mid")
    strip_private(tmp_path / "own.mid", tmp_path / "plain.mid")
    own, plain = mido.MidiFile(tmp_path / "own.mid"), mido.MidiFile(tmp_path / "plain.mid")
    private = [m for m in own.tracks[0] if m.type == "sequencer_specific"]
    assert len(private) == 1 and private[0].data[0] == 0x7D  # non-commercial ID
    tempos = [m.tempo for m in plain.tracks[0] if m.type == "set_tempo"]
    assert tempos == [m.tempo for m in own.tracks[0] if m.type == "set_tempo"]
    assert len(tempos) > 16  # one step per beat of the ramp, at least
    back = read_midi(tmp_path / "plain.mid")
    assert back != tempo_map
    assert [s.label for s in back.sections if s.label] == ["intro", "ramp", "out"]


def test_without_the_private_event_ramps_read_within_the_stated_bound(tmp_path: Path) -> None:
    """Read from its events alone, every tempo is read as typed (formats/typed_tempo.py):
    under 1 us per quarter note from the map, as the rule states."""
    tempo_map = parse_click(MAPS["three ramp shapes, meters, cues"])
    write_midi(tempo_map, tmp_path / "own.mid")
    strip_private(tmp_path / "own.mid", tmp_path / "plain.mid")
    a, b = build_grid(tempo_map), build_grid(read_midi(tmp_path / "plain.mid"))
    bars = []
    for grid in (a, b):  # (position, time) of every downbeat (the clicks per beat differ)
        first = np.flatnonzero(np.r_[True, grid.bar[1:] != grid.bar[:-1]])
        bars.append((grid.position[first], grid.time[first]))
    assert np.array_equal(bars[0][0], bars[1][0])
    # the MIDI writer's own budget (0.1 ms) plus the typed-tempo rule's 1 us per quarter
    assert np.all(np.abs(bars[0][1] - bars[1][1]) <= 1e-4 + bars[0][0] * 1e-6)


def test_an_edited_tempo_is_read_from_the_events(tmp_path: Path) -> None:
    """A tool kept the private event but changed a tempo: the events win."""
    tempo_map = parse_click("a: 2 4/4 120\nb: 2 4/4 120\n")
    write_midi(tempo_map, tmp_path / "own.mid")
    midi = mido.MidiFile(tmp_path / "own.mid")
    for msg in midi.tracks[0]:
        if msg.type == "set_tempo":
            msg.tempo = 600_000  # 100 BPM
    midi.save(tmp_path / "edited.mid")
    back = read_midi(tmp_path / "edited.mid")
    assert {s.tempo.bpm for s in back.sections} == {100}
