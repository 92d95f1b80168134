"""PortAudio backend (python-sounddevice): any output device on Linux, macOS, Windows.

Pick the device by index or by (part of) its name, as ``ictus devices`` lists them. The
block clock is a frame counter: PortAudio reports an underflow but not how many frames
it lost, so after one the transport simply continues (the JACK backend, which knows,
re-aligns instead).

With ``inputs`` the stream is duplex: PortAudio hands each callback an input block and
an output block of the same length, which share one clock (the frame counter), so
the input block goes to ``capture`` with the clock of the output it came with.
:meth:`PortAudioBackend.reported_latency` is PortAudio's own estimate for the open
stream (``Pa_GetStreamInfo``: input and output latency).

On Linux, PortAudio's JACK host API shows a running JACK server as a device (named after
the server's clients, usually ``system``); PortAudio looks for the server when
sounddevice is first imported, so set ``JACK_DEFAULT_SERVER`` before that.
"""

from __future__ import annotations

import atexit
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ictus.engine.backends.base import (
    Backend,
    BackendError,
    Latency,
    NoOutput,
    OutputList,
    OutputPort,
    Process,
)

#: what the user is told when PortAudio has nothing to play to
NO_DEVICE = "PortAudio found no output device"


def _sounddevice() -> Any:
    try:
        import sounddevice
    except (ImportError, OSError) as err:  # OSError: the PortAudio library is missing
        raise BackendError(
            f"the PortAudio backend needs sounddevice and libportaudio ({err}); "
            "install them (pip install sounddevice; apt-get install libportaudio2)"
        ) from None
    return sounddevice


def output_devices() -> list[dict[str, Any]]:
    """Every PortAudio device with outputs: index, name, host API, channels, rate."""
    sd = _sounddevice()
    apis = sd.query_hostapis()
    rows = []
    for dev in sd.query_devices():
        if dev["max_output_channels"] > 0:
            rows.append(
                {
                    "index": dev["index"],
                    "name": dev["name"],
                    "api": apis[dev["hostapi"]]["name"],
                    "channels": dev["max_output_channels"],
                    "rate": int(dev["default_samplerate"]),
                    "default": dev["index"] == sd.default.device[1],
                }
            )
    return rows


def _listing() -> str:
    rows = output_devices()
    if not rows:
        return "there are no output devices"
    return "output devices: " + "; ".join(f"[{r['index']}] {r['name']}" for r in rows)


class PortAudioBackend(Backend):
    """Play through a PortAudio device; see the module docstring.

    Parameters
    ----------
    device : int, str or None
        Index, or a unique part of the name; None: the default output.
    period : int
        Frames per block; 0 lets PortAudio choose (often varying block sizes).
    latency : "low", "high" or seconds
    inputs : int
        Input channels to record (a duplex stream); 0: output only.
    input_device : int, str or None
        The device to record from (index or a unique part of its name); None: the
        default input.
    """

    name = "portaudio"

    def __init__(
        self,
        device: int | str | None = None,
        period: int = 0,
        latency: str | float = "low",
        inputs: int = 0,
        input_device: int | str | None = None,
    ) -> None:
        super().__init__()
        self.inputs = inputs
        self.input_device = input_device
        self.device = device
        self.period = period
        self.latency = latency
        self.clock = 0
        #: the clock of the first block PortAudio flagged an underflow in (None: none):
        #: what came before it is on the clock for sure
        self.first_xrun_clock: int | None = None
        self._stream: Any = None
        self._process: Process | None = None
        self._closing = False
        self._last_block = 0.0
        self.device_name = ""

    @classmethod
    def list_outputs(cls, **options: Any) -> OutputList:
        del options
        try:
            rows = output_devices()
        except BackendError as err:
            return OutputList(cls.name, False, str(err))
        ports = tuple(
            OutputPort(r["name"], r["channels"], r["rate"], r["default"], r["api"], r["index"])
            for r in rows
        )
        state = f"{len(ports)} output device(s)" if ports else NO_DEVICE
        return OutputList(cls.name, bool(ports), state, ports)

    def _resolve(self, sd: Any) -> Any:
        device = self.device
        if device is None and not output_devices():
            raise NoOutput(NO_DEVICE)
        if isinstance(device, str) and device.strip().isdigit():
            device = int(device)
        try:
            return sd.query_devices(device, "output")
        except (ValueError, sd.PortAudioError) as err:
            raise BackendError(f"--device {self.device}: {err}; {_listing()}") from None

    def open(self, channels: int, rate: int | None = None) -> None:
        sd = _sounddevice()
        info = self._resolve(sd)
        if info["max_output_channels"] < channels:
            raise BackendError(
                f"device [{info['index']}] {info['name']} has {info['max_output_channels']} "
                f"outputs, {channels} asked for; {_listing()}"
            )
        self.channels = channels
        self.rate = rate or int(info["default_samplerate"])
        self.device_name = info["name"]
        common = {
            "samplerate": self.rate,
            "dtype": "float32",
            "blocksize": self.period,
            "latency": self.latency,
            "finished_callback": self._on_finished,
        }
        try:
            if self.inputs:
                source = self._resolve_input(sd)
                self._stream = sd.Stream(
                    device=(source["index"], info["index"]),
                    channels=(self.inputs, channels),
                    callback=self._on_duplex,
                    **common,
                )
            else:
                self._stream = sd.OutputStream(
                    device=info["index"], channels=channels, callback=self._on_block, **common
                )
        except sd.PortAudioError as err:
            raise BackendError(f"cannot open [{info['index']}] {info['name']}: {err}") from None
        self.rate = int(self._stream.samplerate)

    def _resolve_input(self, sd: Any) -> Any:
        device = self.input_device
        if isinstance(device, str) and device.strip().isdigit():
            device = int(device)
        try:
            info = sd.query_devices(device, "input")
        except (ValueError, sd.PortAudioError) as err:
            raise BackendError(f"--input {self.input_device}: {err}") from None
        if info["max_input_channels"] < self.inputs:
            raise BackendError(
                f"input device [{info['index']}] {info['name']} has "
                f"{info['max_input_channels']} inputs, {self.inputs} asked for"
            )
        return info

    def reported_latency(self) -> Latency:
        stream = self._stream
        if stream is None:
            return Latency()
        seconds = stream.latency
        capture, playback = seconds if isinstance(seconds, tuple) else (0.0, seconds)
        return Latency(round(playback * self.rate), round(capture * self.rate))

    def _on_duplex(
        self,
        indata: NDArray[np.float32],
        outdata: NDArray[np.float32],
        frames: int,
        when: Any,
        status: Any,
    ) -> None:
        capture = self.capture
        if capture is not None:
            capture(indata, self.clock)
        self._on_block(outdata, frames, when, status)

    def start(self, process: Process) -> None:
        self._process = process
        self._stream.start()

    def _on_block(self, outdata: NDArray[np.float32], frames: int, when: Any, status: Any) -> None:
        if status.output_underflow:
            if not self.xruns:
                self.first_xrun_clock = self.clock
            self.xruns += 1
        assert self._process is not None
        self._process(outdata, self.clock)
        self.clock += frames
        self._last_block = time.monotonic()
        if not self.period:
            self.period = frames

    def check(self) -> None:
        # PortAudio's JACK host API just stops calling back when the server dies
        if self._stream is None or self.failure is not None or not self._last_block:
            return
        allowed = 0.5 + 4 * (self.period or 4096) / self.rate
        if time.monotonic() - self._last_block > allowed:
            self.failure = (
                f"the audio device {self.device_name!r} stopped "
                f"(no audio asked for in {allowed:.1f} s)"
            )

    def _on_finished(self) -> None:
        if not self._closing:
            self.failure = f"the audio device {self.device_name!r} stopped"

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        self._closing = True
        if self.failure is not None:
            # a stream whose device vanished can hang in abort(), and PortAudio's JACK
            # host API aborts the process when terminated without its server: leave both
            sd = _sounddevice()
            atexit.unregister(sd._exit_handler)
            return
        try:
            stream.abort()
            stream.close()
        except Exception:
            pass

    def describe(self) -> str:
        period = self.period or "variable"
        return (
            f"PortAudio device '{self.device_name}' "
            f"({self.channels} out, {self.rate} Hz, {period} frames)"
        )
