"""The live engine: play a click map in real time, sample-accurately, on chosen outputs.

One module per job:

- :mod:`.control`: :class:`Engine`, the one control API every frontend drives (methods,
  or typed :mod:`.requests` through :meth:`Engine.request`);
- :mod:`.status`: :class:`State` and :class:`Status`, where the engine is;
- :mod:`.events`: :class:`Event` and :class:`EventKind` for listeners, and their delivery;
- :mod:`.transport`: the one owner of the play position, run inside the audio callback,
  moved by typed :mod:`.commands`;
- :mod:`.plan`: plans (a grid made ready for the callback) and their cache;
- :mod:`.supervisor`: the engine's thread: events, backend watch, reconnect;
- :mod:`.rt`: real-time settings;
- hooks for what plugs in: :mod:`.outputs` (event outputs stamped to the sample),
  :mod:`.sources` (audio sources placed in the map), :mod:`.inputs` (what the
  backend's inputs hear, e.g. a take recorded against the click), :mod:`.followers`
  (outside transports that move this one);
- :mod:`.backends`: JACK, PortAudio and a null backend behind one small interface.

The audio callback places every click by counting samples and mixes it with the same
:class:`~ictus.render.BlockMixer` as ``ictus render``, so what plays is what renders.
"""

from ictus.engine.backends import Backend, BackendError, OutputList, list_outputs, make_backend
from ictus.engine.control import Engine
from ictus.engine.events import Event, EventKind
from ictus.engine.followers import Follower
from ictus.engine.inputs import AudioInput, TakeRecorder
from ictus.engine.outputs import EventOutput
from ictus.engine.plan import Outputs, Plan, build_plan
from ictus.engine.sources import AudioSource, Route
from ictus.engine.status import NextCue, State, Status

__all__ = [
    "AudioInput",
    "AudioSource",
    "Backend",
    "BackendError",
    "Engine",
    "Event",
    "EventKind",
    "EventOutput",
    "Follower",
    "NextCue",
    "OutputList",
    "Outputs",
    "Plan",
    "Route",
    "State",
    "Status",
    "TakeRecorder",
    "build_plan",
    "list_outputs",
    "make_backend",
]
