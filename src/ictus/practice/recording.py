"""Reading a recording: one audio file as mono samples at its own rate."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
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
        with _c_stderr_silenced():
            data, rate = soundfile.read(p, dtype="float64", always_2d=True)
    except (RuntimeError, OSError, ValueError, TypeError) as exc:
        detail = str(getattr(exc, "error_string", "") or exc).strip().rstrip(".")
        if detail.startswith("File does not exist"):
            # libsndfile's words for "no decoder knows these bytes"; the file is there
            detail = "no audio format ictus knows: WAV, FLAC, OGG, MP3, AIFF"
        raise fail(f"not a readable audio file ({' '.join(detail.split())})") from None
    if data.shape[0] == 0:
        raise fail("contains no audio (0 frames)")
    mono: NDArray[np.float64] = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise fail("contains non-finite samples (NaN or infinity)")
    return mono, int(rate)


@contextlib.contextmanager
def _c_stderr_silenced() -> Iterator[None]:
    """Standard error closed to C libraries for a moment: libsndfile's MP3 decoder
    prints "Note: Illegal Audio-MPEG-Header ..." lines for bytes that are no MP3, and
    the one-line error that follows says all of it."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no standard error at all: nothing to keep quiet
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
