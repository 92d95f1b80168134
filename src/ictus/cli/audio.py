"""Commands of the audio area: ``ictus render`` (a map's click into a file) and
``ictus sounds`` (the voices, listed, written or played)."""

# no ``from __future__ import annotations``: Typer reads the annotations at run time
import sys
from typing import Annotated

from ictus.cli import common
from ictus.cli.options import (
    BarsOpt,
    ClickOnOpt,
    ClickUnitOpt,
    CountInOpt,
    CountInSoundOpt,
    FromBarOpt,
    FromLabelOpt,
    FromOpt,
    GainOpt,
    GapOpt,
    MapArg,
    Option,
    OversOpt,
    OverwriteInputOpt,
    QuietOpt,
    RateOpt,
    ScaleOpt,
    SeedOpt,
    SoundFileOpt,
    SoundOpt,
    SpeedTrainerOpt,
    area,
)

# render and sounds run without Typer when their command line is plain (cli/quick.py)
app = area(quick=True)

#: audio files `render` writes, by extension (the render package's formats)
AUDIO_EXTENSIONS = ".wav .flac .ogg .mp3 .aiff"


@app.command()
def render(
    map_file: MapArg,
    output: Annotated[
        str,
        Option("--output", "-o", metavar="FILE", help=f"Output audio file ({AUDIO_EXTENSIONS})."),
    ],
    fmt: Annotated[
        str | None,
        Option(
            "--format",
            metavar="FORMAT",
            help="wav, rf64, flac, ogg, mp3, aiff (default: by extension; "
            "WAV over 4 GiB is written as RF64).",
        ),
    ] = None,
    bit_depth: Annotated[
        str | None,
        Option(
            "--bit-depth", metavar="16|24|32f", help="16, 24 or 32f (WAV/FLAC/AIFF; default 24)."
        ),
    ] = None,
    sample_rate: RateOpt = 48000,
    channels: Annotated[
        int, Option("--channels", "-c", metavar="N", help="Number of channels in the file.")
    ] = 1,
    click_on: ClickOnOpt = None,
    sound: SoundOpt = None,
    sound_file: SoundFileOpt = None,
    gain: GainOpt = None,
    count_in_sound: CountInSoundOpt = None,
    overs: OversOpt = "warn",
    source_format: FromOpt = None,
    scale: ScaleOpt = None,
    count_in: CountInOpt = None,
    from_label: FromLabelOpt = None,
    from_bar: FromBarOpt = None,
    click_unit: ClickUnitOpt = None,
    bars: BarsOpt = None,
    gap: GapOpt = None,
    seed: SeedOpt = None,
    speed_trainer: SpeedTrainerOpt = None,
    quiet: QuietOpt = False,
    overwrite_input: OverwriteInputOpt = False,
) -> None:
    """Render the click of MAP to an audio file.

    Examples:

      ictus render song.click -o click.wav

      ictus render song.click -o click.flac --bit-depth 16 -r 44100 --sound cowbell

      ictus render show.klick -o stems.wav --channels 8 --click-on 7,8

      ictus render song.click -o practice.wav --scale 90% --count-in 2

      ictus render groove.click -o drill.wav --gap 2:2 --speed-trainer 80+4/2..120
    """
    from ictus.cli.trainer_flags import apply_trainers
    from ictus.render import Overs, parse_channels, render_file
    from ictus.render.writer import guess_audio_format, subtype_for
    from ictus.sounds import parse_gains
    from ictus.tempomap import build_grid

    common.overwrite_inputs(overwrite_input)
    with common.option_values():
        overs_rule = Overs.parse(overs)
        # the file's format and depth are checked before the (possibly long) map is read
        subtype_for(guess_audio_format(output, fmt), bit_depth)
        asked = common.parse_int_list(click_on, "--click-on") if click_on is not None else None
        if asked == []:  # as ictus play: leaving it out means every output
            raise common.UsageError(
                f"--click-on names no output: give outputs 1..{channels} (leave it out for all)"
            )
        targets = parse_channels(channels, asked)
        gains = parse_gains(gain) if gain else None
    tempo_map = common.load_map(
        map_file,
        fmt=source_format,
        scale=scale,
        count_in=count_in,
        click_unit=click_unit,
        bars=bars,
    )
    drilled = apply_trainers(tempo_map, gap=gap, seed=seed, speed_trainer=speed_trainer)
    grid = build_grid(drilled.tempo_map, start_label=from_label, start_bar=from_bar)
    voice = common.load_voice_for(sound, sound_file, sample_rate, count_in_sound)
    show = not quiet and sys.stderr.isatty() and grid.duration > 30
    with common.progress("rendering", show) as advance:
        frames = render_file(
            grid,
            output,
            voice=voice,
            rate=sample_rate,
            fmt=fmt,
            bit_depth=bit_depth,
            channels=channels,
            click_on=targets,
            gains=gains,
            progress=advance,
            overs=overs_rule,
        )
    if not quiet:
        clicks = int(grid.audible().sum())
        sys.stderr.write(
            f"wrote {output}: {common.format_clock(frames / sample_rate)}, "
            f"{clicks} clicks, {sample_rate} Hz, {channels} ch\n"
        )


@app.command()
def sounds(
    preview: Annotated[
        str | None,
        Option(
            "--preview",
            metavar="NAME",
            help="Play a bar of this voice (accent, normal, sub), or write it to -o.",
        ),
    ] = None,
    output: Annotated[
        str | None,
        Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the --preview bar here (.wav, .flac, ...).",
        ),
    ] = None,
    backend: Annotated[
        str | None,
        Option(
            "--backend",
            "-b",
            metavar="jack|portaudio|null",
            help="Where --preview plays without -o (default as for 'ictus play').",
        ),
    ] = None,
    sample_rate: RateOpt = 48000,
) -> None:
    """List the built-in click voices, or hear one.

    Examples:

      ictus sounds

      ictus sounds --preview cowbell

      ictus sounds --preview cowbell -o cowbell.wav
    """
    if preview is None:
        if output is not None or backend is not None:
            raise common.UsageError("-o and --backend go with --preview NAME")
        _list_voices()
        return
    from ictus.sounds import synth_voice
    from ictus.tempomap import Section, Tempo, TempoMap

    with common.option_values():
        voice = synth_voice(preview, sample_rate)
    # one 4/4 bar with eighths: the accent, three normal beats and the sub clicks
    one_bar = TempoMap((Section(1, Tempo(100), sub=2),))
    if output is None:
        _play_preview(one_bar, preview, backend, sample_rate)
        return
    from ictus.render import render_file
    from ictus.tempomap import build_grid

    with common.option_values():
        render_file(build_grid(one_bar), output, voice=voice, rate=sample_rate)
    sys.stderr.write(f"wrote {output}: a bar of '{preview}' (accent, normal, sub)\n")


def _list_voices() -> None:
    from rich.console import Console
    from rich.table import Table

    from ictus.sounds import voice_descriptions

    table = Table("voice", "sound", title="built-in voices (--sound NAME)")
    for name, text in voice_descriptions().items():
        table.add_row(name, text)
    Console().print(table)


def _play_preview(tempo_map: object, name: str, backend: str | None, rate: int) -> None:
    """Play the bar through the live engine's public API, on the backend asked for."""
    from ictus.engine import BackendError, Engine, make_backend
    from ictus.engine.backends import BACKENDS, default_backend
    from ictus.sounds import synth_voice
    from ictus.tempomap import TempoMap

    assert isinstance(tempo_map, TempoMap)
    if backend is not None and backend not in BACKENDS:
        raise common.UsageError(f"--backend: choose one of {', '.join(BACKENDS)}")
    chosen = backend or default_backend()
    options: dict[str, object] = {"rate": rate, "driver": "fast"} if chosen == "null" else {}
    try:
        audio = make_backend(chosen, **options)
        engine = Engine(tempo_map, audio, voice=lambda r: synth_voice(name, r), channels=2)
        engine.open()
    except BackendError as err:
        raise BackendError(
            f"cannot play the preview on {chosen} ({err}); write it instead with "
            "-o preview.wav, or see 'ictus devices'"
        ) from None
    try:
        sys.stderr.write(f"ictus: playing a bar of '{name}' on {audio.describe()}\n")
        engine.start()
        engine.wait()
    finally:
        engine.close()
