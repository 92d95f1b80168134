"""Voices made from the user's own sample files.

Files are read with :mod:`soundfile` (WAV, FLAC, AIFF, OGG, MP3 and everything else
libsndfile knows), mixed to mono and, only when their rate differs from the output
rate, resampled with :mod:`soxr` at its best quality. A file already at the output
rate is used sample for sample, untouched: a user's carefully trimmed click must come
out exactly as they made it.

Both libraries are imported on first use, not with this module: the command line
imports :mod:`ictus.sounds` for every command, and most commands never read a sample.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ictus.errors import AudioFileError
from ictus.sounds.base import LEVELS, Voice, check_rate

if TYPE_CHECKING:
    from pathlib import Path

#: soxr quality preset for resampling samples: they are tiny, so the best is free.
RESAMPLE_QUALITY = "VHQ"


def _fail(path: Path, reason: str) -> AudioFileError:
    return AudioFileError(f"cannot use sample file '{path}': {reason}")


def _read_mono(path: Path, rate: int) -> npt.NDArray[np.float64]:
    """One sample file as mono float64 at ``rate``, or a one-line AudioFileError."""
    # Checked before libsndfile sees the file, so the user gets a plain reason instead of
    # its generic "System error" / "Format not recognised".
    if not path.exists():
        raise _fail(path, "no such file")
    if path.is_dir():
        raise _fail(path, "is a directory, not an audio file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _fail(path, exc.strerror or str(exc)) from None
    if size == 0:
        raise _fail(path, "the file is empty")

    import soundfile

    from ictus.atomic import note_input

    note_input(path)  # a render must not write over its own sample
    try:
        data, file_rate = soundfile.read(path, dtype="float64", always_2d=True)
    except (RuntimeError, OSError, ValueError, TypeError) as exc:
        # libsndfile's own text ("Format not recognised.", "Unspecified internal error.")
        # is the useful part; the "Error opening '...':" prefix would repeat the path.
        detail = str(getattr(exc, "error_string", "") or exc).strip().rstrip(".")
        detail = " ".join(detail.split())  # messages can hold newlines; keep one line
        raise _fail(path, f"not a readable audio file ({detail})") from None

    if data.shape[0] == 0:
        raise _fail(path, "contains no audio (0 frames)")
    # One channel is taken as is (a mean over one channel is exact anyway, but this
    # makes "no processing" obvious); more are averaged so a mono-panned stereo file
    # keeps its level.
    mono: npt.NDArray[np.float64] = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise _fail(path, "contains non-finite samples (NaN or infinity)")
    if file_rate == rate:
        return mono

    import soxr

    resampled: npt.NDArray[np.float64] = soxr.resample(
        mono, file_rate, rate, quality=RESAMPLE_QUALITY
    )
    if resampled.size == 0:
        raise _fail(path, f"too short to resample from {file_rate} Hz to {rate} Hz")
    return resampled


def load_voice(paths: Sequence[str | os.PathLike[Any]], rate: int) -> Voice:
    """Build a voice from one to three sample files: ``accent[, normal[, sub]]``.

    A file given for several levels is used for each: one file plays all three, two
    files give accent and normal, and sub uses the normal file. Each file is read once
    even if named twice.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        One to three audio files (a single path on its own is accepted too).
        Multichannel files are mixed to mono by averaging the channels.
    rate : int
        Output sample rate in Hz. Files at another rate are resampled with soxr
        (quality ``'VHQ'``); files at this rate are used unchanged, sample for sample.

    Returns
    -------
    Voice
        Named after the files, comma-separated.

    Raises
    ------
    AudioFileError
        With one line naming the file and the reason, for no paths or more than three,
        a missing, empty or unreadable file, or one with no audio.
    ParameterError
        For a rate outside 8000..384000 Hz (:func:`~ictus.sounds.check_rate`).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile
    >>> folder = tempfile.mkdtemp()
    >>> click = os.path.join(folder, "click.wav")
    >>> soundfile.write(click, np.array([0.0, 0.5, -0.25, 0.0]), 48000, subtype="PCM_16")
    >>> voice = load_voice([click], 48000)
    >>> voice.sub.tolist(), voice.name
    ([0.0, 0.5, -0.25, 0.0], 'click.wav')
    >>> len(load_voice([click], 96000).accent)
    8
    >>> load_voice([os.path.join(folder, "nope.wav")], 48000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ictus.errors.AudioFileError: cannot use sample file '.../nope.wav': no such file
    >>> import shutil; shutil.rmtree(folder)
    """
    rate = check_rate(rate)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    from pathlib import Path  # here: pathlib is 3 ms of start-up, and few use samples

    files = [Path(p) for p in paths]
    if not files:
        raise AudioFileError("no sample files given; expected accent[,normal[,sub]]")
    if len(files) > len(LEVELS):
        names = ", ".join(f"'{f}'" for f in files)
        raise AudioFileError(
            f"too many sample files ({len(files)}: {names}); "
            "expected at most 3: accent[,normal[,sub]]"
        )
    # Pad with the last file: [a] -> a,a,a and [a, n] -> a,n,n.
    by_level = files + [files[-1]] * (len(LEVELS) - len(files))
    loaded: dict[Path, npt.NDArray[np.float32]] = {}
    for path in by_level:
        if path not in loaded:
            samples = _read_mono(path, rate).astype(np.float32)
            samples.flags.writeable = False  # lets Voice share it between levels
            loaded[path] = samples
    name = ",".join(f.name for f in files)
    return Voice(name, rate, *(loaded[path] for path in by_level))
