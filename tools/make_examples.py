"""Write examples/session.mid and examples/score.mxl, the README's files "from a DAW" and
"from a score", with mido and music21 directly (not with ictus, so that importing them is
a real test of ictus's readers).

Run from the repository root: ``.venv/bin/python tools/make_examples.py``.
"""

from __future__ import annotations

from pathlib import Path

import mido
from music21 import bar, expressions, metadata, meter, note, stream, tempo

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PPQ = 960  # a common DAW resolution


def session_mid(path: Path) -> None:
    """A type-1 file as DAWs write it: the tempo map and markers on track 0, a meter
    change, and a keys track with notes."""
    bar44 = 4 * PPQ
    conductor = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name="Session", time=0),
            mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0),
            mido.MetaMessage("marker", text="Intro", time=0),
            # bar 5: the verse at 100 BPM (600000 us a quarter)
            mido.MetaMessage("set_tempo", tempo=600000, time=4 * bar44),
            mido.MetaMessage("marker", text="Verse", time=0),
            # bar 13: three bars of 3/4, then 4/4 again at 125 BPM (480000 us)
            mido.MetaMessage("time_signature", numerator=3, denominator=4, time=8 * bar44),
            mido.MetaMessage("marker", text="Bridge", time=0),
            mido.MetaMessage("time_signature", numerator=4, denominator=4, time=3 * 3 * PPQ),
            mido.MetaMessage("set_tempo", tempo=480000, time=0),
            mido.MetaMessage("marker", text="Chorus", time=0),
            mido.MetaMessage("end_of_track", time=8 * bar44),
        ]
    )
    keys = mido.MidiTrack([mido.MetaMessage("track_name", name="Keys", time=0)])
    for pitch in (60, 64, 67, 72) * 6:
        keys.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        keys.append(mido.Message("note_off", note=pitch, velocity=0, time=2 * PPQ))
    keys.append(mido.MetaMessage("end_of_track", time=0))
    mido.MidiFile(type=1, ticks_per_beat=PPQ, tracks=[conductor, keys]).save(path)


def score_mxl(path: Path) -> None:
    """A lead sheet: a pickup bar, a metronome mark, a rehearsal mark, a 6/8 section at a
    dotted-quarter tempo and a repeated phrase."""
    part = stream.Part()
    pickup = stream.Measure(number=0)
    pickup.append(meter.TimeSignature("4/4"))
    pickup.append(tempo.MetronomeMark(number=96, referent=note.Note(type="quarter")))
    pickup.append(note.Note("G4", quarterLength=1))
    pickup.paddingLeft = 3  # an upbeat of one quarter
    part.append(pickup)
    for number in range(1, 5):
        m = stream.Measure(number=number)
        if number == 1:
            m.insert(0, expressions.RehearsalMark("A"))
            m.leftBarline = bar.Repeat(direction="start")
        if number == 4:
            m.rightBarline = bar.Repeat(direction="end")
        m.append(note.Note("C5", quarterLength=4))
        part.append(m)
    for number in range(5, 9):
        m = stream.Measure(number=number)
        if number == 5:
            m.insert(0, expressions.RehearsalMark("B"))
            m.append(meter.TimeSignature("6/8"))
            m.append(tempo.MetronomeMark(number=72, referent=note.Note(type="quarter", dots=1)))
        m.append(note.Note("E5", quarterLength=3))
        part.append(m)
    score = stream.Score([part])
    score.metadata = metadata.Metadata(title="Lead Sheet")
    score.write("mxl", fp=str(path))


if __name__ == "__main__":
    session_mid(EXAMPLES / "session.mid")
    score_mxl(EXAMPLES / "score.mxl")
