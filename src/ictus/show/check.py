"""Check a show before anything plays: where every source goes, and what would go wrong.

:func:`check_show` opens every stem's header, checks every map against its stems and
every mix against the outputs, and either returns a :class:`ShowReport` (the routing,
printable) or raises :class:`ShowError` listing every problem, one line each:

* a mix for an unknown output, naming an unknown click variant or an unknown stem;
* two outputs sharing a device channel;
* click or cues reaching an output marked ``main`` without
  ``allow_click_on_main = "yes, click in front of house"`` (exactly those words);
* a stem file missing or unreadable, at a sample rate ictus cannot convert, with fewer
  channels than asked for, a layout that does not fit an output it goes to, or shorter
  than its song's map (from bar 1 to the end);
* a song with stems whose map is scaled (``scale: 90%``): the stems would drift;
* spoken words with no espeak-ng (or a voice it lacks) and no recording.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from ictus.errors import IctusError
from ictus.show.model import (
    ALLOW_CLICK_ON_MAIN,
    MAP_CLICK,
    Advance,
    BarBeat,
    Mix,
    Output,
    Show,
    Song,
    SourceKind,
)
from ictus.show.positions import beat_time
from ictus.show.speech import SAMPLE_EXTENSIONS, Speaker, word_file_name
from ictus.show.stems import StemInfo
from ictus.sounds import MAX_RATE, MIN_RATE
from ictus.tempomap import build_grid


class ShowError(IctusError):
    """A show that must not play; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Route:
    """One source (a click variant, the cues, a stem by name) reaching an output at a gain."""

    kind: SourceKind
    name: str
    output: str
    gain: float
    main: bool

    @property
    def source(self) -> str:
        """For the report: ``click 'drummer'``, ``cues``, ``stem 'bass'``."""
        return "cues" if self.kind is SourceKind.CUES else f"{self.kind.value} {self.name!r}"


@dataclass(frozen=True)
class ShowReport:
    """Where every source goes (song independent) and each song's stems."""

    show: Show
    routes: tuple[Route, ...]
    songs: tuple[str, ...]

    def __str__(self) -> str:
        show = self.show
        outs = ", ".join(
            f"{o.name} {'-'.join(map(str, o.channels))}{' (main)' if o.main else ''}"
            for o in show.outputs
        )
        lines = [
            f"{show.path}: {len(show.setlist)} songs, {len(show.outputs)} outputs, "
            f"{show.channels} channels at {show.sample_rate} Hz",
            f"outputs: {outs}",
        ]
        by_source: dict[str, list[str]] = {}
        for r in self.routes:
            by_source.setdefault(r.source, []).append(f"{r.output} x{r.gain:g}")
        for source, targets in by_source.items():
            lines.append(f"{source} -> {', '.join(targets)}")
        for o in show.outputs:
            if o.main:
                heard = sorted({r.source for r in self.routes if r.output == o.name})
                lines.append(f"main {o.name} gets: {', '.join(heard) or 'nothing'}")
        lines.extend(self.songs)
        return "\n".join(lines)


def check_show(show: Show) -> ShowReport:
    """Check ``show`` (see the module docstring); raise :class:`ShowError` on any problem."""
    problems: list[str] = []
    outputs = {o.name: o for o in show.outputs}
    _check_channels(show, problems)
    if show.allow_click_on_main is not None and not show.click_on_main_allowed:
        problems.append(
            f"{show.where('allow_click_on_main')}: must be exactly {ALLOW_CLICK_ON_MAIN!r} "
            f"(got {show.allow_click_on_main!r})"
        )
    routes: list[Route] = []
    for mix in show.mixes:
        output = outputs.get(mix.output)
        if output is None:
            problems.append(
                f"{show.where('mixes', mix.output)}: no output {mix.output!r}; "
                f"outputs: {', '.join(outputs)}"
            )
            continue
        routes.extend(_mix_routes(show, mix, output, problems))
    if not show.click_on_main_allowed:
        _check_main(show, routes, problems)
    cues_heard = any(r.kind is SourceKind.CUES for r in routes)
    song_lines = []
    for name in show.setlist:
        song = show.song(name)
        song_lines.append(_check_song(show, song, routes, problems))
        if cues_heard:
            _check_words(show, song, problems)
    if problems:
        raise ShowError(problems)
    return ShowReport(show, tuple(routes), tuple(song_lines))


def _check_channels(show: Show, problems: list[str]) -> None:
    """No interface channel may belong to two outputs."""
    seen: dict[int, str] = {}
    for o in show.outputs:
        for ch in o.channels:
            if ch in seen:
                problems.append(
                    f"{show.where('outputs', o.name, 'channels')}: channel {ch} is also "
                    f"output {seen[ch]!r}'s"
                )
            seen[ch] = o.name


def _mix_routes(show: Show, mix: Mix, output: Output, problems: list[str]) -> list[Route]:
    """What one output's mix hears: its click variant, the cues and the stems."""
    routes: list[Route] = []
    if mix.click is not None:
        known = [MAP_CLICK.name, *(c.name for c in show.clicks)]
        if mix.click not in known:
            problems.append(
                f"{show.where('mixes', mix.output, 'click')}: no click variant "
                f"{mix.click!r}; "
                f"variants: {', '.join(known)}"
            )
        elif mix.click_gain > 0:
            routes.append(
                Route(SourceKind.CLICK, mix.click, output.name, mix.click_gain, output.main)
            )
    if mix.cues > 0:
        routes.append(Route(SourceKind.CUES, "", output.name, mix.cues, output.main))
    stem_names = sorted({s.name for song in show.songs for s in song.stems})
    for stem, _ in mix.stem_gains:
        if stem not in stem_names:
            problems.append(
                f"{show.where('mixes', mix.output, 'stem_gains', stem)}: no song has a "
                f"stem {stem!r}; stems: {', '.join(stem_names) or '(none)'}"
            )
    for stem in stem_names:
        gain = mix.stem_gain(stem)
        if gain > 0:
            routes.append(Route(SourceKind.STEM, stem, output.name, gain, output.main))
    return routes


def _check_main(show: Show, routes: list[Route], problems: list[str]) -> None:
    """Only stems may reach an output marked main (front of house), unless allowed."""
    for r in routes:
        if r.main and r.kind is not SourceKind.STEM:
            problems.append(
                f"{show.where('mixes', r.output, r.kind.value)}"
                f": {r.source} would reach {r.output!r}, an "
                f"output marked main (front of house); to allow it write "
                f'allow_click_on_main = "{ALLOW_CLICK_ON_MAIN}"'
            )


def _check_song(show: Show, song: Song, routes: list[Route], problems: list[str]) -> str:
    rate = show.sample_rate
    grid = build_grid(song.tempo_map)
    bar1 = beat_time(grid, BarBeat(1))
    need = round(grid.duration * rate) - round(bar1 * rate)
    parts = []
    if song.stems and song.tempo_map.scale != 1:
        problems.append(
            f"{show.where('songs', song.name, 'map')}: {song.map_path.name} plays at "
            f"{float(song.tempo_map.scale) * 100:g} % (scale), but stems play at their own "
            "speed: they would drift from the click; remove the scale"
        )
    for stem in song.stems:
        spot = show.where("songs", song.name, "stems", stem.name)
        try:
            info = StemInfo(stem.path)
        except IctusError as err:
            problems.append(f"{spot}: {err}")
            continue
        if not MIN_RATE <= info.rate <= MAX_RATE:
            problems.append(
                f"{spot}: {stem.path} is at {info.rate} Hz, which cannot be converted to "
                f"{rate} Hz (ictus converts {MIN_RATE}..{MAX_RATE} Hz)"
            )
            continue
        played = stem.channels or tuple(range(1, info.channels + 1))
        if max(played) > info.channels:
            problems.append(
                f"{spot}: {stem.path} has {info.channels} channels, not channel {max(played)}"
            )
            continue
        have = info.frames if info.rate == rate else info.frames_at(rate)
        if have < need:
            problems.append(
                f"{spot}: {stem.path} is {have / rate:.3f} s long, shorter than the map "
                f"{song.map_path.name} ({need / rate:.3f} s from bar 1)"
            )
        for r in routes:
            if r.kind is SourceKind.STEM and r.name == stem.name:
                width = len(show.output(r.output).channels)
                if len(played) not in (1, width) and width != 1:
                    problems.append(
                        f"{spot}: a {len(played)}-channel stem cannot go to output "
                        f"{r.output!r} ({width} channels); pick its channels (channels = [1, 2])"
                    )
        resample = "" if info.rate == rate else f", resampled from {info.rate} Hz"
        parts.append(f"{stem.name} ({len(played)} ch{resample})")
    stems = ", ".join(parts) or "no stems"
    advance = (
        "waits for go"
        if song.advance is Advance.WAIT_FOR_GO
        else f"next after {float(song.advance_seconds):g} s"
    )
    return f"song {song.name}: {song.map_path.name}, {need / rate:.1f} s, {stems}; {advance}"


def _check_words(show: Show, song: Song, problems: list[str]) -> None:
    from ictus.show.plan import spoken_words

    grid = build_grid(song.tempo_map)
    words = {w.text for w in spoken_words(show, song, grid, show.sample_rate)}
    if show.speech.samples is None:
        if words and shutil.which("espeak-ng") is None:
            problems.append(
                f"{show.where('songs', song.name)}: spoken cues need espeak-ng (apt-get install "
                "espeak-ng) or a folder of recordings (speech.samples)"
            )
            return
        # speak them now (cached for the show): a voice espeak-ng lacks fails here
        speaker = Speaker(show.sample_rate, show.speech.voice)
        for text in sorted(words):
            try:
                speaker.source_of(text)
            except IctusError as err:
                problems.append(f"{show.where('speech', 'voice')}: {err}")
                return
        return
    for text in sorted(words):
        name = word_file_name(text)
        if not any((show.speech.samples / (name + ext)).is_file() for ext in SAMPLE_EXTENSIONS):
            problems.append(
                f"{show.where('songs', song.name)}: no recording of {text!r} in "
                f"{show.speech.samples} (expected {name}.wav)"
            )
