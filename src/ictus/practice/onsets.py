"""Where the notes of a recording start: a library's onset detector, refined to the sample.

A spectral-flux detector (librosa's ``onset_detect``, or aubio's) finds every note to
within a hop (a few ms, and late by a part of one). :func:`refine` then looks at the
waveform itself around each: where the high-passed envelope last rises through a fifth
of the way from the floor before the note (noise, the room's tail of the last note) to
the note's peak (found where the energy over 2 ms is greatest, so a spike of noise is
not taken for it). On plucked and struck notes that is within a fraction of a millisecond of
the true start (measured in docs/PRACTICE.md), which a timing report needs.

The analysis libraries are optional (``pip install 'ictus[practice]'``) and imported
only when a detector runs.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ictus.errors import IctusError, ParameterError

#: What a user without the analysis libraries is told to install.
EXTRA_HINT = "pip install 'ictus[practice]'"


class MissingExtraError(IctusError):
    """An optional analysis library is not installed."""


class Detector(enum.Enum):
    """Which library finds the onsets (librosa by default: see docs/PRACTICE.md)."""

    LIBROSA = "librosa"
    AUBIO = "aubio"


#: aubio is for comparison only: not part of the extra.
_HINTS = {Detector.LIBROSA: EXTRA_HINT, Detector.AUBIO: "pip install aubio"}


def need(module: str, hint: str = EXTRA_HINT) -> Any:
    """Import an optional analysis library, or fail with one line saying what to install.

    >>> need("numpy").__name__
    'numpy'
    >>> need("no_such_library_here")
    Traceback (most recent call last):
    ...
    ictus.practice.onsets.MissingExtraError: no_such_library_here is not installed: \
pip install 'ictus[practice]'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(f"{module} is not installed: {hint}") from None


def library_version(detector: Detector = Detector.LIBROSA) -> str:
    """``"librosa 0.11.0"``: the name and version of the library behind ``detector``."""
    module = need(detector.value, _HINTS[detector])
    version = getattr(module, "__version__", None) or getattr(module, "version", "?")
    return f"{detector.value} {version}"


def coarse_onsets(
    audio: NDArray[Any], rate: int, *, detector: Detector = Detector.LIBROSA, hop: int = 128
) -> NDArray[np.float64]:
    """Onset times in seconds straight from the library (within a hop of the truth)."""
    y = np.ascontiguousarray(audio, dtype=np.float32)
    if detector is Detector.LIBROSA:
        librosa = need("librosa")
        times = librosa.onset.onset_detect(
            y=y, sr=rate, hop_length=hop, units="time", backtrack=False
        )
        return np.asarray(times, dtype=np.float64)
    aubio = need("aubio", _HINTS[detector])
    win = 4 * hop
    finder = aubio.onset("specflux", win, hop, rate)
    finder.set_minioi_ms(40.0)
    found = []
    pad = np.zeros(-len(y) % hop, dtype=np.float32)
    frames = np.concatenate([y, pad]).reshape(-1, hop)
    for frame in frames:
        if finder(frame)[0]:
            found.append(finder.get_last_s())
    return np.asarray(found, dtype=np.float64)


def refine(
    audio: NDArray[Any],
    rate: int,
    coarse: NDArray[np.float64],
    *,
    before: float = 0.03,
    after: float = 0.015,
    rise: float = 0.2,
) -> NDArray[np.float64]:
    """Move each coarse onset to where the waveform's attack starts.

    Parameters
    ----------
    audio : mono samples
    rate : sample rate in Hz
    coarse : onset times in seconds, increasing
    before, after : seconds
        Where to look around each coarse onset (never before the previous note + 10 ms).
    rise : float in 0..1
        The share of the rise from floor to peak that marks the start.

    Examples
    --------
    A tone that starts at sample 1000 (of 8000 Hz), found from a guess 9 ms late:

    >>> x = np.zeros(4000); t = np.arange(3000)
    >>> x[1000:] = np.cos(t * 0.3) * np.exp(-t / 800)
    >>> refine(x, 8000, np.array([0.134])) * 8000
    array([1000.])
    """
    if not 0 < rise < 1:
        raise ParameterError(f"rise must be between 0 and 1, got {rise}")
    x = np.asarray(audio, dtype=np.float64)
    # the attack is broadband, the room's tail and the notes' bodies are not: high-pass
    hp = np.diff(x, prepend=x[:1])
    width = max(1, round(0.0005 * rate))
    power = np.convolve(hp**2, np.ones(width) / width, mode="full")[: len(hp)]
    # a trailing window: the envelope at n covers samples n-width+1..n, so it rises at the
    # attack's first sample; correct nothing later
    env = np.sqrt(power)
    # the note's attack carries energy for milliseconds, a noise spike for a fraction of
    # one: the peak is looked for on a 2 ms envelope, then read on the fine one
    body = max(width, round(0.002 * rate))
    smooth = np.convolve(hp**2, np.ones(body) / body, mode="full")[: len(hp)]
    out = np.empty(len(coarse))
    previous = -1.0
    for i, t in enumerate(coarse):
        lo = max(0, round((t - before) * rate), round((previous + 0.01) * rate))
        hi = min(len(env), round((t + after) * rate))
        if hi - lo < 4 * width:
            out[i] = t
            previous = t
            continue
        seg = env[lo:hi]
        floor_n = max(width, (hi - lo) // 4)
        floor = float(np.median(seg[:floor_n]))
        end = int(np.argmax(smooth[lo:hi]))
        top = max(0, end - body + 1) + int(np.argmax(seg[max(0, end - body + 1) : end + 1]))
        peak = float(seg[top])
        if peak <= floor * 1.5:
            out[i] = t
            previous = t
            continue
        level = floor + rise * (peak - floor)
        # the last crossing before the peak: a noise spike earlier in the window is not it
        below = np.flatnonzero(seg[:top] < level)
        first = int(below[-1]) + 1 if len(below) else 0
        # walk back while the envelope still falls: the crossing is on the rise, the start
        # is where the rise begins
        start = first
        while start > 0 and seg[start - 1] < seg[start] and seg[start - 1] > floor:
            start -= 1
        out[i] = (lo + start) / rate
        previous = out[i]
    return out


def detect_onsets(
    audio: NDArray[Any], rate: int, *, detector: Detector = Detector.LIBROSA
) -> NDArray[np.float64]:
    """Onset times in seconds of every note in ``audio`` (mono), refined to the sample.

    Raises :class:`MissingExtraError` (one line naming the extra) without the library.
    """
    if audio.ndim != 1:
        raise ParameterError("detect_onsets takes mono audio: mix the channels first")
    coarse = coarse_onsets(audio, rate, detector=detector)
    return refine(audio, rate, coarse)
