"""The live terminal display of ``ictus play``: big bar|beat, section, tempo, the cue
and what's next (the next cue is shown loud from a bar ahead of it).

It is a frontend like any other: it reads :meth:`Engine.status` about twenty times a
second and turns keys into control calls. Keys are read raw from the terminal on their
own thread (never in the audio callback):

======== =========================  ======== ===========================
key      does                        key      does
======== =========================  ======== ===========================
space    start / stop                 + -      tempo scale up / down 1 %
← →      bar back / forward           t        tap: the scale follows
p        pause / continue             T        tap a tempo (shows BPM)
q        quit                         l        loop this section / unloop
Ctrl-C   quit
======== =========================  ======== ===========================

>>> print("\\n".join(big_text("12|3")))
 ▄█  ▀▀█  █  ▀▀█
  █  ▄▀▀  █   ▀▄
 ▄█▄ ▀▀▀  █  ▄▄▀
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ictus.engine.status import State
from ictus.errors import IctusError

if TYPE_CHECKING:
    from rich.text import Text

    from ictus.engine import Engine, Status

# three-row block glyphs, four columns each (the last a space)
_GLYPHS = {
    "0": ("█▀█ ", "█ █ ", "█▄█ "),
    "1": ("▄█  ", " █  ", "▄█▄ "),
    "2": ("▀▀█ ", "▄▀▀ ", "▀▀▀ "),
    "3": ("▀▀█ ", " ▀▄ ", "▄▄▀ "),
    "4": ("█ █ ", "▀▀█ ", "  █ "),
    "5": ("█▀▀ ", "▀▀▄ ", "▄▄▀ "),
    "6": ("█▀▀ ", "█▀▄ ", "▀▄▀ "),
    "7": ("▀▀█ ", " ▄▀ ", " █  "),
    "8": ("▄▀▄ ", "▄▀▄ ", "▀▄▀ "),
    "9": ("▄▀▄ ", "▀▄█ ", " ▄▀ "),
    "-": ("    ", "▀▀▀ ", "    "),
    "|": (" █  ", " █  ", " █  "),
    " ": ("  ", "  ", "  "),
}

KEYS_HELP = (
    "space start/stop · ←/→ bar · +/- tempo · t tap · T tap BPM · l loop · p pause · q quit"
)


def big_text(text: str) -> list[str]:
    """``text`` (digits, ``-``, ``|``, spaces) as three rows of block characters."""
    rows = ["", "", ""]
    for ch in text:
        glyph = _GLYPHS.get(ch, _GLYPHS[" "])
        for i in range(3):
            rows[i] += glyph[i]
    return [" " + r.rstrip() for r in rows]


def cue_soon(status: Status) -> bool:
    """True when the next cue comes within the next bar (then it is shown loud).

    >>> from ictus.engine import NextCue, State, Status
    >>> def at(bar, beat, cue_bar, cue_beat=1):
    ...     return Status(State.PLAYING, bar, beat, 4, "a", None, 120.0, 100.0, False,
    ...                   None, None, 0.0, 0, 0, 48000, 256, "null", 0, None,
    ...                   next_cue=NextCue("Chorus", cue_bar, cue_beat))
    >>> cue_soon(at(8, 1, 9)), cue_soon(at(8, 4, 9, 2)), cue_soon(at(7, 4, 9))
    (True, True, False)
    """
    cue = status.next_cue
    if cue is None or status.state is not State.PLAYING:
        return False
    bar = max(status.bar, 1)
    return (cue.bar, cue.beat) <= (bar + 1, status.beat)


def next_cue(status: Status) -> Text:
    """The next cue and where it comes; from a bar ahead of it, loud."""
    from rich.text import Text

    cue = status.next_cue
    if cue is None:
        return Text("—")
    where = f"bar {cue.bar}" + (f" beat {cue.beat}" if cue.beat != 1 else "")
    if cue_soon(status):
        return Text.assemble((f"▶ {cue.text}", "bold black on yellow"), f"  {where}")
    return Text(f"{cue.text}  {where}")


def render_status(
    status: Status, message: str = "", extra: Sequence[tuple[str, str]] = ()
) -> Any:
    """The whole screen for one status, as a Rich renderable; ``extra``: more
    (name, value) lines from the frontends beside the display (OSC)."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    colour = {
        State.PLAYING: "green",
        State.PAUSED: "yellow",
        State.STOPPED: "white",
        State.ENDED: "white",
        State.OFFLINE: "red",
    }.get(status.state, "white")
    bar = "-" + str(-status.bar) if status.bar < 0 else str(status.bar)
    big = big_text(f"{bar}|{status.beat}")
    style = "bold magenta" if status.count_in else f"bold {colour}"
    beats = Text()
    for b in range(1, status.beats + 1):
        on = b == status.beat and status.state is State.PLAYING
        if status.gap:
            # a gap bar: the beats still pass, drawn hollow, and the bar says so
            beats.append("◌ ", style="bold red" if on else "dim red")
        else:
            beats.append("● " if on else "○ ", style="bold yellow" if on else "dim")
    if status.gap:
        beats.append("  GAP: no click, keep time", style="bold red")
    info = Table.grid(padding=(0, 3))
    info.add_column(style="dim")
    info.add_column()
    info.add_column(style="dim")
    info.add_column()
    section = "count-in" if status.count_in else (status.section or "—")
    info.add_row("section", Text(section, style="bold"), "next", status.next_section or "end")
    info.add_row(
        "tempo",
        f"{status.tempo:.1f} BPM",
        "scale",
        f"{status.scale_percent:g} %",
    )
    info.add_row("cue", Text(status.cue or "—", style="bold cyan"), "next cue", next_cue(status))
    loop = status.loop or "—"
    jump = f"bar {status.jump} at the next bar line" if status.jump is not None else "—"
    info.add_row("loop", loop, "jump", jump)
    if status.follow is not None:
        lost = status.follow_lost
        info.add_row(
            "follow",
            status.follow,
            "source",
            Text(lost, style="bold red") if lost else Text("locked", style="green"),
        )
    for name, value in extra:
        info.add_row(name, value, "", "")
    title = status.title or "ictus"
    head = Text.assemble(
        (status.state.upper(), f"bold {colour}"),
        (f"   {status.backend} {status.rate} Hz / {status.period} frames", "dim"),
        (f"   xruns {status.xruns}", "red" if status.xruns else "dim"),
    )
    body = Group(
        head,
        Text("\n".join(big), style=style),
        beats,
        Text(""),
        info,
        Text(message, style="yellow") if message else Text(""),
        Text(KEYS_HELP, style="dim"),
    )
    return Panel(body, title=title, expand=False)


class Keys:
    """Raw single keys from a terminal, read on a thread and handed to ``on_key``."""

    def __init__(self, on_key: Callable[[str], None], fd: int | None = None) -> None:
        self.on_key = on_key
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved: Any = None

    def __enter__(self) -> Keys:
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)  # keys one by one, Ctrl-C still interrupts
        self._thread = threading.Thread(target=self._read, name="ictus-keys", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        import termios

        self._stop.set()
        if self._thread is not None:
            self._thread.join(0.5)
        termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def _read(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if not ready:
                pending = b""
                continue
            try:
                data = os.read(self.fd, 64)
            except OSError:
                return
            if not data:
                self.on_key("q")  # the terminal went away: quit
                return
            pending += data
            while pending:
                key, pending = _next_key(pending)
                if key is None:
                    break
                self.on_key(key)


_ESCAPES = {
    b"\x1b[C": "right",
    b"\x1b[D": "left",
    b"\x1b[A": "up",
    b"\x1b[B": "down",
    b"\x1bOC": "right",
    b"\x1bOD": "left",
    b"\x1bOA": "up",
    b"\x1bOB": "down",
}


def _next_key(data: bytes) -> tuple[str | None, bytes]:
    """Split one key off raw terminal input (arrow keys are escape sequences).

    >>> _next_key(b"\\x1b[Cq"), _next_key(b"+"), _next_key(b"\\x1b[")
    (('right', b'q'), ('+', b''), (None, b'\\x1b['))
    """
    if data.startswith(b"\x1b"):
        for seq, name in _ESCAPES.items():
            if data.startswith(seq):
                return name, data[len(seq) :]
        if len(data) < 3:
            return None, data
        return "escape", data[1:]
    return data[:1].decode("latin-1"), data[1:]


def act(engine: Engine, key: str) -> str | None:
    """Do what ``key`` means; returns ``"quit"`` or a message for the user, or None."""
    status = engine.status()
    if key in ("q", "Q", "\x03"):
        return "quit"
    if key == " ":
        if status.state is State.PLAYING:
            engine.stop()
        else:
            engine.start()
    elif key == "p":
        if status.state is State.PLAYING:
            engine.pause()
        else:
            engine.continue_()
    elif key in ("left", "down"):
        engine.step(-1)
    elif key in ("right", "up"):
        engine.step(1)
    elif key in ("+", "="):
        return f"tempo scale {engine.nudge_scale(1):g} %"
    elif key in ("-", "_"):
        return f"tempo scale {engine.nudge_scale(-1):g} %"
    elif key in ("t", "T"):
        return _tap(engine, bpm=key == "T")
    elif key in ("l", "L"):
        engine.toggle_loop()
        looped = engine.status().loop
        return f"looping {looped}" if looped else "loop off"
    return None


def _tap(engine: Engine, *, bpm: bool) -> str:
    """A tap: ``t`` says the tempo scale it set, ``T`` the tempo tapped, in BPM.

    Both set the tempo the same way (the scale, in its 0.1 % steps, so that the beat
    being played is the tapped one); ``T`` is for a player who counts in BPM.
    """
    percent = engine.tap()
    tapped = engine.tapped_bpm
    if not bpm:
        return "tap…" if percent is None else f"tapped: tempo scale {percent:g} %"
    if percent is None or tapped is None:
        return "tap the tempo…"
    return f"tapped {tapped:.1f} BPM (tempo scale {percent:g} %)"


def run(
    engine: Engine,
    *,
    console: Any = None,
    fps: float = 20.0,
    extra: Callable[[], Sequence[tuple[str, str]]] | None = None,
) -> str:
    """Show the display and take keys until ``q`` (returns ``"quit"``) or until the
    backend fails for good (returns ``"offline"``). ``extra`` gives more lines to show
    (see :func:`render_status`)."""
    from rich.console import Console
    from rich.live import Live

    console = console or Console()
    quit_now = threading.Event()
    message: list[tuple[str, float]] = [("", 0.0)]  # (text, shown until), swapped whole

    def on_key(key: str) -> None:
        try:
            said = act(engine, key)
        except IctusError as err:
            said = str(err)
        if said == "quit":
            quit_now.set()
        elif said:
            message[0] = (said, time.monotonic() + 3.0)

    def screen() -> Any:
        said, until = message[0]
        text = said if time.monotonic() < until else ""
        if engine.failure:
            text = engine.failure
        return render_status(engine.status(), text, extra() if extra is not None else ())

    with (
        Keys(on_key),
        Live(get_renderable=screen, console=console, refresh_per_second=fps, transient=False),
    ):
        while not quit_now.wait(0.05):
            if engine.failure is not None:
                return State.OFFLINE
    return "quit"
