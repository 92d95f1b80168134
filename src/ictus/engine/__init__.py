"""The live engine: play a click map in real time, sample-accurately, on chosen outputs.

- :class:`Engine` (:mod:`.control`): the one control API every frontend drives;
- :class:`~ictus.engine.transport.Transport`: the one owner of the play position,
  run inside the audio callback;
- :mod:`.backends`: JACK, PortAudio and a null backend behind one small interface;
- :mod:`.display`: the live terminal display of ``ictus play``.

The audio callback places every click by counting samples and mixes it with the same
:class:`~ictus.render.BlockMixer` as ``ictus render``, so what plays is what renders.
"""

from ictus.engine.backends import Backend, BackendError, make_backend
from ictus.engine.control import Engine, Event, Status
from ictus.engine.plan import Outputs, Plan, build_plan

__all__ = [
    "Backend",
    "BackendError",
    "Engine",
    "Event",
    "Outputs",
    "Plan",
    "Status",
    "build_plan",
    "make_backend",
]
