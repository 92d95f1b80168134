"""The web server: the page, and one WebSocket per page carrying beats, status and actions.

Runs an :mod:`aiohttp` server on its own thread and event loop next to an open engine.
What goes to the pages (JSON, one object per message, ``type`` first):

- ``hello``: the map (title, sections to locate to), the page's role (``control`` or
  ``performer``);
- ``status``: what the engine shows (state, bar|beat, section, tempo, ...), sent to every
  page whenever it changes, so all pages show the same;
- ``beat``: each beat as the engine reports it, with the engine time of its first sample
  (``t``, seconds on the engine's clock) and the beats that follow (``next``), so a page
  can flash them on time although it hears of each a little late;
- ``pong``: the engine's time now, for the page's clock sync;
- ``error``: why a message was refused.

Access: on a loopback address anyone on this computer may connect (the Host and Origin
headers are checked, so another web site cannot drive the show); elsewhere every HTTP
request and the socket need a token (``?token=`` once, then a cookie). The performer
token (or ``?view=performer``) gives a page that shows but cannot control.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from importlib import resources
from typing import TYPE_CHECKING, Any

from ictus.errors import IctusError
from ictus.web.clock import ClockWatch
from ictus.web.forecast import Forecast, Upcoming
from ictus.web.messages import MAX_MESSAGE, Do, Ping, Rejected, Report, parse
from ictus.web.remote import (
    IN_A_SHOW,
    SHOW_ACTIONS,
    Action,
    Beat,
    Remote,
    ShowControls,
    show_engine,
    tag,
)

if TYPE_CHECKING:
    from aiohttp import web

    from ictus.engine import Engine

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8750
#: Messages queued for one page before it counts as gone (a phone that fell asleep).
QUEUE = 512
#: Messages a page may send per second (sustained; twice as many in a burst): taps and
#: pings fit easily, a flood of commands does not reach the engine.
RATE_LIMIT = 40.0
#: How often the status is compared with what the pages show (seconds).
STATUS_EVERY = 0.05
COOKIE = "ictus_token"
STATIC = ("index.html", "app.js", "style.css")
TYPES = {"html": "text/html", "js": "text/javascript", "css": "text/css"}


class Role(Enum):
    """What a page may do."""

    CONTROL = "control"
    PERFORMER = "performer"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this computer.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_address() -> str:
    """This computer's address on the network its default route leads to (a UDP
    socket is pointed at a documentation address: nothing is sent), else 127.0.0.1."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address: str = probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
    return address


def _scale(status: Any) -> Fraction:
    # the engine keeps its scale to 0.1 %, as the status shows it
    return Fraction(round(float(status.scale_percent) * 10), 1000)


@dataclass
class Stats:
    """Counters for tests and the terminal."""

    rejected: int = 0
    refused: int = 0
    beats: int = 0
    clients: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


class _Page:
    """One connected page: its socket, role and outgoing queue."""

    def __init__(self, ws: web.WebSocketResponse, role: Role) -> None:
        self.ws = ws
        self.role = role
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE)
        self.flashes: list[tuple[float, int, int]] = []
        self._allowance = 2 * RATE_LIMIT
        self._checked = time.monotonic()

    def allowed(self) -> bool:
        """Whether one more message fits the page's rate (a token bucket)."""
        now = time.monotonic()
        self._allowance = min(
            2 * RATE_LIMIT, self._allowance + (now - self._checked) * RATE_LIMIT
        )
        self._checked = now
        if self._allowance < 1:
            return False
        self._allowance -= 1
        return True

    async def write(self) -> None:
        while (text := await self.queue.get()) is not None:
            await self.ws.send_str(text)


class WebRemote:
    """The web remote of one open ``engine``, served on ``host``:``port``.

    Parameters
    ----------
    engine : Engine or None
        Open; it stays the caller's to close. None with ``show``: the engine of the
        song the show has on (followed from song to song).
    host, port : where to listen (port 0: any free port, see :attr:`port`).
    token : bool or None
        Require a token; None: only when ``host`` is not a loopback address.
    visual_latency : float
        Seconds to show each beat later than its block is computed (the audio
        output's latency), see :class:`~ictus.web.clock.ClockWatch`.
    show : ShowControls, optional
        A running show (:class:`ictus.show.ShowRunner`): the pages get its setlist and
        its controls, and follow its songs.
    """

    def __init__(
        self,
        engine: Engine | None,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        token: bool | None = None,
        visual_latency: float = 0.0,
        show: ShowControls | None = None,
    ) -> None:
        if engine is None:
            engine = None if show is None else show_engine(show)
            if engine is None:
                raise IctusError("the web remote needs an engine, or a show with a song cued")
        self.remote = Remote(engine, show)
        self.host = host
        self.port = port
        need = not is_loopback(host) if token is None else token
        self.token = secrets.token_urlsafe(18) if need else None
        self.performer_token = secrets.token_urlsafe(18) if need else None
        self.clock = ClockWatch(
            self.remote.clock,
            visual_latency=visual_latency,
            on_thread=self.remote.hold_the_gil_like_the_engine,
        )
        status = self.remote.status()
        self.rate = int(status.rate)
        self.forecast = Forecast(self.remote.tempo_map, self.remote.count_in, self.rate)
        self.stats = Stats()
        self.anchor = int(status.bar)
        self._pages: set[_Page] = set()
        self._shown: dict[str, Any] | None = None
        self._static = {
            name: (resources.files("ictus.web") / "static" / name).read_bytes()
            for name in STATIC
        }
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._unlisten: Callable[[], None] | None = None
        self._heard: Engine = engine
        self._closing: set[asyncio.Future[bool]] = set()

    # -- addresses -------------------------------------------------------------------

    def url(self, role: Role = Role.CONTROL) -> str:
        """The address to open (with its token when one is needed); for a server on
        every interface (``0.0.0.0``), this computer's address on its network."""
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = lan_address()
        host = f"[{host}]" if ":" in host else host
        base = f"http://{host}:{self.port}/"
        token = self.performer_token if role is Role.PERFORMER else self.token
        if token is not None:
            return f"{base}?token={token}"
        return f"{base}?view=performer" if role is Role.PERFORMER else base

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> WebRemote:
        """Serve on a thread of its own; returns once listening (errors raise here)."""
        self.clock.start()
        self._thread = threading.Thread(target=self._run, name="ictus-web", daemon=True)
        self._thread.start()
        self._started.wait(10)
        if self._failure is not None:
            self.clock.stop()
            raise self._failure
        return self

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(5)
        self.clock.stop()

    def __enter__(self) -> WebRemote:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        self.remote.hold_the_gil_like_the_engine()
        try:
            asyncio.run(self._main())
        except BaseException as err:  # reported by start(), or lost at shutdown
            self._failure = err
            self._started.set()

    async def _main(self) -> None:
        from aiohttp import web

        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_MESSAGE)
        app.router.add_get("/", self._index)
        app.router.add_get("/ws", self._socket)
        for name in STATIC[1:]:
            app.router.add_get(f"/{name}", self._file(name))
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            try:
                await site.start()
            except OSError as err:
                raise IctusError(
                    f"cannot listen on {self.host}:{self.port}: {err.strerror or err}"
                ) from None
            if runner.addresses:  # port 0: the one the system picked
                self.port = int(runner.addresses[0][1])
            self._listen()
            watcher = asyncio.create_task(self._watch_status())
            self._started.set()
            await self._stopping.wait()
            watcher.cancel()
        finally:
            if self._unlisten is not None:
                self._unlisten()
            for page in list(self._pages):
                with contextlib.suppress(Exception):
                    await page.ws.close()
            await runner.cleanup()

    def _listen(self) -> None:
        """Hear the beats and changes of the engine followed now (on the loop)."""
        loop = self._loop
        assert loop is not None
        engine = self.remote.engine

        def on_beat(beat: Beat) -> None:  # the engine's thread: hand over, return
            loop.call_soon_threadsafe(self._beat_of, engine, beat)

        def on_change(kind: str) -> None:
            loop.call_soon_threadsafe(self._status_now)

        self._unlisten = self.remote.listen(on_beat, on_change)

    def _follow(self) -> None:
        """In a show, move to the song's engine when the show moved on: its beats, its
        map, and a new ``hello`` to every page (its parts to jump to)."""
        with contextlib.suppress(IctusError):
            if not self.remote.follow():
                return
        if self.remote.engine is self._heard:
            return
        if self._unlisten is not None:
            with contextlib.suppress(Exception):  # a song closed by the runner
                self._unlisten()
        self._heard = self.remote.engine
        self._listen()
        self.forecast = Forecast(self.remote.tempo_map, self.remote.count_in, self.rate)
        self.anchor = 1
        for page in list(self._pages):
            self._send(page, self._hello(page.role))

    # -- HTTP ------------------------------------------------------------------------

    def _role(self, request: web.Request) -> Role | None:
        """The role a request's token grants, or None (refused)."""
        performer = request.query.get("view") == "performer"
        if self.token is None:
            return Role.PERFORMER if performer else Role.CONTROL
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        if secrets.compare_digest(given.encode(), self.token.encode()):
            return Role.PERFORMER if performer else Role.CONTROL
        assert self.performer_token is not None
        if secrets.compare_digest(given.encode(), self.performer_token.encode()):
            return Role.PERFORMER
        return None

    def _same_site(self, request: web.Request) -> bool:
        """Host (and Origin, when a browser sends one) name this server: no other web
        site, and no DNS name re-pointed at us, can reach a loopback server."""
        host = request.headers.get("Host", "")
        names = {f"{self.host}:{self.port}", f"[{self.host}]:{self.port}"}
        if is_loopback(self.host):
            names |= {f"localhost:{self.port}", f"127.0.0.1:{self.port}", f"[::1]:{self.port}"}
        if self.token is None and is_loopback(self.host) and host not in names:
            return False
        origin = request.headers.get("Origin")
        return origin is None or origin.split("://", 1)[-1] == host

    @property
    def _guard(self) -> Any:
        from aiohttp import web

        @web.middleware
        async def guard(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            if not self._same_site(request):
                self.stats.refused += 1
                raise web.HTTPForbidden(text="ictus: wrong host or origin\n")
            role = self._role(request)
            if role is None:
                self.stats.refused += 1
                raise web.HTTPForbidden(text="ictus: this needs the access token\n")
            request["role"] = role
            response = await handler(request)
            given = request.query.get("token")
            if given is not None and self.token is not None:
                response.set_cookie(COOKIE, given, httponly=True, samesite="Strict")
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "no-store"
            response.headers["Content-Security-Policy"] = (
                "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:"
            )
            return response

        return guard

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return self._respond("index.html")

    def _file(self, name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            return self._respond(name)

        return handler

    def _respond(self, name: str) -> web.StreamResponse:
        from aiohttp import web

        kind = TYPES[name.rsplit(".", 1)[1]]
        return web.Response(body=self._static[name], content_type=kind, charset="utf-8")

    # -- the socket ------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import WSMsgType, web

        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, heartbeat=10.0)
        await ws.prepare(request)
        page = _Page(ws, request["role"])
        writer = asyncio.create_task(page.write())
        self._pages.add(page)
        self.stats.clients = len(self._pages)
        try:
            self._send(page, self._hello(page.role))
            self._send(page, {"type": "status", **(self._shown or self._view())})
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._receive(page, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._reject(page, "binary messages are not understood")
                else:
                    break
        finally:
            self._pages.discard(page)
            self.stats.clients = len(self._pages)
            with contextlib.suppress(asyncio.QueueFull):
                page.queue.put_nowait(None)
            writer.cancel()
        return ws

    def _reject(self, page: _Page, reason: str) -> None:
        self.stats.rejected += 1
        self.stats.reasons[reason] += 1
        self._send(page, {"type": "error", "message": reason})

    async def _receive(self, page: _Page, text: str) -> None:
        if not page.allowed():
            self._reject(page, "too many messages")
            return
        try:
            message = parse(text)
        except Rejected as err:
            self._reject(page, str(err))
            return
        if isinstance(message, Ping):
            self._send(
                page,
                {"type": "pong", "id": message.id, "engine": self.clock.engine_seconds()},
            )
        elif isinstance(message, Report):
            page.flashes = [*page.flashes, *message.flashes][-256:]
        elif isinstance(message, Do):
            if page.role is not Role.CONTROL:
                self.stats.refused += 1
                self._send(page, {"type": "error", "message": "this page can only watch"})
                return
            show = self.remote.show is not None
            if not show and message.action in SHOW_ACTIONS:
                self._reject(page, f"{message.action.value}: no show is running")
                return
            if show and message.action not in IN_A_SHOW:
                self._reject(page, f"{message.action.value}: not while a show runs")
                return
            tap_at = None
            if message.action is Action.TAP and message.at is not None:
                tap_at = self.clock.monotonic_of(message.at)
            try:
                # the engine's lock is short, but off the loop: pages keep getting beats
                await asyncio.to_thread(self.remote.act, message.action, message.arg, tap_at)
            except IctusError as err:
                self._send(page, {"type": "error", "message": str(err)})
            self._follow()
            self._status_now()

    def _send(self, page: _Page, data: dict[str, Any]) -> None:
        self._post(page, json.dumps(data, separators=(",", ":")))

    def _post(self, page: _Page, text: str) -> None:
        try:
            page.queue.put_nowait(text)
        except asyncio.QueueFull:  # a page that stopped reading: let it reconnect
            self._pages.discard(page)
            closing = asyncio.ensure_future(page.ws.close())
            self._closing.add(closing)  # kept until done, so it is not collected early
            closing.add_done_callback(self._closing.discard)

    def _broadcast(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, separators=(",", ":"))
        for page in list(self._pages):
            self._post(page, text)

    # -- what the pages show ---------------------------------------------------------

    def _hello(self, role: Role) -> dict[str, Any]:
        tm = self.remote.tempo_map
        sections = [
            {"label": s.label, "bar": tm.first_bar_of(i), "bars": s.bars}
            for i, s in enumerate(tm.sections)
            if s.label
        ]
        return {
            "type": "hello",
            "role": role.value,
            "title": tm.title,
            "sections": sections,
            "bars": tm.total_bars,
            "rate": self.rate,
            "show": self.remote.show is not None,
        }

    def _view(self) -> dict[str, Any]:
        """The engine's status as the pages show it."""
        s = self.remote.status()
        state = tag(s.state)
        bar, beat = int(s.bar), int(s.beat)
        if state in ("stopped", "paused"):
            self.anchor = max(bar, 1)
        scale = _scale(s)
        known, cue = self.remote.next_cue(s)
        return {
            "state": state,
            "bar": bar,
            "beat": beat,
            "beats": int(s.beats),
            "section": s.section,
            "next_section": s.next_section,
            "tempo": round(float(s.tempo), 2),
            "scale": round(float(s.scale_percent), 1),
            "count_in": bool(s.count_in),
            "countdown": self.forecast.countdown(bar, beat, scale, self.anchor),
            "next_cue": cue if known else self.forecast.next_cue(bar, beat, scale),
            "loop": s.loop,
            "jump": s.jump,
            "title": s.title,
            "xruns": int(s.xruns),
            "backend": s.backend,
            "show": self._show_view(),
        }

    def _show_view(self) -> dict[str, Any] | None:
        """The setlist as the pages show it (None without a show)."""
        show = self.remote.show_status()
        if show is None:
            return None
        return {
            "title": show.title,
            "setlist": list(show.setlist),
            "index": show.index,
            "song": show.song,
            "playing": show.playing,
            "next_song": show.next_song,
            "advance": show.advance,
            "finished": show.finished,
            "seconds_left": round(show.seconds_left),
        }

    def _status_now(self) -> None:
        view = self._view()
        if view != self._shown:
            self._shown = view
            self._broadcast({"type": "status", **view})

    async def _watch_status(self) -> None:
        while True:
            await asyncio.sleep(STATUS_EVERY)
            # a show's song closed under us must not stop every page's updates
            with contextlib.suppress(IctusError, AttributeError, KeyError):
                self._follow()
                self._status_now()

    def _beat_of(self, engine: Engine, beat: Beat) -> None:
        if engine is self._heard:  # not a song the show has just left
            self._beat(beat)

    def _beat(self, beat: Beat) -> None:
        """A beat sounded: tell every page, with the beats that follow it."""
        s = self.remote.status()
        scale = _scale(s)
        upcoming: list[Upcoming] = []
        if tag(s.state) == "playing":
            with contextlib.suppress(IctusError, KeyError):
                upcoming = self.forecast.after(
                    beat.clock,
                    beat.bar,
                    beat.beat,
                    scale,
                    loop=s.loop,
                    jump=s.jump,
                    anchor=self.anchor,
                )
        rate = self.rate
        level = "accent" if beat.beat == 1 else "normal"
        with contextlib.suppress(IctusError, KeyError):
            level = self.forecast.level(beat.bar, beat.beat, scale, self.anchor) or level
        self.stats.beats += 1
        self._broadcast(
            {
                "type": "beat",
                "seq": self.stats.beats,
                "t": beat.clock / rate,
                "bar": beat.bar,
                "beat": beat.beat,
                "level": level,
                "section": beat.section,
                "countdown": self.forecast.countdown(beat.bar, beat.beat, scale, self.anchor),
                "sent": self.clock.engine_seconds(),
                "next": [
                    {
                        "t": u.clock / rate,
                        "bar": u.bar,
                        "beat": u.beat,
                        "level": u.level,
                        "section": u.section,
                        "countdown": u.countdown,
                    }
                    for u in upcoming
                ],
            }
        )
        self._status_now()

    # -- for tests and the terminal ----------------------------------------------------

    def reported_flashes(self) -> list[tuple[float, int, int]]:
        """Every flash the pages reported scheduling (engine seconds, bar, beat)."""
        return [f for page in list(self._pages) for f in page.flashes]


def print_addresses(server: WebRemote, write: Callable[[str], Any]) -> None:
    """Tell the user where to point a browser (with a QR code when segno is installed)."""
    url = server.url()
    write(f"ictus: remote and metronome at {url}")
    if server.token is None and not is_loopback(server.host):
        write("ictus: warning: no token: anyone on this network can control the show")
    if server.performer_token is not None:
        write(f"ictus: read-only performer view at {server.url(Role.PERFORMER)}")
        write("ictus: anyone with the first address can control the show: share it with care")
        try:
            import segno  # optional: the web extra installs it
        except ImportError:
            return
        import io

        out = io.StringIO()
        segno.make(url, error="l").terminal(out=out, compact=True)
        write(out.getvalue().rstrip("\n"))


def serve(
    engine: Engine,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    token: bool | None = None,
    visual_latency: float = 0.0,
    write: Callable[[str], Any] = print,
    until: Callable[[], bool] | None = None,
) -> None:
    """Serve the web remote of an open ``engine`` until Ctrl-C (or ``until()`` is true).

    The engine stays the caller's to close.
    """
    server = WebRemote(engine, host, port, token=token, visual_latency=visual_latency)
    with server:
        print_addresses(server, write)
        try:
            while (until is None or not until()) and server.remote.failure() is None:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
