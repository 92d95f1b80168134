"""Hostile and absurd input (issue 11): nothing destroyed, nothing truncated, bounded.

Each class of problem has a regression test here that runs the installed ``ictus``
script (a subprocess, as a user would) or the function that decides, and the parser
classes have bounded hypothesis fuzz loops (every example capped in time).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terminal import as_at_a_terminal
from test_clickfile import tempo_maps

ICTUS = str(Path(sys.executable).parent / "ictus")
SONG = "a: 2 4/4 120\n"  # 4 s


def run(*args: str, cwd: Path | None = None, stdin: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ICTUS, *args], capture_output=True, text=True, cwd=cwd,
                          input=stdin, timeout=timeout, check=False)


def run_here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], folder: Path,
             *args: str) -> subprocess.CompletedProcess[str]:
    """``ictus ARGS`` in this process (the script's entry point), fast for many cases."""
    from ictus.cli.main import main

    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "argv", ["ictus", *args])
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except Exception:  # what the script would show as a traceback
        import traceback

        code = 1
        print(traceback.format_exc(), file=sys.stderr)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The error of a failed command; it must be one line (plus a source line and caret)."""
    assert proc.returncode not in (0, None), proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines and lines[0].startswith("ictus: error: "), proc.stderr
    assert len(lines) in (1, 3), proc.stderr
    return lines[0]


# ------------------------------------------------------ 1. outputs that are not files


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_render_to_a_device_writes_through(tmp_path: Path) -> None:
    (tmp_path / "song.click").write_text(SONG)
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
    proc = run("render", "song.click", "-o", str(null), "--format", "wav", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(null.stat().st_mode), "the device was replaced by a file"
    assert sorted(os.listdir(tmp_path)) == ["null", "song.click"]


def test_render_to_a_fifo_writes_through(tmp_path: Path) -> None:
    (tmp_path / "song.click").write_text(SONG)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = run("render", "song.click", "-o", str(fifo), "--format", "wav", "-r", "48000",
               "--bit-depth", "16", cwd=tmp_path)
    reader.join(30)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode), "the FIFO was replaced by a file"
    wav = tmp_path / "from-pipe.wav"
    wav.write_bytes(got[0])
    info = soundfile.info(wav)
    assert (info.samplerate, info.frames, info.subtype) == (48000, 4 * 48000, "PCM_16")


@pytest.mark.parametrize("command", ["render", "convert"])
def test_symlink_output_keeps_the_link_and_replaces_its_target(tmp_path: Path,
                                                               command: str) -> None:
    (tmp_path / "song.click").write_text(SONG)
    elsewhere = tmp_path / "takes"
    elsewhere.mkdir()
    ext = "wav" if command == "render" else "json"
    target = elsewhere / f"take.{ext}"
    target.write_text("old take")
    target.chmod(0o640)
    link = tmp_path / f"out.{ext}"
    link.symlink_to(target)
    args = ("render", "song.click", "-o", str(link)) if command == "render" else (
        "convert", "song.click", str(link))
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != b"old take"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(os.listdir(elsewhere)) == [f"take.{ext}"]
    if command == "render":
        assert soundfile.info(target).frames == 4 * 48000
    else:
        assert '"ictus-tempo-map/1"' in target.read_text()


# ------------------------------------------------------ 6. the input is never the output


def _same_file_ways(tmp_path: Path, name: str) -> dict[str, Path]:
    """The input under its own name, a symbolic link to it and a hard link to it."""
    song = tmp_path / name
    (tmp_path / "sym").symlink_to(song)
    os.link(song, tmp_path / "hard")
    return {"same": song, "symlink": tmp_path / "sym", "hardlink": tmp_path / "hard"}


@pytest.mark.parametrize(("case", "way"), [
    ("render-click", "same"), ("render-click", "symlink"), ("render-click", "hardlink"),
    ("convert-click", "same"), ("convert-click", "symlink"), ("convert-midi", "same"),
    ("sound-file", "hardlink")])
def test_output_that_is_the_input_is_refused(tmp_path: Path, case: str, way: str) -> None:
    (tmp_path / "song.click").write_text("# my notes\n" + SONG)
    source = "song.click"
    if case == "convert-midi":
        assert run("convert", "song.click", "song.mid", cwd=tmp_path).returncode == 0
        source = "song.mid"
    if case == "sound-file":
        soundfile.write(tmp_path / "tick.wav", np.full(480, 0.5), 48000)
        source = "tick.wav"
    before = (tmp_path / source).read_bytes()
    out = _same_file_ways(tmp_path, source)[way]
    if case == "render-click":
        args = ["render", "song.click", "-o", str(out), "--format", "wav"]
    elif case == "sound-file":
        args = ["render", "song.click", "-o", str(out), "--format", "wav",
                "--sound-file", "tick.wav"]
    else:
        args = ["convert", source, str(out), "--to", "click" if source == "song.mid"
                else "json"]
    proc = run(*args, cwd=tmp_path)
    line = one_line_error(proc)
    assert "is the input" in line and "--overwrite-input" in line, line
    assert (tmp_path / source).read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]
    # asked for explicitly, it is replaced (a hard link is then a file of its own)
    proc = run(*args, "--overwrite-input", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() != before


# ------------------------------------------------------ 7. every terminating signal


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                                 signal.SIGALRM, signal.SIGTERM, signal.SIGINT],
                         ids=lambda s: signal.Signals(s).name)
def test_terminating_signal_leaves_no_part_file(tmp_path: Path, sig: int) -> None:
    (tmp_path / "long.click").write_text("long: 3600 4/4 120 sub=4\n")  # two hours
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = subprocess.Popen(
        [ICTUS, "render", str(tmp_path / "long.click"), "-o", str(out_dir / "click.wav")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=as_at_a_terminal)
    try:
        deadline = time.monotonic() + 30
        while not any(p.stat().st_size > 1 << 20 for p in out_dir.iterdir()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the render did not start writing"
            time.sleep(0.02)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert "Traceback" not in err
    assert list(out_dir.iterdir()) == [], f"left behind after {signal.Signals(sig).name}"


# ------------------------------------------------------ 2. WAV over 4 GiB becomes RF64


@pytest.mark.parametrize("channels", [1, 2, 8, 1024])
@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
def test_largest_wav_still_fits_its_32bit_sizes(tmp_path: Path, channels: int,
                                                subtype: str) -> None:
    """At the boundary the WAV chosen still fits: RIFF size = file size - 8 < 2^32."""
    from ictus.render.writer import container_for

    width = {"PCM_16": 2, "PCM_24": 3, "FLOAT": 4}[subtype]
    # libsndfile's own header for this layout: a one-frame file minus its one frame
    probe = tmp_path / "probe.wav"
    soundfile.write(probe, np.zeros((1, channels)), 48000, subtype=subtype)
    header = probe.stat().st_size - channels * width
    largest = (2**32 - 1 + 8 - header) // (channels * width)  # frames a WAV can hold
    fits = [f for f in (largest - 70_000, largest) if f > 0]
    for frames in fits:
        assert container_for("wav", subtype, rate=48000, channels=channels,
                             frames=frames).major in ("WAV", "RF64")
    assert container_for("wav", subtype, rate=48000, channels=channels,
                         frames=largest + 1).major == "RF64"
    assert container_for("wav", subtype, rate=48000, channels=channels,
                         frames=max(1, largest // 2)).major == "WAV"
    with pytest.raises(Exception, match="aiff holds at most 4 GiB"):
        container_for("aiff", subtype, rate=48000, channels=channels, frames=largest + 1)


def test_rf64_render_reads_back_in_full(tmp_path: Path) -> None:
    (tmp_path / "song.click").write_text("a: 30 4/4 120\n")  # 60 s, a click each 0.5 s
    proc = run("render", "song.click", "-o", "x.wav", "--format", "rf64", "-c", "3",
               "--bit-depth", "16", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    info = soundfile.info(tmp_path / "x.wav")
    assert (info.format, info.channels, info.frames) == ("RF64", 3, 60 * 48000)
    # the same samples as the plain WAV of the same render
    proc = run("render", "song.click", "-o", "y.wav", "-c", "3", "--bit-depth", "16",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert soundfile.info(tmp_path / "y.wav").format == "WAV"
    rf64, _ = soundfile.read(tmp_path / "x.wav", dtype="int16")
    wav, _ = soundfile.read(tmp_path / "y.wav", dtype="int16")
    assert np.abs(wav).max() > 10000 and np.array_equal(rf64, wav)


@pytest.mark.soak  # writes 4.1 GiB (20 s here): `make soak`
def test_wav_over_4_gib_is_rf64_at_full_length(tmp_path: Path) -> None:
    (tmp_path / "long.click").write_text("a: 180 4/4 120\n")  # 6 min
    proc = run("render", "long.click", "-o", "x.wav", "-c", "8", "-r", "384000",
               "--bit-depth", "32f", cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "RF64" in proc.stderr
    info = soundfile.info(tmp_path / "x.wav")
    assert (info.format, info.frames) == ("RF64", 360 * 384000)
    assert (tmp_path / "x.wav").stat().st_size > 2**32
    with soundfile.SoundFile(tmp_path / "x.wav") as f:  # the last click is there
        f.seek(round(359.5 * 384000))
        assert np.abs(f.read(2000)).max() > 0.1


# ------------------------------------------------------ 3. each format's limits, first


@pytest.mark.parametrize(("fmt", "args", "says"), [
    ("ogg", ["-r", "384000"], "ogg supports sample rates up to 200000 Hz"),
    ("ogg", ["-r", "200001"], "ogg supports sample rates up to 200000 Hz"),
    ("mp3", ["-r", "96000"], "mp3 supports the sample rates 8000, 11025"),
    ("mp3", ["-r", "44000"], "mp3 supports the sample rates"),
    ("mp3", ["-c", "3"], "mp3 holds at most 2 channels"),
    ("flac", ["-c", "9"], "flac holds at most 8 channels"),
    ("flac", ["-r", "96001"], "flac supports rates above 65535 Hz in steps of 10 Hz"),
])
def test_format_limits_refused_before_encoding(tmp_path: Path, fmt: str, args: list[str],
                                               says: str) -> None:
    (tmp_path / "song.click").write_text(SONG)
    proc = run("render", "song.click", "-o", f"x.{fmt}", *args, cwd=tmp_path)
    assert proc.returncode != -signal.SIGSEGV, "the encoder crashed"
    assert says in one_line_error(proc)
    assert sorted(os.listdir(tmp_path)) == ["song.click"]  # no file, no hidden .part


@settings(max_examples=25, deadline=10_000,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(fmt=st.sampled_from(["wav", "rf64", "flac", "ogg", "mp3", "aiff"]),
       rate=st.one_of(st.sampled_from([8000, 11025, 44100, 48000, 96000, 192000, 200000,
                                       200001, 384000]), st.integers(8000, 384000)),
       channels=st.one_of(st.integers(1, 3), st.sampled_from([8, 9, 64])))
def test_any_format_rate_and_channels_writes_or_refuses(tmp_path: Path, fmt: str, rate: int,
                                                        channels: int) -> None:
    """In-process on purpose: an encoder that crashes takes the test run down with it."""
    from ictus.errors import ParameterError
    from ictus.render import render_file
    from ictus.sounds import synth_voice
    from ictus.tempomap import Section, Tempo, TempoMap, build_grid

    grid = build_grid(TempoMap((Section(1, Tempo(2400)),)))  # a bar of 0.1 s
    out = tmp_path / f"x-{fmt}-{rate}-{channels}.{fmt}"
    try:
        frames = render_file(grid, out, voice=synth_voice("beep", rate), rate=rate,
                             channels=channels)
    except ParameterError:
        assert not out.exists()
        return
    info = soundfile.info(out)
    assert (info.samplerate, info.channels) == (rate, channels)
    assert info.frames >= frames if fmt in ("ogg", "mp3") else info.frames == frames
    out.unlink()


# ------------------------------------------------------ 9. terminal escape injection

HOSTILE_TEXT = st.lists(
    st.sampled_from(["\x1b", "\x07", "\x00", "\x9b", "\u202e", "\x7f", "\t", "]", "[",
                     "2J", "0;", "a", ":", " ", "4/4", "120", "é", "\r", '"', ","]),
    max_size=12).map("".join)


def assert_terminal_safe(text: str) -> None:
    bad = [c for c in text if c != "\n" and (not c.isprintable() or c == "\u202e")]
    assert not bad, f"raw control characters reach the terminal: {bad!r}"


def test_escape_sequences_in_a_map_are_shown_escaped(tmp_path: Path) -> None:
    (tmp_path / "evil.click").write_bytes(
        b"title: x\nv\x1b]0;pwned\x07\x1b[2J: 4 4/4 \x00fast # \x1b[2J\n")
    proc = run("info", "evil.click", cwd=tmp_path)
    one_line_error(proc)
    assert_terminal_safe(proc.stderr)
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in proc.stderr
    (tmp_path / "evil.click").write_bytes(b"a: 4 4/4 \x1b[2J\x07fast # \x1b]0;pwned\x07\n")
    proc = run("info", "evil.click", cwd=tmp_path)
    one_line_error(proc)
    assert_terminal_safe(proc.stderr)
    _, line, caret = proc.stderr.rstrip("\n").splitlines()
    assert line[caret.index("^"):].startswith("\\x1b[2J\\x07fast")  # still points at it


@settings(max_examples=60, deadline=2000)
@given(before=HOSTILE_TEXT, token=HOSTILE_TEXT)
def test_any_error_display_is_terminal_safe(before: str, token: str) -> None:
    from ictus.errors import IctusError, ParseError
    from ictus.formats.clickfile import parse_click
    from ictus.formats.jsonmap import from_json

    for text, reader in ((f"{before}: 4 4/4 {token}\n", parse_click),
                         (f'{{"title": "{before}", "sections": [{token}]}}', from_json)):
        try:
            reader(text, "x")
        except ParseError as err:
            assert_terminal_safe(err.display())
        except IctusError as err:
            from ictus.errors import for_terminal

            assert_terminal_safe(for_terminal(str(err)))


# ------------------------------------------------------ 11 + issue 9.6: BOM and labels


@pytest.mark.parametrize("kind", ["click", "json", "stdin"])
def test_utf8_byte_order_mark_is_accepted(tmp_path: Path, kind: str) -> None:
    (tmp_path / "song.click").write_text("title: Lied\nRefrän: 2 4/4 120\n")
    assert run("convert", "song.click", "song.json", cwd=tmp_path).returncode == 0
    bom = b"\xef\xbb\xbf"
    if kind == "stdin":
        proc = subprocess.run([ICTUS, "beats", "-"], input=bom + b"a: 1 4/4 120\n",
                              capture_output=True, cwd=tmp_path, check=False)
        assert proc.returncode == 0, proc.stderr
        assert len(proc.stdout.decode().splitlines()) == 1 + 4
        return
    src = tmp_path / f"song.{kind}"
    src.write_bytes(bom + src.read_bytes())
    proc = run("beats", src.name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.splitlines()
    assert len(rows) == 1 + 8 and rows[1].endswith(",Refrän")


@pytest.mark.parametrize(("line", "hint"), [
    ("verse 1: 4 4/4 120", "write 'verse-1:'"),
    ("pre chorus b: 4 4/4 120", "write 'pre-chorus-b:'"),
])
def test_label_with_a_blank_gets_a_suggestion(tmp_path: Path, line: str, hint: str) -> None:
    (tmp_path / "song.click").write_text(line + "\n")
    assert hint in one_line_error(run("info", "song.click", cwd=tmp_path))


@pytest.mark.parametrize("label", ["Refrän", "Кода", "v.1", "coda_2", "序奏", "Ω-3"])
def test_labels_of_any_script_are_allowed(tmp_path: Path, label: str) -> None:
    from ictus.formats.clickfile import format_click, parse_click

    m = parse_click(f"{label}: 2 4/4 120\n", "x")
    assert m.sections[0].label == label
    assert parse_click(format_click(m), "y") == m


def test_label_error_lists_what_the_readme_allows(tmp_path: Path) -> None:
    (tmp_path / "song.click").write_text("a+b: 4 4/4 120\n")
    line = one_line_error(run("info", "song.click", cwd=tmp_path))
    assert "letters, digits, '_', '-' and '.'" in line
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert "digits, `_ - .`" in readme and "any script" in readme


# ------------------------------------------------------ 5, 4, 8: one line, bounded, named


def _mxl(score: bytes, *, method: int | None = None, encrypted: bool = False,
         cut: bool = False) -> bytes:
    """A .mxl archive of ``score``, damaged on request (as bytes on disk would be)."""
    import io
    import struct
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/container.xml",
                   '<container><rootfiles><rootfile full-path="s.xml"/></rootfiles></container>')
        z.writestr("s.xml", score)
    data = bytearray(buf.getvalue())
    for sig, flag_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        i = data.find(sig)
        while i >= 0:
            if method is not None:
                data[i + method_at:i + method_at + 2] = struct.pack("<H", method)
            if encrypted:
                data[i + flag_at] |= 1
            i = data.find(sig, i + 4)
    return bytes(data[: len(data) // 2] if cut else data)


def _score(measure_extra: str = "", attrs: str = "") -> bytes:
    return (
        '<?xml version="1.0"?><score-partwise version="3.1"><part-list><score-part id="P1">'
        '<part-name>x</part-name></score-part></part-list><part id="P1"><measure number="1">'
        "<attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type>"
        f"</time></attributes>{attrs}<note><rest/><duration>4</duration></note>"
        f"{measure_extra}</measure></part></score-partwise>").encode()


def _midi(*events: bytes) -> bytes:
    import struct

    track = b"".join(events) + b"\x83\x60\xff\x2f\x00"
    return (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk"
            + struct.pack(">I", len(track)) + track)


HOSTILE_FILES: dict[str, tuple[str, bytes, tuple[str, ...], str]] = {
    # id: (file name, content, command, what the one line must say)
    "5000-digit tempo": ("a.click", b"a: 4 4/4 " + b"1" * 5000, ("info",), "100 digits"),
    "5000-digit bars": ("a.click", b"a: " + b"1" * 5000 + b" 4/4 120", ("beats",),
                        "100 digits"),
    "5000-digit JSON": ("a.json", b'{"sections": [{"bars": ' + b"1" * 5000 + b"}]}",
                        ("info",), "100 digits"),
    "1e999999999 JSON tempo": (
        "a.json", b'{"format": "ictus-tempo-map/1", "sections": [{"bars": 1, '
        b'"meter": "4/4", "tempo": "1e999999999"}]}', ("info",), "power of ten"),
    "10^20 bars": ("a.click", b"a: 100000000000000000000 4/4 120", ("info",), "limit"),
    "10^7 bars": ("a.click", b"10000000 4/4 120", ("beats",), "10,000,000 clicks"),
    "10^9 pulses": ("a.click", b"1 1000000000/4 120", ("info",), "at most 1024"),
    "33,000 pulses": ("a.click", b"1 33000/4 120", ("info",), "at most 1024"),
    "JSON 100,000 deep": ("a.json", b"[" * 100_000 + b"]" * 100_000, ("info",),
                          "nested too deeply"),
    "truncated .mxl": ("a.mxl", _mxl(_score(), cut=True), ("info",), "damaged"),
    "compression 99 .mxl": ("a.mxl", _mxl(_score(), method=99), ("info",), "damaged"),
    "encrypted .mxl": ("a.mxl", _mxl(_score(), encrypted=True), ("info",), "encrypted"),
    "zip bomb .mxl": ("a.mxl", _mxl(_score() + b" " * (70 << 20)), ("info",),
                      "more than 64 MB"),
    "unknown XML encoding": (
        "a.musicxml", b'<?xml version="1.0" encoding="x-nothing"?><score-partwise/>',
        ("info",), "unknown encoding"),
    "repeat 100000 times": (
        "a.musicxml", _score('<barline location="right"><repeat direction="backward" '
                             'times="100000"/></barline>'), ("info",), "at most 100 times"),
    "MIDI tempo 1 us": ("a.mid", _midi(b"\x00\xff\x51\x03\x00\x00\x01"), ("info",),
                        "tempo must be"),
    "MusicXML tempo 1e9": ("a.musicxml", _score(attrs='<sound tempo="1e9"/>'), ("info",),
                           "tempo must be"),
    "start past 24 h": ("a.click", b"start: 23:59:59:00 @ 24\na: 100 4/4 120", ("beats",),
                        "past 24 h"),
    "hit with a superscript frame": ("a.csv", "timecode,label\n01:00:00:²,x\n".encode(),
                                     ("film", "fit", "--fps", "24"), "timecode"),
    "Pro Tools SAMPLE RATE 0": (
        "a.txt", b"SESSION NAME:\tx\nSAMPLE RATE:\t0\nBIT DEPTH:\t24-bit\n"
        b"SESSION START TIMECODE:\t01:00:00:00\nTIMECODE FORMAT:\t24 Frame\n\n"
        b"M A R K E R S  L I S T I N G\n#   \tLOCATION     \tTIME REFERENCE    \tUNITS    \t"
        b"NAME                             \tCOMMENTS\n1  \t1:00.000  \t48000            \t"
        b"Samples  \thit\t\n", ("film", "fit", "--fps", "24"), "SAMPLE RATE"),
    "200 KB CSV field": ("a.csv", b"seconds,label\n1," + b"x" * (200 << 10) + b"\n",
                         ("film", "fit", "--fps", "24"), "CSV"),
    "20,000 hits": ("a.csv", b"seconds,label\n" + b"".join(
        b"%d.5,h\n" % i for i in range(20_000)), ("film", "fit", "--fps", "24"), "10,000"),
    "line break in a quoted header": ("a.csv", b'" Vim syntax file\nLanguage: x",y\n1,2\n',
                                      ("film", "fit", "--fps", "24"), "header row"),
    "hit at 10^11 s": ("a.csv", b"seconds,label\n100000000000,x\n",
                       ("film", "fit", "--fps", "24"), "limit of 100 h"),
    "10 MB token": ("a.click", b"a: 4 4/4 " + b"9x" * 5_000_000, ("info",), "a.click"),
}


@pytest.mark.parametrize("case", list(HOSTILE_FILES))
def test_hostile_file_gets_one_line_naming_it(tmp_path: Path, case: str,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    name, content, command, says = HOSTILE_FILES[case]
    (tmp_path / name).write_bytes(content)
    film = command[0] == "film"
    args = (*command[:2], name, *command[2:]) if film else (*command, name)
    started = time.monotonic()
    proc = run_here(monkeypatch, capsys, tmp_path, *args)
    line = one_line_error(proc)
    assert f"error: {name}" in line, line  # the file is named first
    assert says in line, line
    assert len(proc.stderr) < 1500
    assert time.monotonic() - started < 15


def _metronome(per_minute: str, sound: str | None = None) -> bytes:
    """A score whose tempo mark sits on line 2 (the file says where it is)."""
    extra = f'<sound tempo="{sound}"/>' if sound is not None else ""
    return _score(attrs="\n<direction><direction-type><metronome><beat-unit>quarter"
                  f"</beat-unit><per-minute>{per_minute}</per-minute></metronome>"
                  f"</direction-type>{extra}</direction>")


def _column(content: bytes, mark: str) -> int:
    """The 1-based column of the last ``mark`` on its line (what the caret points at)."""
    at = content.rindex(mark.encode())
    return at - content.rfind(b"\n", 0, at)


_SOUND_1E9 = _score(attrs='<sound tempo="1e9"/>')
WRITTEN_TEMPOS = {
    # id: (file, content, what the line must quote, exactly as written)
    "metronome 0.0001": ("a.musicxml", _metronome("0.0001"),
                         f"a.musicxml:2:{_column(_metronome('0.0001'), '<per-minute>')}: "
                         "<per-minute>0.0001</per-minute>"),
    "metronome 0.000123456789": ("a.musicxml", _metronome("0.000123456789"),
                                 "<per-minute>0.000123456789</per-minute>"),
    "metronome 1e9": ("a.musicxml", _metronome("1e9"), "<per-minute>1e9</per-minute>"),
    "sound 0.00001": ("a.musicxml", _metronome("72", "0.00001"),
                      f"a.musicxml:2:{_column(_metronome('72', '0.00001'), 'tempo=')}: "
                      '<sound tempo="0.00001">'),
    "sound 1e9 alone": ("a.musicxml", _SOUND_1E9,
                        f"a.musicxml:1:{_column(_SOUND_1E9, 'tempo=')}: " '<sound tempo="1e9">'),
    "sound 1e999999999": ("a.musicxml", _metronome("72", "1e999999999"),
                          "'1e999999999' has a power of ten beyond"),
    "MIDI 1 us at tick 0": ("a.mid", _midi(b"\x00\xff\x51\x03\x00\x00\x01"),
                            "tick 0 sets 1 microseconds per quarter note (60,000,000 BPM)"),
    "MIDI 599 us at tick 960": (
        "a.mid", _midi(b"\x00\xff\x51\x03\x07\xa1\x20",
                       b"\x87\x40\xff\x51\x03\x00\x02\x57"),
        "tick 960 sets 599 microseconds per quarter note (about 100,167 BPM)"),
    "JSON 0.0001234567": (
        "a.json", b'{"format": "ictus-tempo-map/1", "sections": [{"bars": 1, '
        b'"meter": "4/4", "tempo": "0.0001234567"}]}', "got 0.0001234567"),
}


@pytest.mark.parametrize("case", list(WRITTEN_TEMPOS))
def test_tempo_errors_quote_the_value_as_written(tmp_path: Path, case: str,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Never a rounding (a metronome of 0.0001 once read "got 0"): the file, where, and
    the number as the file writes it."""
    name, content, says = WRITTEN_TEMPOS[case]
    (tmp_path / name).write_bytes(content)
    line = one_line_error(run_here(monkeypatch, capsys, tmp_path, "info", name))
    assert line.startswith(f"ictus: error: {name}"), line
    assert says in line, line


@settings(max_examples=25, deadline=None)
@given(number=st.decimals(min_value="0.0000000001", max_value="0.0009999999", places=10),
       kind=st.sampled_from(["sound", "metronome"]))
def test_any_too_slow_score_tempo_is_quoted_digit_for_digit(number: object, kind: str) -> None:
    import tempfile

    from ictus.errors import IctusError
    from ictus.formats import read_map

    text = format(number, "f").rstrip("0")
    score = _metronome("72", text) if kind == "sound" else _metronome(text)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.musicxml"
        path.write_bytes(score)
        with pytest.raises(IctusError) as caught:
            read_map(path)
    message = str(caught.value).splitlines()[0]
    assert message.startswith(f"{path}:2:"), message
    assert (f'tempo="{text}"' if kind == "sound" else f">{text}<") in message, message


@pytest.mark.parametrize("args", [
    ("info", "/dev/zero"), ("info", "--from", "json", "/dev/zero"),
    ("info", "--from", "midi", "/dev/zero"), ("info", "--from", "musicxml", "/dev/zero"),
    ("render", "song.click", "-o", "x.wav", "--scale", "1e999999999"),
    ("timecode", "--seconds", "1e999999999", "--fps", "24"),
    ("film", "click", "--bpm", "1e999999999", "--fps", "24"),
    ("film", "fit", "hits.csv", "--fps", "24", "--range", "1e999999999-1e999999999"),
], ids=lambda a: " ".join(a))
def test_endless_or_huge_input_is_refused_quickly(tmp_path: Path, args: tuple[str, ...]
                                                  ) -> None:
    (tmp_path / "song.click").write_text(SONG)
    (tmp_path / "hits.csv").write_text("seconds,label,weight\n1,a,1e999999999\n2,b,1\n")
    started = time.monotonic()
    proc = subprocess.run(["prlimit", "--as=2000000000", ICTUS, *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=30, check=False)
    one_line_error(proc)
    assert time.monotonic() - started < 15


def test_full_stdout_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "song.click").write_text(SONG)
    for command in ("beats", "info"):
        with open("/dev/full", "w") as full:
            proc = subprocess.run([ICTUS, command, "song.click"], stdout=full,
                                  stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                                  timeout=30, check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr == ("ictus: error: standard output: cannot write "
                               "(No space left on device)\n")


def test_more_than_32767_sections_and_beats(tmp_path: Path) -> None:
    """The grid's section and beat numbers are int32: 33,000 labels come back as written."""
    from ictus.formats import read_map
    from ictus.tempomap import build_grid

    (tmp_path / "many.click").write_text(
        "".join(f"s{i}: 1 1/4 600\n" for i in range(33_000)) + "big: 1 200/4 600\n")
    grid = build_grid(read_map(tmp_path / "many.click"))
    assert grid.section_names[grid.section[-1]] == "big"
    assert grid.section_names[grid.section[32_999]] == "s32999"
    assert int(grid.beat.max()) == 200


def test_a_bar_of_1024_pulses_numbers_every_beat() -> None:
    from ictus.formats.clickfile import parse_click
    from ictus.tempomap import build_grid

    grid = build_grid(parse_click("1 1024/4 6000\n", "x"))
    assert grid.beat.tolist() == list(range(1, 1025))


# ------------------------------------------------------ 10. linear in the number of sections


def _python_calls(work: Callable[[], object]) -> int:
    """How many Python function calls (generator steps included) ``work`` makes.

    Deterministic, unlike time on a shared machine: linear work makes 10x the calls
    for 10x the sections, quadratic work about 100x.
    """
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("kind", ["click", "json", "midi"])
def test_reading_and_building_is_linear_in_sections(tmp_path: Path, kind: str) -> None:
    from ictus.formats import read_map, write_map
    from ictus.formats.clickfile import parse_click
    from ictus.tempomap import build_grid

    def calls(n: int) -> int:
        click = "".join(f"s{i}: 1 {3 + i % 3}/8 600\n" for i in range(n))
        path = tmp_path / f"m{n}.{ {'click': 'click', 'json': 'json', 'midi': 'mid'}[kind]}"
        if kind == "click":
            path.write_text(click)
        else:
            write_map(parse_click(click, "x"), path)
        return _python_calls(lambda: build_grid(read_map(path)))

    ratio = calls(1500) / calls(150)
    assert ratio < 11, f"10x the sections made {ratio:.1f}x the calls"


# ------------------------------------------------------ 4. info builds no clicks


@settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(m=tempo_maps())
def test_summary_without_a_grid_agrees_with_the_grid(m: object) -> None:
    from ictus.tempomap import build_grid
    from ictus.tempomap.grid import summarize

    try:
        grid = build_grid(m)  # type: ignore[arg-type]
    except Exception as err:  # beyond the limits: the summary refuses the same way
        with pytest.raises(type(err)):
            summarize(m)  # type: ignore[arg-type]
        return
    s = summarize(m)  # type: ignore[arg-type]
    assert (s.clicks, s.sounding) == (len(grid), int(grid.audible().sum()))
    assert s.duration == pytest.approx(grid.duration, rel=1e-12, abs=1e-9)
    first_bar = grid.time[grid.bar >= 1]
    assert s.lead == pytest.approx(float(first_bar[0]) if len(first_bar) else 0.0, abs=1e-9)


def test_info_of_a_long_map_stays_small(tmp_path: Path) -> None:
    """9,999,996 clicks (just under the limit): `info` holds none (55 MB, not 900 MB)."""
    (tmp_path / "long.click").write_text("a: 2499999 4/4 2400\n")
    proc = subprocess.run(["prlimit", "--as=500000000", ICTUS, "info", "long.click"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "9999996 in all" in proc.stdout


# ------------------------------------------------------ bounded fuzz of the absurd

HUGE_NUMBERS = st.one_of(
    st.integers(0, 6000).map(lambda k: "9" * k or "0"),
    st.integers(0, 10**12).map(lambda e: f"1e{e}"),
    st.integers(0, 10**12).map(lambda e: f"1e-{e}"),
    st.integers(0, 10**30).map(str),
    st.sampled_from(["0", "1", "120", "0.001", "100000", "1/3", "q.=92", "²", "1_000"]),
)


def _absurd_line(bars: str, count: str, unit: str, tempo: str) -> str:
    return f"a: {bars} {count}/{unit} {tempo}\n"


@settings(max_examples=80, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(bars=HUGE_NUMBERS, count=HUGE_NUMBERS, unit=HUGE_NUMBERS, tempo=HUGE_NUMBERS)
def test_absurd_click_maps_are_read_or_refused_quickly(bars: str, count: str, unit: str,
                                                       tempo: str) -> None:
    """Within the deadline: a map within the limits, or an IctusError; nothing else."""
    from ictus.errors import IctusError
    from ictus.formats.clickfile import parse_click
    from ictus.tempomap.grid import check_size, summarize

    try:
        m = parse_click(_absurd_line(bars, count, unit, tempo), "x.click")
        check_size(m)
        summarize(m)
    except IctusError:
        pass


@settings(max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(bars=st.one_of(st.integers(-5, 10**25), HUGE_NUMBERS), tempo=HUGE_NUMBERS,
       meter=HUGE_NUMBERS, nest=st.integers(0, 3000))
def test_absurd_json_maps_are_read_or_refused_quickly(bars: object, tempo: str, meter: str,
                                                      nest: int) -> None:
    import json

    from ictus.errors import IctusError
    from ictus.formats.jsonmap import from_json
    from ictus.tempomap.grid import check_size

    section = {"bars": bars, "meter": f"{meter}/4", "tempo": tempo}
    text = json.dumps({"format": "ictus-tempo-map/1", "sections": [section]})
    text = "[" * nest + text + "]" * nest
    with contextlib.suppress(IctusError):
        check_size(from_json(text, "x.json"))


@settings(max_examples=60, deadline=2000)
@given(text=st.one_of(HUGE_NUMBERS, HUGE_NUMBERS.map(lambda t: t + "%"),
                      st.tuples(HUGE_NUMBERS, HUGE_NUMBERS).map("-".join)))
def test_absurd_command_line_numbers_are_refused_quickly(text: str) -> None:
    from ictus.cli.common import parse_scale
    from ictus.errors import IctusError
    from ictus.timebase import seconds_to_timecode
    from ictus.timebase.rates import parse_rate

    for parse in (parse_scale, lambda t: seconds_to_timecode(t, parse_rate("24"))):
        with contextlib.suppress(IctusError):
            parse(text)


# ------------------------------------------------------ a cheap corpus of hostile input


def _corpus(limit: int = 60) -> list[Path]:
    """Files of every kind from a Debian system's /usr/share (deterministic, bounded walk)."""
    found: list[Path] = []
    for top in ("doc", "zoneinfo", "mime", "vim", "man", "X11", "perl", "sounds", "misc"):
        base = Path("/usr/share") / top
        if not base.is_dir():
            continue
        taken = 0
        for folder, dirs, files in os.walk(base):
            dirs.sort()
            for name in sorted(files)[:3]:
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink() and path.stat().st_size < 4 << 20:
                    found.append(path)
                    taken += 1
            if taken >= limit // 6:
                break
    return found[:limit]


@pytest.mark.skipif(not Path("/usr/share").is_dir(), reason="needs /usr/share")
def test_files_from_usr_share_are_read_or_refused_in_one_line() -> None:
    import warnings

    from ictus.errors import IctusError
    from ictus.formats import read_map
    from ictus.tempomap.grid import summarize

    files = _corpus()
    assert len(files) >= 20
    for path in files:
        for fmt in ("click", "json", "midi", "musicxml", "klick"):
            started = time.monotonic()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    summarize(read_map(path, fmt))
            except IctusError as err:
                assert "\n" not in str(err), (path, fmt, str(err))
            assert time.monotonic() - started < 10, (path, fmt)


# Every command that reads a file, given a corpus file in the role it reads ({map},
# {hits}, {audio}, {show}); song.click is a good map beside it.
FILE_COMMANDS: dict[str, tuple[str, ...]] = {
    "info": ("info", "{map}"),
    "beats": ("beats", "{map}"),
    "render": ("render", "{map}", "-o", "out.wav", "-q"),
    "convert": ("convert", "{map}", "out.click"),
    "plot": ("plot", "{map}", "-o", "out.png"),
    "export-markers": ("export-markers", "{map}", "-o", "markers.csv"),
    "film cues": ("film", "cues", "{map}", "-o", "cues.json"),
    "film fit": ("film", "fit", "{hits}", "--fps", "24"),
    "film fit --map": ("film", "fit", "{hits}", "--fps", "24", "--map", "--range", "80-160"),
    "film sheet": ("film", "sheet", "song.click", "--hits", "{hits}", "-o", "sheet.csv"),
    "show check": ("show", "check", "{show}"),
    "analyze": ("analyze", "{audio}", "--map", "song.click"),
    "conform": ("conform", "{audio}", "-o", "conformed.click"),
}
# the extension a map-reading command sees rotates, so every reader gets corpus bytes
MAP_EXTENSIONS = (".click", ".json", ".mid", ".musicxml", ".mxl", ".klick")
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")
SECONDS_CAP, RSS_CAP_MB = 30, 1000


def _run_on_corpus_file(command: str, source: Path, k: int, folder: Path
                        ) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """``ictus COMMAND`` on a copy of ``source`` (a fresh folder): the result, seconds
    and peak RSS (MB, the child's own from wait4) under a 3 GB address-space cap."""
    import shutil

    folder.mkdir()
    (folder / "song.click").write_text(SONG)
    names = {"map": "in" + MAP_EXTENSIONS[k % len(MAP_EXTENSIONS)], "hits": "hits.csv",
             "audio": "take" + AUDIO_EXTENSIONS[k % len(AUDIO_EXTENSIONS)],
             "show": "show.toml"}
    args = [a.format(**names) for a in FILE_COMMANDS[command]]
    for role, name in names.items():
        if "{" + role + "}" in FILE_COMMANDS[command]:
            shutil.copyfile(source, folder / name)
    started = time.monotonic()
    proc = subprocess.Popen(["prlimit", "--as=3000000000", ICTUS, *args], cwd=folder,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=SECONDS_CAP + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    _, _, usage = os.wait4(proc.pid, 0) if proc.returncode is None else (0, 0, None)
    rss = usage.ru_maxrss / 1024 if usage is not None else _children_rss_mb()
    seconds = time.monotonic() - started
    result = subprocess.CompletedProcess(args, proc.returncode, out, err)
    return result, seconds, rss


def _children_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _works_or_one_line(command: str, source: Path, k: int, folder: Path) -> str | None:
    """None when the command worked or said one line in bounds; else what went wrong."""
    proc, seconds, rss = _run_on_corpus_file(command, source, k, folder)
    where = f"ictus {' '.join(proc.args)} on {source}"
    if seconds > SECONDS_CAP:
        return f"{where}: {seconds:.1f} s"
    if rss > RSS_CAP_MB:
        return f"{where}: {rss:.0f} MB"
    if proc.returncode == 0:
        return None
    if "Traceback" in proc.stderr:
        return f"{where}: traceback\n{proc.stderr[-2000:]}"
    lines = [line for line in proc.stderr.strip().splitlines()
             if not line.startswith("ictus: warning")]
    if not (lines and lines[0].startswith("ictus: error: ") and len(lines) in (1, 3)):
        return f"{where}: not one line:\n{proc.stderr[-2000:]}"
    return None


def _sweep(pairs: list[tuple[str, Path, int]], tmp_path: Path) -> list[str]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        found = pool.map(lambda job: _works_or_one_line(*job[1], tmp_path / f"r{job[0]}"),
                         enumerate(pairs))
        return [f for f in found if f is not None]


@pytest.mark.skipif(not Path("/usr/share").is_dir(), reason="needs /usr/share")
def test_every_file_command_on_usr_share_works_or_says_one_line(tmp_path: Path) -> None:
    """Done-when of issue 11, on a deterministic sample: three corpus files per command
    (39 different files in all), each run as a user runs it, under 30 s and 1 GB."""
    files = _corpus()
    pairs = [(command, files[(3 * k + m) % len(files)], 3 * k + m)
             for k, command in enumerate(FILE_COMMANDS) for m in range(3)]
    problems = _sweep(pairs, tmp_path)
    assert not problems, "\n".join(problems)


@pytest.mark.soak
@pytest.mark.timeout(3600)  # 1,560 runs, two at a time
@pytest.mark.skipif(not Path("/usr/share").is_dir(), reason="needs /usr/share")
def test_every_file_command_on_a_wide_usr_share_sweep(tmp_path: Path) -> None:
    """The same for every command on every file of a 120-file corpus (make soak)."""
    files = _corpus(120)
    pairs = [(command, path, k) for k, path in enumerate(files) for command in FILE_COMMANDS]
    problems = _sweep(pairs, tmp_path)
    assert not problems, "\n".join(problems)


def test_beats_are_written_in_blocks_exactly_as_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over two blocks of rows: JSON text is json.dumps(rows, indent=1)'s, CSV the same rows."""
    import csv
    import io
    import json

    from ictus.formats.clickfile import parse_click
    from ictus.formats.export import beatlist
    from ictus.formats.export.beatlist import beat_rows, write_beats
    from ictus.tempomap import build_grid

    block = 1000
    monkeypatch.setattr(beatlist, "_CHUNK", block)  # blocks of 1000 rows, not 65536
    m = parse_click("start: 01:00:00:00 @ 24\na: 600 4/4 240\nb: 10 3/4 96 sub=2\n", "x")
    grid = build_grid(m)
    assert len(grid) > 2 * block
    rows = beat_rows(grid, 48000)
    out = io.StringIO()
    write_beats(grid, out, fmt="json", tempo_map=m)
    parsed = json.loads(out.getvalue())
    timecodes = [r.pop("timecode") for r in parsed]
    assert parsed == rows and timecodes[0] == "01:00:00:00"
    assert out.getvalue() == json.dumps(
        [{**r, "timecode": t} for r, t in zip(rows, timecodes, strict=True)], indent=1) + "\n"
    out = io.StringIO()
    write_beats(grid, out, fmt="csv")
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert len(table) == 1 + len(rows)
    for i in (0, block - 1, block, len(rows) - 1):
        got = dict(zip(table[0], table[1 + i], strict=True))
        want = rows[i]
        assert int(got["index"]) == want["index"] == i
        assert int(got["sample"]) == want["sample"] and got["section"] == want["section"]
        assert float(got["time_s"]) == pytest.approx(want["time_s"], abs=5e-10)


# ------------------------------------------------------ 4. `beats` streams its clicks

# Maps beside the examples for the recorded outputs below: every ramp shape, steps,
# per-beat tempos, a start timecode (the tenth column), and a long map of many blocks.
STREAM_MAPS = {
    "hard.click": (
        "title: Hard\nstart: 01:00:00:00 @ 24\ncount-in: 3 beats\n"
        "a: 3 7/8 (2+2+3) e=312 X.x sub=pulse\nb: 4 4/4 96-104 ramp=time sub=3\n"
        "c: 4 4/4 104-72 ramp=beats\nd: 3 3/4 100-150 ramp=period mute\n"
        "e: 4 4/4 100 steps=2.5:130,5:140,9:90\nf: 2 5/8 133.33 sub=2 sub-vol=0.5\n"),
    "tempi.click": "count-in: 1 bar\nx: 2 3/4 100,101,102.5,103,104,90\ny: 2 4/4 120\n",
    "long.click": (
        "count-in: 1 bar\nr: 9000 4/4 60-200 ramp=beats sub=2\ns: 9000 4/4 200-60 ramp=time\n"
        "t: 8000 4/4 100 steps=2.5:130,5:140,9:90\n"),
}

# What `ictus beats` wrote before it streamed (commit e5f5fec built the whole grid):
# (map, options, sha256 of the output's first 16 hex digits, lines).
BEATS_BEFORE = [
    ('example.click', '', '1eb107300b62af4e', 166),
    ('example.click', '--format json', '2b3f1fb46d27b931', 1817),
    ('example.click', '-r 44100 --scale 0.9', 'bc9c7749addc5d6a', 166),
    ('example.click', '--count-in 2', 'b30f7fa62b3d07ad', 170),
    ('example.click', '--from-bar 3 --count-in 1', '23ea7ff6e3d96e48', 158),
    ('example.click', '--format json --scale 1.25 --from-bar 2', '427e9f763ff0cbac', 1773),
    ('example.click', '--from-label intro --count-in 1', '1eb107300b62af4e', 166),
    ('example.click', '--from-label chorus --count-in 1', '7d9c2d8cb7970dae', 102),
    ('song.click', '', '5ae3cd1a4dec94d9', 159),
    ('song.click', '--format json', '638f96df5bb05171', 1740),
    ('song.click', '-r 44100 --scale 0.9', '82142d25dd5f5ff8', 159),
    ('song.click', '--count-in 2', '736099502683d178', 163),
    ('song.click', '--from-bar 3 --count-in 1', '8d4935af7db6afb6', 151),
    ('song.click', '--format json --scale 1.25 --from-bar 2', 'a968fcc90c860e71', 1696),
    ('song.click', '--from-label verse --count-in 1', 'e04b0eacaf7ed990', 143),
    ('level.click', '', '72f6cb3e981403c6', 109),
    ('level.click', '--format json', 'bed70265d4717477', 1190),
    ('level.click', '-r 44100 --scale 0.9', '92ec11e05d4f1068', 109),
    ('level.click', '--count-in 2', '9cbc6acd5a88721c', 117),
    ('level.click', '--from-bar 3 --count-in 1', '1dd8cc69510af137', 105),
    ('level.click', '--format json --scale 1.25 --from-bar 2', '877c8c6bb1899eee', 1146),
    ('level.click', '--from-label combat --count-in 1', 'dbc8830d3b83cd08', 81),
    ('song.klick', '', 'd56adcf7b9dc0900', 115),
    ('song.klick', '--format json', '6347fef0de0a58fb', 1256),
    ('song.klick', '-r 44100 --scale 0.9', '470161112f4b906e', 115),
    ('song.klick', '--count-in 2', '14a979df54ae5c00', 123),
    ('song.klick', '--from-bar 3 --count-in 1', 'd5f79dd592416352', 111),
    ('song.klick', '--format json --scale 1.25 --from-bar 2', '2719704ee2bfb6a2', 1212),
    ('show.klick', '', '3fc21822744bc776', 261),
    ('show.klick', '--format json', '017bcaf37e68d5bb', 2862),
    ('show.klick', '-r 44100 --scale 0.9', '750b89507db34a61', 261),
    ('show.klick', '--count-in 2', 'eaa21312d3db5d3c', 269),
    ('show.klick', '--from-bar 3 --count-in 1', 'b2f56a95b1babca7', 257),
    ('show.klick', '--format json --scale 1.25 --from-bar 2', 'cf72a3fd5aecca36', 2818),
    ('session.mid', '', 'a468eee613fc76ec', 90),
    ('session.mid', '--format json', '1770cd220458458d', 981),
    ('session.mid', '-r 44100 --scale 0.9', 'ce1ad91eadf7d048', 90),
    ('session.mid', '--count-in 2', '1327c192451c0b25', 98),
    ('session.mid', '--from-bar 3 --count-in 1', '9a3c5313b46040ac', 86),
    ('session.mid', '--format json --scale 1.25 --from-bar 2', '12324257551322b8', 937),
    ('session.mid', '--from-label Verse --count-in 1', '68ffe177a5a93f05', 78),
    ('score.mxl', '', '9dc07a807dd26ba3', 42),
    ('score.mxl', '--format json', '0f163512fdeb570f', 453),
    ('score.mxl', '-r 44100 --scale 0.9', '4a149d1b3054c194', 42),
    ('score.mxl', '--count-in 2', '33761f1accd02bb2', 44),
    ('score.mxl', '--from-bar 3 --count-in 1', '4bb5e174c8fc860f', 41),
    ('score.mxl', '--format json --scale 1.25 --from-bar 2', '5543dd187af58340', 442),
    ('score.mxl', '--from-label B --count-in 1', '251aac941a146276', 11),
    ('hard.click', '', '82425465f6a3c9a3', 134),
    ('hard.click', '--format json', '806c02e53cbe8e7a', 1598),
    ('hard.click', '-r 44100 --scale 0.9', '522e9cc951187708', 134),
    ('hard.click', '--count-in 2', '3c7d2c279609fcfb', 137),
    ('hard.click', '--from-bar 3 --count-in 1', 'cc0f94f29a9b2a4e', 120),
    ('hard.click', '--format json --scale 1.25 --from-bar 2', 'a2c4d78816e6d891', 1514),
    ('hard.click', '--from-label c --count-in 1', 'dfd53cf4e37a97cd', 66),
    ('hard.click', '--from-label e --count-in 1', '6b9aebb1b8eab5d9', 41),
    ('tempi.click', '', '59db274efaf27a89', 18),
    ('tempi.click', '--format json', '541ca72836796396', 189),
    ('tempi.click', '-r 44100 --scale 0.9', '012ebc0a6bae167c', 18),
    ('tempi.click', '--count-in 2', '0857170bcd1b09e0', 21),
    ('tempi.click', '--from-bar 3 --count-in 1', '451c64ff5f2aebe2', 13),
    ('tempi.click', '--format json --scale 1.25 --from-bar 2', '8805fe57af7d95bd', 156),
    ('tempi.click', '--from-label y --count-in 1', '451c64ff5f2aebe2', 13),
    ('long.click', '', 'cad2578a9a9a747c', 140005),
    ('long.click', '--from-bar 9500 --count-in 1 --scale 0.9', '02182d700953ae88', 66009),
]


@pytest.mark.parametrize(("name", "options", "digest", "lines"), BEATS_BEFORE)
def test_streamed_beats_are_byte_identical_to_the_whole_grid_s(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        name: str, options: str, digest: str, lines: int) -> None:
    import hashlib

    examples = Path(__file__).resolve().parents[1] / "examples"
    path = examples / name if name not in STREAM_MAPS else tmp_path / name
    if name in STREAM_MAPS:
        path.write_text(STREAM_MAPS[name])
    proc = run_here(monkeypatch, capsys, tmp_path, "beats", str(path), *options.split())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == lines
    assert hashlib.sha256(proc.stdout.encode()).hexdigest()[:16] == digest


def _beat_text(blocks: object, fmt: str, m: object) -> str:
    import io

    from ictus.formats.export.beatlist import write_beats

    out = io.StringIO()
    write_beats(blocks, out, fmt=fmt, rate=44100, tempo_map=m)  # type: ignore[arg-type]
    return out.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=tempo_maps(), clicks=st.integers(1, 40), start=st.integers(0, 30),
       fmt=st.sampled_from(["csv", "json"]))
def test_any_block_size_writes_the_same_beats(m: object, clicks: int, start: int,
                                              fmt: str) -> None:
    """Blocks of any size (one click up) give the text the grid in one piece gives."""
    from ictus.errors import IctusError
    from ictus.tempomap import build_grid
    from ictus.tempomap.grid import grid_blocks

    bar = 1 + start % m.total_bars  # type: ignore[attr-defined]
    try:
        whole = build_grid(m, start_bar=bar)  # type: ignore[arg-type]
    except IctusError:
        return
    blocks = list(grid_blocks(m, start_bar=bar, clicks=clicks))  # type: ignore[arg-type]
    assert sum(len(b) for b in blocks) == len(whole)
    assert _beat_text(blocks, fmt, m) == _beat_text(whole, fmt, m)


def test_streamed_times_are_the_exact_fractions() -> None:
    """A count-in of 2 beats at 90 (2/3 s each), bar 2 of a 3/4 at 90, then 4/4 at 100
    stepping to 150 at its third beat: worked out by hand, one click per block."""
    import csv
    import io
    from fractions import Fraction as F

    from ictus.formats.clickfile import parse_click
    from ictus.tempomap.grid import grid_blocks

    m = parse_click("count-in: 2 beats\na: 2 3/4 90\nb: 1 4/4 100 steps=2:150\n", "x")
    want = [F(0), F(2, 3), F(4, 3), F(2), F(8, 3), F(10, 3), F(10, 3) + F(3, 5),
            F(10, 3) + F(6, 5), F(10, 3) + F(6, 5) + F(2, 5)]
    text = _beat_text(grid_blocks(m, start_bar=2, clicks=1), "csv", m)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["time_s"] for r in rows] == [f"{float(t):.9f}" for t in want]
    assert [int(r["sample"]) for r in rows] == [round(t * 44100) for t in want]
    assert [r["tempo_bpm"] for r in rows] == ["90"] * 5 + ["100", "100", "150", "150"]
    assert [r["index"] for r in rows] == [str(i) for i in range(9)]


def _peak_rss_mb(args: list[str], cwd: Path) -> float:
    """Peak RSS of one ``ictus`` child (its own, from wait4), output thrown away."""
    with open(os.devnull, "w") as sink:
        proc = subprocess.Popen([ICTUS, *args], stdout=sink, stderr=subprocess.PIPE, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
    assert status == 0, proc.stderr.read() if proc.stderr else status
    return usage.ru_maxrss / 1024


def test_beats_of_a_million_clicks_stays_small(tmp_path: Path) -> None:
    """1,000,000 clicks cost no more than one bar plus far less than the grid's own
    arrays (43 MB; writing it whole took 148 MB in all, 954 MB for 10 M clicks)."""
    (tmp_path / "one.click").write_text("a: 1 4/4 480 sub=4\n")
    (tmp_path / "long.click").write_text("a: 62500 4/4 480 sub=4\n")
    base = _peak_rss_mb(["beats", "one.click"], tmp_path)
    long = _peak_rss_mb(["beats", "long.click"], tmp_path)
    assert long - base < 30, (long, base)


# ------------------------------------------------------ 10. `film fit --map` prunes spans


def _drifting_hits(n: int, seed: int = 2024) -> list[object]:
    """``n`` hits on beats, 8ths and 16ths of 97.3 BPM, a little slower every 25 hits,
    rounded to 24 fps frames, weights 1-3 (the bench's and the recorded case's list)."""
    import random
    from fractions import Fraction

    from ictus.film.hits import Hit

    rng = random.Random(seed)
    bpm = Fraction("97.3")
    beats = sorted(rng.sample(range(1, 4 * n), n))
    return [Hit(Fraction(round(b * 60 / bpm * (1 + Fraction(i // 25, 40)) * 24), 24), f"h{i}",
                Fraction(rng.choice([1, 1, 2, 3])), rng.choice(["beat", "8th", "16th"]))
            for i, b in enumerate(beats)]


def test_fifty_hit_map_fit_is_the_one_recorded_before_pruning() -> None:
    """What `film fit --map` gave for this list before spans were skipped (e5f5fec)."""
    from ictus.film.fitmap import fit_map
    from ictus.formats import format_click
    from ictus.timebase import FPS_24

    fit = fit_map(_drifting_hits(50), rate=FPS_24, lo=40, hi=240)  # type: ignore[arg-type]
    assert [(str(s.bpm_start), str(s.bpm_end), s.beats, s.ramp, s.hit)
            for s in fit.segments] == [
        ("7200/37", "7200/37", 220, None, 24), ("28800/157", "28800/157", 40, None, 27),
        ("190", "190", 76, None, 38), ("11520/61", "11520/61", 8, None, 40),
        ("17280/91", "17280/91", 48, None, 49)]
    assert fit.statuses == ("hit",) * 50
    text = format_click(fit.tempo_map).splitlines()
    assert [line.split(" cue")[0] for line in text] == [
        "55 4/4 q=7200/37", "10 4/4 q=28800/157", "19 4/4 190", "2 4/4 7-5@24",
        "12 4/4 q=17280/91", "1 4/4 q=17280/91"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 60), seed=st.integers(0, 10**6),
       tempo_range=st.sampled_from([(40, 240), (80, 160), (60, 140)]),
       ramps=st.booleans())
def test_pruned_map_fit_equals_trying_every_span(n: int, seed: int,
                                                 tempo_range: tuple[int, int],
                                                 ramps: bool) -> None:
    """The search that skips spans finds exactly the fit trying every span found (the
    reference: the same search with every skip turned off, as it was before)."""
    from unittest import mock

    from ictus.errors import IctusError
    from ictus.film import fitmap
    from ictus.timebase import FPS_24

    hits = _drifting_hits(n, seed)
    lo, hi = tempo_range

    def fit() -> object:
        try:
            got = fitmap.fit_map(hits, rate=FPS_24, lo=lo, hi=hi,  # type: ignore[arg-type]
                                 ramps_allowed=ramps)
        except IctusError as err:
            return str(err)
        return (got.segments, got.errors_frames, got.tempo_map)

    pruned = fit()
    # every skip rests on one test: turned off, the search tries every span
    with mock.patch.object(fitmap, "_surely_above", lambda *a: False):
        every = fit()
    assert pruned == every


def _steady_hits(beats: list[int], bpm: str, per_beat: int,
                 off_grid: list[tuple[int, int]]) -> list[object]:
    """Hits exactly on a steady grid: ``beats`` counted in 1/``per_beat`` beats of
    ``bpm`` (exact times, not rounded to frames), plus a few off it (a grid point and
    a shift in 48ths of a second)."""
    from fractions import Fraction

    from ictus.film.hits import Hit

    step = 60 / Fraction(bpm) / per_beat
    grid = {"1": "beat", "2": "8th", "4": "16th"}[str(per_beat)]
    hits = [Hit(b * step, f"h{b}", Fraction(1), grid) for b in beats]
    hits += [Hit(b * step + Fraction(shift, 48), f"x{b}") for b, shift in off_grid
             if b * step + Fraction(shift, 48) > 0]
    return hits


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(beats=st.lists(st.integers(1, 240), min_size=2, max_size=70, unique=True),
       bpm=st.sampled_from(["120", "97.5", "144", "60"]),
       per_beat=st.sampled_from([1, 2]),
       off_grid=st.lists(st.tuples(st.integers(1, 160), st.integers(-20, 20)), max_size=3),
       ramps=st.booleans(), probes_first=st.booleans())
def test_map_fit_of_hits_on_a_steady_grid_equals_trying_every_span(
        beats: list[int], bpm: str, per_beat: int, off_grid: list[tuple[int, int]],
        ramps: bool, probes_first: bool) -> None:
    """Hits on one steady grid (every span lands, so only the same-tempo dominance
    skips anything), with and without a few off it: the fit is the one trying every
    span finds, also when every span's beat counts are priced on probe hits first
    (as only long spans' are)."""
    from unittest import mock

    from ictus.errors import IctusError
    from ictus.film import fitmap
    from ictus.timebase import FPS_24

    hits = _steady_hits(sorted(beats), bpm, per_beat, off_grid)

    def fit() -> object:
        try:
            got = fitmap.fit_map(hits, rate=FPS_24, lo=40, hi=240,  # type: ignore[arg-type]
                                 ramps_allowed=ramps)
        except IctusError as err:
            return str(err)
        return (got.segments, got.errors_frames, got.tempo_map)

    with mock.patch.object(fitmap, "_PRICED_WHOLE", 0 if probes_first else 200_000):
        pruned = fit()
    with mock.patch.object(fitmap, "_surely_above", lambda *a: False):
        every = fit()
    assert pruned == every


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), steady=st.booleans(), n=st.integers(10, 120),
       ends=st.tuples(st.floats(0, 1), st.floats(0, 1)), base=st.sampled_from([0.0, 0.2]),
       limit=st.sampled_from([math.inf, 1.5, 1003.0]))
def test_beat_counts_priced_on_probes_first_are_the_cheapest(
        seed: int, steady: bool, n: int, ends: tuple[float, float], base: float,
        limit: float) -> None:
    """A long span's three cheapest beat counts, found by pricing probe hits first,
    are those pricing every count on every hit finds (same order, same costs), less
    those that surely cost more than the limit."""
    import random
    from fractions import Fraction
    from unittest import mock

    import numpy as np

    from ictus.film import fitmap
    from ictus.timebase import FPS_24

    rng = random.Random(seed)
    hits = (_steady_hits(sorted(rng.sample(range(1, 4 * n), n)), "120", 2,
                         [(rng.randint(1, 4 * n), rng.randint(-9, 9)) for _ in range(2)])
            if steady else _drifting_hits(n, seed))
    search = fitmap._Search.of(fitmap._sorted_hits(hits), FPS_24, 40.0, 240.0, 1.0, 4,
                               "beats")
    knots = len(search.knot_times)
    i, j = sorted(int(e * (knots - 1)) for e in ends)
    if j == i:
        return
    span = search.span(i, j)
    first = max(1, math.ceil(span.duration * 40 / 60 - 1e-9))
    beats = np.arange(first, math.floor(span.duration * 240 / 60 + 1e-9) + 1)
    if not len(beats):
        return
    with mock.patch.object(fitmap, "_PRICED_WHOLE", 0):
        got = search._cheapest_counts(span, beats, Fraction(97), base, limit)
    costs = search._step_costs(
        fitmap._constant_costs(span.rel, span.d, span.w, span.duration, beats, search.fps),
        span, beats, Fraction(97))
    order = np.argsort(costs, kind="stable")[:3].tolist()
    assert got == [(k, float(costs[k])) for k in order if base + costs[k] <= limit]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(40, 100), gaps=st.integers(1, 7),
       per_beat=st.sampled_from([1, 2]), off=st.integers(0, 3))
def test_starts_left_untried_for_dominance_could_not_be_kept(
        seed: int, n: int, gaps: int, per_beat: int, off: int) -> None:
    """Whenever the search stops going back into a knot because every earlier start
    is dominated, each step from every such start (priced in full) costs surely more
    than the worst arrival kept or than one already found at its tempo."""
    import random
    from unittest import mock

    from ictus.film import fitmap
    from ictus.timebase import FPS_24

    rng = random.Random(seed)
    beats, at = [], 0
    for _ in range(n):
        at += rng.randint(1, gaps)
        beats.append(at)
    hits = _steady_hits(beats, "120", per_beat,
                        [(rng.randint(1, at), rng.randint(-9, 9)) for _ in range(off)])
    seen: dict[str, object] = {}
    arrive, dominated = fitmap._Search._arrive, fitmap._Search._rest_dominated
    checked = []

    def keep_states(self: object, j: int, states: object, *args: object) -> object:
        seen["states"] = states
        return arrive(self, j, states, *args)  # type: ignore[arg-type]

    def check(self: fitmap._Search, i: int, j: int, window: object, beam: object) -> bool:
        verdict = dominated(self, i, j, window, beam)  # type: ignore[arg-type]
        if verdict:
            states = seen["states"]
            worst = beam.worst()  # type: ignore[attr-defined]
            for start in range(1, i):
                if not states[start]:  # type: ignore[index]
                    continue
                for c in self.steps(self.span(start, j), states[start], last=False):  # type: ignore[index]
                    same = beam.best.get(c.bpm, math.inf)  # type: ignore[attr-defined]
                    assert c.cost > worst or c.cost > same, (start, j, c)
            checked.append(j)
        return verdict

    with mock.patch.object(fitmap._Search, "_arrive", keep_states), \
            mock.patch.object(fitmap._Search, "_rest_dominated", check):
        fitmap.fit_map(hits, rate=FPS_24, lo=40, hi=240)  # type: ignore[arg-type]


def test_map_fit_of_a_steady_grid_is_one_tempo() -> None:
    """Eighty hits on beats of 120 BPM (gaps of one to five beats) fit as one
    segment at exactly 120 BPM, every hit on its beat, in well under the seconds
    trying every span took (100 such hits: 10.8 s)."""
    import random
    from fractions import Fraction

    from ictus.film.fitmap import fit_map
    from ictus.timebase import FPS_24

    rng = random.Random(7)
    beats, at = [], 0
    for _ in range(80):
        at += rng.randint(1, 5)
        beats.append(at)
    start = time.perf_counter()
    fit = fit_map(_steady_hits(beats, "120", 1, []), rate=FPS_24, lo=40,  # type: ignore[arg-type]
                  hi=240)
    seconds = time.perf_counter() - start
    assert [(s.bpm_start, s.beats, s.ramp) for s in fit.segments] == [
        (Fraction(120), beats[-1], None)]
    assert fit.errors_frames == (0.0,) * 80
    assert seconds < 5, seconds


@pytest.mark.soak
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("n", [150, 300])
def test_pruned_map_fit_of_a_long_cue_equals_trying_every_span(n: int) -> None:
    """A long cue whose tempo steps every 25 hits, both ways (make soak: trying every
    span of 300 hits takes minutes)."""
    import random
    from fractions import Fraction
    from unittest import mock

    from ictus.film import fitmap
    from ictus.film.hits import Hit
    from ictus.timebase import FPS_24

    rng = random.Random(n)
    at, prev, hits = Fraction(0), 0, []
    for i, b in enumerate(sorted(rng.sample(range(1, 4 * n), n))):
        at += (b - prev) * 60 / Fraction("97.3") * (1 + Fraction(i // 25 % 8, 40))
        prev = b
        hits.append(Hit(Fraction(round(at * 24), 24), f"h{i}", Fraction(rng.choice([1, 2, 3])),
                        rng.choice(["beat", "8th", "16th"])))
    pruned = fitmap.fit_map(hits, rate=FPS_24, lo=40, hi=240)
    with mock.patch.object(fitmap, "_surely_above", lambda *a: False):
        every = fitmap.fit_map(hits, rate=FPS_24, lo=40, hi=240)
    assert (pruned.segments, pruned.errors_frames) == (every.segments, every.errors_frames)
    assert pruned.tempo_map == every.tempo_map
