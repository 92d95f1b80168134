"""Click sounds: the built-in synthesized voices and voices from sample files.

A :class:`Voice` holds three short mono sounds at one sample rate, one per level of
:data:`LEVELS`: ``accent``, ``normal`` and ``sub`` (subdivision). Get one with

* :func:`synth_voice` -- a built-in voice (see :func:`voice_names` and
  :func:`voice_descriptions`), synthesized at the output rate, band-limited, click-free
  and free of DC;
* :func:`load_voice` -- one to three of the user's own audio files.

:func:`parse_gains` reads per-level gains such as ``accent=0,normal=-3,sub=-9``.

Examples
--------
>>> from ictus.sounds import LEVELS, parse_gains, synth_voice
>>> voice = synth_voice("cowbell", 44100)
>>> gains = parse_gains("sub=-6")
>>> [round(float(abs(voice.level(lv)).max() * gains[lv]), 2) for lv in LEVELS]
[0.42, 0.24, 0.08]
"""

from ictus.sounds.base import LEVELS, MAX_RATE, MIN_RATE, Voice, check_rate, parse_gains
from ictus.sounds.samples import load_voice
from ictus.sounds.voices import DEFAULT_VOICE, synth_voice, voice_descriptions, voice_names

__all__ = [
    "DEFAULT_VOICE",
    "LEVELS",
    "MAX_RATE",
    "MIN_RATE",
    "Voice",
    "check_rate",
    "load_voice",
    "parse_gains",
    "synth_voice",
    "voice_descriptions",
    "voice_names",
]
