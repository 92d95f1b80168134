"""Synthetic recordings with known timing, for tests, measurements and the README examples.

:func:`make_take` plays a map's clicks on a plucked, pitched instrument, moving every
note by a known amount (a seeded normal deviation, a push or lag per section and a slow
drift), then adds a small room (a noise impulse response with an exponential decay) and
background noise. The true onset of every note comes back with the audio, so an analysis
can be checked against it.

:func:`make_drum_loop` plays kick, snare and hi-hat on every beat of a map (kick on the
downbeat, snare on the other beats, hats on the eighths), for the beat tracker.

Only numpy is needed: the same takes come out on every machine for a given seed.

>>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
>>> take = make_take(build_grid(TempoMap((Section(2, Tempo(120)),))), rate=8000, seed=1)
>>> len(take.onsets), take.audio.dtype, round(float(abs(take.audio).max()), 2)
(8, dtype('float32'), 0.89)
>>> bool(abs(take.onsets - take.clicks - take.deviations).max() < 1e-12)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.tempomap import SILENT, ClickGrid

#: The example song of docs/PRACTICE.md: a verse, a chorus that pushes the tempo, a bar
#: line in 7/8 and a slower outro.
SONG = """title: Practice song
count-in: 1 bar
verse:  4 4/4 100
chorus: 4 4/4 100-116
bridge: 2 7/8 (2+2+3) e=300
outro:  2 4/4 96
"""

#: Drum loops for the beat tracker: name -> (map, seconds of silence before the first beat).
DRUM_LOOPS = {
    "ramp-meter": ("a: 8 4/4 100\nb: 8 4/4 100-130\nc: 6 3/4 130\nd: 4 4/4 130-110\n", 1.3),
    "slow-ramp": ("a: 4 4/4 80\nb: 16 4/4 80-140\nc: 4 4/4 140\n", 0.25),
    "six-eight": ("a: 16 6/8 q.=70\n", 0.8),
    "waltz-ramp": ("a: 8 3/4 150-120\nb: 4 4/4 120\n", 0.5),
}

#: A little tune for the plucked notes (MIDI note numbers), repeated.
_TUNE = (52, 55, 57, 59, 62, 59, 57, 55, 64, 62, 59, 57)


@dataclass(frozen=True, eq=False)
class Take:
    """A synthetic recording and its truth.

    Attributes
    ----------
    audio : float32 mono samples, peak 0.89
    rate : sample rate in Hz
    clicks : float64 map time (s) of the click each note belongs to
    onsets : float64 recording time (s) where each note really starts
    deviations : float64 seconds each note is late (negative: early) against its click
    offset : seconds of recording before the map's time 0
    """

    audio: NDArray[np.float32]
    rate: int
    clicks: NDArray[np.float64]
    onsets: NDArray[np.float64]
    deviations: NDArray[np.float64]
    offset: float


def pluck(freq: float, rate: int, seconds: float = 1.2) -> NDArray[np.float64]:
    """A plucked string: decaying harmonics after a 1.5 ms noise burst, starting at sample 0.

    Higher harmonics die faster, as on a real string; the burst gives the sharp attack of
    the pick.

    >>> x = pluck(220.0, 8000)
    >>> len(x), bool(abs(x[:12]).max() > 0.1), bool(abs(x[-100:]).max() < 0.02)
    (9600, True, True)
    """
    n = int(seconds * rate)
    t = np.arange(n) / rate
    out = np.zeros(n)
    for k in range(1, 13):
        f = k * freq
        if f >= rate / 2 * 0.9:
            break
        # decay time shrinks with the harmonic number (stiffness and air damping)
        out += np.sin(2 * np.pi * f * t) * np.exp(-t * (3.0 + 1.8 * k)) / k
    burst = int(0.0015 * rate)
    rng = np.random.default_rng(int(freq * 1000))
    out[:burst] += rng.standard_normal(burst) * 0.3 * np.linspace(1.0, 0.0, burst)
    # 0.3 ms fade-in so the attack is steep but not a single-sample step
    fade = max(2, int(0.0003 * rate))
    out[:fade] *= np.linspace(0.0, 1.0, fade)
    peak: float = float(abs(out).max())
    result: NDArray[np.float64] = out / peak
    return result


def room(
    audio: NDArray[np.float64], rate: int, rt60: float, wet: float, seed: int
) -> NDArray[np.float64]:
    """``audio`` in a small room: convolution with exponentially decaying noise.

    The impulse response starts with the direct sound (so onsets stay where they are) and
    its reverberant tail decays by 60 dB in ``rt60`` seconds.

    >>> x = np.zeros(800); x[0] = 1.0
    >>> y = room(x, 8000, rt60=0.05, wet=0.5, seed=0)
    >>> float(y[0]), bool(abs(y[1:40]).max() > 0), len(y)
    (1.0, True, 800)
    """
    if rt60 <= 0:
        return audio
    rng = np.random.default_rng(seed)
    n = int(rt60 * rate)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.91 * t / rt60)
    tail *= wet / np.sqrt(np.sum(tail**2))
    ir = tail
    ir[0] = 1.0
    size = 1 << int(np.ceil(np.log2(len(audio) + n)))
    wetted = np.fft.irfft(np.fft.rfft(audio, size) * np.fft.rfft(ir, size), size)
    result: NDArray[np.float64] = wetted[: len(audio)]
    return result


def _notes(grid: ClickGrid, with_silent: bool) -> NDArray[np.intp]:
    keep = grid.bar > 0
    if not with_silent:
        keep &= grid.level != SILENT
    return np.flatnonzero(keep)


def make_take(
    grid: ClickGrid,
    *,
    rate: int = 48000,
    seed: int = 0,
    spread: float = 0.012,
    push: dict[str, float] | None = None,
    gap_push: float = 0.0,
    drift: float = 0.0,
    rest: float = 0.0,
    offset: float = 0.0,
    noise_db: float = -50.0,
    rt60: float = 0.35,
    wet: float = 0.4,
) -> Take:
    """A player on a plucked string, playing every click of ``grid`` after the count-in.

    Parameters
    ----------
    grid : ClickGrid
        Notes fall on its clicks (silent ones included: a player keeps playing through a
        muted bar), count-in excluded.
    rate : int
        Sample rate in Hz.
    seed : int
        Seeds the deviations, the rests, the noise and the room.
    spread : float
        Standard deviation of the normal random deviation, in seconds.
    push : dict of section label -> seconds, optional
        Added to every note of that section (negative: ahead of the click).
    gap_push : float
        Seconds added to every note in a gap bar (``grid.gap_bars``: the click muted).
    drift : float
        Seconds of lateness gained per minute of map time (a linear drift).
    rest : float in 0..1
        Share of clicks left unplayed.
    offset : float >= 0
        Seconds of recording before the map's time 0.
    noise_db : float
        Level of the white background noise in dBFS (relative to the normalised peak).
    rt60, wet : float
        The room: decay time in seconds (0: none) and tail energy relative to the direct sound.
    """
    if not 0 <= rest < 1:
        raise ParameterError(f"rest share must be 0..1, got {rest}")
    if offset < 0:
        raise ParameterError(f"offset must be >= 0, got {offset}")
    rng = np.random.default_rng(seed)
    index = _notes(grid, with_silent=True)
    index = index[rng.random(len(index)) >= rest]
    clicks = grid.time[index]
    deviations = rng.normal(0.0, spread, len(index)) + drift * clicks / 60.0
    for label, amount in (push or {}).items():
        deviations[np.array(grid.section_names)[grid.section[index]] == label] += amount
    deviations[np.isin(grid.bar[index], sorted(grid.gap_bars))] += gap_push
    onsets = clicks + offset + deviations
    if len(onsets) and onsets.min() < 0:
        raise ParameterError("a note would start before the recording: give a larger offset")
    end = (onsets.max() if len(onsets) else 0.0) + 1.5
    audio = np.zeros(int(end * rate) + 1)
    tones = {}
    for i, start in enumerate(onsets):
        note = _TUNE[i % len(_TUNE)]
        if note not in tones:
            tones[note] = pluck(440.0 * 2 ** ((note - 69) / 12), rate)
        tone = tones[note]
        # sub-sample placement: shift the tone by the fractional sample in the spectrum
        first = int(np.floor(start * rate))
        frac = start * rate - first
        shifted = _fractional_delay(tone, frac)
        stop = min(len(audio), first + len(shifted))
        audio[first:stop] += shifted[: stop - first] * (0.6 + 0.4 * rng.random())
    audio = room(audio, rate, rt60, wet, seed + 1)
    audio += rng.standard_normal(len(audio)) * 10 ** (noise_db / 20)
    audio *= 0.89 / abs(audio).max()
    return Take(audio.astype(np.float32), rate, clicks, onsets, deviations, offset)


def _fractional_delay(x: NDArray[np.float64], frac: float) -> NDArray[np.float64]:
    """``x`` delayed by ``frac`` (0..1) of a sample, band-limited (a phase ramp)."""
    if frac == 0:
        return x
    size = 1 << int(np.ceil(np.log2(len(x) + 64)))
    spectrum = np.fft.rfft(x, size)
    spectrum *= np.exp(-2j * np.pi * np.fft.rfftfreq(size) * frac)
    result: NDArray[np.float64] = np.fft.irfft(spectrum, size)[: len(x) + 1]
    return result


# -- drum loops for the beat tracker ---------------------------------------------------


def _kick(rate: int) -> NDArray[np.float64]:
    t = np.arange(int(0.35 * rate)) / rate
    # pitch falls from 150 to 50 Hz: integrate the frequency for the phase
    freq = 50 + 100 * np.exp(-t * 30)
    phase = 2 * np.pi * np.cumsum(freq) / rate
    out: NDArray[np.float64] = np.sin(phase) * np.exp(-t * 9)
    return out


def _snare(rate: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = np.arange(int(0.25 * rate)) / rate
    body = np.sin(2 * np.pi * 190 * t) * np.exp(-t * 25)
    out: NDArray[np.float64] = 0.6 * body + 0.5 * rng.standard_normal(len(t)) * np.exp(-t * 18)
    return out


def _hat(rate: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = np.arange(int(0.06 * rate)) / rate
    noise = rng.standard_normal(len(t))
    noise = np.diff(noise, prepend=0.0)  # tilt towards the highs
    out: NDArray[np.float64] = 0.15 * noise * np.exp(-t * 70)
    return out


def make_drum_loop(
    grid: ClickGrid,
    *,
    rate: int = 44100,
    seed: int = 0,
    noise_db: float = -60.0,
    lead: float = 0.0,
    spread: float = 0.0,
) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
    """Kick on each downbeat, snare on the other beats, hats on the eighths; and the beats.

    Beats are the grid's beats (``sub == 0``) after the count-in, moved to start ``lead``
    seconds into the recording, each played off by a normal ``spread`` (s) as a drummer
    would; returns the audio and the times the beats were played, in seconds.

    >>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
    >>> audio, beats = make_drum_loop(build_grid(TempoMap((Section(1, Tempo(120)),))), rate=8000)
    >>> beats.tolist(), len(audio) / 8000  # a second after the last beat
    ([0.0, 0.5, 1.0, 1.5], 2.5)
    """
    rng = np.random.default_rng(seed)
    beat_index = np.flatnonzero((grid.bar > 0) & (grid.sub == 0))
    if lead < 0:
        raise ParameterError(f"lead must be >= 0 s, got {lead}")
    first = grid.time[beat_index[0]] if len(beat_index) else 0.0
    beats = grid.time[beat_index] - first + lead
    if spread > 0:
        beats = beats + rng.normal(0.0, spread, len(beats))
        beats = np.maximum(beats, 0.0)
    audio = np.zeros(int((beats[-1] + 1.0) * rate) if len(beats) else rate)
    kick, snare = _kick(rate), _snare(rate, rng)

    def put(x: NDArray[np.float64], at: float, gain: float) -> None:
        first = round(at * rate)
        stop = min(len(audio), first + len(x))
        audio[first:stop] += gain * x[: stop - first]

    for k, i in enumerate(beat_index):
        at = beats[k]
        if grid.beat[i] == 1:
            put(kick, at, 1.0)
        else:
            put(snare, at, 0.7)
        put(_hat(rate, rng), at, 1.0)
        following = beats[k + 1] if k + 1 < len(beats) else at + (at - beats[k - 1] if k else 0.5)
        put(_hat(rate, rng), (at + following) / 2, 0.6)
    audio += rng.standard_normal(len(audio)) * 10 ** (noise_db / 20)
    audio *= 0.89 / abs(audio).max()
    return audio.astype(np.float32), beats
