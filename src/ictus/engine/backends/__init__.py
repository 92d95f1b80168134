"""Audio backends behind one small interface, picked by name.

======== ===================================================== ===========================
name     plays through                                          module
======== ===================================================== ===========================
jack     a JACK server (JACK-Client)                            :mod:`.jack`
portaudio any PortAudio device (sounddevice)                    :mod:`.portaudio`
null     nothing: blocks are pulled on demand (tests, dry runs) :mod:`.null`
======== ===================================================== ===========================

The heavy libraries load only when their backend is made, so ``ictus render`` never
imports them. :func:`make_backend` takes the name from its argument, else from the
``ICTUS_BACKEND`` environment variable, else picks JACK when a server answers and
PortAudio otherwise.

>>> make_backend("null", period=64).name, sorted(BACKENDS)
('null', ['jack', 'null', 'portaudio'])
>>> try:
...     make_backend("alsa")
... except BackendError as err:
...     print(err)
unknown backend 'alsa'; choose one of: jack, portaudio, null
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from ictus.engine.backends.base import (
    Backend,
    BackendError,
    Capture,
    Latency,
    NoOutput,
    OutputList,
    OutputPort,
    Process,
)

#: name -> "module:class", imported on first use
BACKENDS = {
    "jack": "ictus.engine.backends.jack:JackBackend",
    "portaudio": "ictus.engine.backends.portaudio:PortAudioBackend",
    "null": "ictus.engine.backends.null:NullBackend",
}


def backend_class(name: str) -> type[Backend]:
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    module, cls = BACKENDS[name].split(":")
    found: type[Backend] = getattr(importlib.import_module(module), cls)
    return found


def jack_server_running() -> bool:
    """True when a JACK server answers (without starting one)."""
    try:
        import jack
    except (ImportError, OSError):
        return False
    jack.set_error_function(lambda _msg: None)
    jack.set_info_function(lambda _msg: None)
    try:
        client = jack.Client("ictus-probe", no_start_server=True)
    except jack.JackOpenError:
        return False
    client.close()
    return True


def default_backend() -> str:
    """``$ICTUS_BACKEND``, else jack when a server runs, else portaudio."""
    name = os.environ.get("ICTUS_BACKEND", "").strip()
    if name:
        return name
    return "jack" if jack_server_running() else "portaudio"


def list_outputs(names: tuple[str, ...] = tuple(BACKENDS), **options: Any) -> list[OutputList]:
    """Where each backend can play now (``ictus devices``), asked of each backend.

    ``options`` go to every backend's :meth:`~Backend.list_outputs` (e.g. ``server``).

    >>> [(o.backend, o.available) for o in list_outputs(("null",))]
    [('null', True)]
    """
    return [backend_class(name).list_outputs(**options) for name in names]


def make_backend(name: str | None = None, **options: Any) -> Backend:
    """A backend by name with its options (see each backend class)."""
    return backend_class(name or default_backend())(**options)


__all__ = [
    "BACKENDS",
    "Backend",
    "BackendError",
    "Capture",
    "Latency",
    "NoOutput",
    "OutputList",
    "OutputPort",
    "Process",
    "backend_class",
    "default_backend",
    "jack_server_running",
    "list_outputs",
    "make_backend",
]
