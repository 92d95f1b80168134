"""A tempo map from a recording made without a click: beats, bars, a tempo per beat.

:func:`track_beats` runs librosa's dynamic-programming beat tracker with a tempo that
may change over time (``librosa.feature.tempo(aggregate=None)`` fed to ``beat_track``;
a single global tempo loses ramps), then moves each beat onto the note onset within
40 ms of it, refined to the sample (:mod:`ictus.practice.onsets`). librosa's tracker
ships no model, so it works offline. It tracks no downbeats and reports no confidence:
:func:`guess_bars` finds the bar line from the low-frequency (kick) energy on each beat
unless the user gives the meter and the first downbeat, and :class:`Beats` carries a
*pulse clarity* computed here.

:func:`beats_to_map` writes a :class:`~ictus.tempomap.TempoMap` whose clicks fall on the
tracked beats: per-beat tempo lists (``q=101.234,99.871,...``) or one tempo per bar
(``steps=``), rounded to thousandths of a BPM with the rounding carried on, so no click is
more than a few microseconds off its beat. The recording's time before the first beat is
a muted ``lead`` bar, so the map, rendered from its start, lines up with the recording.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ictus.errors import IctusError, ParameterError
from ictus.practice.onsets import detect_onsets, need
from ictus.tempomap import Meter, Section, Tempo, TempoMap, section_duration
from ictus.tempomap.model import QUARTER
from ictus.tempomap.timeline import seconds_at_tempo, tempo_for

#: Beats closer than this to an onset are moved onto it.
SNAP = 0.04
#: A recording's time before its first beat shorter than this gets no lead bar.
LEAD_MIN = Fraction(4, 100_000)
#: The lead bar's tempo is rounded to this: its one span carries no later correction.
LEAD_STEP = Fraction(1, 10**9)
#: What a guessed bar structure pays per bar and per change of bar length, in standard
#: deviations of the downbeat evidence (see :func:`follow_bars`).
BAR_COST = 0.3
CHANGE_COST = 2.0
#: Tempos in the written map are rounded to this (thousandths of a BPM).
TEMPO_STEP = Fraction(1, 1000)


class Follow(enum.Enum):
    """How closely the map follows the performance."""

    BEAT = "beat"  # a tempo per beat: every click on its tracked beat
    BAR = "bar"  # a tempo per bar: downbeats exact, beats even inside the bar


@dataclass(frozen=True, eq=False)
class Beats:
    """Tracked beats of a recording.

    ``clarity`` (0..1) is the median over beats of the onset strength at the beat divided
    by the strongest onset within half a beat of it: 1 when every beat is the loudest
    attack around it, lower when the tracker had to guess between notes.
    """

    times: NDArray[np.float64]
    strength: NDArray[np.float64]  # low-frequency onset strength at each beat (for bars)
    clarity: float
    tracker: str


def fold_octaves(local: NDArray[np.float64], reference: float) -> NDArray[np.float64]:
    """Each frame's tempo moved by octaves (x2, /2) to stay near the tempo so far.

    Frame-wise tempo estimates jump between a tempo and its double; a ramp then turns into
    a jump in the beats. Starting from ``reference``, each frame takes the octave closest
    to a slowly moving average of the frames before it.

    >>> fold_octaves(np.array([100.0, 204.0, 104.0, 53.0]), 100.0).tolist()
    [100.0, 102.0, 104.0, 106.0]
    """
    out = np.empty(len(local))
    previous = reference
    for i, t in enumerate(np.asarray(local, dtype=np.float64)):
        choices = (t / 2, t, t * 2)
        pick = min(choices, key=lambda c: abs(np.log2(c / previous)))
        out[i] = pick
        previous = 0.9 * previous + 0.1 * pick
    return out


def drop_weak_offbeats(
    frames: NDArray[np.int64], strength: NDArray[np.float64], ratio: float = 1.6
) -> NDArray[np.int64]:
    """Halve the beat rate while every other beat is much weaker (hi-hats between beats).

    A tracker locked onto eighth notes finds beats that alternate kick/snare and a lone
    hat; the strong ones are the beat.

    >>> drop_weak_offbeats(np.arange(16), np.array([1.0, 0.2, 0.5, 0.2] * 4)).tolist()
    [0, 2, 4, 6, 8, 10, 12, 14]
    """
    # once only: a second halving would split kick from snare in a two-beat bar (6/8)
    if len(frames) < 8:
        return frames
    s = strength[frames]
    even, odd = float(s[0::2].mean()), float(s[1::2].mean())
    if max(even, odd) < ratio * min(even, odd):
        return frames
    halved: NDArray[np.int64] = frames[0::2] if even > odd else frames[1::2]
    return halved


def track_beats(audio: NDArray[Any], rate: int, *, tempo: float | None = None) -> Beats:
    """Beat times (seconds) of ``audio`` (mono) with librosa's tracker, snapped to onsets.

    Parameters
    ----------
    audio : mono samples
    rate : sample rate in Hz
    tempo : float, optional
        The tempo the user hears (quarter or dotted-quarter beats per minute). Without
        it, the tracker picks a metrical level and beats that alternate strong and weak
        are halved (:func:`drop_weak_offbeats`).
    """
    librosa = need("librosa")
    if tempo is not None and not 10 <= tempo <= 400:
        raise ParameterError(f"--tempo must be 10..400 BPM, got {tempo:g}")
    y = np.ascontiguousarray(audio, dtype=np.float32)
    hop = 512
    env = librosa.onset.onset_strength(y=y, sr=rate, hop_length=hop)
    start = 120.0 if tempo is None else tempo
    local = librosa.feature.tempo(
        onset_envelope=env, sr=rate, hop_length=hop, aggregate=None, start_bpm=start
    )
    local = fold_octaves(local, tempo if tempo is not None else float(np.median(local)))
    _, frames = librosa.beat.beat_track(
        onset_envelope=env, sr=rate, hop_length=hop, bpm=local, start_bpm=start
    )
    frames = np.asarray(frames, dtype=np.int64)
    peaks = np.array([env[max(0, f - 2) : f + 3].max() for f in range(len(env))])
    if tempo is None:
        frames = drop_weak_offbeats(frames, peaks)
    if len(frames) < 2:
        raise IctusError("found fewer than two beats: is there a steady pulse in the recording?")
    times = np.asarray(librosa.frames_to_time(frames, sr=rate, hop_length=hop), dtype=float)
    onsets = detect_onsets(np.asarray(audio, dtype=np.float64), rate)
    # only attacks as strong as the beats may become beats at the edges (not noise)
    at_beats = float(np.median(peaks[frames]))
    onset_frames = np.asarray(
        librosa.time_to_frames(onsets, sr=rate, hop_length=hop), dtype=np.int64
    )
    strong = onsets[peaks[np.clip(onset_frames, 0, len(peaks) - 1)] >= 0.5 * at_beats]
    times = extend_edges(snap(times, onsets), strong)
    # the frames of the final beats (edges may have moved): strengths are read there
    frames = np.asarray(librosa.time_to_frames(times, sr=rate, hop_length=hop), dtype=np.int64)
    frames = np.clip(frames, 0, len(env) - 1)
    # pulse clarity from the envelope librosa tracked on
    half = max(1, int(np.median(np.diff(frames))) // 2)
    ratios = [
        float(env[max(0, f - 2) : f + 3].max())
        / max(float(env[max(0, f - half) : f + half + 1].max()), 1e-12)
        for f in frames
    ]
    low = _low_flux(librosa, y, rate, hop)
    strength = np.array([float(low[max(0, f - 2) : f + 3].max()) for f in frames])
    version = getattr(librosa, "__version__", "?")
    return Beats(times, strength, float(np.median(ratios)), f"librosa {version} beat_track")


def _low_flux(librosa: Any, y: NDArray[np.float32], rate: int, hop: int) -> NDArray[np.float64]:
    """Rise of the energy below 150 Hz per frame: where the kick drum (or the bass) enters."""
    n_fft = 4096
    spec = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop)) ** 2
    band = spec[: max(2, int(150 * n_fft / rate)) + 1].sum(axis=0)
    level = np.log1p(band / max(float(band.max()), 1e-20) * 1000)
    flux: NDArray[np.float64] = np.maximum(0.0, np.diff(level, prepend=level[:1]))
    return flux


def extend_edges(beats: NDArray[np.float64], onsets: NDArray[np.float64]) -> NDArray[np.float64]:
    """Fix the ends the tracker is unsure of: drop first and last beats on no note, then add
    beats one span before the first (and after the last) while a note is there.

    librosa trims weak beats at the edges and sometimes places the first beat between
    notes; the first kick of a song is the bar line the user cares most about.

    >>> extend_edges(np.array([1.3, 1.5, 2.0, 2.5]), np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0]))
    array([0.5, 1. , 1.5, 2. , 2.5, 3. ])
    """
    on = list(beats)
    if len(onsets) == 0 or len(on) < 3:
        return beats

    def note_near(t: float, reach: float) -> float | None:
        k = int(np.argmin(np.abs(onsets - t)))
        return float(onsets[k]) if abs(onsets[k] - t) <= reach else None

    while len(on) > 2 and note_near(on[0], 1e-6) is None:
        on.pop(0)
    while len(on) > 2 and note_near(on[-1], 1e-6) is None:
        on.pop()
    for _ in range(64):
        span = on[1] - on[0]
        found = note_near(on[0] - span, max(SNAP, 0.1 * span))
        if found is None or found < 0 or found >= on[0] - 0.5 * span:
            break
        on.insert(0, found)
    for _ in range(64):
        span = on[-1] - on[-2]
        found = note_near(on[-1] + span, max(SNAP, 0.1 * span))
        if found is None or found <= on[-1] + 0.5 * span:
            break
        on.append(found)
    return np.array(on)


def snap(beats: NDArray[np.float64], onsets: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each beat moved onto the nearest onset within :data:`SNAP` seconds, if any.

    >>> snap(np.array([1.0, 2.0]), np.array([0.99, 2.5])).tolist()
    [0.99, 2.0]
    """
    if len(onsets) == 0:
        return beats
    right = np.clip(np.searchsorted(onsets, beats), 0, len(onsets) - 1)
    left = np.clip(right - 1, 0, len(onsets) - 1)
    near = np.where(
        np.abs(onsets[left] - beats) <= np.abs(onsets[right] - beats), onsets[left], onsets[right]
    )
    result: NDArray[np.float64] = np.where(np.abs(near - beats) <= SNAP, near, beats)
    return result


@dataclass(frozen=True)
class Bars:
    """Where the bars are: a meter, beats per bar and the index of the first downbeat.

    ``lengths``, when set, gives the beats in every bar from the first downbeat on (a
    guessed structure with meter changes, each bar of x/4); else every bar is one
    ``meter`` of ``beats_per_bar`` beats.
    """

    meter: Meter
    beats_per_bar: int
    first_downbeat: int  # index into the beats
    guessed: bool
    lengths: tuple[int, ...] | None = None


def beats_per_bar(meter: Meter) -> int:
    """Tracked beats in a bar of ``meter``: compound meters (6/8, 9/8, 12/8) in dotted beats.

    >>> [beats_per_bar(Meter(c, u)) for c, u in ((4, 4), (3, 4), (6, 8), (12, 8), (7, 8))]
    [4, 3, 2, 4, 7]
    """
    if meter.grouping is not None:
        return len(meter.grouping)
    if meter.unit >= 8 and meter.count % 3 == 0 and meter.count > 3:
        return meter.count // 3
    return meter.count


def guess_bars(
    beats: Beats, *, meter: Meter | None = None, first_downbeat: float | None = None
) -> Bars:
    """Bars from the user's meter and first downbeat, or a guess from the kick energy.

    The guess tries 2, 3 and 4 beats a bar and every phase, and keeps the one whose
    downbeats carry the most low-frequency energy compared to the other beats (4 wins a
    near-tie with 2: most music counts in fours).

    >>> b = Beats(np.arange(12) * 0.5, np.array([1.0, 0, 0.2, 0] * 3), 1.0, "test")
    >>> bars = guess_bars(b)
    >>> str(bars.meter), bars.first_downbeat, bars.guessed
    ('4/4', 0, True)
    >>> guess_bars(b, meter=Meter(3, 4), first_downbeat=0.98).first_downbeat
    2
    """
    times, strength = beats.times, beats.strength
    if first_downbeat is not None:
        if first_downbeat < 0:
            raise ParameterError(f"--first-downbeat must be >= 0 s, got {first_downbeat}")
        first: int | None = int(np.argmin(np.abs(times - first_downbeat)))
    else:
        first = None
    if meter is not None:
        n = beats_per_bar(meter)
        if first is None:
            first = _best_phase(strength, n)[0]
        return Bars(meter, n, first, first_downbeat is None)
    start, lengths = follow_bars(strength, first=first)
    if not lengths:
        return Bars(Meter(4, 4), 4, start, True)
    # the meter most bars have names the map; the lengths carry the changes
    counts = {g: lengths.count(g) for g in set(lengths)}
    main = max(sorted(counts, reverse=True), key=lambda g: counts[g])
    return Bars(Meter(main, 4), main, start, True, tuple(lengths))


def follow_bars(
    strength: NDArray[np.float64],
    *,
    first: int | None = None,
    choices: tuple[int, ...] = (2, 3, 4),
) -> tuple[int, list[int]]:
    """The bar lines as the best path through the beats: first downbeat and bar lengths.

    Each bar is 2, 3 or 4 beats. A path scores the low-frequency attack on each of its
    downbeats (in standard deviations from the mean beat), pays :data:`BAR_COST` per bar
    (so a 4/4 with kicks on 1 and 3 stays 4/4 rather than 2/4) and
    :data:`CHANGE_COST` per change of bar length (so one odd beat is not a meter
    change, but a section in 3/4 inside a 4/4 song is). The last bar may be cut short
    by the end of the recording.

    >>> kick = np.array([3.0, 0, 0, 0] * 4 + [3.0, 0, 0] * 4 + [3.0, 0, 0, 0] * 2)
    >>> follow_bars(kick + 1.0)
    (0, [4, 4, 4, 4, 3, 3, 3, 3, 4, 4])
    >>> follow_bars(np.array([0, 3.0, 0, 0] * 3), first=1)
    (1, [4, 4, 3])
    """
    s = np.asarray(strength, dtype=np.float64)
    n = len(s)
    if n == 0:
        return 0, []
    spread = float(s.std())
    z = (s - s.mean()) / spread if spread > 0 else np.zeros(n)
    starts = [first] if first is not None else list(range(min(max(choices), n)))
    # best[d][g]: best score of a path whose bar starting at beat d has g beats
    best: dict[tuple[int, int], float] = {}
    back: dict[tuple[int, int], tuple[int, int] | None] = {}
    for d0 in starts:
        for g in choices:
            best[(d0, g)] = float(z[d0]) - BAR_COST
            back[(d0, g)] = None
    ends: list[tuple[float, tuple[int, int]]] = []
    for d in range(n):
        for g in choices:
            key = (d, g)
            if key not in best:
                continue
            here = best[key]
            nxt = d + g
            if nxt >= n:
                # the last bar: it may end with the recording
                ends.append((here, key))
                continue
            for g2 in choices:
                score = here + float(z[nxt]) - BAR_COST - (CHANGE_COST if g2 != g else 0.0)
                if score > best.get((nxt, g2), -np.inf):
                    best[(nxt, g2)] = score
                    back[(nxt, g2)] = key
    # ties: the longer bars (4 before 3 before 2) win, as most music counts in fours
    _, last = max(ends, key=lambda e: (round(e[0], 9), e[1][1]))
    path = [last]
    while (previous := back[path[-1]]) is not None:
        path.append(previous)
    path.reverse()
    lengths = [g for _, g in path]
    lengths[-1] = min(lengths[-1], n - path[-1][0])
    return path[0][0], lengths


def _contrast(strength: NDArray[np.float64], n: int, phase: int) -> float:
    on = strength[phase::n]
    off = np.delete(strength, np.arange(phase, len(strength), n))
    if len(on) == 0 or len(off) == 0:
        return 0.0
    scale = max(float(strength.mean()), 1e-12)
    return float((on.mean() - off.mean()) / scale)


def _best_phase(strength: NDArray[np.float64], n: int) -> tuple[int, float]:
    scores = [_contrast(strength, n, p) for p in range(min(n, len(strength)))]
    phase = int(np.argmax(scores)) if scores else 0
    return phase, (scores[phase] if scores else 0.0)


def _lead(seconds: Fraction) -> Section | None:
    """A muted bar lasting ``seconds`` (its tempo to 1e-9 BPM), or None below 40 us.

    A 1/4 bar up to 100000 BPM (leads down to 0.6 ms), a 1/64 bar below that.

    >>> [str(_lead(Fraction(t)).meter) for t in ("1.5", "0.0002")], _lead(Fraction("0.00001"))
    (['1/4', '1/64'], None)
    >>> round(float(section_duration(_lead(Fraction("4.5")))), 9)
    4.5
    """
    if seconds < LEAD_MIN:
        return None
    for unit in (4, 64):
        quarters = Fraction(4, unit)
        bpm = max((60 * quarters / seconds / LEAD_STEP).__round__(), 1) * LEAD_STEP
        if bpm <= 100000:
            return Section(1, Tempo(bpm), Meter(1, unit), mute=True, label="lead")
    return None


def _tempo_unit(meter: Meter, n: int) -> Fraction | None:
    """The tempo's beat unit that makes the click fall on ``n`` beats a bar of ``meter``."""
    if n == meter.count or meter.grouping is not None:
        return None
    beat = meter.bar_quarters / n / 4  # in whole notes
    return None if beat == QUARTER else beat


def _beat_lengths(meter: Meter, unit: Fraction | None) -> list[Fraction]:
    """Quarter notes in each click of one bar (uneven in grouped meters such as 7/8)."""
    offsets = Section(1, Tempo(120, unit), meter).beat_offsets()
    ends = (*offsets[1:], meter.bar_quarters)
    return [e - s for s, e in zip(offsets, ends, strict=True)]


def _plan(
    bars: Bars, spans: int, meter: Meter, unit: Fraction | None, lengths: list[Fraction]
) -> list[tuple[str, int, Meter, list[Fraction]]]:
    """Sections to write: (label, bars, meter, quarter notes of each beat in one bar)."""
    n = bars.beats_per_bar
    plan: list[tuple[str, int, Meter, list[Fraction]]] = []
    if bars.lengths is None:
        pickup = min(bars.first_downbeat % n if bars.first_downbeat < spans else 0, spans)
        full = (spans - pickup) // n
        rest = spans - pickup - full * n
        runs = [("pickup", 1, lengths[n - pickup :]), ("song", full, lengths)]
        runs.append(("end", 1, lengths[:rest]))
        for label, count, bar in runs:
            if count and bar:
                whole = len(bar) == n
                plan.append((label, count, meter if whole else _short_meter(meter, bar, unit), bar))
        return plan
    # a guessed structure: x/4 bars of the given lengths, one section per run of a length
    pickup = min(bars.first_downbeat, spans)
    if pickup:
        plan.append(("pickup", 1, Meter(pickup, 4), [Fraction(1)] * pickup))
    left = spans - pickup
    sizes = []
    for g in bars.lengths:
        if left <= 0:
            break
        sizes.append(min(g, left))
        left -= sizes[-1]
    if left > 0:
        sizes.append(left)
    part = 0
    k = 0
    while k < len(sizes):
        g = sizes[k]
        count = 1
        while k + count < len(sizes) and sizes[k + count] == g:
            count += 1
        last = k + count == len(sizes)
        cut = last and k > 0 and bars.lengths[min(k, len(bars.lengths) - 1)] != g
        part += 1
        label = "end" if cut else ("song" if part == 1 else f"part{part}")
        plan.append((label, count, Meter(g, 4), [Fraction(1)] * g))
        k += count
    return plan


def _short_meter(meter: Meter, lengths: list[Fraction], unit: Fraction | None) -> Meter:
    """A bar of the beats ``lengths`` (a pickup or a short last bar) in ``meter``'s unit.

    >>> [str(_short_meter(Meter(6, 8), [Fraction(3, 2)], Fraction(3, 8))),
    ...  str(_short_meter(Meter(7, 8, (2, 2, 3)), [Fraction(1), Fraction(3, 2)], None)),
    ...  str(_short_meter(Meter(4, 4), [Fraction(1)] * 3, None))]
    ['3/8', '5/8 (2+3)', '3/4']
    """
    pulses = [int(q / meter.pulse_quarters) for q in lengths]
    grouping = tuple(pulses) if unit is None and any(p > 1 for p in pulses) else None
    return Meter(sum(pulses), meter.unit, grouping)


def _tempi(
    times: NDArray[np.float64],
    quarters: list[Fraction],
    start: Fraction,
    per_quarter: Fraction = Fraction(1),
) -> tuple[list[Fraction], Fraction]:
    """Quarter-note tempos so that span k (``quarters[k]`` long) ends at ``times[k+1]``.

    Rounded to :data:`TEMPO_STEP` in the written unit (``per_quarter`` quarters), each
    chosen against the exact time reached so far, so rounding never accumulates. Returns
    the tempos and the exact end time.

    >>> tempos, end = _tempi(np.array([0.0, 0.5, 1.01]), [Fraction(1)] * 2, Fraction(0))
    >>> [str(t) for t in tempos], round(float(end), 7)
    (['120', '117647/1000'], 1.0100003)
    """
    at = start
    out = []
    for k, q in enumerate(quarters):
        target = Fraction(float(times[k + 1]))
        span = target - at
        if span <= 0:
            raise IctusError(f"beats {k} and {k + 1} are not in order: cannot build a map")
        written = max((tempo_for(q, span) / per_quarter / TEMPO_STEP).__round__(), 1) * TEMPO_STEP
        bpm = written * per_quarter
        out.append(bpm)
        at += seconds_at_tempo(q, bpm)
    return out, at


def beats_to_map(
    beats: NDArray[np.float64],
    bars: Bars,
    *,
    follow: Follow = Follow.BEAT,
    title: str | None = None,
) -> TempoMap:
    """A tempo map whose clicks fall on ``beats`` (seconds), in ``bars``.

    Beats before the first downbeat become a pickup bar, the time before the first beat
    a muted ``lead`` bar (so the map starts with the recording), and beats after the last
    whole bar a short last bar. The last beat lasts as long as the one before it.

    >>> m = beats_to_map(np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0]),
    ...                  Bars(Meter(2, 4), 2, 1, False))
    >>> from ictus.formats import format_click
    >>> print(format_click(m), end="")
    lead:   1 1/4 120 mute
    pickup: 1 1/4 120
    song:   2 2/4 120
    end:    1 1/4 120
    """
    times = np.asarray(beats, dtype=np.float64)
    if len(times) < 2:
        raise IctusError("need at least two beats to build a map")
    n, meter = bars.beats_per_bar, bars.meter
    unit = _tempo_unit(meter, n)
    lengths = _beat_lengths(meter, unit)
    if len(lengths) != n:
        raise ParameterError(f"a bar of {meter} does not hold {n} beats")
    # one more beat after the last, as long as the last span
    ext = np.append(times, times[-1] + (times[-1] - times[-2]))
    sections: list[Section] = []
    at = Fraction(0)
    lead = _lead(Fraction(float(times[0])))
    if lead is not None:
        sections.append(lead)
        at = section_duration(lead)
    spans = len(ext) - 1
    index = 0
    for label, count, bar_meter, bar in _plan(bars, spans, meter, unit, lengths):
        quarters = bar * count
        seg = ext[index : index + len(quarters) + 1]
        index += len(quarters)
        per_q = Fraction(1) if unit is None else unit / QUARTER
        if follow is Follow.BAR and label != "pickup" and bar_meter.bar_quarters == sum(bar):
            # downbeats exact, the beats inside each bar even
            tempos, at = _tempi(seg[:: len(bar)], [bar_meter.bar_quarters] * count, at, per_q)
            sections.append(_bar_section(count, bar_meter, tempos, unit, label))
        else:
            tempos, at = _tempi(seg, quarters, at, per_q)
            sections.append(_beat_section(count, bar_meter, tempos, unit, label))
    return TempoMap(tuple(sections), title=title)


def _beat_section(
    bars: int, meter: Meter, tempos: list[Fraction], unit: Fraction | None, label: str
) -> Section:
    """A section with a tempo per beat (klick's per-beat list), or one tempo if all agree."""
    per_q = Fraction(1) if unit is None else unit / QUARTER
    first = Tempo(tempos[0] / per_q, unit)
    if len(set(tempos)) == 1:
        return Section(bars, first, meter, label=label)
    return Section(bars, first, meter, tempi=tuple(tempos), label=label)


def _bar_section(
    bars: int, meter: Meter, tempos: list[Fraction], unit: Fraction | None, label: str
) -> Section:
    """A section with a tempo per bar: steps on the downbeats where the tempo changes."""
    per_q = Fraction(1) if unit is None else unit / QUARTER
    steps = tuple(
        (b * meter.bar_quarters, t) for b, t in enumerate(tempos) if b > 0 and t != tempos[b - 1]
    )
    return Section(bars, Tempo(tempos[0] / per_q, unit), meter, steps=steps or None, label=label)


def f_measure(
    estimated: NDArray[np.float64], reference: NDArray[np.float64], tolerance: float = 0.07
) -> float:
    """The beat-tracking F-measure: beats within ``tolerance`` s, each matched once.

    Matching is one to one and maximal (Hopcroft-Karp is not needed: with tolerance below
    half a beat each beat can match at most one neighbour, so a greedy pass in time order
    is maximal).

    >>> f_measure(np.array([0.0, 0.52, 1.2]), np.array([0.0, 0.5, 1.0]))
    0.6666666666666666
    """
    est = np.sort(np.asarray(estimated, dtype=np.float64))
    ref = np.sort(np.asarray(reference, dtype=np.float64))
    if len(est) == 0 or len(ref) == 0:
        return 0.0
    hits = 0
    i = j = 0
    while i < len(est) and j < len(ref):
        d = est[i] - ref[j]
        if abs(d) <= tolerance:
            hits += 1
            i += 1
            j += 1
        elif d < 0:
            i += 1
        else:
            j += 1
    if hits == 0:
        return 0.0
    precision, recall = hits / len(est), hits / len(ref)
    return 2 * precision * recall / (precision + recall)
