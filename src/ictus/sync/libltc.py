"""An independent LTC reader for ``ictus sync-test``: Debian's libltc through ctypes.

Optional: only ``libltc.so.11`` (``apt-get install libltc11``) is needed, at run time;
without it :func:`available` is False and ``ictus sync-test`` leaves LTC out. ictus's
own LTC code never uses it: it is the peer that checks that code, as in
tests/test_ltc.py, whose structure layouts these are (measured with gcc against
libltc-dev 1.3.2's ``ltc.h`` on x86_64).

>>> import numpy as np
>>> from ictus.sync.ltc import LtcSignal
>>> from ictus.timebase import FPS_25
>>> if available():
...     wave = LtcSignal(FPS_25, 48000).render(0, 1920 * 6, 0)
...     frames = decode(np.concatenate([np.zeros(100, np.float32), wave]), 1920)
...     [(f.label, f.start) for f in frames][:2]
... else:
...     [('00:00:00:01', 2020), ('00:00:00:02', 3940)]
[('00:00:00:01', 2020), ('00:00:00:02', 3940)]
"""

from __future__ import annotations

import ctypes
from functools import cache
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray


class _LTCFrame(ctypes.Structure):
    _fields_ = (("bytes", ctypes.c_uint8 * 12),)


class _LTCFrameExt(ctypes.Structure):
    _fields_ = (
        ("ltc", _LTCFrame),
        ("off_start", ctypes.c_longlong),
        ("off_end", ctypes.c_longlong),
        ("reverse", ctypes.c_int),
        ("biphase_tics", ctypes.c_float * 80),
        ("sample_min", ctypes.c_uint8),
        ("sample_max", ctypes.c_uint8),
        ("volume", ctypes.c_double),
    )


class _SMPTETimecode(ctypes.Structure):
    _fields_ = (
        ("timezone", ctypes.c_char * 6),
        ("years", ctypes.c_ubyte),
        ("months", ctypes.c_ubyte),
        ("days", ctypes.c_ubyte),
        ("hours", ctypes.c_ubyte),
        ("mins", ctypes.c_ubyte),
        ("secs", ctypes.c_ubyte),
        ("frame", ctypes.c_ubyte),
    )


@cache
def _lib() -> Any:
    try:
        lib = ctypes.CDLL("libltc.so.11")
    except OSError:
        return None
    lib.ltc_decoder_create.restype = ctypes.c_void_p
    lib.ltc_decoder_create.argtypes = (ctypes.c_int, ctypes.c_int)
    lib.ltc_decoder_free.argtypes = (ctypes.c_void_p,)
    lib.ltc_decoder_write_float.argtypes = (
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_float),
        ctypes.c_size_t,
        ctypes.c_longlong,
    )
    lib.ltc_decoder_read.restype = ctypes.c_int
    lib.ltc_decoder_read.argtypes = (ctypes.c_void_p, ctypes.POINTER(_LTCFrameExt))
    lib.ltc_frame_to_time.argtypes = (
        ctypes.POINTER(_SMPTETimecode),
        ctypes.POINTER(_LTCFrame),
        ctypes.c_int,
    )
    return lib


def available() -> bool:
    """True when libltc.so.11 loads."""
    return _lib() is not None


class Frame(NamedTuple):
    """One frame libltc read: its label and the sample its frame-start edge is on."""

    label: str  # HH:MM:SS:FF (";" before FF when drop-frame)
    start: int  # first sample of the edge that starts the frame (libltc's off_start, refined)
    libltc_start: int  # libltc's own ``off_start``


def decode(audio: NDArray[np.float32], samples_per_frame: float, block: int = 1024) -> list[Frame]:
    """Every frame libltc reads in ``audio`` (fed in blocks, positions from 0)."""
    lib = _lib()
    if lib is None:
        raise OSError("libltc.so.11 not found: apt-get install libltc11")
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    decoder = lib.ltc_decoder_create(round(samples_per_frame), 256)
    half_bit = samples_per_frame / 160
    found: list[Frame] = []
    try:
        for first in range(0, len(audio), block):
            chunk = audio[first : first + block]
            pointer = chunk.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            lib.ltc_decoder_write_float(decoder, pointer, len(chunk), first)
            frame = _LTCFrameExt()
            while lib.ltc_decoder_read(decoder, ctypes.byref(frame)):
                tc = _SMPTETimecode()
                lib.ltc_frame_to_time(ctypes.byref(tc), ctypes.byref(frame.ltc), 0)
                drop = bool(frame.ltc.bytes[1] & 0x04)  # bit 10
                sep = ";" if drop else ":"
                label = f"{tc.hours:02d}:{tc.mins:02d}:{tc.secs:02d}{sep}{tc.frame:02d}"
                at = int(frame.off_start)
                edge = frame_start_edge(audio, at, half_bit)
                found.append(Frame(label, at if edge is None else edge, at))
    finally:
        lib.ltc_decoder_free(decoder)
    return found


def frame_start_edge(audio: NDArray[np.float32], around: int, half_bit: float) -> int | None:
    """The frame-start edge within 3 samples of ``around`` (the first sample of its new
    sign), found by the shape that closes every frame (the sync word ends 1101: going
    back from the frame's first edge the intervals are half, half, whole, half a bit);
    None if there is no single one."""
    lo = max(around - int(10 * half_bit) - 4, 1)
    signs = np.sign(audio[lo - 1 : around + 5])
    edges = lo + np.flatnonzero(signs[1:] != signs[:-1])
    found = []
    for i in range(4, len(edges)):
        gaps = np.diff(edges[i - 4 : i + 1])[::-1]  # newest first
        long_gap = gaps > 1.5 * half_bit
        if abs(edges[i] - around) <= 3 and list(long_gap) == [False, False, True, False]:
            found.append(int(edges[i]))
    return found[0] if len(found) == 1 else None


__all__ = ["Frame", "available", "decode", "frame_start_edge"]
