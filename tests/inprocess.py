"""``ictus ARGS`` run in the test's own process, through the installed script's entry point.

:func:`ictus.cli.main.main` is what the ``ictus`` script calls; calling it here with
``sys.argv`` set runs the same code (argument parsing, the one-line error handler, exit
codes, warnings shown as one line) without a fresh interpreter's start-up, which costs a
quarter to half a second a run. Tests whose subject is a command's answer to its input
use the :func:`ictus_cli` fixture, or :func:`run_ictus` from a module's own ``run()``
helper; each file that does so also runs a sample through the installed script as a
subprocess and asserts the same result (code, stdout, stderr, files written), so the
process itself stays covered. Tests about the process (signals, terminals, memory, a
live engine, the README as typed) keep their subprocesses.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

ICTUS = str(Path(sys.executable).parent / "ictus")


class Ran(NamedTuple):
    code: int
    out: str
    err: str


Cli = Callable[..., Ran]


def script(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Ran:
    """``ictus ARGS`` as a subprocess of the installed script."""
    proc = subprocess.run(
        [ICTUS, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=120, env=env, cwd=cwd, check=False,
    )  # fmt: skip
    return Ran(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def ictus_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    """Run ``ictus ARGS`` in-process; a traceback the script would print counts as one
    (exit 1, the traceback in ``err``). ``env`` entries are set for the call."""

    def call(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> Ran:
        monkeypatch.setattr(sys, "argv", ["ictus", *args])
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        extra = ""
        from ictus.cli.main import main

        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except Exception:  # what the script would show as a traceback
            code, extra = 1, traceback.format_exc()
        out, err = capsys.readouterr()
        return Ran(code, out, err + extra)

    # main() sets these for its process (a BLAS thread count, handlers that unwind on
    # SIGTERM and the like): put the test process's own back afterwards
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    from ictus.atomic import TERMINATING_SIGNALS

    handlers = {sig: signal.getsignal(sig) for sig in TERMINATING_SIGNALS}
    yield call
    for sig, handler in handlers.items():
        if handler is not None:
            signal.signal(sig, handler)


def run_ictus(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``ictus ARGS`` in-process, answered as :func:`subprocess.run` with
    ``capture_output=True, text=True`` would (for a test's module-level helper).

    ``cwd`` and ``env`` entries hold for the call; the standard streams are fresh text
    streams over bytes (a command may write bytes to ``sys.stdout.buffer``). Warnings
    are shown as in a fresh process: each once, whatever earlier calls showed.
    """
    from ictus.atomic import TERMINATING_SIGNALS
    from ictus.cli.main import main

    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    saved_env = dict(os.environ)
    handlers = {sig: signal.getsignal(sig) for sig in TERMINATING_SIGNALS}
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    extra = ""
    try:
        sys.argv = ["ictus", *args]
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
        os.environ.update(env or {})
        if cwd is not None:
            os.chdir(cwd)
        with warnings.catch_warnings():
            warnings.simplefilter("default")  # a new filter: nothing counts as shown yet
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            except Exception:  # what the script would show as a traceback
                code, extra = 1, traceback.format_exc()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)
    texts = []
    for stream in (out, err):
        stream.flush()
        text = stream.buffer.getvalue().decode("utf-8", errors="replace")  # type: ignore[attr-defined]
        texts.append(text.replace("\r\n", "\n").replace("\r", "\n"))  # as text=True reads
    return subprocess.CompletedProcess(["ictus", *args], code, texts[0], texts[1] + extra)
