"""A song made ready to play: its grid, its sources in order, their routing and events.

:func:`plan_song` turns a :class:`~ictus.show.model.Song` of a
:class:`~ictus.show.model.Show` into a :class:`SongPlan`, everything a runner (live) or
:func:`~ictus.show.render_song` (offline) needs, with every time already a frame:

* **sources** in routing order: one click per click variant the mixes use, the spoken
  track, then every played channel of every stem. Each source has the engine's shape,
  ``render(block_start_frame, n, out)`` (adds into ``out``), plus ``blocks(frame, n)``
  giving the mono :data:`~ictus.render.SourceBlock` values that
  :meth:`ictus.render.Router.route` mixes;
* **routing**: the :class:`~ictus.render.Routing` gain matrix, sources x device channels;
* **midi**: ``(frame, message)`` pairs in time order, note-offs included;
* the frame of bar 1 (where the stems start), the song's length, its vamp sections.

Frame 0 is the song's first sound (its first count-in click, or bar 1 without a
count-in). All times come from the song's grid (:func:`~ictus.tempomap.build_grid`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.render import BlockMixer, Routing, SourceBlock
from ictus.show.model import (
    MAP_CLICK,
    BarBeat,
    ClickVariant,
    MidiMessage,
    Note,
    Position,
    Show,
    Song,
    SourceKind,
)
from ictus.show.positions import beat_time, resolve
from ictus.show.speech import CUT_FADE, Speaker, count_words, number_word
from ictus.show.stems import StemStream
from ictus.sounds import LEVELS, synth_voice
from ictus.tempomap import ClickGrid, Section, Tempo, TempoMap, build_grid
from ictus.tempomap.model import Subdivision


class Source(Protocol):
    """An audio source of the engine's shape (mono sources give one block).

    ``render`` adds into ``out`` (as :class:`ictus.sync.ltc.LtcSource`); ``fill`` writes
    ``out`` (frames x channels) and returns False, leaving it as it is, when silent
    there (the engine's ``AudioSource.render`` contract); ``blocks`` gives one mono
    :data:`~ictus.render.SourceBlock` per channel for the router.
    """

    channels: int

    def blocks(self, block_start_frame: int, n: int) -> list[SourceBlock]: ...

    def render(self, block_start_frame: int, n: int, out: NDArray[np.float32]) -> None: ...

    def fill(self, block_start_frame: int, out: NDArray[np.float32]) -> bool: ...


def _fill_mono(source: Source, block_start_frame: int, out: NDArray[np.float32]) -> bool:
    ((buf, spans),) = source.blocks(block_start_frame, out.shape[0])
    if not spans:
        return False
    out.fill(0.0)
    for a, b in spans:
        out[a:b] = buf[a:b] if out.ndim == 1 else buf[a:b, np.newaxis]
    return True


class ClickSource:
    """A performer's click (a :class:`~ictus.show.model.ClickVariant`) as a mono source."""

    channels = 1

    def __init__(self, variant: ClickVariant, tempo_map: TempoMap, rate: int) -> None:
        self.variant = variant
        if variant.sub is not None:
            sub: Subdivision = "pulse" if variant.sub == "pulse" else int(variant.sub)
            tempo_map = replace(
                tempo_map, sections=tuple(replace(s, sub=sub) for s in tempo_map.sections)
            )
        gains = {lv: (variant.gain if lv in variant.levels else 0.0) for lv in LEVELS}
        self.mixer = BlockMixer(
            build_grid(tempo_map), synth_voice(variant.voice, rate), rate=rate, gains=gains
        )
        self.length = self.mixer.length

    def blocks(self, block_start_frame: int, n: int) -> list[SourceBlock]:
        return [self.mixer.mix_mono(block_start_frame, n)]

    def fill(self, block_start_frame: int, out: NDArray[np.float32]) -> bool:
        return _fill_mono(self, block_start_frame, out)

    def render(self, block_start_frame: int, n: int, out: NDArray[np.float32]) -> None:
        buf, spans = self.mixer.mix_mono(block_start_frame, n)
        for a, b in spans:
            if out.ndim == 1:
                out[a:b] += buf[a:b]
            else:
                out[a:b] += buf[a:b, np.newaxis]


@dataclass(frozen=True)
class SpokenWord:
    """A word placed so that its first sample sounds at ``frame``."""

    frame: int
    text: str


class SpokenTrack:
    """Spoken words at their frames as a mono source; each word stops where the next starts."""

    channels = 1

    def __init__(self, words: Sequence[SpokenWord], speaker: Speaker, gain: float = 1.0) -> None:
        self.words = tuple(sorted(words, key=lambda w: w.frame))
        fade = max(1, round(CUT_FADE * speaker.rate))
        sounds = []
        for k, word in enumerate(self.words):
            sound = speaker.word(word.text) * np.float32(gain)
            if k + 1 < len(self.words):
                room = self.words[k + 1].frame - word.frame
                if room < len(sound):
                    sound = sound[:room].copy()
                    ramp = np.linspace(1.0, 0.0, min(fade, room), dtype=np.float32)
                    sound[len(sound) - len(ramp) :] *= ramp
            sounds.append(sound)
        self.sounds = tuple(sounds)
        self.starts = np.array([w.frame for w in self.words], dtype=np.int64)
        self.ends = self.starts + np.array([len(s) for s in sounds], dtype=np.int64)
        self.length = int(self.ends.max()) if len(self.ends) else 0
        self._buf = np.zeros(0, dtype=np.float32)
        self._dirty: list[tuple[int, int]] = []

    def prepare(self, max_frames: int) -> None:
        if len(self._buf) < max_frames:
            self._buf = np.zeros(max_frames, dtype=np.float32)
            self._dirty = []

    def blocks(self, block_start_frame: int, n: int) -> list[SourceBlock]:
        if len(self._buf) < n:
            self.prepare(n)
        buf = self._buf
        for a, b in self._dirty:
            buf[a:b] = 0.0
        spans = []
        # words do not overlap, so the ones sounding are a contiguous run
        lo = int(self.ends.searchsorted(block_start_frame, "right"))
        hi = int(self.starts.searchsorted(block_start_frame + n, "left"))
        for i in range(lo, hi):
            at = int(self.starts[i]) - block_start_frame
            sound = self.sounds[i]
            src, dst = max(-at, 0), max(at, 0)
            m = min(len(sound) - src, n - dst)
            if m > 0:
                buf[dst : dst + m] = sound[src : src + m]
                spans.append((dst, dst + m))
        self._dirty = spans
        return [(buf[:n], spans)]

    def fill(self, block_start_frame: int, out: NDArray[np.float32]) -> bool:
        return _fill_mono(self, block_start_frame, out)

    def render(self, block_start_frame: int, n: int, out: NDArray[np.float32]) -> None:
        ((buf, spans),) = self.blocks(block_start_frame, n)
        for a, b in spans:
            out[a:b] += buf[a:b] if out.ndim == 1 else buf[a:b, np.newaxis]


@dataclass(frozen=True)
class SourceInfo:
    """What a routing row is, for reports: its kind and name."""

    kind: SourceKind
    name: str
    channel: int = 0  # the stem file's channel (1-based) for stems


@dataclass(frozen=True)
class Vamp:
    """A section a runner may loop: its label, map bars ``first_bar .. last_bar``, and
    the frames where it starts and where the bar after it starts (the loop's end)."""

    label: str
    first_bar: int
    last_bar: int
    start_frame: int
    end_frame: int


@dataclass(frozen=True, eq=False)
class SongPlan:
    """Everything needed to play or render one song (see the module docstring)."""

    song: Song
    rate: int
    grid: ClickGrid
    bar1_frame: int
    length: int
    sources: tuple[Source, ...]
    rows: tuple[tuple[int, SourceInfo], ...]  # (index into sources' blocks, info) per row
    routing: Routing
    midi: tuple[tuple[int, bytes, MidiMessage], ...]
    words: tuple[SpokenWord, ...]
    vamps: tuple[Vamp, ...]
    stems: tuple[StemStream, ...]

    def blocks(self, block_start_frame: int, n: int) -> list[SourceBlock]:
        """Every source's mono blocks, in routing row order."""
        out: list[SourceBlock] = []
        for source in self.sources:
            out.extend(source.blocks(block_start_frame, n))
        return out

    def frame_of(self, position: Position) -> int:
        """The song frame of a bar, bar and beat, or section label."""
        return round(beat_time(self.grid, resolve(self.song.tempo_map, position)) * self.rate)

    def close(self) -> None:
        for stem in self.stems:
            stem.close()


def spoken_words(show: Show, song: Song, grid: ClickGrid, rate: int) -> list[SpokenWord]:
    """The words of a song: the count-in, section names a bar ahead, and the cues."""
    tempo_map = song.tempo_map
    words: dict[int, SpokenWord] = {}
    if show.speech.count_in and tempo_map.count_in:
        for frame, text in _count_in_words(tempo_map, grid, rate):
            words[frame] = SpokenWord(frame, text)
    if show.speech.sections:
        for i, section in enumerate(tempo_map.sections):
            bar = tempo_map.first_bar_of(i) - 1
            if section.label and bar >= 1:
                frame = round(beat_time(grid, BarBeat(bar)) * rate)
                words[frame] = SpokenWord(frame, section.label.replace("_", " ").replace("-", " "))
    for cue in song.cues:
        frame = round(beat_time(grid, resolve(tempo_map, cue.at)) * rate)
        words[frame] = SpokenWord(frame, cue.text)  # a cue wins over a section name
    return sorted(words.values(), key=lambda w: w.frame)


def _count_in_words(tempo_map: TempoMap, grid: ClickGrid, rate: int) -> list[tuple[int, str]]:
    """The count-in, one word per beat ("one, two, three, four"); in a grouped meter one
    per pulse, counted in its groups ("one, two, one, two, three" for 7/8 2+2+3).

    Beats are the grid's count-in clicks. The pulses of a grouped meter come from a grid
    of the count-in's own bars (the first section's meter at its starting tempo, every
    pulse clicked): the tempo the count-in clicks at, computed by the one grid code.
    """
    first = tempo_map.sections[0]
    grouping = first.meter.grouping
    if grouping is None:
        beats = np.flatnonzero(grid.count_in & (grid.sub == 0))
        return [(round(float(grid.time[i]) * rate), number_word(int(grid.beat[i]))) for i in beats]
    lead = beat_time(grid, BarBeat(1))
    count_in = tempo_map.count_in
    bars = count_in.bars or -(-count_in.beats // first.beats_per_bar)
    pulses = TempoMap(
        (Section(bars, Tempo(first.start_quarter_bpm), first.meter, sub="pulse"),),
        scale=tempo_map.scale,
    )
    per_bar = count_words(grouping)
    # both count-ins (bars, or beats from the bar's start) begin at time 0
    return [
        (round(float(t) * rate), per_bar[k % len(per_bar)])
        for k, t in enumerate(build_grid(pulses).time)
        if t < lead - 1e-9
    ]


def plan_song(
    show: Show,
    song: Song | str,
    *,
    speaker: Speaker | None = None,
    ring_frames: int | None = None,
) -> SongPlan:
    """Make ``song`` of ``show`` ready to play at the show's rate (opens its stems)."""
    if isinstance(song, str):
        song = show.song(song)
    rate = show.sample_rate
    grid = build_grid(song.tempo_map)
    bar1 = round(beat_time(grid, BarBeat(1)) * rate)
    sources: list[Source] = []
    rows: list[tuple[int, SourceInfo]] = []

    clicks = [ClickSource(v, song.tempo_map, rate) for v in _click_variants(show)]
    for source in clicks:
        rows.append((len(rows), SourceInfo(SourceKind.CLICK, source.variant.name)))
        sources.append(source)

    speaker = speaker or Speaker(rate, show.speech.voice, samples=show.speech.samples)
    words = spoken_words(show, song, grid, rate)
    track = SpokenTrack(words, speaker, show.speech.gain)
    rows.append((len(rows), SourceInfo(SourceKind.CUES, "spoken")))
    sources.append(track)

    stems = _open_stems(song, rate, bar1, ring_frames)
    for stem, stream in zip(song.stems, stems, strict=True):
        sources.append(stream)
        for ch in stream.picked:
            rows.append((len(rows), SourceInfo(SourceKind.STEM, stem.name, ch + 1)))

    gains = _mix_gains(show, song, rows, stems)
    if not show.click_on_main_allowed:
        _refuse_click_on_main(show, rows, gains, stems)

    length = max(
        [c.length for c in clicks]
        + [track.length, round(grid.duration * rate)]
        + [bar1 + s.length for s in stems]
    )
    return SongPlan(
        song=song,
        rate=rate,
        grid=grid,
        bar1_frame=bar1,
        length=length,
        sources=tuple(sources),
        rows=tuple(rows),
        routing=Routing(gains),
        midi=tuple(_midi_events(song, grid, rate)),
        words=tuple(words),
        vamps=tuple(_vamps(song, grid, rate)),
        stems=tuple(stems),
    )


def _click_variants(show: Show) -> list[ClickVariant]:
    """The click variants the mixes use, each once, in the order the mixes name them."""
    variants: list[ClickVariant] = []
    for mix in show.mixes:
        if mix.click is not None:
            variant = show.click(mix.click) if mix.click != MAP_CLICK.name else MAP_CLICK
            if variant not in variants:
                variants.append(variant)
    return variants


def _open_stems(song: Song, rate: int, bar1: int, ring_frames: int | None) -> list[StemStream]:
    """Open every stem of ``song``, in order, starting at bar 1; all or none (a stem
    that fails to open closes the ones opened before it)."""
    stems: list[StemStream] = []
    extra = {} if ring_frames is None else {"ring_frames": ring_frames}
    try:
        for stem in song.stems:
            stems.append(
                StemStream(
                    stem.path,
                    rate,
                    origin_frame=bar1,
                    channels=None if stem.channels is None else tuple(c - 1 for c in stem.channels),
                    gain=stem.gain,
                    **extra,
                )
            )
    except Exception:
        for stream in stems:
            stream.close()
        raise
    return stems


def _mix_gains(
    show: Show,
    song: Song,
    rows: Sequence[tuple[int, SourceInfo]],
    stems: Sequence[StemStream],
) -> NDArray[np.float32]:
    """The routing matrix, rows x device channels: each output's mix of every row."""
    mixes = {m.output: m for m in show.mixes}
    gains = np.zeros((len(rows), show.channels), dtype=np.float32)
    for output in show.outputs:
        mix = mixes.get(output.name)
        if mix is None:
            continue
        width = len(output.channels)
        for row, info in rows:
            if info.kind is SourceKind.CLICK:
                if mix.click == info.name:
                    gains[row, list(output.indexes)] = mix.click_gain
            elif info.kind is SourceKind.CUES:
                gains[row, list(output.indexes)] = mix.cues
            else:
                stem = next(s for s in song.stems if s.name == info.name)
                stream = stems[song.stems.index(stem)]
                gain = mix.stem_gain(stem.name) * stem.gain
                _route_stem(gains, row, info, stream, output.indexes, width, gain)
    return gains


def _refuse_click_on_main(
    show: Show,
    rows: Sequence[tuple[int, SourceInfo]],
    gains: NDArray[np.float32],
    stems: Sequence[StemStream],
) -> None:
    """Raise (closing ``stems``) if click or cues would reach an output marked main.

    The check refuses such a show already; this keeps a plan made without it safe.
    """
    for output in show.outputs:
        if not output.main:
            continue
        for row, info in rows:
            if info.kind is not SourceKind.STEM and gains[row, list(output.indexes)].any():
                for stream in stems:
                    stream.close()
                raise ParameterError(
                    f"{info.kind.value} would reach {output.name!r}, an output marked main"
                )


def _midi_events(song: Song, grid: ClickGrid, rate: int) -> list[tuple[int, bytes, MidiMessage]]:
    """The song's MIDI as ``(frame, raw bytes, message)`` in time order, note-offs included."""
    midi: list[tuple[int, bytes, MidiMessage]] = []
    for event in song.midi:
        frame = round(beat_time(grid, resolve(song.tempo_map, event.at)) * rate)
        midi.append((frame, event.message.raw(), event.message))
        if isinstance(event.message, Note):
            off = frame + round(event.message.length_ms * rate / 1000)
            midi.append((off, event.message.raw_off(), event.message))
    midi.sort(key=lambda m: m[0])
    return midi


def _vamps(song: Song, grid: ClickGrid, rate: int) -> list[Vamp]:
    """The song's vamp sections with their start and loop-end frames."""
    tempo_map = song.tempo_map
    vamps = []
    for label in song.vamps:
        i = tempo_map.section_index(label)
        first_bar = tempo_map.first_bar_of(i)
        last_bar = first_bar + tempo_map.sections[i].bars - 1
        start = round(beat_time(grid, BarBeat(first_bar)) * rate)
        if last_bar < tempo_map.total_bars:
            end = round(beat_time(grid, BarBeat(last_bar + 1)) * rate)
        else:
            end = round(grid.duration * rate)
        vamps.append(Vamp(label, first_bar, last_bar, start, end))
    return vamps


def stem_layout(stem_channels: int, output_channels: int) -> NDArray[np.float32]:
    """How a stem's channels spread over an output's: a stems x output gain matrix.

    Same count: one to one; a mono stem: on every output channel; a mono output: the
    stem's channels averaged. Anything else is refused (say which channels to play).

    >>> stem_layout(2, 2).tolist(), stem_layout(1, 2).tolist(), stem_layout(2, 1).tolist()
    ([[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]], [[0.5], [0.5]])
    """
    if stem_channels == output_channels:
        return np.eye(stem_channels, dtype=np.float32)
    if stem_channels == 1:
        return np.ones((1, output_channels), dtype=np.float32)
    if output_channels == 1:
        return np.full((stem_channels, 1), 1.0 / stem_channels, dtype=np.float32)
    raise ParameterError(
        f"a {stem_channels}-channel stem cannot go to a {output_channels}-channel output; "
        "pick its channels (channels = [1, 2])"
    )


def _route_stem(
    gains: NDArray[np.float32],
    row: int,
    info: SourceInfo,
    stream: StemStream,
    indexes: tuple[int, ...],
    width: int,
    gain: float,
) -> None:
    layout = stem_layout(stream.channels, width)
    k = stream.picked.index(info.channel - 1)
    for j, ch in enumerate(indexes):
        gains[row, ch] += gain * layout[k, j]
