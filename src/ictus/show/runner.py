"""Run a show live: the setlist, one engine per song, go/next/previous/stop, vamps, jumps.

:class:`ShowRunner` is the one control API of a running show, as
:class:`~ictus.engine.Engine` is of one map: the display's keys, a foot switch
(:attr:`~ictus.show.Show.controls`), OSC and the web remote all call its methods, from
any thread. It checks the show first (:func:`~ictus.show.check_show`: a show that
would leak the click to ``main`` or lacks a stem never plays), then opens one audio
stream (:class:`~ictus.show.live.Stage`) that the songs take turns on.

Each song is made ready before it plays (:func:`~ictus.show.plan_song`: grid, spoken
words, stems opened and their read-ahead filled) and gets its own engine whose audio
sources and MIDI output are the song's (:mod:`ictus.show.live`); the engine's own click
goes to no output (the performers' clicks are sources, routed like everything else).
While a song plays the next one is made ready, so ``go`` starts it at once and an
auto-advancing song (``advance = 4``) is followed by the next exactly ``4 s`` after its
last frame: the switch is armed on the stream and made on that sample.

The runner's own thread (``ictus-show``) watches the songs (which one is on, which
ended), turns incoming MIDI into controls, and wakes a stem's reader when a locate
asked it to refill (the callback takes no lock, so it cannot). It sleeps until the
callback rings the stage's :class:`~ictus.engine.rt.Doorbell` (MIDI in, a switch, a
refill) or :data:`TICK` passes: not a poll every few milliseconds.

>>> from ictus.show.runner import song_seconds
>>> song_seconds(96000, 48000)
2.0
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction

from ictus.engine import Backend, Engine, State, Status
from ictus.engine.rt import Doorbell
from ictus.errors import IctusError, ParameterError
from ictus.show.check import check_show
from ictus.show.live import MidiPorts, Slot, SongMidi, Stage, song_routes
from ictus.show.model import Advance, Control, Show, Song
from ictus.show.plan import SongPlan, plan_song
from ictus.show.speech import Speaker
from ictus.show.stems import READ_CHUNK

#: How often the runner's thread looks when nothing rang (seconds): MIDI coming in, a
#: switch the stream made and a stem's refill asked for by the callback ring the
#: stage's :class:`~ictus.engine.rt.Doorbell` and wake it at once; the rest (a song
#: that ended, a vamp's part reached, the server gone) can wait this long. Every
#: wake-up takes the GIL, which the callback may want then: at 5 ms the thread cost
#: the callback's tail (docs/REALTIME.md).
TICK = 0.05
#: Seconds of each stem kept in memory where a vamp starts and where it is left
#: (:meth:`~ictus.show.StemStream.keep`): a wrap or a way out plays at once, without
#: waiting for the reader's refill.
KEEP_SECONDS = 1.0


def song_seconds(frames: int, rate: int) -> float:
    """Frames as seconds, for the display."""
    return frames / rate


@dataclass(eq=False)
class LoadedSong:
    """A song made ready: its plan, its engine and the engine's place on the stage."""

    index: int
    plan: SongPlan
    engine: Engine
    slot: Slot
    midi: SongMidi

    @property
    def song(self) -> Song:
        return self.plan.song

    def close(self) -> None:
        self.engine.close()
        self.plan.close()


@dataclass(frozen=True)
class ShowStatus:
    """Where the show is, for displays and remotes."""

    title: str | None
    setlist: tuple[str, ...]
    index: int  # the song playing, or cued for go
    song: str
    playing: bool
    engine: Status | None
    seconds_left: float  # to the end of the song
    next_cue: str | None  # the song's next spoken cue
    next_cue_in: float | None  # seconds until it
    next_song: str | None
    advance: str  # what happens at its end, in words
    finished: bool  # the last song has ended
    midi_sent: int
    underruns: int


class ShowRunner:
    """Run ``show`` through ``backend``; see the module docstring.

    Parameters
    ----------
    show : Show
    backend : Backend
        Not opened yet. For MIDI on JACK, make it with ``on_client=ports.register`` of a
        :class:`~ictus.show.live.JackMidi` and pass that as ``midi``.
    midi : MidiPorts, optional
    start : int
        Setlist index of the song cued first.
    read_ahead : int or None
        Frames of read-ahead per stem (None: the stems' default); filled before a song
        can start.
    speaker : Speaker, optional
    """

    def __init__(
        self,
        show: Show,
        backend: Backend,
        *,
        midi: MidiPorts | None = None,
        start: int = 0,
        read_ahead: int | None = None,
        speaker: Speaker | None = None,
    ) -> None:
        self.show = show
        self.songs: tuple[Song, ...] = show.songs_in_order()
        if not 0 <= start < len(self.songs):
            raise ParameterError(f"song number must be 1..{len(self.songs)}, got {start + 1}")
        self.stage = Stage(backend, channels=show.channels, rate=show.sample_rate, midi=midi)
        self._bell = Doorbell()
        self.stage.bell = self._bell
        self.read_ahead = read_ahead
        self.speaker = speaker
        self.lock = threading.RLock()
        self._cue = start
        self._playing: int | None = None  # the song whose slot is on the stage
        self._loaded: dict[int, LoadedSong] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.finished = False
        self._vamp_ahead: str | None = None  # a vamp asked for before its part
        self._underruns = 0  # of the songs closed
        #: (backend clock, control) for each control a MIDI message asked for
        self.heard: deque[tuple[int, Control]] = deque(maxlen=256)
        #: what went wrong in the runner's thread (shown by the display)
        self.failure: str | None = None
        #: never: the runner is the audio side (a ShowProcess is gone when its child ends)
        self.gone = False

    # -- life cycle --------------------------------------------------------------------

    def open(self) -> ShowRunner:
        """Check the show (ShowError: nothing plays), open the stream, ready the cue."""
        check_show(self.show)
        if self.speaker is None:
            self.speaker = Speaker(
                self.show.sample_rate, self.show.speech.voice, samples=self.show.speech.samples
            )
        self.stage.open()
        try:
            self._load(self._cue)
        except BaseException:
            self.stage.close()
            raise
        self._thread = threading.Thread(target=self._watch, name="ictus-show", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._bell.ring()
        if self._thread is not None:
            self._thread.join(2.0)
        with self.lock:
            self.stage.arm(None)
            for song in list(self._loaded.values()):
                song.close()
            self._loaded.clear()
        self.stage.close()
        if self._thread is None or not self._thread.is_alive():
            self._bell.close()

    def __enter__(self) -> ShowRunner:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- songs -------------------------------------------------------------------------

    def _load(self, index: int) -> LoadedSong:
        """Song ``index`` made ready (plan, engine open, read-ahead filled)."""
        found = self._loaded.get(index)
        if found is not None:
            return found
        song = self.songs[index]
        plan = plan_song(self.show, song, speaker=self.speaker, ring_frames=self.read_ahead)
        engine: Engine | None = None
        try:
            slot = self.stage.slot()
            midi = SongMidi(plan, self.stage.midi)
            engine = Engine(
                song.tempo_map,
                slot,
                channels=self.show.channels,
                click_on=(),
                sources=song_routes(plan),
                event_outputs=(midi,),
            )
            engine.open()
            keep = round(KEEP_SECONDS * plan.rate)
            for stem in plan.stems:
                for vamp in plan.vamps:
                    stem.keep(vamp.start_frame, keep)
                    stem.keep(vamp.end_frame, keep)
                stem.wait_ready(
                    0, plan.bar1_frame + min(stem.length, stem.ring_frames - READ_CHUNK)
                )
        except BaseException:
            if engine is not None:
                engine.close()
            plan.close()
            raise
        for stem in plan.stems:
            stem.bell = self._bell
        loaded = LoadedSong(index, plan, engine, slot, midi)
        self._loaded[index] = loaded
        return loaded

    def _drop_others(self, keep: set[int]) -> None:
        for index in [i for i in self._loaded if i not in keep]:
            dropped = self._loaded.pop(index)
            self._underruns += sum(stem.underruns for stem in dropped.plan.stems)
            dropped.close()

    def _now(self) -> LoadedSong | None:
        """The song on the stage, if any."""
        return None if self._playing is None else self._loaded.get(self._playing)

    def _arm_advance(self, playing: LoadedSong) -> None:
        """Ready the next song and, when ``playing`` auto-advances, switch to it on time
        (armed after whatever switch is armed now, so it may come before ``playing``
        is even on)."""
        song = self.songs[playing.index]
        if playing.index + 1 >= len(self.songs):
            return
        following = self._load(playing.index + 1)
        if song.advance is Advance.AUTO:
            if following.engine.status().state is not State.STOPPED:
                following.engine.stop()  # played before: from its start again
            following.engine.start()  # queued: applies on its first block
            gap = round(Fraction(song.advance_seconds) * self.show.sample_rate)
            self.stage.then(following.slot, after=playing.engine.transport, gap=gap)

    # -- the control API -----------------------------------------------------------------

    def act(self, control: Control) -> None:
        """Do what ``control`` asks (keys, MIDI triggers, remotes)."""
        match control:
            case Control.GO:
                self.go()
            case Control.NEXT:
                self.next()
            case Control.PREVIOUS:
                self.previous()
            case Control.VAMP:
                self.vamp()
            case Control.RELEASE:
                self.release()
            case Control.STOP:
                self.stop()

    def go(self) -> None:
        """Start the cued song (from its count-in); nothing if a song is playing."""
        with self.lock:
            now = self._now()
            if now is not None:
                state = now.engine.status().state
                if state is State.PLAYING:
                    return
                if state is State.ENDED and now.index == self._cue:
                    # go after a song's end (before an auto-advance): the next song
                    self._cue = min(now.index + 1, len(self.songs) - 1)
            self.stage.disarm()
            loaded = self._load(self._cue)
            state = loaded.engine.status().state
            if loaded.slot is self.stage.current or state is not State.PLAYING:
                if state is not State.STOPPED:
                    loaded.engine.stop()  # played before: from its start again
                loaded.engine.start()
            # else started ahead for an auto-advance and never on: its start is queued
            self.stage.arm(loaded.slot)
            self.finished = False
            # the next song is ready (and armed, if this one advances by itself) before
            # this one can end; the runner's thread sees the stage take it
            self._arm_advance(loaded)

    def _on_stage(self, loaded: LoadedSong) -> None:
        self._playing = self._cue = loaded.index
        self._drop_others({loaded.index, loaded.index + 1})
        if not self.stage.pending:
            self._arm_advance(loaded)

    def stop(self) -> None:
        """Stop the song; the cue stays on it (go plays it from the start)."""
        with self.lock:
            self.stage.disarm()
            now = self._now()
            if now is not None:
                now.engine.stop()
                self._cue = now.index
                # an auto-advance started the next engine already: take it back
                following = self._loaded.get(now.index + 1)
                if following is not None:
                    following.engine.stop()

    def _cue_to(self, index: int) -> None:
        with self.lock:
            self.stop()
            self._cue = min(max(index, 0), len(self.songs) - 1)
            self.finished = False
            keep = {self._cue} | ({self._playing} if self._playing is not None else set())
            self._drop_others(keep)
            self._load(self._cue)

    def next(self) -> None:
        """Stop, and cue the next song of the setlist."""
        self._cue_to(self._cue + 1)

    def previous(self) -> None:
        """Stop, and cue the song before."""
        self._cue_to(self._cue - 1)

    def cue(self, index: int) -> None:
        """Stop, and cue setlist song ``index`` (0-based)."""
        self._cue_to(index)

    def _engine(self) -> Engine:
        now = self._now()
        if now is None or now.engine.status().state is not State.PLAYING:
            raise ParameterError("no song is playing")
        return now.engine

    def vamp(self, label: str | None = None) -> str:
        """Loop a part until :meth:`release`: ``label``, else the part playing if the song
        lists it as a vamp, else the song's next vamp, else the part playing. A part
        still ahead is looped once the song gets there (the band plays on to it).
        Returns the label."""
        with self.lock:
            engine = self._engine()
            now = self._now()
            assert now is not None
            song = self.songs[now.index]
            tm = song.tempo_map
            here = tm.bar_start(max(engine.status().bar, 1))[0]
            if label is None:
                names = [s.label for s in tm.sections]
                ahead = [v for v in song.vamps if tm.section_index(v) >= here]
                label = names[here] if names[here] in song.vamps or not ahead else ahead[0]
                if label is None:
                    raise ParameterError(f"part {here + 1} of {song.name} has no name")
            if tm.section_index(label) > here:
                self._vamp_ahead = label  # the runner's thread loops it on arrival
            else:
                engine.loop(label)
            return label

    def release(self) -> None:
        """Leave the vamp at the next bar line, into the bar after it."""
        with self.lock:
            self._vamp_ahead = None
            engine = self._engine()
            label = engine.status().loop
            if label is not None:
                tm = engine.tempo_map
                index = tm.section_index(label)
                after = tm.first_bar_of(index) + tm.sections[index].bars
                if after <= tm.total_bars:
                    # the jump first: should the callback take it before the loop is
                    # dropped, the jump wins over the wrap on the same bar line
                    engine.jump_at_next_bar(after)
            engine.loop(None)

    def jump(self, target: int | str) -> None:
        """At the next bar line, go to a bar or a part of the song playing."""
        with self.lock:
            self._engine().jump_at_next_bar(target)

    def locate(self, target: int | str) -> None:
        """Go to a bar or a part of the song playing, now."""
        with self.lock:
            self._engine().locate(target)

    # -- what is going on ----------------------------------------------------------------

    @property
    def playing(self) -> LoadedSong | None:
        """The song on the stage (playing, stopped or ended), if any."""
        return self._now()

    def loaded(self, index: int) -> LoadedSong | None:
        return self._loaded.get(index)

    def status(self) -> ShowStatus:
        with self.lock:
            now = self._now()
            shown = now
            playing = now is not None and now.engine.status().state is State.PLAYING
            if not playing:
                shown = self._loaded.get(self._cue)
            index = shown.index if shown is not None else self._cue
            song = self.songs[index]
            engine_status = shown.engine.status() if shown is not None else None
            left = 0.0
            cue: str | None = None
            cue_in: float | None = None
            if shown is not None:
                plan = shown.plan
                frame = 0
                if playing:
                    snap = shown.engine.transport.snapshot
                    frame = snap.frame - snap.plan.origin + plan.bar1_frame
                left = max(plan.length - frame, 0) / plan.rate
                ahead = [(plan.frame_of(c.at), c.text) for c in song.cues]
                ahead = sorted((f, t) for f, t in ahead if f >= frame)
                if ahead:
                    cue, cue_in = ahead[0][1], (ahead[0][0] - frame) / plan.rate
            nxt = self.songs[index + 1].name if index + 1 < len(self.songs) else None
            if nxt is None:
                advance = "last song"
            elif song.advance is Advance.AUTO:
                advance = f"{nxt} {float(song.advance_seconds):g} s after the end"
            else:
                advance = f"waits for go, then {nxt}"
            return ShowStatus(
                title=self.show.title,
                setlist=tuple(s.name for s in self.songs),
                index=index,
                song=song.name,
                playing=playing,
                engine=engine_status,
                seconds_left=left,
                next_cue=cue,
                next_cue_in=cue_in,
                next_song=nxt,
                advance=advance,
                finished=self.finished,
                midi_sent=sum(len(s.midi.sent) for s in self._loaded.values()),
                underruns=self._underruns
                + sum(st.underruns for s in self._loaded.values() for st in s.plan.stems),
            )

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the show has nothing more to play without a go (or ``timeout``);
        returns True if so."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            if self.failure is not None:
                raise IctusError(self.failure)
            if self.idle():
                return True
            time.sleep(0.02)
        return False

    def idle(self) -> bool:
        """Whether the show has nothing more to play without a go (what :meth:`wait`
        waits for)."""
        with self.lock:
            # the song the stream plays (the runner's thread may not have seen a
            # switch yet)
            on = self.stage.current
            now = next((s for s in self._loaded.values() if s.slot is on), None)
            state = None if now is None else now.engine.status().state
            quiet = state is not State.PLAYING and not self.stage.pending
            return quiet and (self.finished or state is State.ENDED)

    def _loop_on_arrival(self, now: LoadedSong | None) -> None:
        label = self._vamp_ahead
        if now is None or label is None:
            return
        status = now.engine.status()
        if status.state is not State.PLAYING:
            self._vamp_ahead = None
            return
        tm = now.engine.tempo_map
        if status.bar >= tm.first_bar_of(tm.section_index(label)):
            self._vamp_ahead = None
            now.engine.loop(label)

    # -- the runner's thread ---------------------------------------------------------------

    def _watch(self) -> None:
        while True:
            self._bell.wait(TICK)
            if self._stop.is_set():
                return
            try:
                self._tick()
            except IctusError as err:
                self.failure = str(err)
            except Exception as err:  # keep the show going; say what happened
                self.failure = f"show runner: {err!r}"

    def _tick(self) -> None:
        if self.failure is None and self.stage.backend.failure is not None:
            self.failure = self.stage.backend.failure  # the server went away: say so
        self._act_on_controls()
        with self.lock:
            now = self._follow_stage()
            if self._vamp_ahead is not None:
                self._loop_on_arrival(now)
            if now is not None and not self.stage.pending:
                self._cue_after_end(now)
            for loaded in self._loaded.values():
                for stem in loaded.plan.stems:
                    stem.wake_if_behind()

    def _act_on_controls(self) -> None:
        """Act on the MIDI heard since the last tick: the first control each message
        matches (the runner's thread)."""
        inbox = self.stage.inbox
        while inbox:
            clock, data = inbox.popleft()
            for trigger, control in self.show.controls:
                if trigger.matches(data):
                    self.heard.append((clock, control))
                    # "vamp" with nothing playing: nothing to do
                    with contextlib.suppress(ParameterError):
                        self.act(control)
                    break

    def _follow_stage(self) -> LoadedSong | None:
        """The song on the stage, after taking over a switch the stream made on its own
        (an armed auto-advance); under the lock."""
        current = self.stage.current
        now = self._now()
        if current is not None and (now is None or now.slot is not current):
            # an armed switch (auto-advance) put another song on
            for loaded in list(self._loaded.values()):
                if loaded.slot is current:
                    self._cue = loaded.index
                    self._on_stage(loaded)
                    break
        return self._now()

    def _cue_after_end(self, now: LoadedSong) -> None:
        """Once ``now`` has ended with itself cued, cue the next song, or finish the show
        after the last; under the lock."""
        state = now.engine.status().state
        if state is State.ENDED and self._cue == now.index:
            if now.index + 1 < len(self.songs):
                self._cue = now.index + 1
            else:
                self.finished = True
