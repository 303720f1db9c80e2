"""The published site in a real browser: headless Chromium over the DevTools protocol.

The pipeline runs once, end to end, on a copy of the recorded Hugging Face day in
which some titles and abstracts carry script and ``javascript:`` payloads. The site
it publishes is served by ``paperdigest serve``'s server on 127.0.0.1 and opened in
Chromium, driven through ``--remote-debugging-pipe`` (no websocket, no extra
package). Screenshots land in ``test-artifacts/``.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from paperdigest.local.serve import make_server, site_url
from paperdigest.render.markdown import CHART_ALT, TITLE
from paperdigest.taxonomy import load_taxonomy

from .conftest import FIXTURES, REPO

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
HANGUL_FONT = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
# The fonts only make the screenshots readable: a reader's own device brings its fonts.
PACKAGES = {"chromium": CHROMIUM, "fonts-noto-color-emoji": EMOJI_FONT, "fonts-nanum": HANGUL_FONT}
ARTIFACTS = REPO / "test-artifacts"
DATE = "2024-09-24"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Each would set a global or the title if it ever ran; the page must show them as text.
PAYLOADS = (
    '<script>window.__pwned="script";document.title="pwned"</script>',
    "<img src=x onerror=\"window.__pwned='img';document.title='pwned'\">",
    '[click](javascript:window.__pwned="link")',
    "<svg onload=\"window.__pwned='svg'\"></svg>",
    "<a href=\"javascript:window.__pwned='a'\">x</a> data:text/html,<b>x</b>",
)
PROBE = """
(async () => {
  const images = [...document.images];
  await Promise.all(images.map((img) => img.complete ? null : img.decode().catch(() => null)));
  const all = [...document.querySelectorAll("*")];
  return {
    title: document.title,
    lang: document.documentElement.lang,
    h1: [...document.querySelectorAll("h1")].map((e) => e.textContent),
    h2: [...document.querySelectorAll("h2")].map((e) => e.textContent),
    images: images.map((i) => ({src: i.getAttribute("src"), alt: i.alt, width: i.naturalWidth})),
    urls: all.flatMap((e) => ["href", "src", "action", "formaction"]
      .filter((name) => e.hasAttribute(name)).map((name) => e.getAttribute(name))),
    scripts: document.scripts.length,
    handlers: all.flatMap((e) => [...e.attributes].map((a) => a.name))
      .filter((name) => name.startsWith("on")),
    pwned: window.__pwned === undefined ? null : String(window.__pwned),
    text: document.body.innerText,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  };
})()
"""


def ensure_chromium() -> None:
    """Install Chromium, emoji and Hangul fonts with apt-get when missing; fail with the reason."""
    missing = [name for name, path in PACKAGES.items() if not path.exists()]
    if not missing:
        return
    if os.geteuid() != 0:
        pytest.fail(f"{', '.join(missing)} missing and only root can apt-get install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
    ):
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} is missing")


class DevTools:
    """A small Chrome DevTools Protocol client over ``--remote-debugging-pipe``.

    Chromium reads commands from its fd 3 and writes replies and events to fd 4,
    each message JSON ended by a NUL byte.
    """

    def __init__(self, profile: Path, log: IO[bytes]) -> None:
        to_chrome, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome = os.pipe()
        # Move the child's ends above 10 so bash's 3<& and 4>& cannot clobber them (dash
        # takes one-digit descriptors only, hence bash).
        child_in = fcntl.fcntl(to_chrome, fcntl.F_DUPFD, 10)
        child_out = fcntl.fcntl(from_chrome, fcntl.F_DUPFD, 10)
        os.close(to_chrome)
        os.close(from_chrome)
        script = f'exec "$0" "$@" 3<&{child_in} 4>&{child_out} {child_in}<&- {child_out}>&-'
        self.process = subprocess.Popen(
            [
                "/bin/bash",
                "-c",
                script,
                str(CHROMIUM),
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(child_in, child_out),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        os.close(child_in)
        os.close(child_out)
        self._writer = to_chrome_w
        self._reader = from_chrome_r
        self._buffer = b""
        self._last_id = 0
        self._events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str = ""
    ) -> dict[str, Any]:
        """Send one command and return its result; raise ``AssertionError`` on an error."""
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode("utf-8") + b"\0"
        while data:
            data = data[os.write(self._writer, data) :]
        deadline = time.monotonic() + 30
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._last_id:
                if "error" in reply:
                    raise AssertionError(f"{method} failed: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result
            self._events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 30) -> dict[str, Any]:
        """Return the first event ``method`` of ``session``, waiting for it if needed."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self._events:
                if event.get("method") == method and event.get("sessionId") == session:
                    self._events.remove(event)
                    return event
            self._events.append(self._receive(deadline))

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._reader], [], [], remaining)
            if ready:
                chunk = os.read(self._reader, 1 << 20)
                if not chunk:
                    raise AssertionError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def open(self, url: str, width: int = 1000, height: int = 1400, mobile: bool = False) -> str:
        """Open ``url`` in a new tab of the given size; return the tab's session once loaded."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        session: str = attached["sessionId"]
        self.send("Page.enable", session=session)
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
        self.send("Emulation.setDeviceMetricsOverride", metrics, session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)
        return session

    def probe(self, session: str) -> dict[str, Any]:
        """Return what the page shows, as the probe script measures it."""
        params = {"expression": PROBE, "returnByValue": True, "awaitPromise": True}
        reply = self.send("Runtime.evaluate", params, session=session)
        assert "exceptionDetails" not in reply, reply
        value: dict[str, Any] = reply["result"]["value"]
        return value

    def screenshot(self, session: str, path: Path) -> None:
        params = {"format": "png", "captureBeyondViewport": True}
        data = self.send("Page.captureScreenshot", params, session=session)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (AssertionError, TimeoutError, OSError):
            self.process.kill()
        finally:
            self.process.wait(timeout=10)
            os.close(self._writer)
            os.close(self._reader)


@pytest.fixture
def hostile_input(tmp_path: Path) -> Path:
    """A copy of the recorded day whose first papers carry payloads in title and abstract."""
    data = json.loads((FIXTURES / "hf-2024-09-24.json").read_text(encoding="utf-8"))
    for paper, payload in zip(data["papers"], PAYLOADS, strict=False):
        paper["title"] = f"{payload} {paper['title']}"
        paper["abstract"] = f"{payload} javascript:window.__pwned=1. {paper['abstract']}"
    path = tmp_path / "inputs" / "hf-hostile.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    ensure_chromium()
    with (tmp_path / "chromium.log").open("wb") as log:
        devtools = DevTools(tmp_path / "profile", log)
        try:
            yield devtools
        finally:
            devtools.close()


@pytest.fixture
def serve_site() -> Iterator[Any]:
    servers = []

    def start(out: Path) -> str:
        server = make_server(out, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return site_url(server)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def assert_inert(page: dict[str, Any]) -> None:
    """No payload ran, and nothing that could run one is in the page."""
    assert page["pwned"] is None
    assert "pwned" not in page["title"]
    assert page["scripts"] == 0
    assert page["handlers"] == []
    schemes = [u for u in page["urls"] if u.strip().lower().startswith(("javascript:", "data:"))]
    assert schemes == []


def test_published_site_shows_the_digest_and_runs_no_payload(
    run_cli: Any, hostile_input: Path, browser: DevTools, serve_site: Any
) -> None:
    # Given the day's digest published by the local pipeline from payload-laden input
    result = run_cli("--input", str(hostile_input), "--fresh")
    assert result.code == 0, result.stderr
    root = serve_site(result.out)

    # When Chromium opens the day's page
    session = browser.open(f"{root}digests/{DATE}/index.html")
    page = browser.probe(session)
    browser.screenshot(session, ARTIFACTS / "site-digest.png")

    # Then it shows the title, the category sections and the loaded chart
    assert page["title"] == f"Daily AI Insights · {DATE}" and page["lang"] == "ko"
    assert page["h1"] == [TITLE.removeprefix("# ")]
    known = {f"{c.emoji} {c.name}" for c in load_taxonomy().categories}
    sections = [h for h in page["h2"] if h in known]
    assert len(sections) >= 3, page["h2"]
    assert page["images"] == [
        {"src": f"paper_{DATE}.png", "alt": CHART_ALT, "width": page["images"][0]["width"]}
    ]
    assert page["images"][0]["width"] >= 800

    # And every payload shows as text and none of them ran
    assert_inert(page)
    for payload in PAYLOADS:
        assert " ".join(payload.split()) in " ".join(page["text"].split()), payload

    # And on a phone the page fits the screen
    phone = browser.open(f"{root}digests/{DATE}/index.html", width=390, height=844, mobile=True)
    assert browser.probe(phone)["overflow"] <= 0
    browser.screenshot(phone, ARTIFACTS / "site-digest-phone.png")

    # And the archive and the latest page work from the root
    archive_session = browser.open(root)
    archive = browser.probe(archive_session)
    browser.screenshot(archive_session, ARTIFACTS / "site-archive.png")
    assert_inert(archive)
    assert [(i["src"], i["width"] > 0) for i in archive["images"]] == [("trend.png", True)]
    assert f"digests/{DATE}/index.html" in archive["urls"]
    latest = browser.probe(browser.open(f"{root}latest.html"))
    assert_inert(latest)
    assert latest["h2"] == page["h2"]
    assert [(i["src"], i["width"] > 0) for i in latest["images"]] == [
        (f"digests/{DATE}/paper_{DATE}.png", True)
    ]
