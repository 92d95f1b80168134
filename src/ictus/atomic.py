"""Atomic file writes: a failed or interrupted write never leaves a partial file.

Output goes to a hidden temporary file beside the destination, which is renamed over
the destination only when the write has finished (``os.replace`` is atomic on POSIX).
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ictus.errors import IctusError


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail early, with a clear message, when ``path``'s folder is missing or read-only."""
    dest = Path(path)
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.exists():
        raise IctusError(f"{dest}: the folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise IctusError(f"{dest}: {str(folder)!r} is not a folder")
    if dest.is_dir():
        raise IctusError(f"{dest}: is a folder; give a file name")
    if not os.access(folder, os.W_OK):
        raise IctusError(f"{dest}: the folder {str(folder)!r} is not writable")
    return dest


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path to write; rename it to ``path`` on success, delete it on error.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with atomic_path(os.path.join(d, "x.txt")) as tmp:
    ...     _ = open(tmp, "w").write("done")
    >>> os.listdir(d)
    ['x.txt']
    """
    dest = check_writable(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent or ".")
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except OSError as err:
        _remove(tmp)
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise IctusError(f"{dest}: disk full; nothing was written") from None
        raise IctusError(
            f"{dest}: cannot write ({err.strerror or err}); nothing was written"
        ) from None
    except BaseException:
        _remove(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)
