"""Reading a recording: one audio file as mono samples at its own rate."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ictus.errors import AudioFileError


def read_recording(path: str | os.PathLike[str]) -> tuple[NDArray[np.float64], int]:
    """Samples (channels averaged) and sample rate of ``path``, or a one-line error.

    >>> read_recording("no-such-take.wav")
    Traceback (most recent call last):
    ...
    ictus.errors.AudioFileError: cannot read recording 'no-such-take.wav': no such file
    """
    p = Path(path)

    def fail(reason: str) -> AudioFileError:
        return AudioFileError(f"cannot read recording '{p}': {reason}")

    if not p.exists():
        raise fail("no such file")
    if p.is_dir():
        raise fail("is a directory, not an audio file")
    import soundfile

    try:
        data, rate = soundfile.read(p, dtype="float64", always_2d=True)
    except (RuntimeError, OSError, ValueError, TypeError) as exc:
        detail = str(getattr(exc, "error_string", "") or exc).strip().rstrip(".")
        raise fail(f"not a readable audio file ({' '.join(detail.split())})") from None
    if data.shape[0] == 0:
        raise fail("contains no audio (0 frames)")
    mono: NDArray[np.float64] = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise fail("contains non-finite samples (NaN or infinity)")
    return mono, int(rate)
