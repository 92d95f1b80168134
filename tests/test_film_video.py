"""The preview video, decoded back with PyAV: punches on their hit frames, streamers where
they belong, the click in the audio track where the grid puts it, the picture in place."""

from __future__ import annotations

import itertools
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from ictus.errors import ParameterError
from ictus.film.hits import Hit
from ictus.film.picture import Placement
from ictus.film.streamers import RGB
from ictus.film.video import punch_frames_in, render_video
from ictus.formats import parse_click
from ictus.tempomap import build_grid
from ictus.timebase import FPS_23_976, FPS_24, parse_timecode

ICTUS = str(Path(sys.executable).parent / "ictus")
CUE = "start: 01:00:00:00 @ 23.976\ncount-in: 1 bar\n4 4/4 12-0@23.976\n"
HIT_FRAMES = (24, 61, 96, 150)  # frames after the cue start


def decoded_frames(path: Path) -> list[tuple[int, np.ndarray]]:
    """(index from the stream's timestamps, RGB image) of every frame."""
    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = Fraction(stream.average_rate)
        for frame in container.decode(stream):
            index = round(Fraction(frame.pts) * frame.time_base * rate)
            out.append((index, frame.to_ndarray(format="rgb24")))
    return out


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, Placement]:
    path = tmp_path_factory.mktemp("video") / "preview.mp4"
    placement = Placement.of(parse_click(CUE))
    hits = [Hit(Fraction(f) / FPS_23_976.fps, f"h{f}") for f in HIT_FRAMES]
    info = render_video(placement, hits, str(path), size=(192, 108))
    return path, info, placement


def test_each_punch_is_on_its_hit_frame(preview: tuple[Path, object, Placement]) -> None:
    path, info, placement = preview
    first = info.first_frame  # type: ignore[attr-defined]
    expected = []
    for f in HIT_FRAMES:
        hit = placement.start_frame + f - first
        expected += [hit, hit + 1]  # two frames of punch
    assert punch_frames_in(str(path)) == expected
    # by our own reading of the pixels too: the centre is bright on those frames only
    bright = [i for i, image in decoded_frames(path) if image[54, 96].mean() > 200]
    assert bright == expected


def test_frame_count_rate_and_first_timecode(preview: tuple[Path, object, Placement]) -> None:
    path, info, placement = preview
    assert placement.rate == FPS_23_976
    frames = decoded_frames(path)
    assert [i for i, _ in frames] == list(range(info.frames))  # type: ignore[attr-defined]
    with av.open(str(path)) as container:
        assert Fraction(container.streams.video[0].average_rate) == FPS_23_976.fps
    # the video starts 1 s (24 frames) before the yellow streamer into the warning bar:
    # warning bar 48 frames before bar 1, streamer 2 s = 48 frames before that
    assert info.first_frame == placement.start_frame - 48 - 48 - 24  # type: ignore[attr-defined]


def test_streamers_sweep_left_to_right(preview: tuple[Path, object, Placement]) -> None:
    path, info, _ = preview
    frames = dict(decoded_frames(path))
    width = 192
    band = max(4, width // 48)
    last_hit = next(s for s in info.plan.streamers if s.label == f"h{HIT_FRAMES[-1]}")  # type: ignore[attr-defined]
    assert last_hit.colour == "red"
    for absolute in (last_hit.start, last_hit.start + 20, last_hit.end):
        image = frames[absolute - info.first_frame].astype(int)  # type: ignore[attr-defined]
        row = image[80]  # below the centre punch, above the burned-in label
        redness = row[:, 0] - row[:, 1]
        x = int(np.argmax(redness))
        where = (absolute - last_hit.start) / (last_hit.end - last_hit.start)
        expected = round(where * (width - band))
        assert expected - 1 <= x <= expected + band
        assert tuple(image[80, x + band // 2]) == pytest.approx(RGB["red"], abs=40)


def test_click_track_is_aligned_to_the_picture(preview: tuple[Path, object, Placement]) -> None:
    path, info, placement = preview
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        chunks = [frame.to_ndarray()[0] for frame in container.decode(stream)]
    audio = np.concatenate(chunks)
    loud = np.flatnonzero(np.abs(audio) > 0.05)
    onsets = [int(loud[0])] + [int(b) for a, b in itertools.pairwise(loud) if b - a > rate // 20]
    # where the grid puts each click, in seconds from the video's first frame
    grid = build_grid(placement.tempo_map)
    clicks = placement.frames(grid) - info.first_frame  # type: ignore[attr-defined]
    expected = [float(f) / float(FPS_23_976.fps) for f in clicks]
    assert len(onsets) == len(expected)
    for got, want in zip(onsets, expected, strict=True):
        assert abs(got / rate - want) < 0.001


def make_movie(path: Path, frames: int, timecode: str | None) -> None:
    with av.open(str(path), "w", format="mov") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height = 128, 72
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "0"}
        if timecode:
            stream.metadata["timecode"] = timecode
        for i in range(frames):
            image = np.full((72, 128, 3), 20 + (i % 10) * 20, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_drawn_on_the_picture_frame_for_frame(tmp_path: Path) -> None:
    movie = tmp_path / "reel.mov"
    make_movie(movie, 96, "01:00:00:00")  # frames 01:00:00:00 .. 01:00:03:23
    cue = parse_click("start: 01:00:01:00 @ 24\n1 4/4 120\n")
    placement = Placement.of(cue)
    out = tmp_path / "on-picture.mp4"
    info = render_video(placement, [], str(out), picture=str(movie), pre_roll_s=0.5)
    assert (info.width, info.height) == (128, 72)
    reel = parse_timecode("01:00:00:00", FPS_24)
    checked = 0
    for index, image in decoded_frames(out):
        absolute = info.first_frame + index
        if absolute <= placement.start_frame or absolute - reel >= 96:
            continue  # the green streamer into bar 1 is still sweeping, or no picture
        level = 20 + ((absolute - reel) % 10) * 20
        assert image[36, 64].mean() == pytest.approx(level, abs=6)
        checked += 1
    assert checked > 20


def test_wrong_picture_rate_writes_nothing(tmp_path: Path) -> None:
    movie = tmp_path / "reel.mov"
    make_movie(movie, 5, None)
    cue = parse_click("start: 01:00:01:00 @ 25\n1 4/4 120\n")
    out = tmp_path / "never.mp4"
    with pytest.raises(ParameterError, match=r"24\.000 fps but --fps is 25"):
        render_video(Placement.of(cue), [], str(out), picture=str(movie))
    assert not out.exists()
    with pytest.raises(ParameterError, match=r"\.mp4"):
        render_video(Placement.of(cue), [], str(tmp_path / "x.avi"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reel.mov"]


def test_video_from_the_command_line(tmp_path: Path) -> None:
    cue = tmp_path / "cue.click"
    cue.write_text("start: 01:00:00:00 @ 25\n2 4/4 125\n")
    hits = tmp_path / "hits.csv"
    hits.write_text("timecode,label\n01:00:01:00,one\n01:00:02:12,two\n")
    out = tmp_path / "p.mp4"
    proc = subprocess.run(
        [ICTUS, "film", "video", str(cue), "--hits", str(hits), "-o", str(out),
         "--size", "128x72", "--streamer", "1"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # the video starts 1 s before the streamer into bar 1 (1 s long): at 00:59:58:00
    first = parse_timecode("00:59:58:00", placement_rate := Placement.of(
        parse_click(cue.read_text())).rate)  # fmt: skip
    start = parse_timecode("01:00:00:00", placement_rate)
    expected = []
    for hit in ("01:00:01:00", "01:00:02:12"):
        f = parse_timecode(hit, placement_rate) - first
        expected += [f, f + 1]
    assert start - first == 50
    assert punch_frames_in(str(out)) == expected
