"""Remote controls: frontends that drive the live engine from another program or machine.

- :mod:`~ictus.remote.osc`: Open Sound Control, a control server whose addresses are the
  engine's control API one to one, and the engine's events sent to subscribers.
- :mod:`~ictus.remote.setlist`: the same for a running show (``ictus show run --osc``):
  the setlist's controls (go, next, previous, stop, vamp, release, jump) and its status.

A remote is a frontend like the terminal display: it sees the engine only through its
public API (:class:`ictus.engine.Engine`, its typed requests and its listeners; a show's
:class:`~ictus.show.ShowRunner` controls). The setlist's remote is imported by name
(``ictus.remote.setlist``): ``ictus play`` does not load the show's modules.
"""

from ictus.remote.osc import OscCounts, OscRemote, parse_targets

__all__ = ["OscCounts", "OscRemote", "parse_targets"]
