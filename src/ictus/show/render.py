"""Render a song of a show offline: one file per output, for rehearsal or another player.

The samples go through the same sources and the same
:class:`~ictus.render.Router` a live runner uses (:func:`~ictus.show.plan.plan_song`),
so a rendered output is what that output would play. Files are 32-bit float WAV (no
clipping, no dither: the mix as it is), written block by block, each appearing only
when complete.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ictus.atomic import atomic_path
from ictus.render import FLOAT, Router
from ictus.show.check import check_show
from ictus.show.model import Show, Song
from ictus.show.plan import plan_song
from ictus.show.speech import Speaker

#: Frames per block when rendering.
BLOCK = 1 << 13


def render_song(
    show: Show,
    song: Song | str,
    out_dir: str | os.PathLike[str],
    *,
    speaker: Speaker | None = None,
    block: int = BLOCK,
) -> dict[str, Path]:
    """Write ``OUT_DIR/OUTPUT.wav`` for every output of ``show``; return the paths by output.

    The show is checked first (:func:`~ictus.show.check_show`): a show that would leak
    the click to ``main`` renders nothing.
    """
    import soundfile

    check_show(show)
    song = show.song(song) if isinstance(song, str) else song
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = plan_song(show, song, speaker=speaker)
    paths = {o.name: out / f"{o.name}.wav" for o in show.outputs}
    try:
        router = Router(plan.routing, FLOAT, max_frames=block)
        with contextlib.ExitStack() as stack:
            files = []
            for output in show.outputs:
                tmp = stack.enter_context(atomic_path(paths[output.name]))
                f = stack.enter_context(
                    soundfile.SoundFile(
                        tmp,
                        "w",
                        samplerate=show.sample_rate,
                        channels=len(output.channels),
                        subtype="FLOAT",
                        format="WAV",
                    )
                )
                files.append((f, list(output.indexes)))
            frame = 0
            while frame < plan.length:
                n = min(block, plan.length - frame)
                for stem in plan.stems:
                    stem.wait_ready(frame, n)
                mixed = router.block(plan.blocks(frame, n), n)
                for f, indexes in files:
                    f.write(mixed[:, indexes])
                frame += n
    finally:
        plan.close()
    return paths
