"""Commands of the film area, the ``ictus film`` group (:data:`app`): frame clicks, hit
fitting, click sheets, preview videos and game cue points. Each command parses its
arguments and calls :mod:`ictus.film` / :mod:`ictus.timebase`; what a fit reports and
how is :mod:`ictus.film.report`'s business.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ictus.cli import common
from ictus.cli.options import (
    FRAME_RATES,
    CountInOpt,
    FpsOpt,
    GaugeOpt,
    MapArg,
    QuietOpt,
    RateOpt,
    ScaleOpt,
    SoundOpt,
    area,
)

if TYPE_CHECKING:
    from ictus.film.hits import Hit
    from ictus.film.picture import Placement
    from ictus.tempomap import Meter, TempoMap
    from ictus.timebase import FrameRate


FpsMapOpt = Annotated[
    str | None,
    typer.Option(
        "--fps", metavar="RATE", help=f"Frame rate (default: the map's start: line): {FRAME_RATES}."
    ),
]
StartMapOpt = Annotated[
    str | None,
    typer.Option(
        "--start",
        metavar="TIMECODE",
        help="Timecode of bar 1's downbeat (default: the map's start: line, else 00:00:00:00).",
    ),
]
HitsOpt = Annotated[
    str | None,
    typer.Option(
        "--hits",
        metavar="FILE",
        help="Hit list: CSV (timecode or seconds, label, weight, grid), REAPER marker CSV, "
        "Pro Tools session text, Avid marker list or EDL.",
    ),
]
HitsFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--hits-format",
        metavar="csv|reaper|protools|avid|edl",
        help="Read the hit list as this format (default: from its content).",
    ),
]
PictureStartOpt = Annotated[
    str | None,
    typer.Option(
        "--picture-start",
        metavar="TIMECODE",
        help="Picture start (0+00) for feet+frames (default: the hour the cue starts in).",
    ),
]


app = area(
    "film",
    "Film and game scoring: frame clicks, hit points, click sheets, streamers.\n\n"
    "Examples:\n\n"
    "  ictus film click 12-2 --fps 24\n\n"
    "  ictus film fit hits.csv --fps 24 --start 01:00:00:00 --range 100-140\n\n"
    "  ictus film sheet cue.click --hits hits.csv -o sheet.pdf\n\n"
    "  ictus film video cue.click --hits hits.csv -o preview.mp4\n\n"
    "  ictus film cues level1.click -o cues.json",
)


def _rate(text: str) -> FrameRate:
    from ictus.timebase import parse_rate

    return parse_rate(text)


def _parse_range(text: str) -> tuple[Fraction, Fraction]:
    from ictus.limits import check_number_text

    lo, sep, hi = text.strip().partition("-")
    try:
        check_number_text(text, "--range")  # 1e999999999 would take forever
        if not sep:
            raise ValueError
        low, high = Fraction(lo), Fraction(hi)
    except (ValueError, ZeroDivisionError):
        raise common.UsageError(
            f"--range: expected LO-HI in BPM such as 100-140, got {text!r}"
        ) from None
    if not 0 < low <= high:
        raise common.UsageError(f"--range: expected 0 < LO <= HI, got {text!r}")
    return low, high


def _parse_meter(text: str) -> Meter:
    from ictus.tempomap import Meter

    count, _, unit = text.strip().partition("/")
    try:
        return Meter(int(count), int(unit))
    except ValueError:
        raise common.UsageError(f"--meter: expected N/D such as 4/4 or 6/8, got {text!r}") from None


def _load_map(path: str, scale: str | None, count_in: str | None) -> TempoMap:
    return common.load_map(path, scale=scale, count_in=count_in)


def _placement(
    tempo_map: TempoMap,
    fps: str | None,
    start: str | None,
    picture_start: str | None,
    gauge: str,
) -> Placement:
    from ictus.film.picture import Placement
    from ictus.timebase import parse_gauge

    return Placement.of(
        tempo_map, fps=fps, start=start, picture_start=picture_start, gauge=parse_gauge(gauge)
    )


def _read_hits(path: str | None, placement: Placement, fmt: str | None) -> list[Hit]:
    from ictus.film.hits import read_hits

    if path is None:
        return []
    return read_hits(
        path, rate=placement.rate, start=placement.start_frame, fmt=fmt, allow_early=True
    )


# -- ictus film click ------------------------------------------------------------------


@app.command("click")
def click(
    frame_click: Annotated[
        str | None,
        typer.Argument(metavar="[F-e]", help="A frame click: F frames + e eighths (12-2)."),
    ] = None,
    fps: FpsOpt = "24",
    bpm: Annotated[
        str | None,
        typer.Option("--bpm", metavar="X", help="Print the nearest click to this tempo."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Frame clicks: a click F-e (F frames + e eighth-frames per beat) in BPM, or the
    nearest click to a tempo.

    'ictus film click 12-2 --fps 24' prints the tempo in BPM to 3 decimals (117.551).
    'ictus film click --bpm 100 --fps 24' prints the nearest click and its BPM
    (14-3+ 100.174): '+' means the tempo's beat is a little longer than the click
    (the tempo is slower), '-' shorter.

    Examples:

      ictus film click 12-2 --fps 24

      ictus film click 12-0 --fps 23.976

      ictus film click --bpm 100 --fps 24
    """
    from ictus.timebase import bpm_to_click, click_to_bpm, parse_click

    rate = _rate(fps)
    if (frame_click is None) == (bpm is None):
        raise common.UsageError("give a frame click (12-2) or --bpm, not both")
    if fmt not in ("text", "json"):
        raise common.UsageError(f"--format: choose text or json, got {fmt!r}")
    if frame_click is not None:
        frames = parse_click(frame_click)
        tempo = click_to_bpm(frames, rate)
        if fmt == "json":
            typer.echo(
                json.dumps(
                    {
                        "click": frame_click.strip(),
                        "bpm": float(tempo),
                        "frames_per_beat": float(frames),
                        "rate": rate.name,
                    }
                )
            )
            return
        typer.echo(f"{float(tempo):.3f}")
        return
    assert bpm is not None
    label, exact = bpm_to_click(bpm, rate)
    shown = parse_click(label.rstrip("+-"))
    tempo = click_to_bpm(shown, rate)
    if fmt == "json":
        typer.echo(
            json.dumps(
                {
                    "click": label,
                    "bpm": float(tempo),
                    "frames_per_beat": float(exact),
                    "rate": rate.name,
                }
            )
        )
        return
    typer.echo(f"{label} {float(tempo):.3f}")


# -- ictus film fit --------------------------------------------------------------------


@app.command("fit")
def fit(
    hits_file: Annotated[str, typer.Argument(metavar="HITS", help="The hit list.")],
    fps: FpsOpt = "24",
    tempo_range: Annotated[
        str, typer.Option("--range", metavar="LO-HI", help="Tempo range in BPM.")
    ] = "60-180",
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            metavar="free|quarter-bpm|click",
            help="Any tempo, 0.25 BPM steps, or eighth-frame clicks.",
        ),
    ] = "free",
    meter: Annotated[
        str, typer.Option("--meter", metavar="N/D", help="Meter (bar numbers; --map).")
    ] = "4/4",
    pickup: Annotated[
        bool,
        typer.Option("--pickup", help="Let the first downbeat fall after the cue start."),
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            metavar="TIMECODE",
            help="The cue start: the first downbeat (default: the hour of the earliest hit, "
            "01:00:00:00 for hits in the first reel hour).",
        ),
    ] = None,
    grid: Annotated[
        str,
        typer.Option(
            "--grid",
            metavar="beat|8th|16th|triplet",
            help="Grid for hits that name none.",
        ),
    ] = "beat",
    top: Annotated[int, typer.Option("--top", help="How many candidates to show.")] = 10,
    fmt: Annotated[
        str, typer.Option("--format", metavar="table|json|csv", help="Output format.")
    ] = "table",
    hits_format: HitsFormatOpt = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write the best fit as a .click (or .json) map."),
    ] = None,
    tempo_map: Annotated[
        bool,
        typer.Option("--map", help="Fit a map with tempo changes and ramps (fewest changes)."),
    ] = False,
    penalty: Annotated[
        float, typer.Option("--penalty", help="--map: cost of one tempo change.")
    ] = 1.0,
    no_ramps: Annotated[
        bool, typer.Option("--no-ramps", help="--map: constant tempos only.")
    ] = False,
    ramp: Annotated[
        str,
        typer.Option("--ramp", metavar="beats|time|period", help="--map: ramp shape."),
    ] = "beats",
    warning: Annotated[
        int, typer.Option("--warning", metavar="BARS", help="Warning bars in the written map.")
    ] = 1,
) -> None:
    """Fit tempos to hit points: a ranked table of candidates, best first.

    Each candidate: BPM, frame click (F-e, marked +/- when not exact), how many hits
    land within half a frame (hits), within 1 frame early / 2 late (near) or not
    (miss), and every hit's error in frames (+ the music is early, - late). Times
    count from --start, the first downbeat (unless --pickup); without --start, from
    the hour the earliest hit is in (a reel hour: 01:00:00:00 for hits at 01:00:12:00).
    --format json prints a JSON list of candidates with bpm, click, hits, near, miss,
    errors_frames.

    With --map, fits a tempo map with changes and ramps that catches every hit with
    the fewest changes, and -o writes it as a .click file (with warning bars and
    the start timecode).

    Examples:

      ictus film fit hits.csv --fps 24 --start 01:00:00:00 --range 100-140

      ictus film fit hits.csv --fps 23.976 --start 01:00:00:00 --range 90-130 --mode click

      ictus film fit markers.txt --fps 25 --start 01:00:00:00 --pickup -o cue.click

      ictus film fit hits.csv --fps 24 --start 01:00:00:00 --range 80-160 --map -o cue.click
    """
    from ictus.film import report
    from ictus.film.fit import fit_tempo
    from ictus.film.hits import read_hits
    from ictus.timebase import Timecode

    rate = _rate(fps)
    lo, hi = _parse_range(tempo_range)
    the_meter = _parse_meter(meter)
    if fmt not in ("table", "json", "csv"):
        raise common.UsageError(f"--format: choose table, json or csv, got {fmt!r}")
    start_frame = _cue_start(hits_file, rate, start, hits_format)
    hits = read_hits(hits_file, rate=rate, start=start_frame, fmt=hits_format, grid=grid)
    title = Path(hits_file).stem if hits_file != "-" else None
    if tempo_map:
        _fit_map(
            hits,
            rate,
            lo,
            hi,
            the_meter,
            penalty,
            not no_ramps,
            ramp,
            Timecode.from_frame(start_frame, rate),
            warning,
            title,
            fmt,
            output,
        )
        return
    per_bar = the_meter.beats_per_bar()
    candidates = fit_tempo(
        hits,
        rate=rate,
        lo=lo,
        hi=hi,
        mode=mode,
        beats_per_bar=per_bar,
        pickup=pickup,
        limit=top,
    )
    if fmt == "json":
        typer.echo(report.candidates_json(candidates, start_frame))
    elif fmt == "csv":
        sys.stdout.write(report.candidates_csv(candidates, start_frame))
    else:
        typer.echo(report.candidates_table(candidates, start_frame))
    if output is not None:
        from ictus.film.fitmap import candidate_map
        from ictus.formats import write_map

        written = candidate_map(
            candidates[0],
            the_meter,
            start_frame=start_frame,
            warning_bars=warning,
            title=title,
        )
        write_map(written, output)
        sys.stderr.write(f"wrote {output}\n")


def _cue_start(hits_file: str, rate: FrameRate, start: str | None, fmt: str | None) -> int:
    """The cue start's frame: ``--start``, else the hour of the earliest hit (said on stderr).

    A picture's hits are timecodes in a reel hour (01:00:12:00); counted from
    00:00:00:00 they would ask for an hour of music before the first hit.
    """
    from ictus.film.hits import read_hits
    from ictus.timebase import format_timecode, parse_timecode, seconds_to_frames

    if start is not None:
        return parse_timecode(start, rate)
    every = read_hits(hits_file, rate=rate, start=0, fmt=fmt, allow_early=True)
    earliest = seconds_to_frames(every[0].time, rate, "floor")
    hour = parse_timecode(format_timecode(earliest, rate)[:2] + ":00:00:00", rate)
    if hour:
        label = format_timecode(hour, rate)
        sys.stderr.write(
            f"ictus: cue start {label}, the hour of the earliest hit; give --start to change it\n"
        )
    return hour


def _fit_map(
    hits: list[Hit],
    rate: FrameRate,
    lo: Fraction,
    hi: Fraction,
    meter: Meter,
    penalty: float,
    ramps: bool,
    ramp: str,
    start: Any,
    warning: int,
    title: str | None,
    fmt: str,
    output: str | None,
) -> None:
    from ictus.film import report
    from ictus.film.fitmap import fit_map
    from ictus.formats import format_click, write_map

    result = fit_map(
        hits,
        rate=rate,
        lo=lo,
        hi=hi,
        meter=meter,
        penalty=penalty,
        ramps_allowed=ramps,
        ramp_shape=ramp,
        start=start,
        warning_bars=warning,
        title=title,
    )
    if fmt == "json":
        data = report.fitted_map_data(result, format_click(result.tempo_map))
        typer.echo(json.dumps(data, indent=1))
    else:
        typer.echo(report.fitted_map_table(result))
        if output is None:
            sys.stdout.write(format_click(result.tempo_map))
    if output is not None:
        write_map(result.tempo_map, output)
        sys.stderr.write(f"wrote {output}\n")


# -- ictus film sheet ------------------------------------------------------------------


@app.command("sheet")
def sheet(
    map_file: MapArg,
    output: Annotated[
        str,
        typer.Option("--output", "-o", help="sheet.pdf, sheet.html or sheet.csv (- = stdout)."),
    ],
    hits: HitsOpt = None,
    hits_format: HitsFormatOpt = None,
    fps: FpsMapOpt = None,
    start: StartMapOpt = None,
    picture_start: PictureStartOpt = None,
    gauge: GaugeOpt = "35mm",
    fmt: Annotated[
        str | None, typer.Option("--format", metavar="csv|html|pdf", help="Default: by -o.")
    ] = None,
    scale: ScaleOpt = None,
    count_in: CountInOpt = None,
) -> None:
    """The click sheet for the music editor: bar, beat, timecode, feet+frames, tempo
    as BPM and as frame click, and the hits, one row per beat.

    Hit times count from bar 1's downbeat (the map's start). Warning clicks (the
    count-in) are listed as bars W1, W2, ...

    Examples:

      ictus film sheet cue.click --hits hits.csv -o sheet.pdf

      ictus film sheet cue.click --fps 24 --start 01:00:08:00 -o sheet.html

      ictus film sheet cue.click -o - --format csv
    """
    from ictus.film.sheet import write_sheet

    if (fmt or Path(output).suffix.lstrip(".")).lower() == "pdf":
        common.needs("matplotlib", "ictus film sheet (PDF)")

    tempo_map = _load_map(map_file, scale, count_in)
    placement = _placement(tempo_map, fps, start, picture_start, gauge)
    hit_list = _read_hits(hits, placement, hits_format)
    rows = write_sheet(placement, hit_list, output, fmt)
    if output != "-":
        sys.stderr.write(f"wrote {output}: {len(rows)} rows\n")


# -- ictus film video ------------------------------------------------------------------


@app.command("video")
def video(
    map_file: MapArg,
    output: Annotated[str, typer.Option("--output", "-o", help="preview.mp4 (.mov, .mkv).")],
    hits: HitsOpt = None,
    hits_format: HitsFormatOpt = None,
    picture: Annotated[
        str | None,
        typer.Option("--picture", metavar="MOVIE", help="Draw on this movie (same fps)."),
    ] = None,
    picture_tc: Annotated[
        str | None,
        typer.Option(
            "--picture-tc",
            metavar="TIMECODE",
            help="Timecode of the movie's first frame (default: its own, else the reel start).",
        ),
    ] = None,
    fps: FpsMapOpt = None,
    start: StartMapOpt = None,
    picture_start: PictureStartOpt = None,
    gauge: GaugeOpt = "35mm",
    streamer: Annotated[
        str, typer.Option("--streamer", metavar="SECONDS", help="Streamer length (2, 3, 4).")
    ] = "2",
    punch: Annotated[
        int, typer.Option("--punch", metavar="FRAMES", help="Frames a punch shows.")
    ] = 2,
    flutter: Annotated[
        int, typer.Option("--flutter", metavar="N", help="Punches on each downbeat: 0,1,3,5,7.")
    ] = 0,
    size: Annotated[
        str, typer.Option("--size", metavar="WxH", help="Size without --picture.")
    ] = "640x360",
    sound: SoundOpt = None,
    sample_rate: RateOpt = 48000,
    crf: Annotated[int, typer.Option("--crf", help="H.264 quality: 0 lossless .. 51.")] = 18,
    scale: ScaleOpt = None,
    count_in: CountInOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """A preview video: streamers into every hit with punches on it, timecode and
    bar|beat burned in, and the click as the audio track.

    Streamer colours follow the convention: yellow into the warning clicks, green
    into bar 1 and the hits, red into the last hit (a hit list's colour column
    overrides). Frame-exact: each punch is on its hit's frame. Needs PyAV
    (pip install 'ictus[video]').

    Examples:

      ictus film video cue.click --hits hits.csv -o preview.mp4

      ictus film video cue.click --hits hits.csv --picture reel1.mov -o preview.mov

      ictus film video cue.click --hits hits.csv --streamer 3 --flutter 3 -o p.mp4
    """
    common.needs("av", "ictus film video")
    from ictus.film.video import render_video
    from ictus.timebase import format_timecode

    tempo_map = _load_map(map_file, scale, count_in)
    placement = _placement(tempo_map, fps, start, picture_start, gauge)
    hit_list = _read_hits(hits, placement, hits_format)
    try:
        width, height = (int(x) for x in size.lower().split("x"))
        from ictus.limits import check_number_text

        check_number_text(streamer, "--streamer")
        length = Fraction(streamer)
    except ValueError:
        raise common.UsageError(
            f"--size WxH and --streamer SECONDS, got {size!r}, {streamer!r}"
        ) from None
    voice = common.load_voice_for(sound, None, sample_rate)
    show = not quiet and sys.stderr.isatty()
    with common.progress("video", show) as advance:
        info = render_video(
            placement,
            hit_list,
            output,
            voice=voice,
            sample_rate=sample_rate,
            size=(width, height),
            streamer_s=length,
            punch_frames=punch,
            flutter=flutter,
            picture=picture,
            picture_start=picture_tc,
            crf=crf,
            progress=advance,
        )
    if not quiet:
        sys.stderr.write(
            f"wrote {output}: {info.frames} frames from "
            f"{format_timecode(info.first_frame, placement.rate)} at {placement.rate.name} "
            f"fps, {info.width}x{info.height}, {len(info.plan.streamers)} streamers\n"
        )


# -- ictus film cues (game audio) ------------------------------------------------------


@app.command("cues")
def cues(
    map_file: MapArg,
    output: Annotated[
        str, typer.Option("--output", "-o", help="cues.csv or cues.json (- = stdout).")
    ] = "-",
    fmt: Annotated[
        str | None, typer.Option("--format", metavar="csv|json", help="Default: by -o, csv.")
    ] = None,
    every: Annotated[
        str, typer.Option("--every", metavar="beat|bar", help="A cue point on each.")
    ] = "beat",
    loop: Annotated[
        list[str] | None,
        typer.Option("--loop", metavar="FIRST-LAST", help="Loop these bars (repeatable)."),
    ] = None,
    no_loops: Annotated[bool, typer.Option("--no-loops", help="CSV: cue points only.")] = False,
    sample_rate: Annotated[
        int, typer.Option("--sample-rate", "-r", help="Sample rate of the game's audio.")
    ] = 48000,
    scale: ScaleOpt = None,
) -> None:
    """Game audio: bar/beat cue points and whole-bar loop regions (CSV or JSON), and a
    warning for each section whose tempo is not a whole number of samples a beat at
    the sample rate (such loops drift).

    CSV columns: kind (bar, beat, loop), name, bar, beat, time_s, sample, end_bar,
    end_s, end_sample, length_samples, whole_samples. Loops are one per section, or
    the bars given with --loop.

    Examples:

      ictus film cues level1.click -o cues.csv

      ictus film cues level1.click -o cues.json --every bar -r 44100

      ictus film cues boss.click --loop 5-12 --loop 13-20
    """
    import csv

    from ictus.atomic import atomic_path
    from ictus.formats.export.game import (
        GAME_CSV_HEADER,
        drift_report,
        game_csv_rows,
        game_json,
        parse_loop,
    )

    tempo_map = _load_map(map_file, scale, None)
    name = fmt or ("json" if output.lower().endswith(".json") else "csv")
    if name not in ("csv", "json"):
        raise common.UsageError(f"--format: choose csv or json, got {name!r}")
    loops = [parse_loop(x) for x in loop] if loop else None
    if name == "json":
        text = game_json(tempo_map, sample_rate, every, loops)
    else:
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(GAME_CSV_HEADER)
        writer.writerows(game_csv_rows(tempo_map, sample_rate, every, loops, not no_loops))
        text = buffer.getvalue()
    for line in drift_report(tempo_map, sample_rate):
        if not line.whole:
            sys.stderr.write(f"ictus: warning: {line.message(sample_rate)}\n")
    if output == "-":
        sys.stdout.write(text)
        return
    with atomic_path(output) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {output}\n")
