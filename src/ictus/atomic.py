"""Safe file writes: a failed or interrupted write never leaves a partial file.

A regular file (or a new one) is written to a hidden temporary file beside the
destination, which is renamed over it only when the write has finished (``os.replace``
is atomic on POSIX). A symbolic link keeps being a link: its target is replaced. A
device or a FIFO (``/dev/null``, a named pipe) is never replaced: the finished output is
copied into it, so a render to ``/dev/null`` leaves ``/dev/null`` a device.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import ictus.paths as paths
from ictus.errors import IctusError

# The files this command has read, by (device, inode), with the path they were read by:
# a later write to any of them, under any name or link, would destroy the input.
_inputs: dict[tuple[int, int], str] = {}
_overwrite_inputs = False
# temporary files being written now: removed by a terminating signal's handler
_parts: set[str] = set()

#: Signals whose default action ends the process: each must remove the ``.part`` files.
TERMINATING_SIGNALS = tuple(
    getattr(signal, name)
    for name in (
        "SIGHUP", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM",
        "SIGPROF", "SIGXCPU", "SIGXFSZ", "SIGPWR", "SIGPOLL",
    )
    if hasattr(signal, name)
)


def clean_up_on_signals() -> None:
    """Make every terminating signal unwind like Ctrl-C, so no ``.part`` file is left.

    The exit status is the shell's for a signal, 128 + its number. A signal the caller
    ignores (``nohup`` ignores SIGHUP) stays ignored. Call it from the main thread.
    """
    for sig in TERMINATING_SIGNALS:
        with suppress(OSError, ValueError):
            if signal.getsignal(sig) == signal.SIG_DFL:
                signal.signal(sig, _terminated)


def _terminated(signum: int, frame: object) -> None:
    # remove first: unwinding may be slow (a long C call), and a second signal of a
    # default disposition would end the process before the context managers run
    for part in list(_parts):
        _remove(part)
    raise SystemExit(128 + signum)


def note_input(path: str | os.PathLike[str]) -> None:
    """Remember that ``path`` was read, so that no output of this command replaces it."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return
    if stat.S_ISREG(st.st_mode):
        _inputs[(st.st_dev, st.st_ino)] = os.fspath(path)


def forget_inputs(*, overwrite: bool = False) -> None:
    """Start a command afresh; ``overwrite=True`` lets outputs replace inputs (on request)."""
    global _overwrite_inputs
    _inputs.clear()
    _overwrite_inputs = overwrite


def allow_overwriting_inputs() -> None:
    """The user asked for it (``--overwrite-input``): an output may replace an input."""
    global _overwrite_inputs
    _overwrite_inputs = True


def check_not_input(path: str | os.PathLike[str], flag: str = "--overwrite-input") -> None:
    """Refuse to write ``path`` when it is (or links to) a file this command read.

    >>> import tempfile, os
    >>> song = os.path.join(tempfile.mkdtemp(), "song.click")
    >>> _ = open(song, "w").write("1 4/4 120")
    >>> note_input(song)
    >>> try:
    ...     check_not_input(song)
    ... except IctusError as err:
    ...     print(str(err).split(": ", 1)[1])
    is the input; write elsewhere, or give --overwrite-input to replace it
    >>> forget_inputs()
    """
    if _overwrite_inputs:
        return
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return
    read_as = _inputs.get((st.st_dev, st.st_ino))
    # the inode may have been freed and reused since it was read: check it is that file
    if read_as is not None and os.path.exists(read_as) and os.path.samefile(read_as, path):
        also = "" if os.fspath(path) == read_as else f" {read_as}"
        raise IctusError(
            f"{os.fspath(path)}: is the input{also}; write elsewhere, "
            f"or give {flag} to replace it"
        )


def check_writable(path: str | os.PathLike[str]) -> str:
    """Fail early, with a clear message, when ``path``'s folder is missing or read-only.

    A symbolic link is followed: what is checked (and returned) is the file it names.
    Names are read as pathlib reads them (:mod:`ictus.paths`): ``out//x.wav/`` is
    ``out/x.wav``.
    """
    shown = paths.normal(path)
    check_not_input(shown)
    dest = _resolved(shown)
    if _is_special(dest):
        if not os.access(dest, os.W_OK):
            raise IctusError(f"{shown}: not writable")
        return dest
    folder = paths.parent(dest)
    if not os.path.exists(folder):
        raise IctusError(f"{shown}: the folder {folder!r} does not exist")
    if not os.path.isdir(folder):
        raise IctusError(f"{shown}: {folder!r} is not a folder")
    if os.path.isdir(dest):
        raise IctusError(f"{shown}: is a folder; give a file name")
    if not os.access(folder, os.W_OK):
        raise IctusError(f"{shown}: the folder {folder!r} is not writable")
    return dest


def _resolved(path: str) -> str:
    """``path`` with symbolic links followed (also a dangling link: its target is made)."""
    if os.path.islink(path):
        return os.path.realpath(path)
    return path


def _is_special(path: str) -> bool:
    """True for an existing destination that is neither a regular file nor a folder."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path to write; put it at ``path`` on success, delete it on error.

    A regular file is replaced atomically (a symbolic link's target, keeping the link);
    a device or FIFO gets the finished output written into it.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with atomic_path(os.path.join(d, "x.txt")) as tmp:
    ...     _ = open(tmp, "w").write("done")
    >>> os.listdir(d)
    ['x.txt']
    >>> with atomic_path(os.devnull) as tmp:
    ...     _ = open(tmp, "w").write("gone")
    >>> os.path.isfile(os.devnull)
    False
    """
    shown = paths.normal(path)
    dest = check_writable(path)
    special = _is_special(dest)
    # a device's folder (/dev) is no place for our temporary file
    folder = None if special else paths.parent(dest)
    tmp = _new_part(paths.name(dest), folder)
    _parts.add(tmp)
    try:
        yield tmp
        if special:
            _copy_into(tmp, dest)
            _remove(tmp)
        else:
            os.chmod(tmp, _mode_for(dest))
            os.replace(tmp, dest)
    except OSError as err:
        _remove(tmp)
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise IctusError(f"{shown}: disk full; nothing was written") from None
        raise IctusError(
            f"{shown}: cannot write ({err.strerror or err}); nothing was written"
        ) from None
    except BaseException:
        _remove(tmp)
        raise
    finally:
        _parts.discard(tmp)


def _new_part(name: str, folder: str | None) -> str:
    """A new, empty, private file ``.NAME.RANDOM.part`` in ``folder``, as tempfile.mkstemp
    makes it (O_EXCL, mode 0600), without tempfile's imports (shutil, random, bz2, lzma:
    2 ms of every render's start-up). ``folder`` None: the system's temporary folder."""
    if folder is None:
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part")
        os.close(fd)
        return tmp
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{os.urandom(6).hex()}.part")
        try:
            os.close(os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary name", folder)


def _copy_into(tmp: str, dest: str) -> None:
    import shutil  # with bz2 and lzma: a device as output is rare

    # no O_CREAT, no O_TRUNC: a device or FIFO is written to, never made or emptied
    out = os.open(dest, os.O_WRONLY)
    try:
        with open(tmp, "rb") as src, open(out, "wb", closefd=False) as sink:
            shutil.copyfileobj(src, sink, 1 << 20)
    finally:
        os.close(out)


def _mode_for(dest: str) -> int:
    """Keep an existing file's permissions; a new file gets the usual ones (umask)."""
    try:
        return stat.S_IMODE(os.stat(dest).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)
