"""Chase: followers fed by timecode (LTC, MTC) or MIDI clock on JACK inputs.

Each opens a JACK client of its own on the engine's server (``<client>-in``) with the
input it reads, so the engine's backend is not touched; the server's frame time is the
one clock both share, so a message or a timecode frame read at frame time ``t`` is a
place at backend clock ``t`` (the JACK backend's clock is that frame time, widened).
The reading is done in that client's process callback; the engine's supervisor thread
(:meth:`Follower.poll`, every 20 ms) turns the latest sighting into a
:class:`~ictus.engine.requests.Chase`.

The rules (docs/FOLLOW.md):

- **Chase.** Timecode label ``L`` seen starting at clock ``c`` puts bar 1's downbeat
  (labelled by the map's ``start:``, else 00:00:00:00) where ``L`` says: map time
  ``(L - start) / fps`` at ``c``. The transport is placed there when it is not playing
  or is more than :data:`TOLERANCE` off, twice in a row (one damaged reading moves
  nothing). Timecode runs at the map's own tempo: the tempo scale stays as it is.
- **Free-wheel.** Without a new sighting the transport plays on by itself (a dropout
  in the timecode, a tape's splice) for :data:`FREEWHEEL` seconds, saying so in
  :attr:`Follower.lost`; after that it stops ("timecode stopped").
- **MIDI clock**: the position is the count of clock ticks since Start (0xFA) or the
  Song Position Pointer before Continue (0xFB), 24 a quarter note; the tempo is the
  median of the last 24 tick intervals, taken as the tempo scale against the map's
  tempo at that place once it is 0.2 % off; Stop (0xFC) stops.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from fractions import Fraction
from typing import Any, NamedTuple

from ictus.engine import requests as rq
from ictus.engine.followers import Controls, Follower
from ictus.errors import IctusError, ParameterError
from ictus.sync.ltcread import LtcFrame, LtcReader
from ictus.tempomap import TempoMap
from ictus.tempomap.timeline import Timeline
from ictus.timebase import FPS_24, FPS_25, FPS_29_97_DF, FPS_30, FrameRate, Timecode
from ictus.timebase.mtc import decode_quarter_frames

#: seconds the transport may be off the source before it is placed again
TOLERANCE = 0.001
#: seconds a follower plays on by itself without its source before it stops
FREEWHEEL = 2.0
_WRAP = 1 << 32


class Sighting(NamedTuple):
    """The source says: map time ``seconds`` at JACK frame time ``raw`` (32 bits)."""

    seconds: float
    raw: int
    play: bool


def widen(raw: int, near: int) -> int:
    """The 64-bit clock nearest ``near`` whose low 32 bits are ``raw``.

    >>> widen(5, (1 << 32) + 100), widen((1 << 32) - 10, (1 << 32) + 100)
    (4294967301, 4294967286)
    """
    d = (raw - near) % _WRAP
    if d >= _WRAP // 2:
        d -= _WRAP
    return near + d


def _rate_of_code(code: int) -> FrameRate:
    return (FPS_24, FPS_25, FPS_29_97_DF, FPS_30)[code & 3]


class Chase(Follower):
    """A follower fed with :class:`Sighting` values by a JACK callback; see the module
    docstring. Subclasses open their input in :meth:`open_input`."""

    def __init__(self, server: str | None, client_name: str) -> None:
        super().__init__()
        self.server = server
        self.client_name = client_name
        self.sightings: deque[Sighting] = deque(maxlen=256)
        self.client: Any = None
        self.rate = 48000
        self.placed = 0
        self._last_seen: int | None = None  # widened clock of the last sighting
        self._off = 0
        self._chaser: Any = None
        self._lock = threading.Lock()

    # -- JACK --------------------------------------------------------------------------

    def follow(self, engine: Controls) -> None:
        super().follow(engine)
        if not hasattr(engine, "where"):
            raise TypeError("chasing needs the engine's where()")
        self._chaser = engine
        import jack

        try:
            client = jack.Client(self.client_name, servername=self.server, no_start_server=True)
        except jack.JackOpenError:
            raise IctusError(f"--follow {self.name}: no JACK server to read from") from None
        self.client = client
        self.rate = client.samplerate
        self.open_input(client)
        client.activate()
        self.connect_input(client)

    def open_input(self, client: Any) -> None:
        raise NotImplementedError

    def connect_input(self, client: Any) -> None:
        """After activation (JACK connects only active clients)."""

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.deactivate()
                client.close()
            except Exception:
                pass

    # -- the rules ---------------------------------------------------------------------

    def poll(self) -> None:
        chaser = self._chaser
        if chaser is None:
            return
        where = chaser.where()
        newest: Sighting | None = None
        while self.sightings:
            newest = self.sightings.popleft()
        if newest is None:
            self._quiet(chaser, where)
            return
        clock = widen(newest.raw, where.clock)
        self._last_seen = clock
        self.lost = None
        if not newest.play:
            if where.playing:
                chaser.request(rq.Stop())
            chaser.request(rq.Chase(newest.seconds / float(where.scale), clock, False))
            return
        seconds = newest.seconds / float(where.scale)
        expected = where.seconds + (clock - where.clock) / self.rate
        if where.playing and abs(seconds - expected) <= TOLERANCE:
            self._off = 0
            return
        self._off += 1
        if not where.playing or self._off >= 2 or abs(seconds - expected) > 0.5:
            chaser.request(rq.Chase(seconds, clock))
            self.placed += 1
            self._off = 0

    def _quiet(self, chaser: Any, where: Any) -> None:
        last = self._last_seen
        if last is None or not where.playing:
            return
        silent = (where.clock - last) / self.rate
        if silent > FREEWHEEL:
            chaser.request(rq.Stop())
            self.lost = f"{self.name}: timecode stopped ({FREEWHEEL:g} s without it)"
            self._last_seen = None
        elif silent > 0.1:
            self.lost = f"{self.name}: free-wheeling ({silent * 1000:.0f} ms without it)"


class Labels:
    """Timecode labels to map seconds: bar 1's downbeat is ``start`` (map's ``start:``
    header, else 00:00:00:00); labels before it are the count-in's."""

    def __init__(self, tempo_map: TempoMap) -> None:
        self.start = tempo_map.start

    def seconds(
        self, hours: int, minutes: int, seconds: int, frames: int, rate: FrameRate
    ) -> float:
        try:
            tc = Timecode(hours, minutes, seconds, frames, rate)
        except ParameterError:
            return float("nan")
        count = tc.to_frame()
        start = 0
        if self.start is not None:
            start = Timecode(
                self.start.hours, self.start.minutes, self.start.seconds, self.start.frames, rate
            ).to_frame()
        return float(Fraction(count - start) / rate.fps)


class LtcChase(Chase):
    """``--follow ltc --ltc-in CH``: LTC read from JACK input ``<client>-in:in_CH``."""

    name = "ltc"

    def __init__(
        self, tempo_map: TempoMap, channel: int, server: str | None, client_name: str
    ) -> None:
        super().__init__(server, client_name)
        self.channel = channel
        self.labels = Labels(tempo_map)
        self.fps: FrameRate | None = tempo_map.start.rate if tempo_map.start else None
        self._periods: deque[float] = deque(maxlen=16)

    def open_input(self, client: Any) -> None:
        port = client.inports.register(f"in_{self.channel}")
        reader = LtcReader(client.samplerate)
        push = self.sightings.append
        take = self._take

        def process(frames: int) -> None:
            t = client.last_frame_time
            for frame in reader.feed(port.get_array(), t):
                sighting = take(frame)
                if sighting is not None:
                    push(sighting)

        client.set_process_callback(process)

    def _rate(self, frame: LtcFrame) -> FrameRate:
        if self.fps is not None:
            return self.fps
        if frame.drop_frame:
            return FPS_29_97_DF
        self._periods.append((frame.end - frame.start) / self.rate)
        period = sorted(self._periods)[len(self._periods) // 2]
        return min((FPS_24, FPS_25, FPS_30), key=lambda r: abs(1 / float(r.fps) - period))

    def _take(self, frame: LtcFrame) -> Sighting | None:
        rate = self._rate(frame)
        seconds = self.labels.seconds(frame.hours, frame.minutes, frame.seconds, frame.frames, rate)
        if seconds != seconds:  # not a label at this rate
            return None
        # the level change that began bit 0 is the frame's start
        return Sighting(seconds, round(frame.start) % _WRAP, True)


class MtcChase(Chase):
    """``--follow mtc --midi-in PORT``: MIDI Time Code on JACK MIDI input
    ``<client>-in:midi_in`` (connected to PORT unless it is ``none``).

    Eight quarter frames, pieces 0 to 7 in a row, spell the label of the frame at which
    piece 0 arrived (:mod:`ictus.sync.mtc`): a sighting at piece 0's clock. A full-frame
    message places the transport there, stopped, until quarter frames run again.
    """

    name = "mtc"

    def __init__(
        self, tempo_map: TempoMap, port: str, server: str | None, client_name: str
    ) -> None:
        super().__init__(server, client_name)
        self.port = port
        self.labels = Labels(tempo_map)
        self._input: Any = None

    def open_input(self, client: Any) -> None:
        port = client.midi_inports.register("midi_in")
        pieces: list[bytes] = []
        first = [0]
        push = self.sightings.append
        labels = self.labels

        def process(frames: int) -> None:
            t = client.last_frame_time
            for offset, data in port.incoming_midi_events():
                message = bytes(data)
                if len(message) == 2 and message[0] == 0xF1:
                    piece = message[1] >> 4
                    if piece == 0:
                        pieces.clear()
                        first[0] = t + offset
                    elif len(pieces) != piece:
                        pieces.clear()
                        continue
                    pieces.append(message)
                    if len(pieces) == 8:
                        h, m, s, f, code = decode_quarter_frames(pieces)
                        pieces.clear()
                        secs = labels.seconds(h, m, s, f, _rate_of_code(code))
                        if secs == secs:
                            push(Sighting(secs, first[0] % _WRAP, True))
                elif len(message) == 10 and message[:5] == b"\xf0\x7f\x7f\x01\x01":
                    hh = message[5]
                    secs = labels.seconds(
                        hh & 0x1F, message[6], message[7], message[8], _rate_of_code(hh >> 5)
                    )
                    pieces.clear()
                    if secs == secs:
                        push(Sighting(secs, (t + offset) % _WRAP, False))

        client.set_process_callback(process)
        self._input = port

    def connect_input(self, client: Any) -> None:
        if self.port != "none":
            try:
                client.connect(self.port, self._input)
            except Exception:
                raise IctusError(
                    f"--midi-in: cannot connect from JACK port {self.port!r}"
                ) from None


class MidiClockChase(MtcChase):
    """``--follow midi-clock --midi-in PORT``: MIDI clock on ``<client>-in:midi_in``.

    Ticks count quarter notes from Start (0xFA, the first tick after it is position 0)
    or from the Song Position Pointer (sixteenths) before Continue; Stop ends playing.
    """

    name = "midi-clock"

    def __init__(
        self, tempo_map: TempoMap, port: str, server: str | None, client_name: str
    ) -> None:
        super().__init__(tempo_map, port, server, client_name)
        self.line = Timeline(tempo_map.with_scale(1))
        self.ticks: deque[tuple[int, int]] = deque(maxlen=4096)  # (tick count, raw clock)
        self.tempo: float | None = None

    def open_input(self, client: Any) -> None:
        port = client.midi_inports.register("midi_in")
        state = {"count": -1, "running": False, "spp": 0}
        ticks = self.ticks
        stops = self.sightings

        def process(frames: int) -> None:
            t = client.last_frame_time
            for offset, data in port.incoming_midi_events():
                message = bytes(data)
                status = message[0] if message else 0
                if status == 0xFA:
                    state["count"], state["running"] = -1, True
                elif status == 0xFB:
                    state["count"], state["running"] = state["spp"] * 6 - 1, True
                elif status == 0xFC:
                    state["running"] = False
                    stops.append(Sighting(float("nan"), (t + offset) % _WRAP, False))
                elif status == 0xF2 and len(message) == 3:
                    state["spp"] = message[1] | message[2] << 7
                elif status == 0xF8 and state["running"]:
                    state["count"] += 1
                    ticks.append((state["count"], (t + offset) % _WRAP))

        client.set_process_callback(process)
        self._input = port

    def poll(self) -> None:
        chaser = self._chaser
        if chaser is None:
            return
        where = chaser.where()
        if self.sightings:  # a Stop
            self.sightings.clear()
            self.ticks.clear()
            if where.playing:
                chaser.request(rq.Stop())
            self._last_seen = None
            return
        if not self.ticks:
            self._quiet(chaser, where)
            return
        count, raw = self.ticks[-1]
        clock = widen(raw, where.clock)
        self._last_seen = clock
        self.lost = None
        recent = [(c, widen(r, clock)) for c, r in list(self.ticks)[-25:]]
        quarter = Fraction(count, 24)
        line = self.line
        map_time = float(line.time_at(quarter))  # Start is bar 1's downbeat
        if len(recent) >= 13 and recent[-1][0] - recent[0][0] == len(recent) - 1:
            # the median tick interval: a late message or two do not move the tempo
            gaps = sorted(b[1] - a[1] for a, b in itertools.pairwise(recent))
            per_quarter = gaps[len(gaps) // 2] * 24 / self.rate
            self.tempo = 60.0 / per_quarter
            speed = self.tempo / float(line.tempo_at(quarter))
            if abs(speed - float(where.scale)) > 0.002:
                chaser.request(rq.SetScale(Fraction(round(speed * 1000), 10)))
                return
        seconds = map_time / float(where.scale)
        expected = where.seconds + (clock - where.clock) / self.rate
        if where.playing and abs(seconds - expected) <= max(TOLERANCE, 2.0 * 24 / self.rate):
            return
        chaser.request(rq.Chase(seconds, clock))
        self.placed += 1


def make_chaser(
    source: str,
    tempo_map: TempoMap,
    midi_in: str | None,
    ltc_in: int | None,
    server: str | None = None,
    client_name: str = "ictus",
) -> Follower:
    """The follower for ``--follow SOURCE`` (ltc, mtc, midi-clock)."""
    name = f"{client_name}-in"
    if source == "ltc":
        assert ltc_in is not None
        return LtcChase(tempo_map, ltc_in, server, name)
    if source == "mtc":
        assert midi_in is not None
        return MtcChase(tempo_map, midi_in, server, name)
    if source == "midi-clock":
        assert midi_in is not None
        return MidiClockChase(tempo_map, midi_in, server, name)
    raise ParameterError(f"--follow {source}: no such chaser")
