"""Commands of the show area, the ``ictus show`` group (:data:`app`): check a show file,
render its songs per output, run it live with the setlist display.

The display reads the show's status (:meth:`ictus.show.ShowRunner.status`, through
:class:`ictus.show.process.ShowProcess` from the audio's own process) about twenty
times a second and turns keys into runner calls (as a foot switch or a remote would):

========== ==============================  ========== ==============================
key        does                            key        does
========== ==============================  ========== ==============================
g, space   go: start the cued song         v          vamp: loop this part
n, →       stop, cue the next song         r          release the vamp (at the bar)
p, ←       stop, cue the song before       1 .. 9     jump to part N at the next bar
s          stop                            q          quit
========== ==============================  ========== ==============================
"""

# no ``from __future__ import annotations``: Typer reads the annotations at run time
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ictus.cli import options as m
from ictus.cli.common import UsageError
from ictus.cli.live import OscHostOpt, OscOpt
from ictus.cli.webflags import WebHostOpt, WebOpt, WebPortOpt

if TYPE_CHECKING:
    from ictus.show import Show
    from ictus.show.process import Audio, ShowProcess
    from ictus.show.runner import ShowRunner, ShowStatus

app = m.area(
    "show",
    "Live shows: a setlist of songs with backing stems, spoken cues, MIDI and monitor "
    "mixes, from one show file (docs/SHOW.md).\n\n"
    "Examples:\n\n"
    "  ictus show check show.toml\n\n"
    "  ictus show render show.toml -o rehearsal/\n\n"
    "  ictus show run show.toml --backend jack --connect system",
)

ShowFile = Annotated[Path, typer.Argument(metavar="SHOW", help="The show file (TOML).")]
BACKENDS = ("jack", "portaudio", "null")

OscSendOpt = Annotated[
    str | None,
    typer.Option(
        "--osc-send",
        metavar="HOST:PORT[,...]",
        help="Send the show's status (/ictus/show/status) to these when it changes.",
    ),
]

#: ``--osc``, ``--osc-host``, ``--osc-send``, checked: (port or None, host, subscribers)
OscSettings = tuple[int | None, str, list[tuple[str, int]]]

KEYS_HELP = "g go · n/p next/previous · s stop · v vamp · r release · 1-9 jump to part · q quit"


def _load(path: Path) -> "Show":
    from ictus.show import load_show

    return load_show(path)


def _problems(err: Any) -> None:
    """A refused show: one line per problem on stderr, exit 1."""
    for line in err.problems:
        sys.stderr.write(f"ictus: error: {line}\n")
    raise typer.Exit(1)


@app.command("check")
def check(show_file: ShowFile) -> None:
    """Check a show: print where every source goes, or every problem (one line each).

    Refuses (exit 1) a missing or unreadable stem, an unknown output, a stem shorter
    than its map, a rate that cannot be converted, or click or cues reaching an output
    marked main.
    """
    from ictus.show import ShowError, check_show

    show = _load(show_file)
    try:
        report = check_show(show)
    except ShowError as err:
        _problems(err)
    typer.echo(str(report))


@app.command("render")
def render(
    show_file: ShowFile,
    out_dir: Annotated[
        Path, typer.Option("--output", "-o", metavar="DIR", help="Folder for the files.")
    ],
    song: Annotated[
        str | None,
        typer.Option("--song", metavar="N|NAME", help="Only this song (setlist number or name)."),
    ] = None,
    quiet: m.QuietOpt = False,
) -> None:
    """Render every song (or one): DIR/NN-SONG/OUTPUT.wav, one file per output mix.

    32-bit float WAV at the show's rate, through the same sources and routing as
    ``ictus show run``: each file is what that output plays live.
    """
    from ictus.show import ShowError, render_song

    show = _load(show_file)
    songs = show.songs_in_order()
    picked = range(len(songs)) if song is None else [_song_index(show, song)]
    for i in picked:
        folder = out_dir / f"{i + 1:02d}-{songs[i].name}"
        try:
            paths = render_song(show, songs[i], folder)
        except ShowError as err:
            _problems(err)
        if not quiet:
            names = ", ".join(p.name for p in paths.values())
            sys.stderr.write(f"ictus: {songs[i].name}: {folder}/ {names}\n")


def _song_index(show: "Show", text: str) -> int:
    names = show.setlist
    if text.isdigit():
        n = int(text)
        if not 1 <= n <= len(names):
            raise UsageError(f"--song: the setlist has songs 1..{len(names)}, got {n}")
        return n - 1
    if text not in names:
        raise UsageError(f"--song: no song {text!r} in the setlist: {', '.join(names)}")
    return names.index(text)


def _connect(text: str) -> str | tuple[str, ...]:
    value = text.strip()
    if value in ("auto", "none"):
        return value
    items = _names(value)
    if not items:
        raise UsageError("--connect: give auto, none, or JACK ports/clients")
    return items


@app.command("run")
def run(
    show_file: ShowFile,
    backend: Annotated[
        str | None,
        typer.Option("--backend", "-b", metavar="jack|portaudio|null", help="Audio backend."),
    ] = None,
    song: Annotated[
        str | None,
        typer.Option("--song", metavar="N|NAME", help="Cue this song first (default: 1)."),
    ] = None,
    client_name: Annotated[
        str, typer.Option("--client-name", metavar="NAME", help="JACK client name.")
    ] = "ictus-show",
    connect: Annotated[
        str,
        typer.Option(
            "--connect",
            metavar="auto|none|PORTS",
            help="JACK: where the outputs go (ports or clients, comma-separated).",
        ),
    ] = "auto",
    midi_connect: Annotated[
        str | None,
        typer.Option(
            "--midi-connect",
            metavar="PORTS",
            help="JACK: MIDI ports or clients the show's MIDI goes to (comma-separated).",
        ),
    ] = None,
    midi_from: Annotated[
        str | None,
        typer.Option(
            "--midi-from",
            metavar="PORTS",
            help="JACK: MIDI ports the foot switch / pad sends from (the show's [control]).",
        ),
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", "-d", help="PortAudio device, or JACK server name.")
    ] = None,
    read_ahead: Annotated[
        float,
        typer.Option("--read-ahead", metavar="SECONDS", help="Stem read-ahead per stem."),
    ] = 2.7,
    web: WebOpt = False,
    web_host: WebHostOpt = None,
    web_port: WebPortOpt = None,
    osc: OscOpt = None,
    osc_host: OscHostOpt = None,
    osc_send: OscSendOpt = None,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process",
            help="Play the audio in this process, beside the display and the web server "
            "(for debugging; by default it has a process of its own: docs/REALTIME.md).",
        ),
    ] = False,
    audio_cpu: Annotated[
        str,
        typer.Option(
            "--audio-cpu",
            metavar="CPU",
            help="The CPU the show's audio process keeps to, the display and the web "
            "server keeping off it: 'auto' (the last one; none with one CPU), a CPU "
            "number, or 'off' (docs/REALTIME.md).",
        ),
    ] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No messages.")] = False,
) -> None:
    """Run a show live: the setlist display and keys on a terminal.

    Without a terminal the cued song starts at once and the show plays on as the
    songs' advance settings say, ending when a song waits for go (or the last ends);
    with --web or --osc it waits for the page's (or an OSC message's) go instead,
    until Ctrl-C. --osc takes the setlist's controls over OSC (/ictus/show/go, /next,
    /previous, /stop, /vamp, /release, /jump, /status: docs/SHOW.md).
    The show is checked first: nothing plays if anything is wrong.
    \f
    Examples:

      ictus show run examples/show/show.toml --backend null

      ictus show run show.toml -b jack --connect system --midi-connect a2j --song 3

      ictus show run show.toml --web --web-host 0.0.0.0

      ictus show run show.toml --osc 9000 --osc-send 127.0.0.1:9001
    """
    from ictus.cli.common import option_values
    from ictus.cli.live import osc_settings
    from ictus.cli.webflags import check_web_flags

    where = check_web_flags(web, web_host, web_port)
    with option_values():  # a bad --osc-send is a usage mistake (exit 2)
        settings = osc_settings(osc, osc_host, osc_send)
    run_show(
        show_file, backend, song, client_name, connect, midi_connect, midi_from, device,
        read_ahead, quiet, web=where, in_process=in_process, pin=audio_cpu_choice(audio_cpu),
        osc=settings if settings[0] is not None or settings[2] else None,
    )


def audio_cpu_choice(text: str) -> int | bool:
    """``--audio-cpu``: True (auto), False (off) or a CPU this process may use.

    >>> audio_cpu_choice("auto"), audio_cpu_choice("off")
    (True, False)
    """
    word = text.strip().lower()
    if word in ("auto", "off"):
        return word == "auto"
    from ictus.engine.rt import allowed_cpus

    allowed = allowed_cpus()
    listed = ", ".join(str(c) for c in sorted(allowed))
    if not word.isdigit() or int(word) not in allowed:
        raise typer.BadParameter(
            f"{text!r}: expected auto, off or one of the CPUs this process may use ({listed})",
            param_hint="--audio-cpu",
        )
    return int(word)


def _checked_show(
    show_file: Path,
    backend: str | None,
    song: str | None,
    read_ahead: float,
    *,
    midi_connect: str | None,
    midi_from: str | None,
) -> tuple["Show", int, str]:
    """The show, the index of the song it starts at and the backend's name, every
    option and the show itself checked before anything opens."""
    from ictus.engine.backends import default_backend
    from ictus.show import ShowError, check_show

    name = _backend_name(backend)
    if not 0.5 <= read_ahead <= 600:
        raise UsageError(f"--read-ahead must be 0.5..600 seconds, got {read_ahead:g}")
    show = _load(show_file)
    start = 0 if song is None else _song_index(show, song)
    try:
        check_show(show)  # before anything opens: a bad show never makes a sound
    except ShowError as err:
        _problems(err)
    name = name or default_backend()
    if name != "jack" and (midi_connect or midi_from):
        raise UsageError("--midi-connect and --midi-from need --backend jack (JACK MIDI)")
    return show, start, name


def run_show(
    show_file: Path,
    backend: str | None,
    song: str | None,
    client_name: str,
    connect: str,
    midi_connect: str | None,
    midi_from: str | None,
    device: str | None,
    read_ahead: float,
    quiet: bool,
    *,
    web: tuple[str, int] | None = None,
    display: bool = True,
    token: bool | None = None,
    visual_latency: float = 0.0,
    in_process: bool = False,
    pin: int | bool = True,
    osc: OscSettings | None = None,
) -> None:
    """``ictus show run``, and ``ictus serve SHOW`` (``display`` False: the web remote
    alone). With ``web`` (host, port) the web remote drives the show too; with ``osc``
    (``--osc``'s port, host and subscribers) the OSC remote
    (:class:`ictus.remote.setlist.SetlistRemote`).

    The audio plays in a process of its own (:class:`ictus.show.process.ShowProcess`)
    unless ``in_process``: there the display and the web server's threads would make
    the audio callback wait for Python's lock (docs/REALTIME.md). ``pin``: keep that
    process on a CPU of its own (True: the last; a number: that one; False: no).
    """
    from ictus.show.process import Audio

    show, start, name = _checked_show(
        show_file, backend, song, read_ahead, midi_connect=midi_connect, midi_from=midi_from
    )
    interactive = display and sys.stdin.isatty()
    listens = osc is not None and osc[0] is not None  # OSC messages may drive it
    recipe = Audio(
        name,
        show.sample_rate,
        # a page or an OSC peer follows it too: in real time
        realtime=interactive or web is not None or osc is not None,
        client_name=client_name,
        connect=_connect(connect),
        device=device,
        midi_to=_names(midi_connect),
        midi_from=_names(midi_from),
    )
    ring = max(round(read_ahead * show.sample_rate), 1 << 14)
    _stop_on_sigterm()
    runner, audio = _open_show(show, recipe, start, ring, in_process=in_process, pin=pin)
    server = None
    remote = None
    try:
        if osc is not None:
            remote = _open_osc(runner, osc, quiet)
        if web is not None:
            from ictus.cli.webflags import start_web

            server = start_web(
                None, web, show=runner, token=token, visual_latency=visual_latency
            )
        if interactive:
            _display(runner, remote)
        elif server is not None or listens:
            where = " or ".join(
                w for w, on in (("on the page", server), ("over OSC", listens)) if on
            )
            sys.stderr.write(f"ictus: the show waits for go {where}; Ctrl-C to stop\n")
            while runner.failure is None and audio.failure is None:
                time.sleep(0.25)  # the servers and the show run on their own threads
        else:
            if not quiet:
                sys.stderr.write(f"ictus: show {show_file} on {audio.describe()}\n")
            runner.go()
            runner.wait()  # IctusError if the audio went away
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    finally:
        if server is not None:
            server.stop()
        if remote is not None:
            remote.close()  # before the show: no message reaches a closed runner
            _say_what_osc_ignored(remote, quiet)
        failure = runner.failure
        underruns = _last_underruns(runner)
        runner.close()
    _say_how_it_went(failure, underruns, audio, quiet=quiet, interactive=interactive)


def _say_what_osc_ignored(remote: Any, quiet: bool) -> None:
    """After the show (also after Ctrl-C): how many OSC messages did nothing, and why."""
    c = remote.counts
    if c.ignored and not quiet:
        sys.stderr.write(
            f"ictus: OSC: ignored {c.ignored} message(s) ({c.malformed} malformed, "
            f"{c.unknown} unknown, {c.refused} refused)\n"
        )


def _open_osc(runner: Any, settings: OscSettings, quiet: bool) -> Any:
    """The show's OSC remote, open: the setlist's controls on ``--osc``'s port, its
    status to ``--osc-send``'s subscribers."""
    from ictus.remote.setlist import SetlistRemote

    port, host, targets = settings
    remote = SetlistRemote(runner, port=port, host=host, send_to=targets).open()
    if not quiet and port is not None:
        where = ":".join(str(x) for x in remote.address)
        sys.stderr.write(f"ictus: OSC control on {where} (/ictus/show/...)\n")
    return remote


def _open_show(
    show: "Show", recipe: "Audio", start: int, ring: int, *, in_process: bool, pin: int | bool
) -> tuple[Any, Any]:
    """The running show (a :class:`ShowRunner`, or the :class:`ShowProcess` that runs
    one) and what the frontends read of its backend (``describe``, ``xruns``,
    ``failure``); SIGTERM and Ctrl-C while it opens stop it too."""
    from ictus.engine import BackendError
    from ictus.engine.backends import NoOutput

    try:
        if in_process:
            from ictus.show.runner import ShowRunner

            backend, midi = recipe.make()
            runner = ShowRunner(show, backend, midi=midi, start=start, read_ahead=ring)
            runner.open()
            try:
                recipe.connect_midi(midi)
            except BaseException:
                runner.close()
                raise
            return runner, backend
        from ictus.show.process import ShowProcess

        process = ShowProcess(
            show,
            recipe,
            start=start,
            read_ahead=ring,
            pin=pin is not False,
            audio_cpu=None if isinstance(pin, bool) else pin,
        ).open()
        return process, process.audio
    except NoOutput as err:
        raise BackendError(str(err)) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _last_underruns(runner: Any) -> int:
    """The stem underruns so far (0 when the show's process is gone: its last status
    is all there is)."""
    from ictus.errors import IctusError

    try:
        return int(runner.status().underruns)
    except IctusError:
        return 0


def _names(text: str | None) -> tuple[str, ...]:
    """Comma-separated port or client names."""
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


def _say_how_it_went(
    failure: str | None, underruns: int, audio: Any, *, quiet: bool, interactive: bool
) -> None:
    """After the show: the runner's failure as an error; else, unless quiet, the xruns
    (played without the display) and the stem underruns."""
    from ictus.engine import BackendError

    if failure:
        raise BackendError(failure)
    if quiet:
        return
    if not interactive and audio.xruns:
        sys.stderr.write(f"ictus: {audio.xruns} xrun(s) while playing\n")
    if underruns:
        sys.stderr.write(
            f"ictus: {underruns} stem underrun(s): the disk fell behind (--read-ahead)\n"
        )


def _backend_name(backend: str | None) -> str | None:
    """The backend asked for (None: the default one); a usage error if unknown."""
    name = backend or None
    if name is not None and name not in BACKENDS:
        raise UsageError(f"--backend: choose one of {', '.join(BACKENDS)}, got {name!r}")
    return name


def _stop_on_sigterm() -> None:
    """SIGTERM stops the show as Ctrl-C does (the runner closes, the exit is 130)."""
    import signal

    def stop_playing(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_playing)


# -- the display -----------------------------------------------------------------------------


def render_show(status: "ShowStatus", message: str = "", osc: str = "") -> Any:
    """The show display: the setlist, the song and part, the next cue, the time left
    (and ``osc``: the OSC remote's line, :meth:`~ictus.remote.osc.OscServer.summary`)."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    lines: list[Any] = []
    setlist = Text()
    for i, name in enumerate(status.setlist):
        mark = "▶ " if i == status.index else "  "
        style = (
            "bold green"
            if i == status.index and status.playing
            else ("bold" if i == status.index else "dim")
        )
        setlist.append(f"{mark}{i + 1}. {name}\n", style=style)
    lines.append(setlist)
    e = status.engine
    state = "playing" if status.playing else ("finished" if status.finished else "cued")
    head = Text(f"{status.song}: {state}", style="bold")
    lines.append(head)
    if e is not None:
        part = e.section or "-"
        where = f"bar {e.bar}|{e.beat}  part {part}"
        if e.loop:
            where += f"  (vamp: {e.loop})"
        lines.append(Text(where))
        if e.next_section:
            lines.append(Text(f"next part: {e.next_section}"))
    if status.next_cue is not None and status.next_cue_in is not None:
        soon = status.next_cue_in < 4.0
        lines.append(
            Text(
                f"next cue: {status.next_cue!r} in {status.next_cue_in:.0f} s",
                style="bold yellow" if soon else "",
            )
        )
    minutes, seconds = divmod(int(status.seconds_left + 0.999), 60)
    lines.append(Text(f"to the end: {minutes}:{seconds:02d}   then: {status.advance}"))
    if status.underruns:
        lines.append(Text(f"stem underruns: {status.underruns}", style="yellow"))
    if osc:
        lines.append(Text(f"osc: {osc}", style="dim"))
    lines.append(Text(message, style="yellow") if message else Text(""))
    lines.append(Text(KEYS_HELP, style="dim"))
    return Panel(Group(*lines), title=status.title or "ictus show", expand=False)


def act(runner: "ShowRunner | ShowProcess", key: str) -> str | None:
    """Do what ``key`` means; returns ``"quit"``, a message, or None."""
    if key in ("q", "Q", "\x03"):
        return "quit"
    if key in ("g", " "):
        runner.go()
    elif key in ("n", "right"):
        runner.next()
    elif key in ("p", "left"):
        runner.previous()
    elif key == "s":
        runner.stop()
    elif key == "v":
        return f"vamp: {runner.vamp()}"
    elif key == "r":
        runner.release()
        return "released: out at the next bar line"
    elif key.isdigit() and key != "0":
        loaded = runner.playing
        if loaded is None:
            return None
        labels = [s.label for s in loaded.song.tempo_map.sections]
        k = int(key) - 1
        if k < len(labels) and labels[k]:
            runner.jump(str(labels[k]))
            return f"to {labels[k]} at the next bar line"
        return f"the song has no part {key}"
    return None


def _display(runner: "ShowRunner | ShowProcess", remote: Any = None, fps: float = 20.0) -> None:
    from rich.console import Console
    from rich.live import Live

    from ictus.cli.display import Keys
    from ictus.errors import IctusError

    quit_now = threading.Event()
    message: list[tuple[str, float]] = [("", 0.0)]

    def on_key(key: str) -> None:
        try:
            said = act(runner, key)
        except IctusError as err:
            said = str(err)
        if said == "quit":
            quit_now.set()
        elif said:
            message[0] = (said, time.monotonic() + 3.0)

    def screen() -> Any:
        said, until = message[0]
        text = said if time.monotonic() < until else ""
        osc = remote.summary() if remote is not None else ""
        return render_show(runner.status(), runner.failure or text, osc)

    with (
        Keys(on_key),
        Live(get_renderable=screen, console=Console(), refresh_per_second=fps, transient=False),
    ):
        while not quit_now.wait(0.05) and not runner.gone:
            pass  # the show's process gone: nothing plays, say why (after the display)
