"""Driving real Firefox (Debian's `firefox-esr`) over WebDriver BiDi, which Firefox speaks itself.

Playwright's Firefox needs Playwright's own patched build, which cannot be
downloaded here, and its BiDi mode asks Firefox ESR for commands ESR does not
have yet; geckodriver is not packaged by Debian. Firefox itself serves
WebDriver BiDi (`--remote-debugging-port`), so the tests speak it directly: a
session, one tab, navigation, script evaluation and real pointer clicks.
Typing sets a field's value and fires its `input` event, as the web client
listens for; waits are promises that resolve in the page when the condition
holds, never sleeps.

The fake camera and microphone come from Firefox's preferences
(`media.navigator.streams.fake`), permission prompts are turned off. Headless
Firefox has no fake window to share, so screen sharing is not driven here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import websockets

__all__ = ["FIREFOX_HINT", "Firefox", "FirefoxError", "firefox_executable"]

FIREFOX_HINT = (
    "run the README's test command (`make test`): it installs Debian's `firefox-esr` "
    "package (or set MEETWARDEN_FIREFOX to a Firefox binary)"
)
CANDIDATES = ("/usr/bin/firefox-esr", "/usr/bin/firefox")
PREFS = {
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
    # The server and the browser share loopback, which Firefox leaves out of ICE by default;
    # host candidates are given as addresses, not mDNS names the server would have to resolve.
    "media.peerconnection.ice.loopback": True,
    "media.peerconnection.ice.obfuscate_host_addresses": False,
    "media.autoplay.default": 0,
    "media.autoplay.blocking_policy": 0,
    "browser.shell.checkDefaultBrowser": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "browser.startup.homepage_override.mstone": "ignore",
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "remote.prefs.recommended": True,
}
LISTENING = re.compile(rb"WebDriver BiDi listening on (ws://\S+)")
# Resolves once `predicate` (a function body's expression) is truthy, or rejects at `within` ms.
WAIT_FOR = """(predicate, within) => new Promise((resolve, reject) => {
  const check = new Function(`return (${predicate});`);
  const started = performance.now();
  const poll = () => {
    let value;
    try { value = check(); } catch (error) { value = undefined; }
    if (value) { resolve(true); return; }
    if (performance.now() - started > within) {
      reject(new Error(`timed out after ${within} ms waiting for ${predicate}`));
      return;
    }
    setTimeout(poll, 50);
  };
  poll();
})"""


class FirefoxError(RuntimeError):
    """A BiDi command failed, or the page threw: the message says which and why."""


def firefox_executable() -> str | None:
    configured = os.environ.get("MEETWARDEN_FIREFOX")
    if configured:
        return configured
    for candidate in CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("firefox")


class Firefox:
    """One headless Firefox with its own profile and one tab; `async with` starts and stops it."""

    def __init__(self, executable: str, *, timeout: float = 30.0) -> None:
        self.executable = executable
        self.timeout = timeout
        self.version = ""
        self._profile = Path(tempfile.mkdtemp(prefix="meetwarden-firefox-"))
        self._process: asyncio.subprocess.Process | None = None
        self._socket: Any = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._stderr: list[bytes] = []
        self._drainer: asyncio.Task[None] | None = None
        self.context = ""
        self.errors: list[str] = []
        self.requests: list[str] = []

    async def __aenter__(self) -> Firefox:
        prefs = "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items())
        (self._profile / "user.js").write_text(prefs)
        self._process = await asyncio.create_subprocess_exec(
            self.executable,
            "--headless",
            "--no-remote",
            "--remote-debugging-port=0",
            "--profile",
            str(self._profile),
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            url = await asyncio.wait_for(self._listening_url(), self.timeout)
            self._socket = await websockets.connect(f"{url}/session", max_size=None)
            self._reader = asyncio.create_task(self._read())
            session = await self.send("session.new", {"capabilities": {}})
            self.version = str(session["capabilities"].get("browserVersion", ""))
            tree = await self.send("browsingContext.getTree", {})
            self.context = tree["contexts"][0]["context"]
            await self.send(
                "session.subscribe",
                {"events": ["log.entryAdded", "network.beforeRequestSent"]},
            )
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _listening_url(self) -> str:
        assert self._process is not None
        assert self._process.stderr is not None
        while True:
            line = await self._process.stderr.readline()
            if not line:
                output = b"".join(self._stderr).decode(errors="replace")[-2000:]
                raise FirefoxError(f"Firefox exited before serving WebDriver BiDi:\n{output}")
            self._stderr.append(line)
            found = LISTENING.search(line)
            if found:
                # Keep draining stderr so that Firefox never blocks on a full pipe.
                self._drainer = asyncio.create_task(self._drain(self._process.stderr))
                return found.group(1).decode()

    @staticmethod
    async def _drain(stream: asyncio.StreamReader) -> None:
        while await stream.read(65536):
            pass

    async def _read(self) -> None:
        async for raw in self._socket:
            message = json.loads(raw)
            if message.get("type") == "event":
                self._event(message["method"], message["params"])
                continue
            waiter = self._pending.pop(message.get("id", -1), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)
        for waiter in self._pending.values():
            if not waiter.done():
                waiter.set_exception(FirefoxError("the connection to Firefox closed"))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "log.entryAdded" and params.get("type") == "javascript":
            if params.get("level") == "error":
                self.errors.append(str(params.get("text")))
        elif method == "network.beforeRequestSent" and params.get("context") == self.context:
            self.requests.append(str(params["request"]["url"]))

    def foreign_requests(self, server_url: str) -> list[str]:
        """Every request the page made anywhere but this server (there must be none)."""
        ws_url = server_url.replace("http://", "ws://", 1)
        allowed = (server_url, ws_url, "blob:", "data:", "about:")
        return [url for url in self.requests if not url.startswith(allowed)]

    async def send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        command_id = next(self._ids)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = waiter
        await self._socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        reply = await asyncio.wait_for(waiter, self.timeout)
        if reply.get("type") == "error":
            raise FirefoxError(f"{method}: {reply.get('error')}: {reply.get('message')}")
        result: dict[str, Any] = reply["result"]
        return result

    async def _stop(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.send("browser.close", {}), 5)
            with contextlib.suppress(Exception):
                await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), 10)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        if self._drainer is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._drainer, 5)
        shutil.rmtree(self._profile, ignore_errors=True)

    # What a test does with the page.

    async def goto(self, url: str) -> None:
        await self.send(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}
        )

    async def call(self, function: str, *args: Any, timeout: float | None = None) -> Any:
        """Calls a JavaScript function in the page with JSON arguments; returns its JSON result."""
        # The page gets each argument as a JSON string and parses it before the call.
        declaration = (
            "async (...raw) => { const args = raw.map((a) => JSON.parse(a));"
            f" const value = await ({function})(...args);"
            " return JSON.stringify(value === undefined ? null : value); }"
        )
        params = {
            "functionDeclaration": declaration,
            "arguments": [{"type": "string", "value": json.dumps(a)} for a in args],
            "target": {"context": self.context},
            "awaitPromise": True,
        }
        reply = await asyncio.wait_for(
            self.send("script.callFunction", params), timeout or self.timeout
        )
        if reply.get("type") == "exception":
            details = reply.get("exceptionDetails", {})
            raise FirefoxError(f"the page threw: {details.get('text')}")
        return json.loads(reply["result"]["value"])

    async def wait_for(self, predicate: str, within_ms: int = 15_000) -> None:
        """Waits until the JavaScript expression `predicate` is truthy in the page."""
        await self.call(WAIT_FOR, predicate, within_ms, timeout=within_ms / 1000 + 5)

    async def fill(self, selector: str, text: str) -> None:
        await self.call(
            """(selector, text) => {
                 const field = document.querySelector(selector);
                 if (!field) throw new Error(`no ${selector} on the page`);
                 field.focus(); field.value = text;
                 field.dispatchEvent(new Event('input', {bubbles: true}));
                 field.dispatchEvent(new Event('change', {bubbles: true}));
               }""",
            selector,
            text,
        )

    async def click(self, selector: str) -> None:
        """A real pointer click in the middle of the element (a user gesture, as a person's),
        once it can take one: shown and enabled (as Playwright's actionability checks; a
        page's buttons stay disabled until its script runs)."""
        where = json.dumps(selector)
        await self.wait_for(
            f"document.querySelector({where})?.checkVisibility()"
            f" && !document.querySelector({where}).disabled"
        )
        found = await self.send(
            "script.evaluate",
            {
                "expression": f"document.querySelector({json.dumps(selector)})",
                "target": {"context": self.context},
                "awaitPromise": False,
            },
        )
        shared_id = found.get("result", {}).get("sharedId")
        if shared_id is None:
            raise FirefoxError(f"no {selector} on the page")
        origin = {"type": "element", "element": {"sharedId": shared_id}}
        pointer = [
            {"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]
        await self.send(
            "input.performActions",
            {
                "context": self.context,
                "actions": [{"type": "pointer", "id": "mouse", "actions": pointer}],
            },
        )

    async def text(self, selector: str) -> str:
        value = await self.call(
            "(selector) => document.querySelector(selector)?.textContent ?? null", selector
        )
        if value is None:
            raise FirefoxError(f"no {selector} on the page")
        return str(value)
