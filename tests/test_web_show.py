"""The web remote running a show, with a real browser, and ``--web`` on ``ictus play``.

A :class:`~ictus.show.ShowRunner` plays the small test show (``four`` then ``seven``,
:mod:`showkit`) on the null backend paced to the wall clock; a :class:`WebRemote` serves
it. The truth a page is held to is the show file's setlist as written and the runner's
own status (what the terminal display and a foot switch see), never the page's echo.
"""

from __future__ import annotations

import itertools
import json
import os
import pty
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ictus.engine import Engine
from ictus.engine.backends.null import NullBackend
from ictus.formats import parse_click
from ictus.show import load_show
from ictus.show.runner import ShowRunner
from ictus.sounds import synth_voice
from showkit import make_show, speech_cache  # noqa: F401  (autouse)
from test_web import browser, get, in_thread, wait_for  # noqa: F401  (a fixture)

aiohttp = pytest.importorskip("aiohttp")
ICTUS = str(Path(sys.executable).parent / "ictus")
#: The test show's setlist, as showkit's show.toml writes it.
SETLIST = ["four", "seven"]


@pytest.fixture
def show(tmp_path: Path) -> Iterator[Any]:
    """The test show running on a paced null backend, with its web remote."""
    from ictus.web.server import WebRemote

    backend = NullBackend(rate=48000, period=256, driver="paced")
    runner = ShowRunner(load_show(make_show(tmp_path)), backend).open()
    web = WebRemote(None, "127.0.0.1", 0, show=runner).start()
    try:
        yield runner, web
    finally:
        web.stop()
        runner.close()


def open_page(browser: Any, url: str) -> Any:  # noqa: F811  (the browser fixture)
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("document.querySelectorAll('#setlist li').length > 0 "
                           "|| document.body.classList.contains('performer')", timeout=10000)
    return page


def cued(page: Any) -> str:
    return str(page.evaluate("document.querySelector('#setlist li.cued')?.textContent"))


def test_the_page_runs_the_show_and_every_page_follows(show: Any, browser: Any) -> None:  # noqa: F811
    runner, web = show
    one, two = open_page(browser, web.url()), open_page(browser, web.url())
    for page in (one, two):
        names = page.eval_on_selector_all("#setlist li", "els => els.map(e => e.textContent)")
        assert names == SETLIST
        assert page.is_visible("#show") and not page.is_visible(".transport")
    assert cued(one) == "four" and runner.status().index == 0

    one.click("#show button[data-do=next]")
    wait_for(lambda: runner.status().song == "seven")
    two.wait_for_function("document.querySelector('#setlist li.cued').textContent === 'seven'")
    # the second page has the new song's parts to jump to (seven: groove, vamp, out)
    parts = two.eval_on_selector_all("#parts button", "els => els.map(e => e.dataset.arg)")
    assert parts == ["groove", "vamp", "out"]

    two.click("#show button[data-do=previous]")
    wait_for(lambda: runner.status().song == "four")
    one.wait_for_function("document.querySelector('#setlist li.cued').textContent === 'four'")

    one.click("#show button[data-do=go]")
    wait_for(lambda: runner.status().playing)
    two.wait_for_function("document.querySelector('#state').dataset.state === 'playing'")
    assert "playing" in str(two.evaluate("document.querySelector('#setlist li.cued').className"))
    # a part button ("go to", the page's first mode): song four's chorus is bar 7
    one.click("#parts button[data-arg=chorus]")

    def at_the_chorus() -> bool:
        engine = runner.status().engine
        return engine is not None and (engine.section, engine.bar) == ("chorus", 7)

    wait_for(at_the_chorus, 3.0)

    two.click("#show button[data-do=stop]")
    wait_for(lambda: not runner.status().playing)
    assert runner.status().song == "four"  # stop keeps the cue
    one.wait_for_function("document.querySelector('#state').dataset.state !== 'playing'")


async def _try(url: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send each message on a fresh socket; the first error or status after it."""
    replies = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        for message in messages:
            await ws.send_str(json.dumps(message))
            while True:
                reply = json.loads((await ws.receive(timeout=5)).data)
                if reply["type"] == "error":
                    replies.append(reply)
                    break
    return replies


def test_the_performer_view_cannot_run_the_show(show: Any, browser: Any) -> None:  # noqa: F811
    runner, web = show
    page = open_page(browser, web.url() + "?view=performer")
    assert page.evaluate("document.body.classList.contains('performer')")
    assert not page.is_visible("#show") and not page.is_visible("button[data-do=go]")
    ws = f"ws://127.0.0.1:{web.port}/ws?view=performer"
    replies = in_thread(_try(ws, [{"type": "do", "action": a} for a in ("next", "go")]))
    assert [r["message"] for r in replies] == ["this page can only watch"] * 2
    time.sleep(0.2)
    status = runner.status()
    assert (status.index, status.playing) == (0, False)
    # a control page: what a show cannot do is refused before it reaches the runner
    control = f"ws://127.0.0.1:{web.port}/ws"
    before = web.stats.rejected
    replies = in_thread(_try(control, [{"type": "do", "action": "scale", "arg": 90},
                                       {"type": "do", "action": "vamp", "arg": []}]))
    assert replies[0]["message"] == "scale: not while a show runs"
    assert web.stats.rejected == before + 1
    # vamp takes no argument (it is ignored); nothing plays: the runner's own refusal
    assert replies[1]["message"] == "no song is playing" and not runner.status().playing


def test_show_actions_are_refused_without_a_show() -> None:
    from ictus.web.server import WebRemote

    tempo_map = parse_click("title: Plain\nverse: 4 4/4 120\n")
    engine = Engine(tempo_map, NullBackend(), voice=synth_voice("woodblock", 48000)).open()
    try:
        with WebRemote(engine, "127.0.0.1", 0) as web:
            ws = f"ws://127.0.0.1:{web.port}/ws"
            actions = ("go", "next", "previous", "vamp", "release")
            replies = in_thread(_try(ws, [{"type": "do", "action": a} for a in actions]))
            assert [r["message"] for r in replies] == [f"{a}: no show is running" for a in actions]
            assert web.stats.rejected == len(actions)
    finally:
        engine.close()


async def _beats(url: str, count: int) -> list[dict[str, Any]]:
    beats: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        while len(beats) < count:
            data = json.loads((await ws.receive(timeout=5)).data)
            if data["type"] == "beat":
                beats.append(data)
    return beats


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ictus_play_with_web_serves_the_page_and_its_beats(tmp_path: Path) -> None:
    song = tmp_path / "song.click"
    song.write_text("title: Web play\nrun: 40 4/4 240\n")  # a beat every 0.25 s
    port = free_port()
    # a terminal on stdin: the null backend then plays at the wall clock's pace
    leader, follower = pty.openpty()
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    proc = subprocess.Popen(
        [ICTUS, "play", str(song), "--backend", "null", "--web", "--web-port", str(port)],
        stdin=follower, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=env, start_new_session=True,
    )
    os.close(follower)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line == f"ictus: remote and metronome at http://127.0.0.1:{port}/\n", line
        assert get(f"http://127.0.0.1:{port}/")[0] == 200
        beats = in_thread(_beats(f"ws://127.0.0.1:{port}/ws", 4))
        # consecutive beats of 4/4 at 240 bpm: 0.25 s apart on the engine's clock
        for a, b in itertools.pairwise(beats):
            assert b["t"] - a["t"] == pytest.approx(0.25, abs=1e-9)
            assert (b["bar"] * 4 + b["beat"]) - (a["bar"] * 4 + a["beat"]) == 1
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(10)
        os.close(leader)
    bad = subprocess.run([ICTUS, "play", str(song), "--web-port", "9000", "--backend", "null"],
                         capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 2 and "--web-host and --web-port need --web" in bad.stderr


async def _hello_and_status(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        hello = json.loads((await ws.receive(timeout=5)).data)
        status = json.loads((await ws.receive(timeout=5)).data)
        return hello, status


def test_ictus_serve_runs_a_show_file(tmp_path: Path) -> None:
    path = make_show(tmp_path)
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    proc = subprocess.Popen(
        [ICTUS, "serve", str(path), "--backend", "null", "--port", "0"],
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("ictus: remote and metronome at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].strip()
        assert get(url)[0] == 200
        hello, status = in_thread(_hello_and_status(url.replace("http", "ws") + "ws"))
        assert hello["show"] is True and hello["title"] == "Four"  # four.click's title
        assert status["show"]["setlist"] == SETLIST and status["show"]["song"] == "four"
        assert status["state"] == "stopped"  # the show waits for the page's go
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    bad = subprocess.run([ICTUS, "serve", str(path), "--scale", "90", "--backend", "null"],
                         capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
