"""The ``ictus`` command line: the entry point.

Errors a user can cause are printed as one line (with the offending source line and a
caret where there is one) and exit with status 1; usage mistakes (an unknown option, a
bad option value) exit with status 2.

Start-up is kept short: this module imports nothing heavy, ``ictus --version`` answers
before Typer is imported, a plain ``ictus render`` command line runs without Typer
(:mod:`ictus.cli.quick`), and each command imports what it needs when it runs. The
commands live in their areas (:mod:`ictus.cli.app` assembles the ones a run needs).
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import warnings
from types import FrameType

from ictus import __version__


def _show_warning(
    message: Warning | str, category: type[Warning], *args: object, **kwargs: object
) -> None:
    # a lenient reader's note is one line for the user, not a source listing; what
    # came from a file is escaped, so it cannot drive the terminal
    from ictus.errors import for_terminal

    sys.stderr.write(f"ictus: warning: {for_terminal(str(message))}\n")


def main() -> None:
    """Entry point: run the app; one clean message for IctusErrors (exit 1, usage 2)."""
    if sys.argv[1:] == ["--version"]:
        # the one answer that needs none of the command line's machinery
        sys.stdout.write(f"ictus {__version__}\n")
        return
    # ictus does no large linear algebra: one BLAS thread spares numpy's import the
    # start of a thread pool (30 ms of CPU a run); a user's own setting wins
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # At exit, Python's last garbage collection walks every object numpy and the rest
    # made (about 12 ms of a short render) to find cycles that the process's end frees
    # anyway: frozen objects are skipped. Files are closed by their `with` blocks and
    # the standard streams are flushed by Python itself, so nothing is lost.
    atexit.unregister(gc.freeze)  # once, also when called again in one process (tests)
    atexit.register(gc.freeze)
    from ictus.atomic import clean_up_on_signals, forget_inputs
    from ictus.cli.common import UsageError, closed_pipe_is_fine, fail
    from ictus.cli.quick import quick_call
    from ictus.errors import IctusError

    forget_inputs()
    # SIGTERM, SIGHUP, SIGQUIT, ... unwind like Ctrl-C: atomic writes remove their .part
    clean_up_on_signals()
    warnings.showwarning = _show_warning
    try:
        with closed_pipe_is_fine():  # `| head` is fine; a full stdout is one line
            run = quick_call(sys.argv[1:])
            if run is not None:
                run()
            else:
                from ictus.cli.app import build

                build(sys.argv[1:])(prog_name="ictus")
    except UsageError as err:
        fail(err)
        sys.exit(2)
    except IctusError as err:
        fail(err)
        sys.exit(1)
    if run is not None and sys.argv[1] == "render" and _whole_process(sys._getframe(1)):
        _end_now()


def _whole_process(caller: FrameType) -> bool:
    """Whether main() is the process: called at the top level of the script Python was
    started with (the ``ictus`` script, or ``python -m ictus.cli.main``), not by a
    program or a test that goes on after it (``python -c``, a test runner)."""
    code = caller.f_code
    return (
        caller.f_globals.get("__name__") == "__main__"
        and code.co_name == "<module>"
        and os.path.abspath(code.co_filename) == os.path.abspath(sys.argv[0])
    )


def _end_now() -> None:
    """End a finished render's process at once, with status 0.

    Its file is written and closed and its messages are out; what Python would still
    do is take its objects apart one by one (numpy's among them), a few ms that the
    OS does at once. The exit handlers run first (as at a normal exit), and a process
    with threads of its own ends the normal way.
    """
    if "threading" in sys.modules and sys.modules["threading"].active_count() > 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # a stream that cannot take its last bytes: Python's own exit says so
    atexit._run_exitfuncs()
    os._exit(0)


if __name__ == "__main__":
    main()
