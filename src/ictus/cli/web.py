"""The web area, in its own app (:data:`app`): ``ictus serve``, the live engine with
the web remote and visual metronome (the server is :mod:`ictus.web`)."""

# no ``from __future__ import annotations``: Typer reads the option annotations
import sys
import time
from typing import Annotated, Any

import typer

from ictus.cli import options as m
from ictus.cli.common import UsageError  # option mistakes exit 2

BACKEND_NAMES = ("jack", "portaudio", "null")


app = m.area()


@app.command()
def serve(
    map_file: m.MapArg,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on; anything but loopback needs the printed token.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0: any free one).")] = 8750,
    token: Annotated[
        bool | None,
        typer.Option(
            "--token/--no-token",
            help="Require an access token (default: only off loopback).",
        ),
    ] = None,
    visual_latency: Annotated[
        float,
        typer.Option(
            "--visual-latency",
            metavar="MS",
            help="Show each beat this much later than the engine computes it "
            "(your audio output's latency), so flash and click coincide.",
        ),
    ] = 0.0,
    backend: Annotated[
        str | None,
        typer.Option("--backend", "-b", metavar="jack|portaudio|null", help="Audio backend."),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option("--device", "-d", help="PortAudio device, or JACK server name."),
    ] = None,
    connect: Annotated[
        str,
        typer.Option("--connect", metavar="auto|none|PORT,...", help="JACK connections."),
    ] = "auto",
    channels: Annotated[int, typer.Option("--channels", "-c", help="Number of outputs.")] = 2,
    period: Annotated[
        int, typer.Option("--period", help="PortAudio/null: frames per block (0: default).")
    ] = 0,
    sample_rate: Annotated[
        int | None, typer.Option("--sample-rate", "-r", help="Sample rate.")
    ] = None,
    sound: m.SoundOpt = None,
    source_format: m.FromOpt = None,
    scale: m.ScaleOpt = None,
    count_in: m.CountInOpt = None,
    from_label: m.FromLabelOpt = None,
    from_bar: m.FromBarOpt = None,
) -> None:
    """Play MAP (or run a show file, .toml) live, run from a web page: visual
    metronome and remote control.

    Open the printed address on a phone or tablet: the page flashes the beat in
    step with the click (clock-synced), shows bar|beat, section, tempo and the
    count-in, and starts, stops, locates, vamps, jumps and changes the tempo.
    With a show file the page shows the setlist and runs the show: go, next,
    previous, stop, vamp, release, jump to a part.

    Examples:

      ictus serve song.click

      ictus serve song.click --host 0.0.0.0 --backend jack --visual-latency 6

      ictus serve examples/show/show.toml --backend null
    """
    from ictus.cli import common

    common.needs("aiohttp", "ictus serve")
    from ictus.engine import Engine, make_backend
    from ictus.engine.backends import default_backend
    from ictus.web.server import WebRemote, print_addresses

    _check_ranges(port, visual_latency, period)
    name = backend or default_backend()
    if name not in BACKEND_NAMES:
        raise UsageError(f"--backend: choose one of {', '.join(BACKEND_NAMES)}, got {name!r}")
    if map_file.endswith(".toml"):  # a show file: the show runner, driven from the page
        given = [scale, count_in, from_label, from_bar, sound, source_format, sample_rate]
        if any(v is not None for v in given) or period or channels != 2:
            raise UsageError(
                "with a show file, the show file says the sound, tempo, channels and rate"
            )
        from pathlib import Path

        from ictus.cli.show import run_show

        run_show(
            Path(map_file), name, None, "ictus-show", connect, None, None, device, 2.7,
            False, web=(host, port), display=False, token=token,
            visual_latency=visual_latency / 1000,
        )
        return
    tempo_map = common.load_map(map_file, fmt=source_format, scale=scale, count_in=count_in)
    options = _backend_options(name, connect, device, period, sample_rate)
    sound_name = sound

    def voice(rate: int) -> Any:
        return common.load_voice_for(sound_name, None, rate, None)

    engine = Engine(
        tempo_map,
        make_backend(name, **options),
        voice=voice,
        channels=channels,
        start_label=from_label,
        start_bar=from_bar,
        rate=sample_rate,
    )
    engine.open()
    failure = None
    try:
        server = WebRemote(
            engine, host, port, token=token, visual_latency=visual_latency / 1000
        )
        with server:
            print_addresses(server, lambda line: sys.stderr.write(line + "\n"))
            sys.stderr.write("ictus: Ctrl-C to stop\n")
            while (failure := server.remote.failure()) is None:
                time.sleep(0.25)  # the server and the engine run on their own threads
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    finally:
        engine.close()
    from ictus.engine.backends import BackendError

    raise BackendError(failure)


def _check_ranges(port: int, visual_latency: float, period: int) -> None:
    """``--port``, ``--visual-latency`` and ``--period`` within their ranges (a usage
    mistake otherwise)."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be 0..65535, got {port}")
    if not -1000 <= visual_latency <= 1000:
        raise UsageError(f"--visual-latency must be -1000..1000 ms, got {visual_latency}")
    if period < 0 or period > 8192:
        raise UsageError(f"--period must be 0..8192 frames, got {period}")


def _backend_options(
    name: str, connect: str, device: str | None, period: int, sample_rate: int | None
) -> dict[str, Any]:
    """The keyword options of :func:`ictus.engine.make_backend` for backend ``name``.

    >>> _backend_options("jack", "system:playback_1, x", None, 0, None)
    {'connect': ['system:playback_1', 'x'], 'server': None}
    >>> _backend_options("null", "auto", None, 0, None)
    {'rate': 48000, 'period': 256, 'driver': 'paced'}
    """
    if name == "jack":
        ports = [p.strip() for p in connect.split(",") if p.strip()]
        if not ports:
            raise UsageError("--connect: give auto, none, or JACK ports/clients")
        wiring = connect.strip() if connect.strip() in ("auto", "none") else ports
        return {"connect": wiring, "server": device}
    if name == "portaudio":
        return {"device": device, "period": period}
    return {"rate": sample_rate or 48000, "period": period or 256, "driver": "paced"}
