"""A Standard MIDI File's tempo map as a :class:`~ictus.tempomap.TempoMap`.

Tempo and meter events are merged from every track (real files keep them anywhere).
Ticks become quarter notes as exact fractions, so each section's tempo and each tempo
step sits exactly where the file puts it, and the grid's downbeats are the file's
downbeats. How the file becomes sections:

- Bars start at tick 0 in the file's meter (4/4 when it has none) at its tempo (120 BPM
  when it has no tempo at tick 0). A tempo is read as the decimal its writer typed when
  one fits the stored microseconds (112, not 30000000/267857:
  :mod:`ictus.formats.typed_tempo`, under 1 us per quarter note from the raw value).
  A time signature inside a bar ends that bar there: the short bar gets its own meter
  (a 1/4 or 3/8 bar), as DAWs show it.
- A new section starts at every bar line where the meter changes, a marker stands, or
  the tempo changes; tempo changes inside bars (even inside beats) are the section's
  ``steps``. Later events win when several of one kind share a tick.
- Markers (and rehearsal-style text events of the first track: "A", "[B]", "Verse 2")
  on bar lines become section labels (made into the label alphabet; the original text
  is kept as a cue when it had to change). Cue points, and markers inside bars, become
  cues on the beat they fall in.
- The map ends with the bar holding the last event, or after ``bars`` bars.
- SMPTE-timed files (ticks per frame) have no musical time: their bars run at the
  tempo the file sets at tick 0 (else 120 BPM), which makes every event's time come out
  exactly as the ticks say. Later tempo events cannot move events in such a file, so
  they are ignored (with a warning).

Files that DAWs open despite flaws (no end-of-track, an invalid key signature or SMPTE
offset, a wrong track count, bytes over 127) are read with one :class:`MidiWarning`
listing what was wrong; files that cannot be read raise
:class:`~ictus.formats.midi.smf.MidiFileError` with the file name and the problem.
"""

from __future__ import annotations

import bisect
import math
import os
import warnings
from dataclasses import dataclass, replace
from fractions import Fraction

from ictus.errors import IctusWarning, ParameterError
from ictus.formats.midi.labels import (
    cue_text,
    is_rehearsal_mark,
    label_from_text,
    parse_count_in_marker,
    unique_label,
)
from ictus.formats.midi.smf import MidiFileError, Song, read_song
from ictus.formats.typed_tempo import typed_bpm
from ictus.limits import read_input
from ictus.tempomap.model import (
    MAX_BPM,
    CountIn,
    Cue,
    Meter,
    Section,
    Tempo,
    TempoMap,
    unit_name,
)
from ictus.tempomap.timeline import seconds_at_tempo, stepped_seconds

CLICK_UNITS = ("meter", "file")
#: a longer map is almost certainly a broken delta time, not music
MAX_BARS = 100_000
#: how far (seconds) a count-in written by ictus may be from the map's count-in
COUNT_IN_TOLERANCE = Fraction(1, 10_000)
DEFAULT_TEMPO = 500_000  # microseconds per quarter: 120 BPM
QUARTER = Fraction(1, 4)
SMPTE_RATES = {24: Fraction(24), 25: Fraction(25), 29: Fraction(30000, 1001), 30: Fraction(30)}


class MidiWarning(IctusWarning):
    """A MIDI file was read (or written) despite a flaw; the message says which."""


def read_midi(
    path: str | os.PathLike[str], *, click_unit: str = "meter", bars: int | None = None
) -> TempoMap:
    """Read the tempo map of a Standard MIDI File (format 0 or 1, any division).

    Parameters
    ----------
    path : path of a ``.mid`` file
    click_unit : {"meter", "file"}
        ``meter``: click every 1/denominator pulse. ``file``: click on the note value the
        file's ``clocks_per_click`` names (24 = quarter, 36 = dotted quarter, 12 = eighth).
    bars : int >= 1, optional
        End the map after this many bars instead of at the file's last event.

    Returns
    -------
    TempoMap
        Title from the first track's name; a count-in written by :func:`write_midi`
        (a ``count-in: N bars`` marker at the start) comes back as the map's count-in.
        A file ictus wrote and nobody re-timed since comes back as the very map it was
        written from, whatever ``click_unit`` (:mod:`ictus.formats.midi.own`); with
        ``bars`` it is read from its events like any file.

    Raises
    ------
    MidiFileError
        One line naming the file and the problem, for files that cannot be read.

    Examples
    --------
    >>> import mido, tempfile, os
    >>> track = mido.MidiTrack([
    ...     mido.MetaMessage("time_signature", numerator=3, denominator=4),
    ...     mido.MetaMessage("set_tempo", tempo=600000),
    ...     mido.MetaMessage("marker", text="Verse 1", time=960),
    ...     mido.MetaMessage("end_of_track", time=5 * 3 * 480 - 960)])
    >>> path = os.path.join(tempfile.mkdtemp(), "waltz.mid")
    >>> mido.MidiFile(tracks=[track], ticks_per_beat=480).save(path)
    >>> m = read_midi(path)
    >>> [(s.bars, str(s.meter), s.tempo.bpm, s.label) for s in m.sections]
    [(5, '3/4', Fraction(100, 1), None)]
    >>> m.sections[0].cues
    (Cue(text='Verse 1', bar=1, beat=3),)
    """
    name = os.fspath(path)
    if click_unit not in CLICK_UNITS:
        raise ParameterError(f"click unit must be 'meter' or 'file', got {click_unit!r}")
    if bars is not None and (not isinstance(bars, int) or not 1 <= bars <= MAX_BARS):
        raise ParameterError(f"bars must be a whole number 1..{MAX_BARS}, got {bars!r}")
    try:
        data = read_input(name, "MIDI file")
    except FileNotFoundError:
        raise MidiFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise MidiFileError(f"{name}: is a folder, not a MIDI file") from None
    except OSError as err:
        raise MidiFileError(f"{name}: cannot read ({err.strerror or err})") from None
    song = read_song(data, name)
    if bars is None:
        from ictus.formats.midi.own import own_map

        own = own_map(song)
        if own is not None:  # a file ictus wrote, unchanged since: the map it came from
            return own
    try:
        tempo_map, problems = _build(song, name, click_unit, bars)
    except ParameterError as err:  # a value the model refuses (a tempo of 1 us a quarter)
        raise MidiFileError(f"{name}: {err}") from None
    if problems:
        warnings.warn(
            f"{name}: read despite flaws: {'; '.join(problems)}", MidiWarning, stacklevel=2
        )
    return tempo_map


# -- time: ticks -> quarters -> seconds ---------------------------------------------


@dataclass
class _TempoLine:
    """Quarter-note tempo as breakpoints: ``bpm[k]`` holds from ``at[k]`` (quarters)."""

    at: list[Fraction]
    bpm: list[Fraction]

    def tempo_at(self, q: Fraction) -> Fraction:
        """The tempo in force at ``q`` (a change exactly at ``q`` counts)."""
        return self.bpm[bisect.bisect_right(self.at, q) - 1]

    def tempo_before(self, q: Fraction) -> Fraction:
        return self.bpm[max(bisect.bisect_left(self.at, q) - 1, 0)]

    def changes_inside(self, start: Fraction, end: Fraction) -> list[tuple[Fraction, Fraction]]:
        """Changes strictly between ``start`` and ``end`` that change the value."""
        out, current = [], self.tempo_at(start)
        for k in range(bisect.bisect_right(self.at, start), bisect.bisect_left(self.at, end)):
            if self.bpm[k] != current:
                out.append((self.at[k], self.bpm[k]))
                current = self.bpm[k]
        return out

    def seconds(self, q: Fraction) -> Fraction:
        """Exact seconds from quarter 0 to ``q``."""
        return stepped_seconds(self.at, self.bpm, q)


def _timebase(song: Song, name: str, problems: list[str]) -> tuple[Fraction, _TempoLine]:
    """Ticks per quarter note (exact) and the tempo line, for PPQ and SMPTE files."""
    tempo_events = [(e.tick, e.value) for e in song.events if e.kind == "set_tempo"]
    if song.division & 0x8000:
        fps_code = 256 - (song.division >> 8)
        per_frame = song.division & 0xFF
        if fps_code not in SMPTE_RATES:
            raise MidiFileError(f"{name}: unknown SMPTE frame rate code -{fps_code} in the header")
        if per_frame == 0:
            raise MidiFileError(f"{name}: the header gives 0 ticks per SMPTE frame")
        for tick, uspq in tempo_events:
            _check_tempo_event(name, tick, int(uspq))
        at_zero = [int(v) for t, v in tempo_events if t == 0]
        uspq = at_zero[-1] if at_zero else DEFAULT_TEMPO
        ignored = sum(1 for t, v in tempo_events if t > 0 and v != uspq)
        if ignored:
            problems.append(
                f"SMPTE-timed file: {ignored} later tempo changes cannot move events "
                "and were ignored"
            )
        per_quarter = SMPTE_RATES[fps_code] * per_frame * uspq / 1_000_000
        return per_quarter, _TempoLine([Fraction(0)], [Fraction(60_000_000, uspq)])
    per_quarter = Fraction(song.division)
    changes: dict[Fraction, Fraction] = {Fraction(0): Fraction(60_000_000, DEFAULT_TEMPO)}
    for tick, uspq in tempo_events:
        _check_tempo_event(name, tick, int(uspq))
        # the tempo the DAW's user typed (112, not 30000000/267857): formats/typed_tempo.py
        changes[tick / per_quarter] = typed_bpm(uspq)
    at = sorted(changes)
    return per_quarter, _TempoLine(at, [changes[q] for q in at])


def _check_tempo_event(name: str, tick: int, uspq: int) -> None:
    """Refuse a tempo event beyond the model's range, quoting it as the file stores it
    (microseconds per quarter note), never a rounding of it."""
    if uspq == 0 or Fraction(60_000_000, uspq) > MAX_BPM:
        bpm = Fraction(60_000_000, max(uspq, 1))
        exact = "" if bpm.denominator == 1 else "about "
        shown = "" if uspq == 0 else f" ({exact}{round(bpm):,} BPM)"
        raise MidiFileError(
            f"{name}: the tempo event at tick {tick:,} sets {uspq} microseconds per quarter "
            f"note{shown}; a tempo must be between 0.001 and 100000 quarter notes a minute"
        )


# -- bars -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bar:
    start: Fraction  # quarters from tick 0
    meter: Meter
    clocks: int  # the file's clocks_per_click for this bar


def short_meter(length: Fraction, unit: int) -> Meter | None:
    """A meter for a bar of ``length`` quarters (prefer ``unit``), or None if none fits."""
    for d in (unit, 1, 2, 4, 8, 16, 32, 64):
        count = length * d / 4
        if count.denominator == 1 and count >= 1:
            return Meter(int(count), d)
    return None


def _meter_regions(
    song: Song, per_quarter: Fraction, problems: list[str]
) -> list[tuple[Fraction, Meter, int]]:
    """(start, meter, clocks) of each run of equal bars; short bars are runs of their own."""
    events: dict[Fraction, tuple[int, int, int]] = {}
    for e in song.events:
        if e.kind == "time_signature":
            events[e.tick / per_quarter] = e.value
    regions: list[tuple[Fraction, Meter, int]] = [(Fraction(0), Meter(4, 4), 24)]
    moved = 0
    for q in sorted(events):
        num, den, clocks = events[q]
        meter = Meter(num, den)
        start, current, current_clocks = regions[-1]
        if q <= start:
            regions[-1] = (start, meter, clocks)  # the later event wins at that bar line
            continue
        length = current.bar_quarters
        bar_line = start + math.ceil((q - start) / length) * length
        if bar_line == q:
            regions.append((q, meter, clocks))
            continue
        bar_start = bar_line - length
        short = short_meter(q - bar_start, current.unit)
        if short is None:
            moved += 1
            regions.append((bar_line, meter, clocks))
            continue
        if bar_start == start:
            regions[-1] = (start, short, current_clocks)
        else:
            regions.append((bar_start, short, current_clocks))
        regions.append((q, meter, clocks))
    if moved:
        problems.append(
            f"{moved} time signatures inside bars could not make a bar of their own "
            "and were moved to the next bar line"
        )
    return regions


class _Bars:
    """Bars from tick 0 on, made as far as they are asked for."""

    def __init__(self, regions: list[tuple[Fraction, Meter, int]]) -> None:
        self.regions = regions
        self.bars: list[_Bar] = []
        self.region = 0

    def __getitem__(self, index: int) -> _Bar:
        while len(self.bars) <= index:
            if len(self.bars) >= MAX_BARS + 256:
                raise OverflowError
            if not self.bars:
                start = self.regions[0][0]
            else:
                last = self.bars[-1]
                start = last.start + last.meter.bar_quarters
            while self.region + 1 < len(self.regions) and self.regions[self.region + 1][0] <= start:
                self.region += 1
            _, meter, clocks = self.regions[self.region]
            self.bars.append(_Bar(start, meter, clocks))
        return self.bars[index]

    def end_of(self, index: int) -> Fraction:
        bar = self[index]
        return bar.start + bar.meter.bar_quarters


# -- the map ----------------------------------------------------------------------


def _build(
    song: Song, name: str, click_unit: str, bars_wanted: int | None
) -> tuple[TempoMap, list[str]]:
    problems = list(song.problems)
    per_quarter, tempo = _timebase(song, name, problems)
    all_bars = _Bars(_meter_regions(song, per_quarter, problems))
    title, marks = _title_and_marks(song, per_quarter)
    try:
        count_in, first = _count_in(marks, all_bars, tempo, click_unit)
        n = _bars_end(song, per_quarter, all_bars, first, bars_wanted)
    except OverflowError:
        raise MidiFileError(
            f"{name}: the last event lies more than {MAX_BARS} bars from the start; "
            "read fewer bars with --bars N"
        ) from None
    music = [all_bars[i] for i in range(first, n)]
    end = all_bars.end_of(n - 1)
    if count_in:
        marks = [m for m in marks if m[0] > 0 or parse_count_in_marker(m[2]) is None]

    units = [_click_unit(bar, click_unit, problems) for bar in music]
    labels, cues = _labels_and_cues(marks, music, end)
    sections = _sections(music, end, units, tempo, labels, cues)
    tempo_map = TempoMap(tuple(sections), title=title, count_in=count_in or CountIn())
    if len(problems) != len(set(problems)):
        problems = list(dict.fromkeys(problems))
    return tempo_map, problems


def _title_and_marks(
    song: Song, per_quarter: Fraction
) -> tuple[str | None, list[tuple[Fraction, str, str]]]:
    """The title (track 0's name), and the markers, rehearsal marks and cue points as
    ``(quarters, kind, text)`` in file order."""
    marks: list[tuple[Fraction, str, str]] = []
    title = None
    for e in song.events:
        text = str(e.value)
        if e.kind == "track_name" and e.track == 0 and title is None:
            title = cue_text(text) or None
        elif e.kind in ("marker", "cue_marker") or (
            e.kind == "text" and e.track == 0 and is_rehearsal_mark(text)
        ):
            marks.append((e.tick / per_quarter, e.kind, text))
    return title, marks


def _bars_end(
    song: Song, per_quarter: Fraction, all_bars: _Bars, first: int, bars_wanted: int | None
) -> int:
    """The index after the last bar of music (OverflowError past :data:`MAX_BARS`)."""
    if bars_wanted is not None:
        n = first + bars_wanted
        all_bars[n]
        return n
    # the bar holding the last event that starts something, and every bar that
    # something still sounds in
    last_end = song.last_end / per_quarter
    last_start = None if song.last_start is None else song.last_start / per_quarter
    n = first
    while (
        n == first
        or all_bars[n].start < last_end
        or (last_start is not None and all_bars[n].start <= last_start)
    ):
        n += 1
        if n - first > MAX_BARS:
            raise OverflowError
    return n


def _labels_and_cues(
    marks: list[tuple[Fraction, str, str]], music: list[_Bar], end: Fraction
) -> tuple[dict[int, str], list[tuple[Fraction, str]]]:
    """Section labels by bar index (a marker on a bar line), and every other mark as a
    cue ``(quarters, text)`` in time order; marks outside the music are dropped."""
    bar_index = {bar.start: i for i, bar in enumerate(music)}
    labels: dict[int, str] = {}
    cues: list[tuple[Fraction, str]] = []
    used: set[str] = set()
    for q, kind, text in marks:
        if not music[0].start <= q < end:
            continue
        index = bar_index.get(q)
        label = label_from_text(text) if kind != "cue_marker" else None
        if index is not None and index not in labels and label is not None:
            labels[index] = unique_label(label, used)
            if cue_text(text) != labels[index]:
                cues.append((q, text))
        else:
            cues.append((q, text))
    cues.sort(key=lambda cue: cue[0])  # stable: events at one place keep their order
    return labels, cues


def _sections(
    music: list[_Bar],
    end: Fraction,
    units: list[Fraction | None],
    tempo: _TempoLine,
    labels: dict[int, str],
    cues: list[tuple[Fraction, str]],
) -> list[Section]:
    """A section for each run of bars with one meter, click unit and tempo, cut again
    at each label."""
    sections: list[Section] = []
    b0 = 0
    for b in range(1, len(music) + 1):
        boundary = b == len(music) or (
            (music[b].meter, units[b]) != (music[b - 1].meter, units[b - 1])
            or b in labels
            or tempo.tempo_at(music[b].start) != tempo.tempo_before(music[b].start)
        )
        if boundary:
            section_end = music[b].start if b < len(music) else end
            sections.append(
                _section(music[b0], b - b0, section_end, units[b0], tempo, labels.get(b0), cues)
            )
            b0 = b
    return sections


def _click_unit(bar: _Bar, click_unit: str, problems: list[str]) -> Fraction | None:
    """The beat unit that puts the click where the file's clocks_per_click says."""
    if click_unit == "meter":
        return None
    unit = Fraction(bar.clocks, 96)  # 24 MIDI clocks per quarter note, 96 per whole
    try:
        unit_name(unit)
    except ParameterError:
        problems.append(
            f"clocks_per_click {bar.clocks} is no note value; clicking the meter's pulses"
        )
        return None
    if unit == QUARTER or (bar.meter.bar_quarters / (unit / QUARTER)).denominator != 1:
        return None
    return unit


def _section(
    first: _Bar,
    count: int,
    end: Fraction,
    unit: Fraction | None,
    tempo: _TempoLine,
    label: str | None,
    cues: list[tuple[Fraction, str]],
) -> Section:
    start = first.start
    bpm = tempo.tempo_at(start)
    mark = Tempo(bpm) if unit is None else Tempo(bpm * QUARTER / unit, unit)
    steps = tuple((q - start, t) for q, t in tempo.changes_inside(start, end))
    section = Section(count, mark, meter=first.meter, steps=steps or None, label=label)
    placed = []
    offsets = section.beat_offsets()
    first_cue = bisect.bisect_left(cues, (start, ""))
    for q, text in cues[first_cue:]:
        if q >= end:
            break
        if cue_text(text):
            bar, within = divmod(q - start, section.bar_quarters)
            beat = bisect.bisect_right(offsets, within)
            placed.append(Cue(cue_text(text), int(bar) + 1, beat))
    return replace(section, cues=tuple(placed)) if placed else section


def _count_in(
    marks: list[tuple[Fraction, str, str]], bars: _Bars, tempo: _TempoLine, click_unit: str
) -> tuple[CountIn | None, int]:
    """The count-in an ictus-written file announces at tick 0, and the first music bar.

    Accepted only when the file's bars and times are what the map's count-in would play
    (it plays at the first section's tempo, in its meter), so nothing moves.
    """
    count_in = next(
        (ci for q, kind, text in marks if q == 0 and (ci := parse_count_in_marker(text))),
        None,
    )
    if count_in is None:
        return None, 0
    first = count_in.bars or 1
    music = bars[first]
    lead = music.start
    if count_in.beats:
        unit = _click_unit(music, click_unit, []) if click_unit == "file" else None
        offsets = music.meter.beat_offsets(unit)
        beat = offsets[1] if len(offsets) > 1 else music.meter.bar_quarters
        if beat * count_in.beats != lead:
            return None, 0
    elif any(bars[i].meter != music.meter for i in range(first)):
        return None, 0
    played = seconds_at_tempo(lead, tempo.tempo_at(lead))
    if abs(played - tempo.seconds(lead)) > COUNT_IN_TOLERANCE:
        return None, 0
    return count_in, first
