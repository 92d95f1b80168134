"""Backing stems streamed from disk: a helper thread reads ahead into a bounded ring.

:class:`StemStream` is an audio source of the engine's shape (as
:class:`ictus.sync.ltc.LtcSource`): ``render(block_start_frame, n, out)`` adds the stem
for those engine frames into ``out``. The file (WAV, FLAC, AIFF: anything libsndfile
reads) is never loaded whole: a helper thread reads it block by block, resamples it with
soxr's streaming resampler when its rate is not the show's, and writes into a ring of
``ring_frames`` frames ahead of the callback, keeping :attr:`StemStream.behind` frames
behind it. Memory is the ring's, whatever the length of the file.

The callback side (:meth:`StemStream.render`) never waits: it copies what the ring
holds, and where the frames it needs are not there yet (a disk too slow, a locate not
refilled yet) it leaves silence and counts an **underrun**. A block that does not follow
on from the last one is either a move the ring can serve (JACK's clock jumping over the
periods an xrun lost, or back by one: it reads on from there, at once) or a locate,
which asks the reader to refill from the new position, as :meth:`StemStream.seek` does
ahead of time.

Threading: one reader thread writes the ring and publishes how far it got by replacing
one tuple; the callback reads the ring and publishes how far it read by replacing
another. Replacing an attribute is atomic in CPython, so no lock is taken on either
side; a position request carries a generation number so stale data from before a locate
is never played.

>>> import os, tempfile, soundfile
>>> path = os.path.join(tempfile.mkdtemp(), "stem.wav")
>>> soundfile.write(path, np.arange(8, dtype=np.float32) / 8, 8000, subtype="FLOAT")
>>> with StemStream(path, 8000, origin_frame=2) as stem:
...     stem.wait_ready(0, 6)
...     out = np.zeros(6, dtype=np.float32)
...     stem.render(0, 6, out)
>>> out.tolist(), stem.underruns
([0.0, 0.0, 0.0, 0.125, 0.25, 0.375], 0)
"""

from __future__ import annotations

import math
import os
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ictus.errors import AudioFileError, ParameterError
from ictus.render.routing import SourceBlock
from ictus.sounds import check_rate

if TYPE_CHECKING:
    from ictus.engine.rt import Doorbell

#: Default ring: 2 s at 48 kHz. Read-ahead memory per stem = ring * channels * 4 bytes.
DEFAULT_RING = 1 << 17
#: Frames the reader reads from the file at once.
READ_CHUNK = 1 << 13
#: soxr quality for stems: high quality, low enough cost to stream many at once.
STREAM_QUALITY = "HQ"
#: How long the reader sleeps at most when the ring is full (it sleeps until about a
#: quarter of the ring has played). It polls: the callback signals nothing (an event
#: would take a lock), but :meth:`StemStream.seek` and ``wait_ready`` wake it at once.
#: Waking seldom matters: every wake-up takes the GIL, which the audio thread may need
#: while the reader is descheduled (bench/bench_show.py measures it).
_MAX_NAP = 0.5
#: Its nap otherwise (a refill after a locate from the callback's side is this late).
_IDLE = 0.02
#: Output frames a restarted resampler runs before its output is used (filter settling).
_SETTLE = 8192


class StemInfo:
    """What a stem file is, read from its header only."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import soundfile

        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise AudioFileError(f"{self.path}: no such file")
        try:
            info = soundfile.info(self.path)
        except (RuntimeError, OSError, ValueError) as err:
            detail = " ".join(str(err).split())
            raise AudioFileError(f"{self.path}: not a readable audio file ({detail})") from None
        self.rate: int = int(info.samplerate)
        self.channels: int = int(info.channels)
        self.frames: int = int(info.frames)

    def frames_at(self, rate: int) -> int:
        """Length in frames once resampled to ``rate``: rounded to nearest, as soxr does."""
        return (2 * self.frames * rate + self.rate) // (2 * self.rate)


class StemStream:
    """A stem file as an engine audio source, streamed with read-ahead.

    Parameters
    ----------
    path
        The audio file.
    rate
        The engine's (show's) sample rate; the file is resampled when it differs.
    origin_frame
        Engine frame where the file's first sample plays (the song's bar 1).
    channels
        The file's channels to play, 0-based, in order (default all).
    gain
        Linear gain applied in :meth:`render` (not in :meth:`blocks`: routing applies it).
    ring_frames
        Read-ahead in frames: how far ahead of the callback the reader fills. The ring
        holds :attr:`behind` frames more, the last ones played, kept for a block that
        comes again (see :meth:`_reads_on`).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        rate: int,
        *,
        origin_frame: int = 0,
        channels: tuple[int, ...] | None = None,
        gain: float = 1.0,
        ring_frames: int = DEFAULT_RING,
    ) -> None:
        self.info = StemInfo(path)
        self.rate = check_rate(rate)
        check_rate(self.info.rate)
        self.origin_frame = int(origin_frame)
        #: the file's channels played, 0-based, in order
        self.picked = tuple(range(self.info.channels)) if channels is None else channels
        #: how many channels the stream gives (the engine's AudioSource attribute)
        self.channels = len(self.picked)
        for ch in self.picked:
            if not 0 <= ch < self.info.channels:
                raise ParameterError(
                    f"{self.info.path} has {self.info.channels} channels, not channel {ch + 1}"
                )
        self.gain = float(gain)
        if ring_frames < 2 * READ_CHUNK:
            raise ParameterError(f"ring must hold at least {2 * READ_CHUNK} frames")
        self.ring_frames = int(ring_frames)
        #: frames kept behind where the callback read last (never overwritten by the
        #: reader): a block played again, or a short step back, still finds them
        self.behind = min(READ_CHUNK, self.ring_frames // 8)
        #: the ring's size: read-ahead and the frames kept behind
        self.slots = self.ring_frames + self.behind
        self.length = (
            self.info.frames if self.info.rate == self.rate else self.info.frames_at(self.rate)
        )
        width = self.channels
        self._ring = np.zeros((width, self.slots), dtype=np.float32)
        # per-channel contiguous rows for the routing path (made once)
        self._block = np.zeros((width, 0), dtype=np.float32)
        self.underruns = 0
        # (generation, stem frame to start from): written by seek()/render()
        self._target: tuple[int, int] = (0, 0)
        # (generation, first frame held, end frame held): written by the reader
        self._filled: tuple[int, int, int] = (-1, 0, 0)
        # (generation, stem frame up to which the callback has read)
        self._read: tuple[int, int] = (0, 0)
        # the furthest stem frame the callback has read up to since the last refill: the
        # reader may have filled a ring's length ahead of it (the callback's own)
        self._reach = 0
        self._next_frame: int | None = None
        # ((stem frame, rows), ...): copies of places a loop or jump lands on, made by
        # keep() and replaced whole (the callback reads the tuple it finds)
        self._splices: tuple[tuple[int, NDArray[np.float32]], ...] = ()
        self._stop = False
        self._wake = threading.Event()
        #: rung by the callback when it asks for a refill (a locate from the server's
        #: side), so a control thread can wake the reader (:meth:`wake_if_behind`)
        self.bell: Doorbell | None = None
        self._thread = threading.Thread(
            target=self._reader, name=f"stem {os.path.basename(self.info.path)}", daemon=True
        )
        self._thread.start()

    # -- control side ---------------------------------------------------------------

    def seek(self, frame: int) -> None:
        """Refill from engine frame ``frame`` (call before playing from there).

        Control side: never blocks, and wakes the reader to start reading at once.
        """
        self._request(frame)
        self._wake.set()

    def _request(self, frame: int) -> None:
        """Ask for a refill from engine frame ``frame`` (callback side: takes no lock)."""
        position = max(0, min(int(frame) - self.origin_frame, self.length))
        gen = self._target[0] + 1
        self._read = (gen, position)
        self._reach = position
        self._target = (gen, position)
        self._next_frame = int(frame)

    def wait_ready(self, frame: int, n: int, timeout: float = 10.0) -> None:
        """Block until frames ``frame .. frame + n`` are in the ring (offline use, tests).

        Seeks first when ``frame`` is not where the stream goes on from.
        """
        if frame != self._next_frame:
            self.seek(frame)
        want = min(max(frame + n - self.origin_frame, 0), self.length)
        deadline = time.monotonic() + timeout
        while True:
            gen, _, end = self._filled
            if gen == self._target[0] and end >= want:
                return
            if not self._thread.is_alive():
                raise AudioFileError(f"{self.info.path}: the reader stopped")
            if time.monotonic() > deadline:
                raise AudioFileError(f"{self.info.path}: read-ahead timed out")
            self._wake.set()  # control side: the reader need not finish its nap
            time.sleep(0.0005)

    def keep(self, frame: int, frames: int) -> None:
        """Hold a copy of ``frames`` frames from engine frame ``frame`` in memory, so a
        loop's wrap or a jump landing there plays at once (control side; reads them now).

        After a jump the ring has nothing of the new place until the reader has
        refilled it: without a copy those frames would be silence (an underrun). The
        copy is made the way the reader would make it after a seek (same resampler
        start), so it holds the very samples the ring would.
        """
        position = max(0, min(int(frame) - self.origin_frame, self.length))
        count = min(frames, self.length - position)
        if count <= 0:
            return
        helper = StemStream(
            self.info.path,
            self.rate,
            channels=self.picked,
            ring_frames=(-(-count // READ_CHUNK) + 2) * READ_CHUNK,
        )
        try:
            helper.wait_ready(position, count)
            blocks = helper.blocks(position, count)
            if helper.underruns or blocks[0][1] != [(0, count)]:
                raise AudioFileError(f"{self.info.path}: could not read frames to keep")
            rows = np.stack([row for row, _ in blocks])
        finally:
            helper.close()
        kept = [(p, r) for p, r in self._splices if p != position]
        self._splices = (*kept, (position, rows))

    def wake_if_behind(self) -> bool:
        """Wake the reader if the callback asked for a refill (a locate) it has not
        begun (control side, cheap: a runner calls it every few milliseconds). The
        callback cannot wake it itself (that would take a lock); without this the
        reader notices at its next nap's end. Returns whether it woke it."""
        if self._filled[0] != self._target[0]:
            self._wake.set()
            return True
        return False

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> StemStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- callback side --------------------------------------------------------------

    def blocks(self, block_start_frame: int, n: int) -> list[SourceBlock]:
        """One mono :data:`~ictus.render.SourceBlock` per played channel (no gain applied).

        The arrays are views of a buffer made for the largest block so far (make it in
        advance with :meth:`prepare`); they are valid until the next call.
        """
        if self._block.shape[1] < n:
            self.prepare(n)
        rows = self._block[:, :n]
        spans = self._fill(block_start_frame, n, rows)
        return [(rows[k], spans) for k in range(self.channels)]

    def prepare(self, max_frames: int, into: NDArray[np.float32] | None = None) -> None:
        """Make the block buffer (outside the callback); or use ``into`` (channels x
        frames, float32: rows of a song's mixing stack, so the router need not copy)."""
        if into is not None:
            if into.shape[0] != self.channels or into.dtype != np.float32:
                raise ParameterError(f"a stem's buffer needs {self.channels} float32 rows")
            self._block = into
        elif self._block.shape[1] < max_frames:
            self._block = np.zeros((self.channels, max_frames), dtype=np.float32)

    def render(self, block_start_frame: int, n: int, out: NDArray[np.float32]) -> None:
        """Add the stem times :attr:`gain` into ``out``: ``(n, played channels)`` or ``(n,)``
        (the played channels summed)."""
        if out.shape[0] != n:
            raise ParameterError(f"out must have {n} frames, got {out.shape}")
        blocks = self.blocks(block_start_frame, n)
        for k, (row, spans) in enumerate(blocks):
            for a, b in spans:
                if out.ndim == 1:
                    out[a:b] += self.gain * row[a:b]
                else:
                    out[a:b, k] += self.gain * row[a:b]

    def fill(self, block_start_frame: int, out: NDArray[np.float32]) -> bool:
        """Write (not add) the stem, without gain, into ``out`` (frames x :attr:`channels`).

        The engine's audio-source contract: returns False, leaving ``out`` as it is,
        when the stem is silent there (before its start, after its end, an underrun).
        """
        n = out.shape[0]
        ((_, spans), *_) = self.blocks(block_start_frame, n)
        if not spans:
            return False
        out[:] = self._block[:, :n].T
        return True

    def _reads_on(self, block_start_frame: int) -> bool:
        """Whether a block that does not follow on from the last one is a move the ring
        can serve; then it reads on from there, and nothing is refilled.

        Around an xrun JACK's clock jumps: ahead over the periods lost, and now and
        then back by one (a cycle's frame time seen twice). The engine's transport
        follows the clock, so the block asks for the frames at the transport's new
        position. The ring serves it when, in the generation asked for, it holds the
        stem from where the block's part of it begins (or the block has none: still
        before the stem's first frame, already after its last), and that place is not
        more than :attr:`behind` frames back from the furthest the callback has read:
        the reader never writes over those (it fills at most :attr:`ring_frames` ahead
        of where the callback reads, into a ring that many frames longer), so they stay
        what they were while they are copied, even with the reader writing meanwhile.
        Anything else (a move further back, a move beyond what is buffered) is a locate.
        """
        if self._next_frame is None:
            return False
        lo = min(max(block_start_frame - self.origin_frame, 0), self.length)
        gen, first, end = self._filled
        rgen = self._read[0]
        safe = max(first, self._reach - self.behind)
        return gen == rgen == self._target[0] and safe <= lo <= end

    def _fill(
        self, block_start_frame: int, n: int, rows: NDArray[np.float32]
    ) -> list[tuple[int, int]]:
        """Copy frames into ``rows``; return the spans that hold stem audio."""
        if block_start_frame != self._next_frame and not self._reads_on(block_start_frame):
            self._request(block_start_frame)
            if self.bell is not None:
                self.bell.ring()  # whoever holds it wakes the reader (wake_if_behind)
        self._next_frame = block_start_frame + n
        start = block_start_frame - self.origin_frame
        lo, hi = max(start, 0), min(start + n, self.length)
        if hi <= lo:
            rows.fill(0.0)
            return []
        gen = self._target[0]
        fgen, first, end = self._filled
        have_lo, have_hi = lo, hi
        if fgen != gen:
            have_hi = have_lo  # nothing of this generation yet
        else:
            have_lo, have_hi = max(lo, first), min(hi, end)
        if not (have_lo == lo == start and have_hi == hi == start + n):
            rows.fill(0.0)  # not all of the block comes from the ring (most blocks do)
        if have_hi < hi or have_lo > lo:
            for first_kept, kept in self._splices:
                if first_kept <= lo and hi <= first_kept + kept.shape[1]:
                    # a loop's wrap or a jump we kept a copy of: no gap
                    rows[:, lo - start : hi - start] = kept[:, lo - first_kept : hi - first_kept]
                    self._read = (gen, hi)
                    self._reach = max(self._reach, hi)
                    return [(lo - start, hi - start)]
            self.underruns += 1
        if have_hi > have_lo:
            cap = self.slots
            a, b = have_lo % cap, have_lo % cap + (have_hi - have_lo)
            dst = have_lo - start
            if b <= cap:
                rows[:, dst : dst + have_hi - have_lo] = self._ring[:, a:b]
            else:
                split = cap - a
                rows[:, dst : dst + split] = self._ring[:, a:]
                rows[:, dst + split : dst + have_hi - have_lo] = self._ring[:, : b - cap]
        self._read = (gen, hi)
        self._reach = max(self._reach, hi)
        return [(lo - start, hi - start)] if have_hi > have_lo else []

    # -- reader thread ----------------------------------------------------------------

    def _reader(self) -> None:
        import soundfile

        f = soundfile.SoundFile(self.info.path)
        width = self.channels
        empty = np.zeros((0, width), dtype=np.float32)
        try:
            gen = -1
            resampler: Any = None
            skip = 0
            end = begin_at = 0
            src_eof = False
            # resampled frames not yet in the ring (upsampling makes more than fit at once)
            pending: NDArray[np.float32] = empty
            nap = min(_MAX_NAP, self.ring_frames / 4 / self.rate)
            while not self._stop:
                tgen, tframe = self._target
                rgen, rpos = self._read
                if tgen != gen or (rgen == gen and rpos > end):
                    # a locate, or the callback ran past what we had: refill from there
                    gen = tgen
                    position = tframe if rgen != gen else max(tframe, rpos)
                    resampler, skip, src_start = self._start_at(position)
                    f.seek(src_start)
                    end = begin_at = position
                    src_eof = False
                    pending = empty
                    self._filled = (gen, end, end)
                    continue
                done_to = rpos if rgen == gen else tframe
                room = self.ring_frames - (end - done_to)
                if not len(pending):
                    if src_eof or end >= self.length or room < READ_CHUNK:
                        # full: nap until about a quarter of the ring has played
                        self._wake.wait(nap)
                        self._wake.clear()
                        continue
                    pending, skip, src_eof = self._next_chunk(f, resampler, skip)
                    continue
                m = min(len(pending), room, self.length - end)
                if m <= 0:
                    self._wake.wait(_IDLE)
                    self._wake.clear()
                    continue
                cap = self.slots
                a = end % cap
                first = min(m, cap - a)
                self._ring[:, a : a + first] = pending[:first].T
                if m > first:
                    self._ring[:, : m - first] = pending[first:m].T
                pending = pending[m:]
                if self._target[0] != gen:
                    continue  # a locate came in meanwhile: do not publish stale frames
                end += m
                self._filled = (gen, max(end - cap, begin_at), end)
        finally:
            f.close()

    def _next_chunk(
        self, f: Any, resampler: Any, skip: int
    ) -> tuple[NDArray[np.float32], int, bool]:
        """The next frames at the engine's rate: (frames, frames still to drop, end of file)."""
        data = f.read(READ_CHUNK, dtype="float32", always_2d=True)
        eof = len(data) < READ_CHUNK
        chunk: NDArray[np.float32] = data[:, list(self.picked)]
        if resampler is not None:
            chunk = resampler.resample_chunk(np.ascontiguousarray(chunk), last=eof)
        if skip:
            dropped = min(skip, len(chunk))
            chunk, skip = chunk[dropped:], skip - dropped
        return chunk, skip, eof

    def _start_at(self, position: int) -> tuple[Any, int, int]:
        """(resampler or None, output frames to drop, file frame to read from)."""
        if self.info.rate == self.rate:
            return None, 0, position
        import soxr

        # Restart at a file frame whose time is a whole number of output frames, a bit
        # before the wanted one, so the resampler's start-up is dropped with the rest.
        src, dst = self.info.rate, self.rate
        step_src = src // math.gcd(src, dst)
        step_dst = dst // math.gcd(src, dst)
        lead = -(-_SETTLE // step_dst) * step_dst  # whole steps, at least _SETTLE frames
        k = max(0, (position - lead) // step_dst)
        resampler = soxr.ResampleStream(
            src, dst, self.channels, dtype="float32", quality=STREAM_QUALITY
        )
        return resampler, position - k * step_dst, k * step_src
