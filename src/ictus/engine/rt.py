"""Real-time settings: what keeps a Python audio callback on time.

The engine applies these itself (:meth:`ictus.engine.Engine.open`) when its backend runs
on a real clock; frontends need not call anything here.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import sys
from collections.abc import Collection
from typing import NamedTuple

#: Seconds a thread may hold the GIL while another waits (see :func:`realtime_habits`).
SWITCH_INTERVAL = 0.0001


def realtime_habits() -> None:
    """Process-wide settings that keep a Python audio callback on time.

    - The callback needs the GIL within a fraction of a period: other threads hand it
      over every 0.1 ms instead of Python's default 5 ms. CPython hands the lock to any
      thread that has waited that long, the audio thread included, so the interval is
      what the callback loses each time; with the display, OSC and 50 web clients in
      the process, 0.1 ms cut the callback's p99.9 from ~2.1 ms to ~0.8-1.2 ms against
      0.5 ms, and 50 µs was worse again (docs/REALTIME.md, bench/bench_load.py).
    - Everything alive now (modules, the plans) moves out of the garbage collector's
      sight (:func:`gc.freeze`), so a collection that happens to start in the audio
      thread scans only the few objects made since, not the whole heap.
    """
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
    gc.freeze()  # no gc.collect() first: it would hold the GIL for a long while


def gil_holder_priority() -> bool:
    """Give the calling thread the lowest real-time priority, where allowed.

    Python threads share one lock (the GIL). If an ordinary thread holding it is
    pre-empted by another process, the real-time audio thread waits for it: priority
    inversion, heard as an xrun. At SCHED_FIFO 1 our other threads still yield to the
    audio thread (JACK runs it higher) but not to ordinary processes. Returns whether
    it worked (it needs root, or an rtprio limit, and Linux).
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (AttributeError, OSError):
        return False
    return True


class CpuSplit(NamedTuple):
    """CPUs for an audio process (one) and for everything else (the rest)."""

    audio: frozenset[int]
    rest: frozenset[int]


def allowed_cpus() -> frozenset[int]:
    """The CPUs this thread may run on (every CPU where Linux's call is missing)."""
    try:
        return frozenset(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return frozenset(range(os.cpu_count() or 1))


def cpu_split(audio: int | None = None) -> CpuSplit | None:
    """One CPU for the audio process, the others for the frontends; None with one CPU.

    The audio callback runs at a real-time priority, but the rest of its process does
    not: a stem reader or the control thread holding Python's lock can be pre-empted by
    the frontends' process (display, OSC, web server), and then the callback waits for
    the lock. With the frontends kept off the audio's CPU that cannot happen: on the
    2-core VM of the README the show callback's p99.9 with the frontends busy went from
    21-30 % of the period to 11-17 % (docs/REALTIME.md). ``audio`` picks the CPU; by
    default the last one allowed (the first is where interrupts and most else land).

    >>> split = cpu_split()
    >>> split is None or (len(split.audio) == 1 and not split.audio & split.rest)
    True
    """
    allowed = allowed_cpus()
    if audio is not None and audio not in allowed:
        listed = ", ".join(str(c) for c in sorted(allowed))
        raise ValueError(f"CPU {audio} is not one this process may use ({listed})")
    if len(allowed) < 2:
        return None
    chosen = max(allowed) if audio is None else audio
    return CpuSplit(frozenset({chosen}), allowed - {chosen})


#: The CPUs this process had before :func:`pin_threads` first moved it.
_before_pinning: frozenset[int] | None = None


def pin_threads(cpus: Collection[int]) -> bool:
    """Keep every thread of this process on ``cpus``; threads started later inherit
    their starter's CPUs. Returns whether it worked (Linux only)."""
    global _before_pinning
    if _before_pinning is None:
        _before_pinning = allowed_cpus()
    try:
        tasks = os.listdir("/proc/self/task")
        for tid in tasks:
            with contextlib.suppress(ProcessLookupError):  # a thread that just ended
                os.sched_setaffinity(int(tid), cpus)
    except (AttributeError, OSError):
        return False
    return True


def as_ordinary_process(pid: int) -> None:
    """Let child process ``pid`` (a helper program, such as espeak-ng) run as an ordinary
    process: not real-time, on every CPU this process had before it pinned its threads.

    A child inherits the real-time priority and the CPUs of the thread that started it;
    started from a show's audio process it would take the audio's CPU from the stem
    readers while it runs. Quietly does nothing where it is not allowed or the child has
    ended already.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(pid, os.SCHED_OTHER, os.sched_param(0))
    if _before_pinning is not None:
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setaffinity(pid, _before_pinning)


class Doorbell:
    """Wakes a control thread from the audio callback without a lock: a pipe.

    A :class:`threading.Event` would take a lock in the callback; a byte written to a
    non-blocking pipe is one system call, and the thread waiting in :meth:`wait` wakes
    at once. So a control thread can sleep long (a timeout for what nothing rings for)
    instead of polling every few milliseconds: each wake-up takes the GIL, which the
    callback may want that very moment (docs/REALTIME.md).

    >>> bell = Doorbell()
    >>> bell.wait(0.0)
    False
    >>> bell.ring(); bell.ring()
    >>> bell.wait(1.0), bell.wait(0.0)
    (True, False)
    >>> bell.close()
    """

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def ring(self) -> None:
        """Wake the waiter (callback side: never blocks; a full pipe is rung already)."""
        try:  # noqa: SIM105 (no context manager made in the callback)
            os.write(self._write, b"\0")
        except OSError:  # full (BlockingIOError), or closed: it is ringing or gone
            pass

    def wait(self, timeout: float) -> bool:
        """Sleep until rung or ``timeout`` seconds; True if rung (every ring so far is
        taken: rings while nobody waited wake the next wait once)."""
        try:
            ready, _, _ = select.select([self._read], [], [], timeout)
        except (OSError, ValueError):  # closed
            return False
        if not ready:
            return False
        with contextlib.suppress(OSError):
            while os.read(self._read, 4096):
                pass
        return True

    def close(self) -> None:
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)
