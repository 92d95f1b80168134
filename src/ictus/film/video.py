"""The preview video: streamers, punches, burned-in timecode and bar|beat, with the click.

Drawn frame by frame with numpy (frame ``n`` of the video is absolute frame
``first + n``, so a punch planned for a frame is on that frame, never a neighbour), on
the picture (``picture=movie.mp4``) or on a plain background, and encoded with PyAV
(H.264 in .mp4/.mov/.mkv). The audio track is the click, from the same
:class:`~ictus.render.BlockMixer` as ``ictus render``, aligned to the picture to the
sample. PyAV is imported only here, only when a video is made.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ictus.atomic import atomic_path
from ictus.errors import IctusError, ParameterError
from ictus.film.font import GLYPH_HEIGHT, draw_text, text_mask
from ictus.film.hits import Hit
from ictus.film.picture import Placement
from ictus.film.streamers import RGB, StreamerPlan, plan_streamers
from ictus.tempomap import ClickGrid, build_grid
from ictus.timebase import parse_timecode

BACKGROUND = (28, 30, 34)
_CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".m4v": "mp4"}


@dataclass(frozen=True)
class VideoInfo:
    """What was written: absolute frame of the video's first frame, frame count, size."""

    path: str
    first_frame: int
    frames: int
    width: int
    height: int
    plan: StreamerPlan


def _import_av() -> Any:
    try:
        import av
    except ImportError:
        raise IctusError(
            "making a video needs PyAV: pip install av (it brings its own FFmpeg)"
        ) from None
    return av


def _disc(radius: int) -> NDArray[np.bool_]:
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    mask: NDArray[np.bool_] = x * x + y * y <= radius * radius
    return mask


def _paint(
    frame: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    cx: int,
    cy: int,
    colour: tuple[int, int, int],
) -> None:
    r = mask.shape[0] // 2
    h, w = frame.shape[:2]
    y0, x0 = cy - r, cx - r
    ys, xs = max(0, -y0), max(0, -x0)
    ye, xe = min(mask.shape[0], h - y0), min(mask.shape[1], w - x0)
    if ye <= ys or xe <= xs:
        return
    region = frame[y0 + ys : y0 + ye, x0 + xs : x0 + xe]
    region[mask[ys:ye, xs:xe]] = colour


def _timecode_tag(metadata: Any) -> str | None:
    # QuickTime keeps it as "timecode", Matroska as "TIMECODE"
    for key, value in dict(metadata).items():
        if key.lower() == "timecode" and value:
            return str(value)
    return None


class _Picture:
    """Frames of a movie, by absolute frame number, decoded in order."""

    def __init__(self, av: Any, path: str, placement: Placement, start: str | None) -> None:
        try:
            self.container = av.open(path)
        except (OSError, av.error.FFmpegError) as err:
            raise IctusError(f"{path}: cannot open the picture ({err})") from None
        if not self.container.streams.video:
            raise IctusError(f"{path}: has no video stream")
        self.stream = self.container.streams.video[0]
        rate = placement.rate
        avg = self.stream.average_rate or self.stream.guessed_rate
        if avg is None or abs(float(avg) - float(rate.fps)) > 0.001 * float(rate.fps):
            raise ParameterError(
                f"{path}: the picture runs at {float(avg or 0):.3f} fps but --fps is {rate.name}"
            )
        label = (
            start or _timecode_tag(self.stream.metadata) or _timecode_tag(self.container.metadata)
        )
        self.first = parse_timecode(label, rate) if label else placement.reel.start_frame
        self.width = self.stream.codec_context.width
        self.height = self.stream.codec_context.height
        self.fps = rate.fps
        self._frames = self._decode()
        self._current: tuple[int, Any] | None = None
        self._done = False

    def _decode(self) -> Iterator[tuple[int, Any]]:
        base = None
        for frame in self.container.decode(self.stream):
            if frame.pts is None:
                continue
            seconds = Fraction(frame.pts) * frame.time_base
            index = round(seconds * self.fps)
            if base is None:
                base = index
            yield index - base, frame

    def frame(self, absolute: int, width: int, height: int) -> NDArray[np.uint8] | None:
        """The picture at ``absolute`` (scaled to width x height), or None outside it."""
        want = absolute - self.first
        if want < 0 or self._done:
            return None
        while self._current is None or self._current[0] < want:
            nxt = next(self._frames, None)
            if nxt is None:
                self._done = True
                return None
            self._current = nxt
        if self._current[0] > want:
            return None  # a gap in the picture
        image: NDArray[np.uint8] = self._current[1].to_ndarray(
            width=width, height=height, format="rgb24"
        )
        return image

    def close(self) -> None:
        self.container.close()


def _bar_beat_at(
    times: NDArray[np.float64], bars: NDArray[Any], beats: NDArray[Any], frame: float
) -> str:
    k = int(np.searchsorted(times, frame + 1e-6, side="right")) - 1
    if k < 0:
        return ""
    bar = int(bars[k])
    return f"{bar}|{int(beats[k])}" if bar >= 1 else f"W{1 - bar}|{int(beats[k])}"


def render_video(
    placement: Placement,
    hits: Sequence[Hit],
    output: str,
    *,
    grid: ClickGrid | None = None,
    voice: Any = None,
    sample_rate: int = 48000,
    size: tuple[int, int] = (640, 360),
    streamer_s: float | Fraction = 2,
    punch_frames: int = 2,
    flutter: int = 0,
    picture: str | None = None,
    picture_start: str | None = None,
    pre_roll_s: float = 1.0,
    post_roll_s: float = 1.0,
    crf: int = 18,
    progress: Callable[[int, int], None] | None = None,
) -> VideoInfo:
    """Write the preview video to ``output`` (atomically) and return what was written.

    Parameters
    ----------
    placement
        The cue in picture (rate, start frame, feet).
    hits
        Hits, seconds after the cue start: each gets a streamer and a punch.
    grid
        The map's grid (count-in = warning clicks), built if not given.
    voice
        The click voice (:func:`ictus.sounds.synth_voice`); default
        :data:`ictus.sounds.DEFAULT_VOICE`.
    sample_rate
        Of the audio track.
    size
        Width and height without a picture (even numbers; H.264 needs them).
    streamer_s, punch_frames, flutter
        See :func:`ictus.film.streamers.plan_streamers`.
    picture, picture_start
        A movie to draw on and the timecode of its first frame (default: its own
        timecode tag, else the reel start).
    pre_roll_s, post_roll_s
        Extra picture before the first streamer or click and after the last hit or
        the end of the map.
    crf
        H.264 quality (0 = lossless, 18 = visually lossless, 23 = ffmpeg's default).
    """
    av = _import_av()
    from ictus.render import BlockMixer
    from ictus.sounds import DEFAULT_VOICE, synth_voice

    suffix = Path(output).suffix.lower()
    if suffix not in _CONTAINERS:
        raise ParameterError(f"{output}: write the video as .mp4, .mov, .mkv or .m4v")
    if not 0 <= crf <= 51:
        raise ParameterError(f"crf must be 0..51, got {crf}")
    grid = grid if grid is not None else build_grid(placement.tempo_map)
    plan = plan_streamers(
        placement,
        hits,
        length_s=streamer_s,
        punch_frames=punch_frames,
        flutter=flutter,
        grid=grid,
    )
    fps = placement.rate.fps
    ffps = float(fps)
    click_frames = placement.frames(grid)
    first, count = _frame_span(placement, plan, grid, click_frames, pre_roll_s, post_roll_s)

    movie = _Picture(av, picture, placement, picture_start) if picture else None
    burn = _Burn.make(grid, click_frames, (movie.width, movie.height) if movie else size)

    # audio: mixer sample 0 is grid time 0; the video's sample 0 is absolute frame `first`
    voice = voice if voice is not None else synth_voice(DEFAULT_VOICE, sample_rate)
    grid0 = float(click_frames[0]) / ffps - float(grid.time[0]) if len(grid) else 0.0
    offset = round((grid0 - first / ffps) * sample_rate)
    mixer = BlockMixer(grid, voice, rate=sample_rate, offset=offset)
    audio_total = math.ceil(count * sample_rate / ffps)

    try:
        with atomic_path(output) as tmp:
            container = av.open(tmp, mode="w", format=_CONTAINERS[suffix])
            try:
                encoder = _Encoder(av, container, fps, burn, crf, sample_rate, audio_total)
                for n in range(count):
                    absolute = first + n
                    image = movie.frame(absolute, burn.width, burn.height) if movie else None
                    encoder.video(_video_frame(burn, plan, placement, image, absolute), n)
                    # audio up to the end of this video frame, in whole blocks
                    until = min(audio_total, math.ceil((n + 1) * sample_rate / ffps))
                    encoder.audio(mixer, until, final=n == count - 1)
                    if progress is not None:
                        progress(n + 1, count)
                encoder.flush()
            finally:
                container.close()
    finally:
        if movie is not None:
            movie.close()
    return VideoInfo(output, first, count, burn.width, burn.height, plan)


def _frame_span(
    placement: Placement,
    plan: StreamerPlan,
    grid: ClickGrid,
    click_frames: NDArray[Any],
    pre_roll_s: float,
    post_roll_s: float,
) -> tuple[int, int]:
    """The first absolute frame and the frame count: every streamer, punch and click,
    with the pre- and post-roll around them."""
    ffps = float(placement.rate.fps)
    starts = [s.start for s in plan.streamers]
    if len(grid):
        starts.append(math.floor(float(click_frames[0])))
    ends = [p.frame + p.frames for p in plan.punches]
    if len(grid):
        # the grid's end, placed the way its first click is
        ends.append(math.ceil(float(click_frames[0]) + (grid.duration - grid.time[0]) * ffps))
    first = max(0, min(starts or [placement.start_frame]) - round(pre_roll_s * ffps))
    last = max(ends) + round(post_roll_s * ffps)
    return first, last - first


@dataclass(frozen=True)
class _Burn:
    """What is burnt into every frame: its size, the text scale, the streamer band,
    the click discs and the beats' frames for the bar|beat readout."""

    width: int
    height: int
    scale: int
    band: int
    big: NDArray[np.bool_]
    small: NDArray[np.bool_]
    times: NDArray[Any]
    bars: NDArray[Any]
    beats: NDArray[Any]

    @classmethod
    def make(cls, grid: ClickGrid, click_frames: NDArray[Any], size: tuple[int, int]) -> _Burn:
        width, height = size
        width, height = width - width % 2, height - height % 2
        if width < 64 or height < 64:
            raise ParameterError(f"the video must be at least 64x64, got {width}x{height}")
        return cls(
            width,
            height,
            scale=max(1, height // 180),
            band=max(4, width // 48),
            big=_disc(max(6, height // 5)),
            small=_disc(max(3, height // 14)),
            times=click_frames[grid.sub == 0] if len(grid) else np.zeros(0),
            bars=grid.bar[grid.sub == 0],
            beats=grid.beat[grid.sub == 0],
        )


def _video_frame(
    burn: _Burn,
    plan: StreamerPlan,
    placement: Placement,
    image: NDArray[np.uint8] | None,
    absolute: int,
) -> NDArray[np.uint8]:
    """One frame: the picture (or the background), streamers and punches, timecode,
    bar|beat, feet and the current hit's label."""
    width, height, scale = burn.width, burn.height, burn.scale
    text_y = scale * 3
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:] = BACKGROUND if image is None else image
    _draw(frame, plan, absolute, burn.band, burn.big, burn.small)
    tc = placement.label(absolute)
    draw_text(frame, tc, scale * 3, text_y, scale=scale)
    where = _bar_beat_at(burn.times, burn.bars, burn.beats, absolute)
    if where:
        w = text_mask(where, scale).shape[1]
        draw_text(frame, where, width - w - scale * 3, text_y, scale=scale)
    feet = placement.feet(absolute)
    if feet:
        draw_text(frame, feet, scale * 3, text_y + (GLYPH_HEIGHT + 3) * scale, scale=scale)
    label = _current_label(plan, absolute)
    if label:
        draw_text(
            frame,
            label[:40],
            scale * 3,
            height - (GLYPH_HEIGHT + 3) * scale,
            scale=scale,
        )
    return frame


class _Encoder:
    """The H.264 picture and AAC mono sound streams of the container being written."""

    _AUDIO_BLOCK = 1024

    def __init__(
        self,
        av: Any,
        container: Any,
        fps: Fraction,
        burn: _Burn,
        crf: int,
        sample_rate: int,
        audio_total: int,
    ) -> None:
        self.av = av
        self.container = container
        self.fps = fps
        self.sample_rate = sample_rate
        self.audio_total = audio_total
        self.audio_done = 0
        vstream = container.add_stream("libx264", rate=fps)
        vstream.width, vstream.height = burn.width, burn.height
        vstream.pix_fmt = "yuv420p"
        vstream.options = {"crf": str(crf), "preset": "veryfast"}
        vstream.codec_context.time_base = Fraction(1) / fps
        astream = container.add_stream("aac", rate=sample_rate)
        astream.codec_context.layout = "mono"
        self.vstream, self.astream = vstream, astream

    def video(self, frame: NDArray[np.uint8], n: int) -> None:
        vframe = self.av.VideoFrame.from_ndarray(frame, format="rgb24")
        vframe.pts = n
        vframe.time_base = Fraction(1) / self.fps
        for packet in self.vstream.encode(vframe):
            self.container.mux(packet)

    def audio(self, mixer: Any, until: int, *, final: bool) -> None:
        """Sound up to sample ``until`` in whole blocks; the ``final`` frame adds the rest."""
        block_size = self._AUDIO_BLOCK
        total = self.audio_total
        while self.audio_done + block_size <= until or (final and self.audio_done < total):
            done = self.audio_done
            size_now = min(block_size, total - done)
            mono, _ = mixer.mix_mono(done, size_now)
            block = np.clip(mono, -1.0, 1.0).astype(np.float32).reshape(1, -1)
            aframe = self.av.AudioFrame.from_ndarray(block, format="fltp", layout="mono")
            aframe.sample_rate = self.sample_rate
            aframe.pts = done
            aframe.time_base = Fraction(1, self.sample_rate)
            for packet in self.astream.encode(aframe):
                self.container.mux(packet)
            self.audio_done = done + size_now

    def flush(self) -> None:
        for packet in self.vstream.encode():
            self.container.mux(packet)
        for packet in self.astream.encode():
            self.container.mux(packet)


def _draw(
    frame: NDArray[np.uint8],
    plan: StreamerPlan,
    absolute: int,
    band: int,
    big: NDArray[np.bool_],
    small: NDArray[np.bool_],
) -> None:
    height, width = frame.shape[:2]
    for s in plan.streamers:
        where = s.position(absolute)
        if where is None:
            continue
        x = round(where * (width - band))
        frame[:, x : x + band] = RGB[s.colour]
    for p in plan.punches:
        if p.frame <= absolute < p.frame + p.frames:
            _paint(frame, big if p.big else small, width // 2, height // 2, RGB[p.colour])


def _current_label(plan: StreamerPlan, absolute: int) -> str:
    live = [s for s in plan.streamers if s.start <= absolute <= s.end and s.label]
    return min(live, key=lambda s: s.end).label.upper() if live else ""


def punch_frames_in(path: str, *, threshold: int = 200) -> list[int]:
    """Read a video back and return the frame indexes (from 0) with a big punch showing.

    A big punch fills the centre; the test is the mean of a small square there, ring
    pixels of small flutter punches excluded (they are drawn inside it but smaller, so
    the square is taken just outside them).
    """
    av = _import_av()
    found = []
    with av.open(path) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate
        for frame in container.decode(stream):
            image = frame.to_ndarray(format="rgb24")
            h, w = image.shape[:2]
            r_small = max(3, h // 14)
            r_big = max(6, h // 5)
            # a patch between the two radii, right of the centre
            x0 = w // 2 + (r_small + r_big) // 2 - 2
            patch = image[h // 2 - 2 : h // 2 + 3, x0 : x0 + 5]
            if patch.mean() >= threshold:
                index = round(Fraction(frame.pts) * frame.time_base * Fraction(fps))
                found.append(index)
    return found
