"""JACK backend (JACK-Client): named output ports, optional auto-connect, server's clock.

The engine's outputs become ports ``<client>:out_1`` ... ``out_N``. The backend follows
the server: its sample rate (the click voice is made at that rate) and its period
(which may change while playing). The block clock handed to the transport is the
server's frame time (``jack_last_frame_time``, widened past its 32-bit wrap), so when
the server loses a period in an xrun the transport sees the jump and stays aligned.

If the server goes away, the shutdown callback records why in ``failure``; the engine
notices within a few milliseconds and either stops or calls :meth:`JackBackend.reopen`
until the server is back (``ictus play --reconnect``).

``connect`` chooses where the outputs go: ``"auto"`` (the physical playback ports, in
order), ``"none"``, or a list whose items are port names (``system:playback_3``) or
client names (``recorder``: all of its audio inputs, in order); the resulting ports are
connected to ``out_1``, ``out_2``, ... in turn.

**Inputs.** ``inputs`` registers audio inputs ``<client>:in_1`` ... ``in_N`` on the same
client, so what they receive in a cycle is handed to ``capture`` with the very frame
time the output of that cycle is stamped with (sample-exact: no second client, no
second clock). ``input_connect`` gives one source per input: a port name
(``system:capture_1``) or a client name (all of its audio outputs, summed by JACK).
:meth:`JackBackend.reported_latency` reads JACK's latency ranges of our ports (the
longest playback latency of the outputs, the longest capture latency of the inputs).

**Extra MIDI ports.** ``midi_outputs`` and ``midi_inputs`` name MIDI ports registered on
the same client (``<client>:midi_out``), so what goes through them is read and written in
the very process callback that plays the audio: an event output (MIDI clock, MTC) writes
a port's buffer through :meth:`JackBackend.midi_port` with sample offsets of this block,
and a follower or show controller reads an input's events the same way. The backend
clears every MIDI output's buffer at the start of each cycle (JACK wants that, messages
or none), so a cycle whose writer failed or was idle sends nothing rather than garbage.
``midi_connect`` maps a port name to the ports or clients it is connected to at start.

**Timebase.** A ``timebase`` callback (JACK-Client's signature) is registered at every
start, making this client the transport's timebase master (``--jack-transport master``);
closing stops the transport and gives the timebase up. :meth:`JackBackend.client`
exposes the open client for transport queries.

Extra ports (MIDI in and out for a show): ``on_client`` is called with the
``jack.Client`` every time one is opened (open, and again on reopen), after the audio
ports are registered and before the client is activated. Register the ports there and
keep them; use them only from the process function (``process(out, now)`` runs in this
client's process callback, where a MIDI port's buffer belongs to the current cycle).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ictus.engine.backends.base import (
    Backend,
    BackendError,
    Latency,
    NoOutput,
    OutputList,
    OutputPort,
    Process,
)

_WRAP = 1 << 32


def _jack() -> Any:
    try:
        import jack
    except (ImportError, OSError) as err:  # OSError: libjack itself is missing
        raise BackendError(
            f"the JACK backend needs JACK-Client and libjack ({err}); "
            "install them (pip install JACK-Client; apt-get install libjack-jackd2-0) "
            "or use --backend portaudio"
        ) from None
    return jack


def server_words(server: str | None) -> str:
    """How to name a JACK server to the user.

    >>> server_words("stage")
    "named 'stage'"
    """
    name = server or os.environ.get("JACK_DEFAULT_SERVER")
    return f"named {name!r}" if name else "(the default one)"


def _frame_time(client: Any) -> Any:
    """A function returning the frame time of the current cycle, bound to ``client``
    (not to the backend, which drops its client while closing)."""
    jack = _jack()
    lib = getattr(jack, "_lib", None)
    ptr = getattr(client, "_ptr", None)
    if lib is None or ptr is None:
        return lambda: client.last_frame_time
    last_frame_time = lib.jack_last_frame_time
    return lambda: last_frame_time(ptr)


def _frames_to_time(client: Any) -> Any:
    """``jack_frames_to_time`` bound to ``client`` (JACK-Client does not wrap it): the
    server's estimate (its delay-locked loop) of the microsecond a frame time plays at,
    on JACK 2's clock, ``CLOCK_MONOTONIC_RAW``. None where it cannot be had."""
    import ctypes

    jack = _jack()
    ffi = getattr(jack, "_ffi", None)
    ptr = getattr(client, "_ptr", None)
    if ffi is None or ptr is None:
        return None
    try:
        lib = ctypes.CDLL("libjack.so.0")  # the library JACK-Client loaded: same handle
    except OSError:
        return None
    call = lib.jack_frames_to_time
    call.restype = ctypes.c_uint64
    call.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    address = ctypes.c_void_p(int(ffi.cast("uintptr_t", ptr)))
    return lambda frames: int(call(address, frames & (_WRAP - 1)))


#: jack_latency_callback_mode_t (jack/types.h)
_CAPTURE, _PLAYBACK = 0, 1


def _latency_range() -> Any:
    """``jack_port_get_latency_range`` (JACK-Client does not wrap it) as a function
    (port, mode) -> the range's maximum in frames; None where it cannot be had."""
    import ctypes

    jack = _jack()
    ffi = getattr(jack, "_ffi", None)
    if ffi is None:
        return None
    try:
        lib = ctypes.CDLL("libjack.so.0")  # the library JACK-Client loaded: same handle
    except OSError:
        return None

    class Range(ctypes.Structure):
        _fields_ = (("min", ctypes.c_uint32), ("max", ctypes.c_uint32))

    call = lib.jack_port_get_latency_range
    call.restype = None
    call.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(Range)]

    def ask(port: Any, mode: int) -> int:
        found = Range()
        call(ctypes.c_void_p(int(ffi.cast("uintptr_t", port._ptr))), mode, ctypes.byref(found))
        return int(found.max)

    return ask


class JackBackend(Backend):
    """Play through a JACK server; see the module docstring.

    Parameters
    ----------
    client_name : str
        Name of our JACK client (JACK adds a suffix if it is taken).
    connect : "auto", "none" or sequence of str
    server : str or None
        Server name; None: ``$JACK_DEFAULT_SERVER`` or the default server.
    midi_outputs, midi_inputs : sequence of str
        MIDI ports to register on the client (see the module docstring).
    midi_connect : mapping port name -> sequence of str
        Ports or clients to connect each MIDI port to at start.
    timebase : callable or None
        Timebase master callback (see the module docstring).
    measure : int
        Keep the cost (ns, whole process callback) of the last ``measure`` cycles in
        ``costs`` (a ring; ``cycles`` counts them all). 0: do not measure.
    on_client : callable jack.Client -> None, optional
        Registers extra ports on every client opened (see the module docstring).
    inputs : int
        Audio inputs to register (``in_1``...), handed to ``capture`` each cycle.
    input_connect : sequence of str
        What to connect to each input at start (a port or a client), in order.
    """

    name = "jack"

    def __init__(
        self,
        client_name: str = "ictus",
        connect: str | Sequence[str] = "auto",
        server: str | None = None,
        measure: int = 0,
        midi_outputs: Sequence[str] = (),
        midi_inputs: Sequence[str] = (),
        midi_connect: Mapping[str, Sequence[str]] | None = None,
        timebase: Callable[..., None] | None = None,
        on_client: Callable[[Any], None] | None = None,
        inputs: int = 0,
        input_connect: Sequence[str] = (),
    ) -> None:
        super().__init__()
        if len(input_connect) > inputs:
            raise BackendError(f"{len(input_connect)} sources for {inputs} input(s)")
        self.inputs = inputs
        self.input_connect = tuple(input_connect)
        self._in_ports: list[Any] = []
        self._in_scratch = np.zeros((0, 0), dtype=np.float32)
        self._in_view: Any = None
        self._take_in: Any = None
        self.midi_outputs = tuple(midi_outputs)
        self.midi_inputs = tuple(midi_inputs)
        self.midi_connect = dict(midi_connect or {})
        self.timebase = timebase
        self._midi: dict[str, Any] = {}  # name -> registered MIDI port (in or out)
        self._midi_out: list[Any] = []
        self.on_client = on_client
        self.client_name = client_name
        self.connect = connect
        self.server = server
        self.messages: list[str] = []  # libjack's own complaints, newest last
        self._client: Any = None
        self._ports: list[Any] = []
        self._process: Process | None = None
        self._scratch = np.zeros((0, 0), dtype=np.float32)
        self._view: Any = None
        self._view_frames = -1
        self._copy: Any = None
        self._to_time: Any = None
        self._last_raw = -1
        self._high = 0
        self.cycles = 0
        self._graph_orders = 0
        self._graph_wanted = 0
        self.costs = np.zeros(measure, dtype=np.int64)

    # -- opening ---------------------------------------------------------------------

    @classmethod
    def list_outputs(cls, **options: Any) -> OutputList:
        """The audio input ports of the server (what ``--connect`` takes); ``server``:
        its name (None: ``$JACK_DEFAULT_SERVER`` or the default)."""
        server = options.get("server")
        try:
            jack = _jack()
        except BackendError as err:
            return OutputList(cls.name, False, str(err))
        jack.set_error_function(lambda _msg: None)
        jack.set_info_function(lambda _msg: None)
        try:
            client = jack.Client("ictus-devices", no_start_server=True, servername=server)
        except jack.JackOpenError:
            return OutputList(cls.name, False, f"no JACK server {server_words(server)} answers")
        try:
            ports = tuple(
                OutputPort(p.name, 1, client.samplerate, False, "physical" if p.is_physical else "")
                for p in client.get_ports(is_input=True, is_audio=True)
            )
            state = (
                f"server {server_words(server)} running at {client.samplerate} Hz, "
                f"{client.blocksize} frames"
            )
        finally:
            client.close()
        return OutputList(cls.name, True, state, ports)

    def open(self, channels: int, rate: int | None = None) -> None:
        self.channels = channels
        self._open_client()
        if rate is not None and rate != self.rate:
            server_rate = self.rate
            self.close()
            raise BackendError(
                f"the JACK server runs at {server_rate} Hz, not {rate} Hz: "
                "drop --sample-rate (the click follows the server) or restart jackd"
            )

    def _open_client(self) -> None:
        jack = _jack()
        jack.set_error_function(self._message)
        jack.set_info_function(self._message)
        try:
            client = jack.Client(self.client_name, no_start_server=True, servername=self.server)
        except jack.JackOpenError:
            raise NoOutput(
                f"no JACK server {server_words(self.server)} is running: start jackd "
                "(or PipeWire's JACK), or use --backend portaudio"
            ) from None
        self._client = client
        self.failure = None
        self.rate = client.samplerate
        self.period = client.blocksize
        self._ports = [client.outports.register(f"out_{i + 1}") for i in range(self.channels)]
        self._in_ports = [client.inports.register(f"in_{i + 1}") for i in range(self.inputs)]
        self._midi = {name: client.midi_outports.register(name) for name in self.midi_outputs}
        self._midi_out = list(self._midi.values())
        self._midi.update({name: client.midi_inports.register(name) for name in self.midi_inputs})
        if self.on_client is not None:
            self.on_client(client)
        self._size(max(self.period, 1024))
        self._last_raw = -1
        self._high = 0
        frame_time = _frame_time(client)
        self._to_time = _frames_to_time(client)
        costs = self.costs
        if len(costs):
            clock_ns = time.perf_counter_ns
            ring = len(costs)

            def on_process(frames: int) -> None:
                begin = clock_ns()
                self._on_process(frames, frame_time())
                costs[(self.cycles - 1) % ring] = clock_ns() - begin

        else:

            def on_process(frames: int) -> None:
                self._on_process(frames, frame_time())

        client.set_process_callback(on_process)
        client.set_xrun_callback(self._on_xrun)
        client.set_shutdown_callback(self._on_shutdown)
        client.set_blocksize_callback(self._on_blocksize)
        client.set_samplerate_callback(self._on_samplerate)
        client.set_graph_order_callback(self._on_graph_order)

    def host_time(self, clock: int) -> int | None:
        to_time = self._to_time
        if to_time is None or self._client is None:
            return None
        return int(to_time(clock))

    def _message(self, text: str) -> None:
        self.messages = [*self.messages[-19:], text]

    def _size(self, frames: int) -> None:
        """Channel-major scratch: each output's samples are contiguous, one copy per port."""
        self._scratch = np.zeros((self.channels, frames), dtype=np.float32)
        self._in_scratch = np.zeros((self.inputs, frames), dtype=np.float32)
        self._view_frames = -1
        self._copy = self._port_copier()
        self._take_in = self._input_copier()

    def _port_copier(self) -> Any:
        """A function copying the scratch rows into the port buffers of one cycle.

        JACK-Client's ``get_array`` builds a new numpy array per port per cycle; going
        through its cffi handle with precomputed row pointers costs a third of that.
        And most cycles fall between clicks: when the block is silence and a port's
        buffer is the one we filled with silence last cycle (same address, same size),
        it still holds those zeros (only its owner writes an output buffer), so the
        copy is skipped.
        """
        jack = _jack()
        ffi = getattr(jack, "_ffi", None)
        lib = getattr(jack, "_lib", None)
        ports, scratch = self._ports, self._scratch
        if ffi is None or lib is None or not all(hasattr(p, "_ptr") for p in ports):

            def copy_slow(frames: int, silent: bool) -> None:
                for i, port in enumerate(ports):
                    port.get_array()[:] = scratch[i, :frames]

            return copy_slow
        get_buffer, memmove = lib.jack_port_get_buffer, ffi.memmove
        pairs = [(p._ptr, ffi.from_buffer(scratch[i])) for i, p in enumerate(ports)]
        quiet: list[Any] = [None] * len(pairs)  # buffers known to hold zeros
        sizes = [0]

        def copy(frames: int, silent: bool) -> None:
            size = frames * 4
            if size != sizes[0]:
                quiet[:] = [None] * len(pairs)
                sizes[0] = size
            for k, (port, row) in enumerate(pairs):
                buffer = get_buffer(port, frames)
                if silent:
                    if quiet[k] == buffer:
                        continue
                    quiet[k] = buffer
                else:
                    quiet[k] = None
                memmove(buffer, row, size)

        return copy

    def _input_copier(self) -> Any:
        """A function copying each input port's buffer of this cycle into its row of
        the input scratch (through cffi like :meth:`_port_copier`: no array per port)."""
        jack = _jack()
        ffi = getattr(jack, "_ffi", None)
        lib = getattr(jack, "_lib", None)
        ports, scratch = self._in_ports, self._in_scratch
        if ffi is None or lib is None or not all(hasattr(p, "_ptr") for p in ports):

            def take_slow(frames: int) -> None:
                for i, port in enumerate(ports):
                    scratch[i, :frames] = port.get_array()

            return take_slow
        get_buffer, memmove = lib.jack_port_get_buffer, ffi.memmove
        pairs = [(p._ptr, ffi.from_buffer(scratch[i])) for i, p in enumerate(ports)]

        def take(frames: int) -> None:
            size = frames * 4
            for port, row in pairs:
                memmove(row, get_buffer(port, frames), size)

        return take

    def reported_latency(self) -> Latency:
        """JACK's own reckoning: the longest playback latency of our outputs and the
        longest capture latency of our inputs (both 0 for ports wired only to other
        clients: JACK counts latency from the hardware)."""
        if self._client is None:
            return Latency()
        ask = _latency_range()
        if ask is None:
            return Latency()

        def longest(ports: list[Any], mode: int) -> int:
            return max((ask(p, mode) for p in ports), default=0)

        return Latency(longest(self._ports, _PLAYBACK), longest(self._in_ports, _CAPTURE))

    # -- running ---------------------------------------------------------------------

    def start(self, process: Process) -> None:
        self._process = process
        client = self._client
        client.activate()
        for ours, theirs in zip(self._ports, self._targets(), strict=False):
            if theirs not in {p.name for p in client.get_all_connections(ours)}:
                # settle() waits for the graph order this connection brings
                self._graph_wanted = self._graph_orders + 1
                client.connect(ours, theirs)
        for port, sources in zip(self._in_ports, self._sources(), strict=False):
            for source in sources:
                if source not in {p.name for p in client.get_all_connections(port)}:
                    self._graph_wanted = self._graph_orders + 1
                    client.connect(source, port)
        for name, targets in self.midi_connect.items():
            port = self._midi[name]
            for theirs in self._midi_targets(port, targets):
                self._graph_wanted = self._graph_orders + 1
                if port.is_output:
                    client.connect(port, theirs)
                else:
                    client.connect(theirs, port)
        if self.timebase is not None and not client.set_timebase_callback(self.timebase):
            raise BackendError("another JACK client is already the timebase master")

    def _midi_targets(self, port: Any, targets: Sequence[str]) -> list[str]:
        """The MIDI ports ``targets`` (port or client names) name, for ``port``."""
        client = self._client
        ports = client.get_ports(is_midi=True, is_input=port.is_output, is_output=port.is_input)
        names: list[str] = []
        for item in targets:
            found = [p.name for p in ports if item in (p.name, p.name.split(":", 1)[0])]
            if not found:
                kinds = ", ".join(p.name for p in ports) or "(none)"
                raise BackendError(f"--midi-connect: no JACK MIDI port {item!r}; ports: {kinds}")
            names.extend(found)
        return names

    @property
    def client(self) -> Any:
        """The open ``jack.Client`` (None while closed): for transport queries."""
        return self._client

    def midi_port(self, name: str) -> Any:
        """The MIDI port ``name`` of the open client (``midi_outputs``/``midi_inputs``);
        call it from the process callback once per cycle (a reopen registers new ports)."""
        return self._midi[name]

    def _targets(self) -> list[str]:
        client = self._client
        if self.connect == "none":
            return []
        if self.connect == "auto":
            ports = client.get_ports(is_physical=True, is_input=True, is_audio=True)
            return [p.name for p in ports]
        names: list[str] = []
        for item in self.connect:
            if ":" in item:
                try:
                    client.get_port_by_name(item)
                except Exception:
                    raise BackendError(
                        f"--connect: no JACK port {item!r}; input ports: {self._inputs()}"
                    ) from None
                names.append(item)
                continue
            ports = [
                p.name
                for p in client.get_ports(is_input=True, is_audio=True)
                if p.name.split(":", 1)[0] == item
            ]
            if not ports:
                raise BackendError(
                    f"--connect: no JACK client {item!r} with audio inputs; "
                    f"input ports: {self._inputs()}"
                )
            names.extend(ports)
        return names

    def _sources(self) -> list[list[str]]:
        """The output ports each input is connected to (``input_connect``)."""
        client = self._client
        outputs = client.get_ports(is_output=True, is_audio=True)
        found: list[list[str]] = []
        for item in self.input_connect:
            names = [p.name for p in outputs if item in (p.name, p.name.split(":", 1)[0])]
            if not names:
                listing = ", ".join(p.name for p in outputs) or "(none)"
                raise BackendError(
                    f"--input: no JACK output port or client {item!r}; outputs: {listing}"
                )
            found.append(names)
        return found

    def _inputs(self) -> str:
        ports = self._client.get_ports(is_input=True, is_audio=True)
        return ", ".join(p.name for p in ports) or "(none)"

    def settle(self, timeout: float = 1.0) -> None:
        # connect() returns before the server has put the new order into its graph: until
        # then whoever we feed may run before us in a cycle and hear our previous block
        # (a whole period late). Wait for the server's graph-order notice after our
        # connections, then for a few cycles in the new order.
        deadline = time.monotonic() + timeout
        while (
            self._graph_orders < self._graph_wanted
            and time.monotonic() < deadline
            and self.failure is None
        ):
            time.sleep(0.002)
        target = self.cycles + 4
        while self.cycles < target and time.monotonic() < deadline and self.failure is None:
            time.sleep(0.002)

    def _on_graph_order(self) -> None:
        self._graph_orders += 1

    def _on_process(self, frames: int, raw: int) -> None:
        if raw + _WRAP // 2 < self._last_raw:
            # jack_nframes_t wraps after 2^32 frames (a day at 48 kHz). Only a fall of more
            # than half the range is a wrap: around an xrun JACK can hand out the same frame
            # time twice, or step back a period, and that must not leap the clock by 2^32.
            self._high += _WRAP
        self._last_raw = raw
        if frames != self._view_frames:
            if frames > self._scratch.shape[1]:
                self._size(frames)  # the period grew: one allocation, then steady again
            self._view = self._scratch[:, :frames].T
            self._in_view = self._in_scratch[:, :frames].T
            self._view_frames = frames
        for port in self._midi_out:
            port.clear_buffer()
        assert self._process is not None
        capture = self.capture
        if capture is not None and self._in_ports:
            # the inputs of this cycle first, on the clock its output is stamped with
            self._take_in(frames)
            capture(self._in_view, self._high + raw)
        silent = self._process(self._view, self._high + raw)
        self._copy(frames, silent is True)
        self.cycles += 1

    def _on_xrun(self, delayed_usecs: float) -> None:
        self.xruns += 1

    def _on_shutdown(self, status: Any, reason: str) -> None:
        self.failure = f"the JACK server went away ({reason or status})"

    def _on_blocksize(self, frames: int) -> None:
        self.period = frames

    def _on_samplerate(self, rate: int) -> None:
        if self.rate and rate != self.rate:
            self.failure = f"the JACK server changed its sample rate to {rate} Hz"

    # -- ending and coming back -------------------------------------------------------

    def close(self) -> None:
        client, self._client = self._client, None
        self._to_time = None
        if client is None:
            return
        # after a shutdown the client is dead: closing it still frees libjack's side, but
        # never let a confused library hold up the exit
        done = threading.Event()

        def shut() -> None:
            try:
                if self.failure is None:
                    if self.timebase is not None:
                        # the master leaves: the transport it drove stops with it
                        client.transport_stop()
                        client.release_timebase()
                    client.deactivate()
                client.close()
            except Exception:
                pass
            done.set()

        threading.Thread(target=shut, name="ictus-jack-close", daemon=True).start()
        done.wait(0.5)

    def reopen(self) -> bool:
        self.close()
        try:
            self._open_client()
        except BackendError:
            return False
        return True

    def describe(self) -> str:
        name = self._client.name if self._client is not None else self.client_name
        ins = f", {self.inputs} in" if self.inputs else ""
        return (
            f"JACK client '{name}' ({self.channels} out{ins}, {self.rate} Hz, "
            f"{self.period} frames)"
        )

    def port_names(self) -> list[str]:
        return [p.name for p in self._ports]
