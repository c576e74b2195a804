"""A real headless Chromium, driven over the DevTools protocol with the standard library only.

Debian's ``chromium`` package (``.ci/run`` installs it when missing) is started with a new
profile and ``--remote-debugging-port=0``; it writes the port it chose to
``DevToolsActivePort`` in the profile. A minimal WebSocket client (RFC 6455: handshake,
masked client frames, text frames) then speaks CDP to the page: navigate, evaluate, and
press the mouse where an element is, as a person would.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "chromium"
# Headless, as root, and quiet on a machine with no network: every test that starts it uses these.
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FLAGS = [*HEADLESS, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1"]


class WebSocket:
    def __init__(self, host: str, port: int, path: str) -> None:
        self.sock = socket.create_connection((host, port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            response += chunk
        head, self.buffer = response.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"no WebSocket upgrade: {head[:200]!r}")

    def send(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack(">H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack(">Q", self._read(8))
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode in (0x9, 0xA):
                continue  # ping / pong: not part of a message
            message += payload
            if first & 0x80:
                return message.decode()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class Page:
    """One browser tab, spoken to over CDP."""

    def __init__(self, socket_: WebSocket) -> None:
        self.ws = socket_
        self.next_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Evaluate until the value is truthy (the page loaded, the answer arrived)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"still falsy after {timeout} s: {expression}")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'")

    def click(self, selector: str) -> None:
        """Press and release the left mouse button in the middle of the element."""
        box = self.wait_for(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
            " const r = e.getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1
            )

    # ---- as a keyboard user, on a phone, in another language ----------------------------------

    def press(self, key: str) -> None:
        """Press and release one key (``Tab``, ``Enter``, ``Space``) on whatever has the focus."""
        code = {"Tab": 9, "Enter": 13, "Space": 32}[key]
        text = {"Enter": "\r", "Space": " "}.get(key)
        down: dict[str, Any] = {
            "key": " " if key == "Space" else key,
            "code": key,
            "windowsVirtualKeyCode": code,
        }
        if text is not None:
            down["text"] = text
        self.call("Input.dispatchKeyEvent", type="keyDown", **down)
        self.call(
            "Input.dispatchKeyEvent", type="keyUp", key=down["key"], code=key, windowsVirtualKeyCode=code
        )

    def tab_to(self, selector: str, most: int = 60) -> None:
        """Press Tab until the element has the focus, as a person without a mouse would."""
        wanted = f"document.activeElement && document.activeElement.matches({json.dumps(selector)})"
        for _ in range(most):
            self.press("Tab")
            if self.evaluate(wanted):
                return
        raise AssertionError(f"{most} presses of Tab never reached {selector}")

    def ask_for_language(self, accept_language: str) -> None:
        """Send ``Accept-Language`` as a browser set to that language does."""
        self.call("Network.enable")
        self.call("Network.setExtraHTTPHeaders", headers={"Accept-Language": accept_language})

    def phone(self, width: int = 360, height: int = 740) -> None:
        """A phone's screen: its width in CSS pixels, touch, a high-density display."""
        self.call(
            "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=3, mobile=True
        )


@contextlib.contextmanager
def chromium_page() -> Iterator[Page]:
    with tempfile.TemporaryDirectory() as profile:
        process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helpers share its process group: see _stop
        )
        ws: WebSocket | None = None
        try:
            port = _devtools_port(Path(profile) / "DevToolsActivePort", process)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/json/list")
            targets = json.loads(connection.getresponse().read())
            (target,) = [t for t in targets if t["type"] == "page"][:1]
            path = target["webSocketDebuggerUrl"].split(str(port), 1)[1]
            ws = WebSocket("127.0.0.1", port, path)
            yield Page(ws)
        finally:
            if ws is not None:
                ws.close()
            _stop(process)


def _stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Stop the browser and every helper it started, before its profile is removed.

    Chromium's helpers (the network service, the zygotes) outlive the browser process for a
    moment and still write into the profile: removing it then fails with "Directory not
    empty" (seen about once in 30 runs on an idle machine). The browser leads a process group
    of its own, so the whole group is ended, and waited for, by that id.
    """
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while _running_in_group(process.pid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"chromium's helpers still run {timeout} s after SIGKILL")
        time.sleep(0.05)


def _running_in_group(group: int) -> bool:
    """Whether a process of this group still runs (zombies no longer write anything)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended while being read
        state, group_id = fields[0], int(fields[2])
        if group_id == group and state not in ("Z", "X"):
            return True
    return False


def _devtools_port(path: Path, process: subprocess.Popen[bytes], timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        if path.exists():
            lines = path.read_text().split()
            if lines:
                return int(lines[0])
        time.sleep(0.1)
    raise TimeoutError("chromium wrote no DevToolsActivePort")
