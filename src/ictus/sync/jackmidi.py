"""JACK MIDI: write a block's messages into an output port, each on its sample.

JACK MIDI carries a sample offset with every event, so a message written at offset
``o`` of a cycle leaves on exactly that cycle's frame ``last_frame_time + o``: MIDI clock
and MTC written from the audio callback are sample-exact by construction (python-jack's
``OwnMidiPort.clear_buffer`` and ``write_midi_event``; events in offset order, one
message per event, real-time bytes such as ``F8`` on their own).

The other road, an ALSA sequencer or rtmidi port (``--midi-out NAME`` with mido and
python-rtmidi), is not here: it has no sample stamps, so messages leave when a thread
gets to them, and this machine has no ALSA sequencer (``/dev/snd/seq``) to measure one.

``jack`` (the JACK-Client package) is imported only when a port is used, so ictus
starts without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ictus.errors import ParameterError

#: A message in a block: (sample offset in the block, bytes).
Message = tuple[int, bytes]


class JackMidiWriter:
    """Writes each cycle's messages to one JACK MIDI output port.

    Call :meth:`write` once per cycle from the JACK process callback, with the whole
    block's messages (or :meth:`begin` once, then :meth:`send` as they come): it clears
    the port's buffer (which JACK requires every cycle, messages or none) and writes
    them in offset order. A message JACK cannot take (a
    full buffer, an offset outside the block) is counted in :attr:`dropped`, never
    raised in the callback.

    Parameters
    ----------
    port : jack.OwnMidiPort
        A MIDI output port of the client whose process callback calls :meth:`write`
        (``client.midi_outports.register("midi_out")``).
    """

    def __init__(self, port: Any) -> None:
        import jack

        self.port = port
        self._error = jack.JackError
        #: messages JACK refused since the start
        self.dropped = 0
        #: messages written since the start
        self.written = 0
        self._frames = 0
        self._last = 0

    def write(self, messages: Iterable[Message], frames: int) -> None:
        """The cycle's messages (offsets in ``0 .. frames - 1``, in order) go out."""
        self.begin(frames)
        self.send(messages)

    def begin(self, frames: int) -> None:
        """A cycle of ``frames`` starts: empty the port's buffer. Then :meth:`send` the
        cycle's messages, in one go or stretch by stretch (an engine's event-output
        hook: ``begin`` in its ``begin``, ``send`` from ``change`` and ``play``)."""
        self.port.clear_buffer()
        self._frames = frames
        self._last = 0

    def send(self, messages: Iterable[Message]) -> None:
        """Write messages of the current cycle, each at or after the last one sent."""
        port, frames, last = self.port, self._frames, self._last
        for offset, data in messages:
            if not last <= offset < frames:
                # JACK stores events only in order and inside the cycle
                self.dropped += 1
                continue
            try:
                port.write_midi_event(offset, data)
            except self._error:
                self.dropped += 1
                continue
            last = offset
            self.written += 1
        self._last = last


def open_midi_output(client: Any, name: str = "midi_out") -> JackMidiWriter:
    """Register a MIDI output port called ``name`` on ``client`` and a writer for it."""
    return JackMidiWriter(client.midi_outports.register(name))


def list_midi_ports(client: Any, *, inputs: bool = True) -> list[str]:
    """Names of the MIDI ports on the client's server that ictus could connect to:
    ports that take MIDI in (``inputs=True``; where MIDI clock and MTC go) or that
    send it (``inputs=False``; what a follower listens to).
    """
    if not hasattr(client, "get_ports"):
        raise ParameterError("list_midi_ports needs a jack.Client")
    ports = client.get_ports(is_midi=True, is_input=inputs, is_output=not inputs)
    return [p.name for p in ports]


__all__ = ["JackMidiWriter", "Message", "list_midi_ports", "open_midi_output"]
