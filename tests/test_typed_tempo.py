"""Issue 9.4: DAW tempos read as typed (112, not 30000000/267857) and shown to people with
at most 3 decimals; `info` never cut at 80 columns when not on a terminal."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import mido
import pytest

from ictus.formats.midi import read_midi

ICTUS = str(Path(sys.executable).parent / "ictus")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "midi"
SOR = DATA / "Valid_MultiTrack_Middle_Sor_Fantaisie_No2_Op4.mid"
ALBUM = DATA / "Valid_MultiTrack_Large_TheAlbum.mid"


def run(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "80"}
    proc = subprocess.run(
        [ICTUS, *args], capture_output=True, text=True, timeout=120, check=True, env=env
    )
    return proc.stdout


def daw_file(path: Path) -> Path:
    """As a DAW writes 112 then 126 BPM: round(60e6 / bpm) microseconds."""
    track = mido.MidiTrack(
        [
            mido.MetaMessage("set_tempo", tempo=round(60_000_000 / 112)),
            mido.MetaMessage("set_tempo", tempo=round(60_000_000 / 126), time=4 * 4 * 480),
            mido.MetaMessage("end_of_track", time=4 * 4 * 480),
        ]
    )
    mido.MidiFile(tracks=[track], ticks_per_beat=480).save(path)
    return path


def test_a_daw_file_at_112_and_126(tmp_path: Path) -> None:
    path = daw_file(tmp_path / "daw.mid")
    assert [u for u in (535714, 476190)] == [round(60e6 / 112), round(60e6 / 126)]
    tempo_map = read_midi(path)
    assert [(s.bars, s.tempo.bpm) for s in tempo_map.sections] == [(4, 112), (4, 126)]
    run("convert", str(path), str(tmp_path / "daw.click"))
    text = (tmp_path / "daw.click").read_text()
    assert text == "4 4/4 112\n4 4/4 126\n"  # before: q=30000000/267857, q=2000000/15873
    rows = list(csv.DictReader(io.StringIO(run("beats", str(path)))))
    assert {r["tempo_bpm"] for r in rows} == {"112", "126"}


@pytest.mark.skipif(not SOR.exists(), reason="needs the real MIDI files (SOURCES.md beside them)")
def test_info_of_a_real_file_piped_is_whole_and_readable() -> None:
    out = run("info", str(SOR))
    assert "…" not in out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) == 4 and all(line.rstrip().endswith("│") for line in rows)
    assert all(len(line.split("│")) == 10 for line in rows)  # every column, none cut
    # 545454 us per quarter (a writer that cuts 60e6/110) is 110, and no fraction shows
    assert "stepped 73..110" in out and "/" not in "".join(r.split("│")[5] for r in rows)
    assert "tempo range  70 - 110 BPM" in out


@pytest.mark.skipif(not ALBUM.exists(), reason="needs the real MIDI files (SOURCES.md beside them)")
def test_beats_of_a_real_file_show_at_most_three_decimals() -> None:
    rows = list(csv.DictReader(io.StringIO(run("beats", str(ALBUM)))))
    tempos = {r["tempo_bpm"] for r in rows}
    assert all(len(t.partition(".")[2]) <= 3 for t in tempos)
    assert {"170", "165", "160", "148", "137"} <= tempos


@pytest.mark.skipif(not ALBUM.exists(), reason="needs the real MIDI files (SOURCES.md beside them)")
@pytest.mark.parametrize("path", sorted(DATA.glob("*.mid")), ids=lambda p: p.stem[:30])
def test_every_tempo_of_the_real_files_reads_as_a_typed_decimal(path: Path) -> None:
    """Measured: all 253 distinct stored tempos of the five files read as decimals with
    at most 3 places; 238 of them read as fractions before (such as 2500000/16129 for
    155, stored as 387096 by a writer that cuts 60e6/bpm to whole microseconds)."""
    stored = {
        msg.tempo
        for track in mido.MidiFile(path, clip=True).tracks
        for msg in track
        if msg.type == "set_tempo"
    }
    tempos = {Fraction(t) for s in read_midi(path).sections for t in s.quarter_tempos()}
    assert all((t * 1000).denominator == 1 for t in tempos)
    for t in tempos - {Fraction(120)}:  # 120: the default before the first event
        # each is a tempo some writer stores as one of the file's values
        assert any(u - Fraction(1, 2) <= 60_000_000 / t < u + 1 for u in stored), t
