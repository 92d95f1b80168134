"""Spoken counts and cues, rendered ahead of time: espeak-ng, or recorded words.

A :class:`Speaker` turns a word ("one", "chorus", "last time") into mono float32 samples
at the show's rate, trimmed so that the word's **onset is its first sample**: placed at
a beat's sample, the word starts on the beat. The onset is the first sample whose
magnitude reaches :data:`ONSET_DB` below the word's peak; everything before it (the
synthesizer's lead-in silence, breath) is cut, so is the silence after the last sample
above that level. Every word is then scaled to the same peak, :data:`WORD_PEAK`.

Words come from

* ``espeak-ng`` (the Debian package of that name): run once per voice and word, its WAV
  kept under the cache folder (``$XDG_CACHE_HOME/ictus/speech/VOICE/``, default
  ``~/.cache``), then resampled with soxr to the show's rate; or
* a folder of recordings with the same names: :func:`word_file_name` (``one.wav``,
  ``last-time.wav``; ``.flac`` and ``.aiff`` too), resampled when their rate differs.

Nothing here runs in the audio callback: a show's words are made before it plays.

>>> word_file_name("Last time!"), count_words((2, 2, 3))
('last-time', ('one', 'two', 'one', 'two', 'one', 'two', 'three'))
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ictus.engine import rt
from ictus.errors import AudioFileError, IctusError, ParameterError
from ictus.sounds import check_rate

#: A word starts at its first sample within this many dB of its peak.
ONSET_DB = -40.0
#: Every word's peak after trimming (-6 dBFS).
WORD_PEAK = 0.5
#: Recorded word files are looked for with these extensions, in this order.
SAMPLE_EXTENSIONS = (".wav", ".flac", ".aiff", ".aif")
#: Fade at the end of a word cut short by the next one, seconds (no click at the cut).
CUT_FADE = 0.005

_NUMBERS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"),
)


def number_word(n: int) -> str:
    """The English word for a count ``n`` (digits beyond sixteen).

    >>> number_word(7), number_word(21)
    ('seven', '21')
    """
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def count_words(grouping: tuple[int, ...]) -> tuple[str, ...]:
    """The spoken count of one bar: each group counted from one ("one, two, one, two, three").

    >>> count_words((4,)), count_words((3, 3))
    (('one', 'two', 'three', 'four'), ('one', 'two', 'three', 'one', 'two', 'three'))
    """
    return tuple(number_word(k + 1) for group in grouping for k in range(group))


def word_file_name(text: str) -> str:
    """The file name (without extension) a word has in the cache and in a samples folder.

    Lower case; every run of characters other than letters and digits becomes one ``-``.

    >>> word_file_name("Chorus 2"), word_file_name("pre_chorus")
    ('chorus-2', 'pre-chorus')
    """
    name = re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-")
    if not name:
        raise ParameterError(f"cannot speak {text!r}: it has no letters or digits")
    return name


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/ictus/speech`` (``~/.cache`` when the variable is not set)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ictus" / "speech"


def trim_word(samples: NDArray[np.floating], onset_db: float = ONSET_DB) -> NDArray[np.float32]:
    """Cut the silence before the onset and after the end; scale the peak to WORD_PEAK.

    >>> x = np.array([0.0, 1e-6, 0.02, 0.5, -1.0, 0.3, 1e-5, 0.0])
    >>> trim_word(x).tolist()
    [0.009999999776482582, 0.25, -0.5, 0.15000000596046448]
    """
    x = np.asarray(samples, dtype=np.float64)
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak == 0.0:
        raise ParameterError("the word is silent")
    loud = np.flatnonzero(np.abs(x) >= peak * 10 ** (onset_db / 20))
    word = x[loud[0] : loud[-1] + 1] * (WORD_PEAK / peak)
    return word.astype(np.float32)


class Speaker:
    """Words as samples at ``rate``, from espeak-ng or a folder of recordings.

    Parameters
    ----------
    rate
        The show's sample rate.
    voice
        espeak-ng voice (``espeak-ng --voices``), e.g. ``"en"``, ``"en-us"``, ``"de"``.
    samples
        A folder of recorded words (see :func:`word_file_name`); when given, espeak-ng
        is not used.
    cache_dir
        Where espeak-ng's output is kept (default :func:`default_cache_dir`).
    """

    def __init__(
        self,
        rate: int,
        voice: str = "en",
        *,
        samples: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.rate = check_rate(rate)
        if not re.fullmatch(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)?", voice):
            raise ParameterError(f"espeak-ng voice name {voice!r} is not a voice name")
        self.voice = voice
        self.samples = None if samples is None else Path(samples)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._words: dict[str, NDArray[np.float32]] = {}

    def source_of(self, text: str) -> Path:
        """The file a word is read from: the recording, or espeak-ng's (cached) output."""
        name = word_file_name(text)
        if self.samples is not None:
            for ext in SAMPLE_EXTENSIONS:
                path = self.samples / (name + ext)
                if path.is_file():
                    return path
            raise AudioFileError(
                f"no recording of {text!r} in {self.samples}: expected {name}.wav "
                f"(or {', '.join(SAMPLE_EXTENSIONS[1:])})"
            )
        digest = hashlib.sha1(f"{self.voice}\0{text}".encode()).hexdigest()[:10]
        path = self.cache_dir / self.voice.replace("/", "_") / f"{name}-{digest}.wav"
        if not path.is_file():
            _espeak(text, self.voice, path)
        return path

    def word(self, text: str) -> NDArray[np.float32]:
        """``text`` spoken, trimmed to its onset, at the speaker's rate (read-only)."""
        if text not in self._words:
            word = trim_word(_read_at(self.source_of(text), self.rate))
            word.flags.writeable = False
            self._words[text] = word
        return self._words[text]


@lru_cache(maxsize=1)
def _espeak_binary() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise IctusError(
            "spoken counts need espeak-ng: install it (apt-get install espeak-ng) "
            "or give the show a folder of recorded words (speech.samples)"
        )
    return path


def _espeak(text: str, voice: str, path: Path) -> None:
    """Run espeak-ng once; the WAV appears at ``path`` only when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".wav", dir=path.parent)
    os.close(fd)
    try:
        with subprocess.Popen(
            [_espeak_binary(), "-v", voice, "-w", tmp, "--", text],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as proc:
            # started from a show's audio process (a song made ready while another
            # plays), it must not keep that thread's real-time priority or CPU
            rt.as_ordinary_process(proc.pid)
            try:
                stdout, stderr = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise
        if proc.returncode != 0 or os.path.getsize(tmp) == 0:
            reason = " ".join((stderr or stdout or "no output").split())
            raise IctusError(f"espeak-ng could not speak {text!r} with voice {voice!r}: {reason}")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read_at(path: Path, rate: int) -> NDArray[np.float64]:
    import soundfile

    try:
        data, file_rate = soundfile.read(path, dtype="float64", always_2d=True)
    except (RuntimeError, OSError, ValueError) as err:
        raise AudioFileError(f"{path}: not a readable audio file ({err})") from None
    mono: NDArray[np.float64] = data.mean(axis=1)
    if file_rate == rate:
        return mono
    import soxr

    resampled: NDArray[np.float64] = soxr.resample(mono, file_rate, rate, quality="VHQ")
    return resampled
