"""A tempo map as a Standard MIDI File: tempo track, meters, markers and the click.

What the file holds (format 1):

- track 0, the tempo track: the title as track name, a time signature wherever the
  meter changes (``clocks_per_click`` names the click's beat), ``set_tempo`` events,
  section labels and cues as markers (REAPER, Logic and Cubase show markers; not all
  show cue points), and the map itself for ictus (:mod:`ictus.formats.midi.own`);
- the click as notes on one channel (GM channel 10, woodblock by default), in one
  track or in one track per level (accent, normal, sub); silent clicks make no note.

MIDI stores tempo as whole microseconds per quarter note and cannot ramp, so tempo is
written in pieces between *anchors*: every beat, every click inside a ramp, every tempo
step and every section start (plus every 8th or 16th inside ramps with ``ramp_steps``).
Each piece's tempo is the piece's exact length (from the grid's closed forms, never by
sampling the ramp's tempo) divided by its quarters, and the microsecond rounding is
carried from piece to piece, so the file's clock never drifts from the map's: every
anchor lands within :data:`DRIFT_LIMIT_US` (+ 1 us per quarter of the piece) of its
exact time. A steady tempo that is no whole number of microseconds (90 BPM is
666666.67 us) alternates between its two neighbours, switching only when the carried
error passes the limit: one tiny correction every few dozen beats instead of 5 ms of
drift over 3 hours (docs/REFERENCE.md section 3).

The exported file mirrors the grid that ``ictus render`` plays: the tempo scale is
applied, and a count-in becomes bars before bar 1 with a ``count-in: N bars`` marker
that :func:`~ictus.formats.midi.read_midi` turns back into the map's count-in.
"""

from __future__ import annotations

import bisect
import math
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ictus.errors import ParameterError
from ictus.formats.midi.labels import count_in_marker, label_from_text
from ictus.formats.midi.own import payload
from ictus.formats.midi.reader import MidiWarning, short_meter
from ictus.tempomap.grid import build_grid
from ictus.tempomap.model import SOUNDING_LEVELS, Level, Meter, Section, TempoMap
from ictus.tempomap.timeline import Timeline, piecewise

#: General MIDI percussion (channel 10): Hi Wood Block on the accent, Low Wood Block on
#: the other clicks (Claves is 75).
DEFAULT_NOTES: dict[str, int] = {"accent": 76, "normal": 77, "sub": 77}
DEFAULT_VELOCITIES: dict[str, int] = {"accent": 127, "normal": 100, "sub": 70}
#: the finest tempo step inside ramps, in quarter notes (None: at every beat)
RAMP_STEPS: dict[str, Fraction | None] = {
    "beat": None,
    "8th": Fraction(1, 2),
    "16th": Fraction(1, 4),
}
#: carried rounding error (microseconds) at which a steady tempo gets a correction
DRIFT_LIMIT_US = Fraction(10)
MAX_USPQ = 0xFFFFFF  # three bytes: 3.58 BPM is the slowest tempo a MIDI file can hold
CLICK_LEVELS = tuple(level.label for level in SOUNDING_LEVELS)


def write_midi(
    tempo_map: TempoMap,
    path: str | os.PathLike[str],
    *,
    ppq: int = 960,
    ramp_steps: str = "beat",
    notes: Mapping[str, int] | None = None,
    velocities: Mapping[str, int] | None = None,
    tracks_per_level: bool = False,
    channel: int = 10,
) -> None:
    """Write ``tempo_map`` as a format-1 Standard MIDI File at ``path`` (atomically).

    Parameters
    ----------
    tempo_map : TempoMap
    path : output file (``.mid``)
    ppq : int in 1..32767, default 960
        Ticks per quarter note. Bar lines must fall on ticks (any multiple of 16 does);
        clicks that fall between ticks (``sub=7``) are moved to the nearest one with a
        :class:`MidiWarning` that names a PPQ that holds them exactly.
    ramp_steps : {"beat", "8th", "16th"}
        Tempo steps inside ramps: at every beat and click (default), or also at every
        8th or 16th note.
    notes, velocities : mapping of level name -> 0..127 (velocities 1..127), optional
        Per level (``accent``, ``normal``, ``sub``); missing levels keep
        :data:`DEFAULT_NOTES` / :data:`DEFAULT_VELOCITIES`. A click's velocity is also
        scaled by its volume in the map; a click of volume 0 makes no note.
    tracks_per_level : bool
        One track per level ("click accent", "click normal", "click sub").
    channel : int in 1..16, default 10 (General MIDI percussion)

    Raises
    ------
    ParameterError
        For a bad option, or a map MIDI cannot hold (a meter whose denominator is not a
        power of two, a tempo under 3.58 BPM, bar lines between ticks).

    Examples
    --------
    >>> import os, tempfile
    >>> from ictus.formats.clickfile import parse_click
    >>> from ictus.formats.midi import read_midi
    >>> m = parse_click("intro: 2 4/4 90\\nrit: 2 3/4 90-60 ramp=time\\n")
    >>> path = os.path.join(tempfile.mkdtemp(), "song.mid")
    >>> write_midi(m, path)
    >>> back = read_midi(path)
    >>> back.total_bars, [s.label for s in back.sections if s.label]
    (4, ['intro', 'rit'])
    """
    options = _Options.check(ppq, ramp_steps, notes, velocities, channel)
    layout = _Layout(tempo_map, ppq)
    grid = build_grid(tempo_map)
    clock = _Clock(tempo_map, layout)

    anchors = _anchors(tempo_map, layout, grid, options)
    seconds = clock.seconds(anchors)
    if tempo_map.count_in and tempo_map.sections[0].is_ramp:
        # The count-in plays at the ramp's first tempo. The music's first tick keeps
        # that tempo (a shift of a few nanoseconds), so a reader finds the count-in's
        # tempo where the music starts and can restore the count-in exactly.
        k = anchors.index(layout.tick(layout.lead) + 1)
        seconds[k] = seconds[k - 1] + clock.at(Fraction(1, ppq))
    tempos = _tempo_events(anchors, seconds, ppq)

    import mido

    conductor: list[tuple[int, int, Any]] = []
    if tempo_map.title:
        conductor.append((0, 0, mido.MetaMessage("track_name", name=tempo_map.title)))
    timing: list[tuple[int, str, object]] = [(tick, "set_tempo", uspq) for tick, uspq in tempos]
    timing += [
        (tick, "time_signature", (m.count, m.unit, clocks))
        for tick, m, clocks in layout.meter_changes()
    ]
    own = payload(tempo_map, timing)
    if own is not None:  # the map itself, for ictus to read back (others skip it)
        conductor.append((0, 0, mido.MetaMessage("sequencer_specific", data=own)))
    for tick, meter, clocks in layout.meter_changes():
        conductor.append(
            (
                tick,
                1,
                mido.MetaMessage(
                    "time_signature",
                    numerator=meter.count,
                    denominator=meter.unit,
                    clocks_per_click=clocks,
                    notated_32nd_notes_per_beat=8,
                ),
            )
        )
    for tick, uspq in tempos:
        conductor.append((tick, 2, mido.MetaMessage("set_tempo", tempo=uspq)))
    for tick, kind, text in _marks(tempo_map, layout):
        conductor.append((tick, 3 if kind == "marker" else 4, mido.MetaMessage(kind, text=text)))

    click_tracks = _click_tracks(grid, layout, options, tracks_per_level)
    end = layout.end_tick
    midi = mido.MidiFile(type=1, ticks_per_beat=ppq, charset="utf-8")
    midi.tracks.append(_track(conductor, end))
    for name, events in click_tracks:
        named = [(0, 0, mido.MetaMessage("track_name", name=name)), *events]
        midi.tracks.append(_track(named, end))

    from ictus.atomic import atomic_path

    with atomic_path(path) as tmp:
        midi.save(tmp)


# -- options ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    ppq: int
    step: Fraction | None
    notes: dict[str, int]
    velocities: dict[str, int]
    channel: int

    @staticmethod
    def check(
        ppq: int,
        ramp_steps: str,
        notes: Mapping[str, int] | None,
        velocities: Mapping[str, int] | None,
        channel: int,
    ) -> _Options:
        if not isinstance(ppq, int) or isinstance(ppq, bool) or not 1 <= ppq <= 0x7FFF:
            raise ParameterError(f"ppq (ticks per quarter note) must be 1..32767, got {ppq!r}")
        if ramp_steps not in RAMP_STEPS:
            raise ParameterError(
                f"ramp steps must be one of {', '.join(RAMP_STEPS)}, got {ramp_steps!r}"
            )
        if not isinstance(channel, int) or not 1 <= channel <= 16:
            raise ParameterError(f"MIDI channel must be 1..16, got {channel!r}")
        return _Options(
            ppq,
            RAMP_STEPS[ramp_steps],
            _per_level(notes, DEFAULT_NOTES, "note", 0),
            _per_level(velocities, DEFAULT_VELOCITIES, "velocity", 1),
            channel,
        )


def _per_level(
    given: Mapping[str, int] | None, default: dict[str, int], what: str, low: int
) -> dict[str, int]:
    values = dict(default)
    for level, value in (given or {}).items():
        if level not in values:
            raise ParameterError(
                f"unknown click level {level!r} for a {what}; levels: {', '.join(CLICK_LEVELS)}"
            )
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 127:
            raise ParameterError(f"{level} {what} must be {low}..127, got {value!r}")
        values[level] = value
    return values


def parse_levels(text: str, option: str) -> dict[str, int]:
    """``"accent=76,normal=77"`` -> ``{"accent": 76, "normal": 77}`` (for the CLI).

    >>> parse_levels("accent=75, sub=42", "--notes")
    {'accent': 75, 'sub': 42}
    """
    values = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        m = re.fullmatch(r"(accent|normal|sub)\s*=\s*(\d{1,3})", part)
        if m is None:
            raise ParameterError(
                f"{option}: expected LEVEL=NUMBER,... with levels "
                f"{', '.join(CLICK_LEVELS)}; got {part!r}"
            )
        values[m.group(1)] = int(m.group(2))
    return values


# -- where things are, in MIDI quarters -------------------------------------------


class _Layout:
    """Bars, section starts and the count-in of the exported file, in exact quarters.

    MIDI quarter 0 is the first count-in click (or bar 1 without a count-in), as in
    the grid, so the grid's ``position`` plus ``lead`` is a position in the file.
    """

    def __init__(self, tempo_map: TempoMap, ppq: int) -> None:
        self.ppq = ppq
        sections = tempo_map.sections
        first = sections[0]
        count_in = tempo_map.count_in
        self.count_in_meter: Meter | None = None
        self.count_in_bars = 0
        if count_in.bars:
            self.count_in_meter = first.meter
            self.count_in_bars = count_in.bars
            self.lead = count_in.bars * first.bar_quarters
        elif count_in.beats:
            offsets = first.beat_offsets()
            beat = offsets[1] if len(offsets) > 1 else first.bar_quarters
            self.lead = count_in.beats * beat
            self.count_in_meter = short_meter(self.lead, first.meter.unit)
            self.count_in_bars = 1
            if self.count_in_meter is None:
                raise ParameterError(
                    f"a count-in of {count_in.beats} beats of {first.meter} makes a bar "
                    "no MIDI time signature can hold; count in whole bars"
                )
        else:
            self.lead = Fraction(0)
        self.starts: list[Fraction] = []
        at = self.lead
        for i, section in enumerate(sections):
            self._check(i, section)
            self.starts.append(at)
            at += section.length_quarters
        self.end = at
        self.end_tick = self.tick(at)
        self.sections = sections

    def _check(self, index: int, section: Section) -> None:
        where = f"section {index + 1}" + (f" ({section.label})" if section.label else "")
        meter = section.meter
        if meter.unit & (meter.unit - 1) or meter.count > 255:
            raise ParameterError(
                f"{where}: a MIDI time signature cannot hold {meter.count}/{meter.unit} "
                "(the denominator must be a power of two, the numerator at most 255)"
            )
        if (meter.bar_quarters * self.ppq).denominator != 1:
            raise ParameterError(
                f"{where}: bars of {meter} fall between ticks at ppq={self.ppq}; "
                "use a ppq that is a multiple of 16"
            )

    def tick(self, quarters: Fraction) -> int:
        exact = quarters * self.ppq
        if exact.denominator != 1:
            return round(exact)
        return int(exact)

    def section_at(self, quarters: Fraction) -> int:
        return max(bisect.bisect_right(self.starts, quarters) - 1, 0)

    def meter_changes(self) -> list[tuple[int, Meter, int]]:
        """(tick, meter, clocks_per_click) wherever the meter or its click changes."""
        changes: list[tuple[int, Meter, int]] = []
        first_clocks = _clocks(self.sections[0])
        if self.count_in_meter is not None:
            changes.append((0, self.count_in_meter, first_clocks))
        for start, section in zip(self.starts, self.sections, strict=True):
            entry = (self.tick(start), section.meter, _clocks(section))
            if not changes or changes[-1][1:] != entry[1:]:
                changes.append(entry)
        return changes


def _clocks(section: Section) -> int:
    """``clocks_per_click`` for a section: its beat in MIDI clocks (24 per quarter)."""
    offsets = section.beat_offsets()
    lengths = {b - a for a, b in zip(offsets, (*offsets[1:], section.bar_quarters), strict=True)}
    beat = lengths.pop() if len(lengths) == 1 else section.meter.pulse_quarters
    return min(max(round(beat * 24), 1), 255)


# -- exact time at any quarter of the file ----------------------------------------


class _Clock:
    """Exact seconds at file quarters, from the map's timeline.

    File quarter ``lead`` is bar 1's downbeat; the count-in before it plays at the
    map's first tempo, which is how the timeline continues before bar 1.
    """

    def __init__(self, tempo_map: TempoMap, layout: _Layout) -> None:
        self.layout = layout
        self.line = Timeline(tempo_map)
        self.zero = self.line.time_at(-layout.lead)

    def at(self, quarters: Fraction) -> Fraction:
        """Seconds from the file's start at file position ``quarters``."""
        return self.line.time_at(quarters - self.layout.lead) - self.zero

    def seconds(self, ticks: list[int]) -> list[Fraction]:
        """Exact seconds at each tick of the file, the map's scale applied."""
        return [self.at(Fraction(tick, self.layout.ppq)) for tick in ticks]


# -- tempo events ----------------------------------------------------------------


def _anchors(tempo_map: TempoMap, layout: _Layout, grid: Any, options: _Options) -> list[int]:
    """Ticks where the file's clock must agree with the map: see the module docstring."""
    ppq = options.ppq
    lead = float(layout.lead)
    positions = np.asarray(grid.position, dtype=np.float64) + lead
    ticks = np.rint(positions * ppq).astype(np.int64)
    on_beat = np.asarray(grid.sub) == 0
    anchors = set(ticks[on_beat].tolist())
    anchors.add(0)
    anchors.add(layout.end_tick)
    if tempo_map.count_in and tempo_map.sections[0].is_ramp:
        # a one-tick piece at the count-in's tempo where the music starts (write_midi)
        anchors.add(layout.tick(layout.lead) + 1)
    for i, section in enumerate(tempo_map.sections):
        start, end = layout.starts[i], layout.starts[i] + section.length_quarters
        anchors.add(layout.tick(start))
        steps = piecewise(section)
        if steps is not None:
            anchors.update(layout.tick(start + q) for q in steps[0])
        elif section.is_ramp:
            inside = (positions >= float(start)) & (positions < float(end))
            anchors.update(ticks[inside].tolist())
            if options.step is not None:
                n = int(section.length_quarters / options.step)
                anchors.update(layout.tick(start + k * options.step) for k in range(n + 1))
    return sorted(t for t in anchors if 0 <= t <= layout.end_tick)


def _tempo_events(ticks: list[int], seconds: list[Fraction], ppq: int) -> list[tuple[int, int]]:
    """(tick, microseconds per quarter) events that keep the file's clock on ``seconds``.

    ``error`` is the file's time minus the exact time at the current anchor, in
    microseconds; each piece's tempo is rounded so that it shrinks (error diffusion),
    and a steady tempo only changes when the error would pass :data:`DRIFT_LIMIT_US`.
    """
    events: list[tuple[int, int]] = []
    error = Fraction(0)
    current: int | None = None
    previous_exact: Fraction | None = None
    for k in range(len(ticks) - 1):
        quarters = Fraction(ticks[k + 1] - ticks[k], ppq)
        if quarters == 0:
            continue
        exact = (seconds[k + 1] - seconds[k]) * 1_000_000 / quarters
        low, high = math.floor(exact), math.ceil(exact)
        if exact == previous_exact and current in (low, high):
            assert current is not None
            if abs(error + (current - exact) * quarters) <= DRIFT_LIMIT_US:
                chosen = current
            else:
                chosen = min((low, high), key=lambda u: abs(error + (u - exact) * quarters))
        else:
            chosen = min(max(round(exact - error / quarters), low), high)
        if chosen > MAX_USPQ or chosen < 1:
            bpm = float(60_000_000 / exact)
            raise ParameterError(
                f"a tempo of {bpm:.4g} quarter notes per minute cannot be stored in a MIDI "
                "file (3.58 to 60000000)"
            )
        if chosen != current:
            events.append((ticks[k], chosen))
            current = chosen
        error += (chosen - exact) * quarters
        previous_exact = exact
    if not events:
        events.append((0, 500_000))
    return events


# -- markers, cues, notes ----------------------------------------------------------


def _marks(tempo_map: TempoMap, layout: _Layout) -> list[tuple[int, str, str]]:
    """(tick, "marker", text): the count-in, labels and cues, all as markers (the one
    kind every DAW shows); a label comes before a cue at one tick, so a reader of the
    file alone takes the first marker on a bar line as the label."""
    out: list[tuple[int, str, str]] = []
    if tempo_map.count_in:
        out.append((0, "marker", count_in_marker(tempo_map.count_in)))
    for start, section in zip(layout.starts, tempo_map.sections, strict=True):
        merged = None
        if section.label:
            # the reader keeps a marker's text as a cue when it had to change it into a
            # label ("Verse 1" -> Verse_1); such a cue is the marker's own text again
            merged = next(
                (
                    c
                    for c in section.cues
                    if (c.bar, c.beat) == (1, 1)
                    and c.text != section.label
                    and label_from_text(c.text) == section.label
                ),
                None,
            )
            text = merged.text if merged is not None else section.label
            out.append((layout.tick(start), "marker", text))
        offsets = section.beat_offsets()
        for cue in section.cues:
            if cue is merged:
                continue
            q = start + (cue.bar - 1) * section.bar_quarters + offsets[cue.beat - 1]
            out.append((layout.tick(q), "marker", cue.text))
    return out


def _click_tracks(
    grid: Any, layout: _Layout, options: _Options, tracks_per_level: bool
) -> list[tuple[str, list[tuple[int, int, Any]]]]:
    """Note events per track name: (tick, order, message)."""
    import mido

    ppq = options.ppq
    exact = (np.asarray(grid.position, dtype=np.float64) + float(layout.lead)) * ppq
    ticks = np.rint(exact).astype(np.int64)
    audible = (np.asarray(grid.level) != Level.SILENT) & (np.asarray(grid.volume) > 0)
    off_grid = audible & (np.abs(exact - ticks) > 1e-6)
    if off_grid.any():
        _warn_off_grid(grid, exact, ticks, off_grid, ppq)
    channel = options.channel - 1
    length = max(ppq // 8, 1)  # a 32nd note: short, as a click is
    tracks: dict[str, list[tuple[int, int, Any]]] = {}
    last_on: dict[tuple[str, int], int] = {}
    pending: list[tuple[str, int, int]] = []
    for i in np.flatnonzero(audible):
        level = Level(int(grid.level[i])).label
        note = options.notes[level]
        velocity = min(max(round(options.velocities[level] * float(grid.volume[i])), 1), 127)
        name = f"click {level}" if tracks_per_level else "click"
        tick = int(ticks[i])
        if last_on.get((name, note)) == tick:
            continue  # two clicks rounded onto one tick: one note
        last_on[(name, note)] = tick
        pending.append((name, tick, note))
        tracks.setdefault(name, []).append(
            (tick, 1, mido.Message("note_on", channel=channel, note=note, velocity=velocity))
        )
    # each note ends after its length or at the next click of the same note
    following: dict[tuple[str, int], list[int]] = {}
    for name, tick, note in pending:
        following.setdefault((name, note), []).append(tick)
    for (name, note), starts in following.items():
        for k, tick in enumerate(starts):
            stop = tick + length
            if k + 1 < len(starts):
                stop = min(stop, starts[k + 1])
            stop = min(max(stop, tick + 1), max(layout.end_tick, tick + 1))
            tracks[name].append(
                (stop, 0, mido.Message("note_off", channel=channel, note=note, velocity=0))
            )
    order = [f"click {level}" for level in CLICK_LEVELS] if tracks_per_level else ["click"]
    return [(name, tracks[name]) for name in order if name in tracks]


def _warn_off_grid(grid: Any, exact: Any, ticks: Any, off_grid: Any, ppq: int) -> None:
    index = np.flatnonzero(off_grid)
    # only sizes the warning's "off by up to N ms" (the local tick length); no click
    # time is computed here
    seconds_per_tick = 60.0 / (np.asarray(grid.tempo)[index] * ppq)
    worst = float(np.max(np.abs(exact[index] - ticks[index]) * seconds_per_tick))
    need = 1
    for value in exact[index][:1000] / ppq:
        need = math.lcm(need, Fraction(float(value)).limit_denominator(10_000).denominator)
    better = math.lcm(ppq, need)
    hint = f"; ppq={better} places them exactly" if better <= 0x7FFF else ""
    warnings.warn(
        f"{len(index)} clicks fall between ticks at ppq={ppq} and were moved to the nearest "
        f"tick (at most {worst * 1000:.3f} ms){hint}",
        MidiWarning,
        stacklevel=3,
    )


def _track(events: list[tuple[int, int, Any]], end: int) -> Any:
    """A mido track from (tick, order, message) events, ending at tick ``end``."""
    import mido

    track = mido.MidiTrack()
    now = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(skip_checks=True, time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(end - now, 0)))
    return track
