"""Commands of the film area, registered on the main app by :func:`register`.

``ictus timecode`` converts labels, frames and seconds; ``ictus film ...`` holds frame
clicks, hit fitting, click sheets, preview videos and game cue points. Each command
parses its arguments and calls :mod:`ictus.film` / :mod:`ictus.timebase`.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ictus.film.hits import Hit
    from ictus.film.picture import Placement
    from ictus.tempomap import Meter, TempoMap
    from ictus.timebase import FrameRate

_RATES = "23.976, 24, 25, 29.97 (drop-frame), 29.97ndf, 30, 48, 50, 59.94 (DF), 59.94ndf, 60"

FpsOpt = Annotated[
    str,
    typer.Option("--fps", metavar="RATE", help=f"Frame rate: {_RATES}."),
]
FpsMapOpt = Annotated[
    str | None,
    typer.Option(
        "--fps", metavar="RATE", help=f"Frame rate (default: the map's start: line): {_RATES}."
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
MapArg = Annotated[
    str, typer.Argument(metavar="MAP", help="Tempo map (.click, .json, ...) or - for stdin.")
]
ScaleOpt = Annotated[
    str | None, typer.Option("--scale", help="Scale every tempo: 0.9 or 90% plays 10% slower.")
]
CountInOpt = Annotated[
    str | None,
    typer.Option(
        "--count-in",
        help="Warning clicks: '1' (bar), '2 bars', '4 beats', '0'; overrides the map's.",
    ),
]
GaugeOpt = Annotated[
    str, typer.Option("--gauge", metavar="35mm|16mm", help="Film gauge for feet+frames.")
]
PictureStartOpt = Annotated[
    str | None,
    typer.Option(
        "--picture-start",
        metavar="TIMECODE",
        help="Picture start (0+00) for feet+frames (default: the hour the cue starts in).",
    ),
]


def _rate(text: str) -> FrameRate:
    from ictus.timebase import parse_rate

    return parse_rate(text)


def _seconds_text(value: Fraction) -> str:
    """An exact decimal when there is one, else 9 places and the exact fraction."""
    from ictus.formats.clickfile import format_number

    text = format_number(value)
    if "/" not in text:
        return text
    return f"{float(value):.9f} ({text})"


def _parse_range(text: str) -> tuple[Fraction, Fraction]:
    from ictus.errors import ParameterError
    from ictus.limits import check_number_text

    check_number_text(text, "--range")
    lo, sep, hi = text.strip().partition("-")
    try:
        if not sep:
            raise ValueError
        low, high = Fraction(lo), Fraction(hi)
    except (ValueError, ZeroDivisionError):
        raise ParameterError(
            f"--range: expected LO-HI in BPM such as 100-140, got {text!r}"
        ) from None
    if not 0 < low <= high:
        raise ParameterError(f"--range: expected 0 < LO <= HI, got {text!r}")
    return low, high


def _parse_meter(text: str) -> Meter:
    from ictus.errors import ParameterError
    from ictus.tempomap import Meter

    count, _, unit = text.strip().partition("/")
    try:
        return Meter(int(count), int(unit))
    except ValueError:
        raise ParameterError(f"--meter: expected N/D such as 4/4 or 6/8, got {text!r}") from None


def _load_map(path: str, scale: str | None, count_in: str | None) -> TempoMap:
    from ictus.cli import common

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


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app`` (heavy imports stay inside the commands)."""
    _register_timecode(app)
    film = typer.Typer(
        name="film",
        help="Film and game scoring: frame clicks, hit points, click sheets, streamers.\n\n"
        "Examples:\n\n"
        "  ictus film click 12-2 --fps 24\n\n"
        "  ictus film fit hits.csv --fps 24 --range 100-140\n\n"
        "  ictus film sheet cue.click --hits hits.csv -o sheet.pdf\n\n"
        "  ictus film video cue.click --hits hits.csv -o preview.mp4\n\n"
        "  ictus film cues level1.click -o cues.json",
        no_args_is_help=True,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    _register_click(film)
    _register_fit(film)
    _register_sheet(film)
    _register_video(film)
    _register_cues(film)
    app.add_typer(film, name="film")


# -- ictus timecode --------------------------------------------------------------------


def _register_timecode(app: typer.Typer) -> None:
    @app.command("timecode")
    def timecode(
        label: Annotated[
            str | None,
            typer.Argument(metavar="[LABEL]", help="A timecode such as 01:00:00:00 (;FF for DF)."),
        ] = None,
        fps: FpsOpt = "24",
        frames: Annotated[
            int | None, typer.Option("--frames", metavar="N", help="Print the label of frame N.")
        ] = None,
        seconds: Annotated[
            str | None,
            typer.Option(
                "--seconds", metavar="S", help="Print the label of the frame at S seconds."
            ),
        ] = None,
        feet: Annotated[
            str | None,
            typer.Option("--feet", metavar="FEET+FRAMES", help="Print the label of a footage."),
        ] = None,
        picture_start: Annotated[
            str,
            typer.Option(
                "--picture-start", metavar="TIMECODE", help="Where 0+00 is, for --feet and feet."
            ),
        ] = "01:00:00:00",
        gauge: GaugeOpt = "35mm",
        fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    ) -> None:
        """Convert between timecode labels, frame counts, seconds and feet+frames.

        With LABEL: prints its frame number (from 00:00:00:00) and its exact real time in
        seconds. With --frames N: prints the label of frame N (';' before the frames at
        drop-frame rates). A label that does not exist at the rate (00:01:00;00 at 29.97
        drop-frame) is an error. 29.97 and 59.94 mean drop-frame; add ndf for non-drop.

        Examples:

          ictus timecode 01:00:00:00 --fps 29.97ndf

          ictus timecode --frames 1800 --fps 29.97

          ictus timecode --seconds 60.06 --fps 29.97ndf

          ictus timecode --feet 12+00 --fps 24 --picture-start 01:00:00:00
        """
        from ictus.errors import ParameterError
        from ictus.timebase import (
            PictureStart,
            format_timecode,
            frames_to_seconds,
            parse_gauge,
            parse_timecode,
            seconds_to_frames,
        )

        rate = _rate(fps)
        given = [x is not None for x in (label, frames, seconds, feet)]
        if sum(given) != 1:
            raise ParameterError("give one of LABEL, --frames, --seconds or --feet")
        if fmt not in ("text", "json"):
            raise ParameterError(f"--format: choose text or json, got {fmt!r}")
        if label is not None:
            frame = parse_timecode(label, rate)
        elif frames is not None:
            frame = frames
        elif seconds is not None:
            frame = seconds_to_frames(seconds, rate, "floor")
        else:
            assert feet is not None
            reel = PictureStart.from_timecode(picture_start, rate, parse_gauge(gauge))
            frame = reel.to_frame(feet)
        text_label = format_timecode(frame, rate)
        exact = frames_to_seconds(frame, rate)
        if fmt == "json":
            data: dict[str, Any] = {
                "label": text_label,
                "frame": frame,
                "seconds": float(exact),
                "seconds_exact": f"{exact.numerator}/{exact.denominator}",
                "rate": rate.name,
            }
            typer.echo(json.dumps(data))
            return
        if label is not None:
            typer.echo(f"frame {frame}")
            typer.echo(f"seconds {_seconds_text(exact)}")
        else:
            typer.echo(text_label)


# -- ictus film click ------------------------------------------------------------------


def _register_click(film: typer.Typer) -> None:
    @film.command("click")
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
        from ictus.errors import ParameterError
        from ictus.timebase import bpm_to_click, click_to_bpm, parse_click

        rate = _rate(fps)
        if (frame_click is None) == (bpm is None):
            raise ParameterError("give a frame click (12-2) or --bpm, not both")
        if fmt not in ("text", "json"):
            raise ParameterError(f"--format: choose text or json, got {fmt!r}")
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


def _register_fit(film: typer.Typer) -> None:
    @film.command("fit")
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
            str,
            typer.Option("--start", metavar="TIMECODE", help="The cue start: the first downbeat."),
        ] = "00:00:00:00",
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
        count from --start, the first downbeat (unless --pickup). --format json prints
        a JSON list of candidates with bpm, click, hits, near, miss, errors_frames.

        With --map, fits a tempo map with changes and ramps that catches every hit with
        the fewest changes, and -o writes it as a .click file (with warning bars and
        the start timecode).

        Examples:

          ictus film fit hits.csv --fps 24 --range 100-140

          ictus film fit hits.csv --fps 23.976 --range 90-130 --mode click --format json

          ictus film fit markers.txt --fps 25 --start 01:00:00:00 --pickup -o cue.click

          ictus film fit hits.csv --fps 24 --range 80-160 --map -o cue.click
        """
        from ictus.errors import ParameterError
        from ictus.film.fit import fit_tempo
        from ictus.film.hits import read_hits
        from ictus.timebase import Timecode, parse_timecode

        rate = _rate(fps)
        lo, hi = _parse_range(tempo_range)
        the_meter = _parse_meter(meter)
        if fmt not in ("table", "json", "csv"):
            raise ParameterError(f"--format: choose table, json or csv, got {fmt!r}")
        start_frame = parse_timecode(start, rate)
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
        from ictus.tempomap import Section, Tempo

        per_bar = Section(1, Tempo(120), the_meter).beats_per_bar
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
            out = []
            for rank, c in enumerate(candidates, start=1):
                out.append({"rank": rank, **c.to_dict(start_frame)})
            typer.echo(json.dumps(out, indent=1))
        elif fmt == "csv":
            _fit_csv(candidates, start_frame)
        else:
            _fit_table(candidates, start_frame)
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


def _fit_csv(candidates: list[Any], start_frame: int) -> None:
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(
        (
            "rank",
            "bpm",
            "click",
            "hits",
            "near",
            "miss",
            "rms_frames",
            "worst_frames",
            "downbeat_timecode",
            "errors_frames",
        )
    )
    for rank, c in enumerate(candidates, start=1):
        d = c.to_dict(start_frame)
        writer.writerow(
            (
                rank,
                f"{d['bpm']:.6f}",
                d["click"],
                d["hits"],
                d["near"],
                d["miss"],
                f"{d['rms_frames']:.3f}",
                f"{d['worst_frames']:.3f}",
                d["downbeat_timecode"],
                " ".join(f"{e:+.3f}" for e in d["errors_frames"]),
            )
        )


def _fit_table(candidates: list[Any], start_frame: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(
        title="tempo candidates (errors in frames: + music early, - late)", title_justify="left"
    )
    for name in ("#", "BPM", "click", "hits", "near", "miss", "rms", "worst", "downbeat"):
        table.add_column(name, justify="right")
    for rank, c in enumerate(candidates, start=1):
        d = c.to_dict(start_frame)
        table.add_row(
            str(rank),
            f"{d['bpm']:.3f}",
            d["click"],
            str(d["hits"]),
            str(d["near"]),
            str(d["miss"]),
            f"{d['rms_frames']:.2f}",
            f"{d['worst_frames']:.2f}",
            d["downbeat_timecode"],
        )
    console.print(table)
    best = candidates[0]
    detail = Table(title=f"hits at {float(best.bpm):.3f} BPM ({best.click})", title_justify="left")
    for name in ("hit", "time s", "bar|beat", "error", "status"):
        detail.add_column(name, justify="left" if name == "hit" else "right")
    for r in best.results:
        detail.add_row(
            r.hit.label or "-",
            f"{float(r.hit.time):.3f}",
            r.bar_beat,
            f"{float(r.error_frames):+.2f}",
            r.status,
        )
    console.print(detail)


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
        data = {
            "changes": result.changes,
            "segments": [
                {
                    "start_s": float(s.start),
                    "end_s": float(s.end),
                    "beats": s.beats,
                    "bpm_start": float(s.bpm_start),
                    "bpm_end": float(s.bpm_end),
                    "ramp": s.ramp,
                    "hit": s.hit,
                }
                for s in result.segments
            ],
            "errors_frames": list(result.errors_frames),
            "status": list(result.statuses),
            "labels": [h.label for h in result.hits],
            "map": format_click(result.tempo_map),
        }
        typer.echo(json.dumps(data, indent=1))
    else:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        table = Table(title=f"fitted map: {result.changes} change(s)", title_justify="left")
        for name in ("from s", "to s", "beats", "BPM", "to BPM", "shape", "lands on"):
            table.add_column(name, justify="right")
        for s in result.segments:
            table.add_row(
                f"{float(s.start):.3f}",
                f"{float(s.end):.3f}",
                str(s.beats),
                f"{float(s.bpm_start):.3f}",
                f"{float(s.bpm_end):.3f}",
                s.ramp or "constant",
                result.hits[s.hit].label or f"hit {s.hit + 1}",
            )
        console.print(table)
        detail = Table(title="hits in the fitted map's clicks", title_justify="left")
        for name in ("hit", "time s", "error", "status"):
            detail.add_column(name, justify="left" if name == "hit" else "right")
        for h, e, st in zip(result.hits, result.errors_frames, result.statuses, strict=True):
            detail.add_row(h.label or "-", f"{float(h.time):.3f}", f"{e:+.2f}", st)
        console.print(detail)
        if output is None:
            sys.stdout.write(format_click(result.tempo_map))
    if output is not None:
        write_map(result.tempo_map, output)
        sys.stderr.write(f"wrote {output}\n")


# -- ictus film sheet ------------------------------------------------------------------


def _register_sheet(film: typer.Typer) -> None:
    @film.command("sheet")
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

        tempo_map = _load_map(map_file, scale, count_in)
        placement = _placement(tempo_map, fps, start, picture_start, gauge)
        hit_list = _read_hits(hits, placement, hits_format)
        rows = write_sheet(placement, hit_list, output, fmt)
        if output != "-":
            sys.stderr.write(f"wrote {output}: {len(rows)} rows\n")


# -- ictus film video ------------------------------------------------------------------


def _register_video(film: typer.Typer) -> None:
    @film.command("video")
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
        sound: Annotated[
            str | None, typer.Option("--sound", help="Click voice (see 'ictus sounds').")
        ] = None,
        sample_rate: Annotated[
            int, typer.Option("--sample-rate", "-r", help="Audio sample rate in Hz.")
        ] = 48000,
        crf: Annotated[int, typer.Option("--crf", help="H.264 quality: 0 lossless .. 51.")] = 18,
        scale: ScaleOpt = None,
        count_in: CountInOpt = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    ) -> None:
        """A preview video: streamers into every hit with punches on it, timecode and
        bar|beat burned in, and the click as the audio track.

        Streamer colours follow the convention: yellow into the warning clicks, green
        into bar 1 and the hits, red into the last hit (a hit list's colour column
        overrides). Frame-exact: each punch is on its hit's frame. Needs PyAV
        (pip install av).

        Examples:

          ictus film video cue.click --hits hits.csv -o preview.mp4

          ictus film video cue.click --hits hits.csv --picture reel1.mov -o preview.mov

          ictus film video cue.click --hits hits.csv --streamer 3 --flutter 3 -o p.mp4
        """
        from ictus.cli import common
        from ictus.errors import ParameterError
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
            raise ParameterError(
                f"--size WxH and --streamer SECONDS, got {size!r}, {streamer!r}"
            ) from None
        voice = common.load_voice_for(sound, None, sample_rate)
        show = not quiet and sys.stderr.isatty()
        with common.progress_bar("video", show) as bar:
            task = bar.add_task("video", total=1) if bar is not None else None  # type: ignore[attr-defined]

            def advance(done: int, total: int) -> None:
                if bar is not None:
                    bar.update(task, completed=done, total=total)  # type: ignore[attr-defined]

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


def _register_cues(film: typer.Typer) -> None:
    @film.command("cues")
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
        from ictus.errors import ParameterError
        from ictus.film.game import (
            GAME_CSV_HEADER,
            drift_report,
            game_csv_rows,
            game_json,
            parse_loop,
        )

        tempo_map = _load_map(map_file, scale, None)
        name = fmt or ("json" if output.lower().endswith(".json") else "csv")
        if name not in ("csv", "json"):
            raise ParameterError(f"--format: choose csv or json, got {name!r}")
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
