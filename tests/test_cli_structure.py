"""How the command line is built and what it costs to start: no import cycle among its
modules, heavy optional libraries loaded only by the commands that need them, and a
one-line hint naming the extra to install when one is missing.

Imports are checked in fresh subprocesses (a test process has imported everything).
"""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile

CLI = Path(__file__).resolve().parents[1] / "src" / "ictus" / "cli"
ICTUS = str(Path(sys.executable).parent / "ictus")
HEAVY = ("matplotlib", "music21", "av", "jack", "sounddevice")


def cli_imports(path: Path) -> set[str]:
    """The ``ictus.cli`` modules a file imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "ictus.cli":
                found.update(f"ictus.cli.{a.name}" for a in node.names)
            elif node.module.startswith("ictus.cli."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ictus.cli."))
    return found


def test_the_cli_modules_import_no_cycle() -> None:
    graph = {f"ictus.cli.{p.stem}": cli_imports(p) for p in CLI.glob("*.py")}
    # no area reaches back up: only main (and quick, main's Typer-less path) import app,
    # nobody imports main
    assert [m for m, deps in graph.items() if "ictus.cli.main" in deps] == []
    assert sorted(m for m, deps in graph.items() if "ictus.cli.app" in deps) == [
        "ictus.cli.main",
        "ictus.cli.quick",
    ]
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for dep in sorted(graph.get(module, ())):
            visit(dep, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_the_app_knows_the_area_of_every_command() -> None:
    import importlib

    from ictus.cli.app import AREAS

    for name, commands in AREAS.items():
        area = importlib.import_module(f"ictus.cli.{name}").app
        if area.name is not None:  # a group: ictus film ...
            assert (area.name,) == commands
            continue
        assert tuple(area.names()) == commands, name


def test_every_command_is_a_module_level_function() -> None:
    # issue 8 §4: commands are not closures inside a register(); each is importable
    import importlib

    from ictus.cli.app import AREAS

    for name in AREAS:
        area = importlib.import_module(f"ictus.cli.{name}").app
        for _, callback in area.commands:
            assert "<locals>" not in callback.__qualname__, (name, callback.__qualname__)
            module = importlib.import_module(callback.__module__)
            assert getattr(module, callback.__name__) is callback, (name, callback.__name__)


def run_in_process(args: list[str], cwd: Path, before: str = "") -> tuple[int, str, set[str]]:
    """Run ``ictus ARGS`` in a fresh Python; exit code, stderr and the modules it loaded."""
    code = textwrap.dedent(
        f"""
        import sys
        {before}
        from ictus.cli.main import main
        sys.argv = ["ictus", *{args!r}]
        status = 0
        try:
            main()
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        sys.stdout.write("\\n".join(sorted(sys.modules)))
        sys.exit(status)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120
    )
    return proc.returncode, proc.stderr, set(proc.stdout.split())


def test_render_starts_without_the_heavy_libraries(tmp_path: Path) -> None:
    (tmp_path / "song.click").write_text("2 4/4 120\n")
    code, err, modules = run_in_process(["render", "song.click", "-o", "out.wav"], tmp_path)
    assert code == 0, err
    assert "ictus.render.writer" in modules  # main() returned to its caller, which listed them
    assert soundfile.info(tmp_path / "out.wav").frames == 4 * 48000  # 8 beats at 120
    assert sorted(m for m in HEAVY if m in modules) == []
    # nor the other areas' commands, nor Typer's pydantic coercion (0.1 s of start-up)
    assert "ictus.cli.film" not in modules and "ictus.cli.live" not in modules
    assert "pydantic" not in modules
    # issue 9 §14: a plain render line runs without Typer (ictus.cli.quick), a 16/24-bit
    # WAV is written without libsndfile, and what a .click render never needs stays out
    assert sorted(m for m in RENDER_NEVER if m in modules) == []


#: What `ictus render song.click -o out.wav` no longer imports (each was imported before,
#: together 40 % of a 10-minute render's time): Typer (with its click), soundfile (with
#: cffi and libsndfile), tempfile and shutil, pathlib (with urllib.parse), the JSON and
#: klick writers, the film parts of ictus.timebase; then (a further 10 %) the practice
#: trainers, frame rates and timecode, and numpy.ma (np.unique loads it, 10 ms).
RENDER_NEVER = ("typer", "typer._click", "soundfile", "_cffi_backend", "tempfile", "shutil",
                "pathlib", "urllib.parse", "ictus.formats.jsonmap",
                "ictus.formats.klick_export", "ictus.timebase.feet",
                "ictus.timebase.frameclick", "ictus.tempomap.trainers",
                "ictus.timebase.rates", "ictus.timebase.timecode", "numpy.ma")


def test_help_and_mistakes_still_go_through_typer(tmp_path: Path) -> None:
    (tmp_path / "song.click").write_text("2 4/4 120\n")
    code, err, modules = run_in_process(["render", "song.click"], tmp_path)
    assert code == 2 and "Missing option '--output'" in err and "typer" in modules


def test_version_needs_neither_typer_nor_numpy(tmp_path: Path) -> None:
    code, _, modules = run_in_process(["--version"], tmp_path)
    assert code == 0
    assert "typer" not in modules and "numpy" not in modules


def test_timecode_starts_without_numpy(tmp_path: Path) -> None:
    code, err, modules = run_in_process(["timecode", "01:00:10:00"], tmp_path)
    assert code == 0, err
    assert "numpy" not in modules


MISSING = "sys.modules[{name!r}] = None  # as if not installed"


@pytest.mark.parametrize(
    ("module", "extra", "args"),
    [
        ("matplotlib", "plot", ["plot", "song.click", "-o", "tempo.png"]),
        ("matplotlib", "plot", ["film", "sheet", "song.click", "-o", "sheet.pdf"]),
        ("music21", "musicxml", ["beats", "score.musicxml"]),
        ("av", "video", ["film", "video", "song.click", "-o", "preview.mp4"]),
        ("aiohttp", "web", ["serve", "song.click", "--backend", "null"]),
    ],
)
def test_a_missing_extra_is_named_in_one_line(
    tmp_path: Path, module: str, extra: str, args: list[str]
) -> None:
    (tmp_path / "song.click").write_text("2 4/4 120\n")
    (tmp_path / "score.musicxml").write_text("<score-partwise/>\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, err, _ = run_in_process(args, tmp_path, MISSING.format(name=module))
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("ictus: error: "), err
    assert f"pip install 'ictus[{extra}]'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_the_extras_are_declared_and_installed_by_setup() -> None:
    import tomllib

    root = CLI.parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    for extra, requirement in (
        ("plot", "matplotlib"), ("musicxml", "music21"), ("video", "av"), ("web", "aiohttp")
    ):
        assert any(r.startswith(requirement) for r in extras[extra]), extra
        assert not any(r.startswith(requirement) for r in project["dependencies"]), extra
    assert "ictus[plot,musicxml,video,live,web]" in extras["all"]
    # setup installs every extra the tests use: all, plus link (GPL, kept out of all)
    assert "'.[dev,all,link]'" in (root / "tools" / "setup.sh").read_text()
    assert not any(r.lower().startswith("linkpython") for r in extras["all"])


# ------------------------------------------------------------------- ictus sounds


def onsets(data: np.ndarray) -> list[int]:
    """First sample of each click: where sound starts after at least 2000 silent samples."""
    loud = np.flatnonzero(np.abs(data) > 1e-4)
    return [int(loud[0])] + [int(b) for a, b in itertools.pairwise(loud) if b - a > 2000]


def test_sounds_preview_writes_one_bar(tmp_path: Path) -> None:
    out = tmp_path / "beep.wav"
    proc = subprocess.run([ICTUS, "sounds", "--preview", "beep", "-o", str(out)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "a bar" in proc.stderr
    data, rate = soundfile.read(out)
    # one 4/4 bar at 100 BPM with eighths: 2.4 s, a click every 0.3 s (14400 samples)
    assert len(data) == 4 * 60 * rate // 100
    starts = onsets(data)
    assert len(starts) == 8
    assert all(abs(s - k * 14400) <= 2 for k, s in enumerate(starts)), starts
    # the accent is the loudest, the eighths between the beats the quietest
    peaks = [np.abs(data[s : s + 2400]).max() for s in starts]
    assert peaks[0] > max(peaks[2::2]) > max(peaks[1::2])


def test_sounds_preview_plays_without_output(tmp_path: Path) -> None:
    proc = subprocess.run([ICTUS, "sounds", "--preview", "rim", "--backend", "null"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "playing a bar of 'rim' on null" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_sounds_output_without_preview_is_a_usage_mistake(tmp_path: Path) -> None:
    proc = subprocess.run([ICTUS, "sounds", "-o", "w.wav"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)  # fmt: skip
    assert proc.returncode == 2
    assert "--preview" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_one_default_voice() -> None:
    """The CLI's default --sound (spelled out so options start without numpy) is the
    sounds package's default voice, which the engine and the film video use too."""
    from ictus.cli.options import DEFAULT_SOUND
    from ictus.sounds import DEFAULT_VOICE, voice_names

    assert DEFAULT_SOUND == DEFAULT_VOICE
    assert DEFAULT_VOICE in voice_names()
    for path in ("engine/control.py", "film/video.py", "cli/common.py"):
        text = (CLI.parent / path).read_text()
        assert '"woodblock"' not in text, path
