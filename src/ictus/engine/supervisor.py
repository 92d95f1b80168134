"""The engine's own thread: delivers events, watches the backend, brings it back.

Every :data:`POLL` seconds it hands what the transport did to the listeners
(:class:`~ictus.engine.events.Delivery`), lets the followers look at their sources,
reports xruns, notices a backend that went away and, with reconnect on, tries every
:data:`RETRY` seconds to get it back, carrying the musical position over (to another
sample rate, too: same music, new samples).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

from ictus.engine import rt
from ictus.engine.backends.base import Backend
from ictus.engine.commands import Rebase, Rescale
from ictus.engine.events import Event, EventKind, Listeners
from ictus.engine.followers import Follower
from ictus.engine.plan import Plan, PlanKey
from ictus.engine.transport import Transport
from ictus.errors import IctusError


class Supervised(Protocol):
    """What the supervisor needs of the engine it watches (the :class:`Engine`)."""

    backend: Backend
    listeners: Listeners
    reconnect: bool
    failure: str | None
    lock: Any  # a threading.RLock

    @property
    def followers(self) -> Sequence[Follower]: ...

    @property
    def transport(self) -> Transport: ...

    def deliver(self) -> None: ...

    def prepare(self, rate: int) -> None: ...

    def plans_for_keys(self) -> dict[PlanKey, Plan]: ...

#: How often the supervisor thread looks at the transport and the backend (seconds).
POLL = 0.02
#: How often to try the server again while it is away (``reconnect=True``).
RETRY = 0.25


class Supervisor:
    """Runs :meth:`run` on a daemon thread until :meth:`stop`."""

    def __init__(self, engine: Supervised) -> None:
        self.engine = engine
        self.offline = False
        self._closing = threading.Event()
        self._seen_xruns = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="ictus-engine", daemon=True)
        self._thread.start()

    def stop(self) -> bool:
        """Stop the thread; True when it has finished (it may be stuck in a listener)."""
        self._closing.set()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return False
        thread.join(1.0)
        return not thread.is_alive()

    def run(self) -> None:
        engine = self.engine
        if engine.backend.realtime:
            rt.gil_holder_priority()
        while not self._closing.wait(POLL):
            engine.deliver()
            for follower in engine.followers:
                try:
                    follower.poll()
                except Exception as err:  # a broken follower loses its source, no more
                    follower.lost = f"{follower.name}: {err}"
            backend = engine.backend
            backend.check()
            if backend.xruns != self._seen_xruns:
                self._seen_xruns = backend.xruns
                self._say(EventKind.XRUN, backend.xruns)
            if backend.failure is not None and not self.offline:
                self._went_away(backend.failure)
            if self.offline and engine.reconnect and not self._closing.wait(RETRY):
                self._come_back()

    def _say(self, kind: EventKind, detail: object) -> None:
        snap = self.engine.transport.snapshot
        self.engine.listeners.emit(Event(kind, snap.clock, snap.frame, detail=detail))

    def _went_away(self, reason: str) -> None:
        self.offline = True
        self._say(EventKind.OFFLINE, reason)
        if not self.engine.reconnect:
            self.engine.failure = reason

    def _come_back(self) -> None:
        engine = self.engine
        backend = engine.backend
        with engine.lock:
            if not backend.reopen():
                return
            transport = engine.transport
            old_rate = transport.snapshot.plan.rate
            transport.send(Rebase())
            if backend.rate != old_rate:
                # a server at another rate: same music, new samples
                engine.prepare(backend.rate)
                transport.send(Rescale(engine.plans_for_keys()))
            warning = None
            try:
                backend.start(transport.process)
            except IctusError as err:  # e.g. a --connect port not back yet: play anyway
                warning = str(err)
            backend.settle()
            self.offline = False
            self._say(EventKind.ONLINE, backend.describe())
            if warning is not None:
                self._say(EventKind.WARNING, warning)
