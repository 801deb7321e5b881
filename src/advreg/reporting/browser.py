"""The HTML report in a real browser (torch-free): headless Chromium (Debian's ``chromium``) driven through its
DevTools protocol over a pipe (``--remote-debugging-pipe``: nothing downloaded, no driver needed), and clicks
through Snakemake's report menu. Used by tests/test_report_browser.py and scripts/report_screenshots.py."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class Chromium:
    """Headless Chromium driven through the DevTools protocol over ``--remote-debugging-pipe`` (JSON messages
    ending in NUL on file descriptors 3 (to the browser) and 4 (from it))."""

    def __init__(self, binary: str = CHROMIUM, size: tuple[int, int] = (1400, 1000)) -> None:
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        self.profile = tempfile.mkdtemp(prefix="advreg-chromium-")
        self.size = size

        def child_fds() -> None:  # move the pipe ends to fds 3 and 4 (via fds >= 10: they may be 3 or 4 already)
            a, b = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        args += ["--remote-debugging-pipe", f"--user-data-dir={self.profile}", f"--window-size={size[0]},{size[1]}"]
        self.proc = subprocess.Popen(
            [*args, "about:blank"],
            preexec_fn=child_fds,
            pass_fds=(3, 4, to_r, from_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_r)
        os.close(from_w)
        self.writer = os.fdopen(to_w, "wb", buffering=0)
        self.reader = os.fdopen(from_r, "rb", buffering=0)
        self.buffer, self.next_id, self.session = b"", 0, None

    def _message(self) -> dict:
        while b"\0" not in self.buffer:
            chunk = self.reader.read(1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, browser: bool = False, **params: object) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if self.session and not browser:
            message["sessionId"] = self.session
        self.writer.write(json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str) -> None:
        if self.session is None:
            target = self.send("Target.createTarget", browser=True, url="about:blank")["targetId"]
            self.session = self.send("Target.attachToTarget", browser=True, targetId=target, flatten=True)["sessionId"]
            self.send("Page.enable")
        self.send("Page.navigate", url=url)
        self.wait("document.readyState === 'complete' && document.querySelectorAll('nav a').length > 0")

    def eval(self, expression: str, context: int | None = None) -> object:
        extra = {"contextId": context} if context else {}
        reply = self.send("Runtime.evaluate", expression=expression, returnByValue=True, **extra)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait(self, expression: str, context: int | None = None, timeout: float = 20.0) -> object:
        end = time.monotonic() + timeout
        while True:
            value = self.eval(expression, context)
            if value:
                return value
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {expression}")
            time.sleep(0.1)

    def frame_context(self, url_prefix: str) -> int:
        """An execution context in the (data: URL) iframe whose URL starts with ``url_prefix``."""
        end = time.monotonic() + 20
        while time.monotonic() < end:
            frames = self.send("Page.getFrameTree")["frameTree"].get("childFrames", [])
            for frame in frames:
                if frame["frame"].get("url", "").startswith(url_prefix):
                    world = self.send("Page.createIsolatedWorld", frameId=frame["frame"]["id"], worldName="test")
                    return world["executionContextId"]
            time.sleep(0.1)
        raise AssertionError(f"no iframe showing {url_prefix}")

    def close(self) -> None:
        try:
            self.send("Browser.close", browser=True)
            self.proc.wait(10)
        except Exception:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def screenshot(self, path: str | Path) -> None:
        """The page as shown, as PNG of exactly the window's size (the viewport set to it first)."""
        width, height = self.size
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        time.sleep(0.5)
        data = self.send("Page.captureScreenshot", format="png")["data"]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(base64.b64decode(data))


def click_link(browser: Chromium, text: str) -> None:
    """Click the report's navigation link labelled ``text``."""
    found = browser.eval(
        f"(() => {{ const a = Array.from(document.querySelectorAll('nav a')).find(e => e.innerText.trim() === "
        f"{json.dumps(text)}); if (!a) return false; a.click(); return true; }})()"
    )
    assert found, f"no link {text!r} in the report's menu: {nav_texts(browser)}"


def nav_texts(browser: Chromium) -> list[str]:
    return browser.eval("Array.from(document.querySelectorAll('nav ul a')).map(a => a.innerText.trim())") or []


def results_menu(browser: Chromium) -> list[str]:
    """The categories under the menu's RESULTS heading."""
    texts = browser.eval("Array.from(document.querySelectorAll('nav li')).map(li => li.innerText.trim())")
    return texts[texts.index("RESULTS") + 1 :]


ITEM_ROWS = "Array.from(document.querySelectorAll('nav table tbody tr'))"


def open_menu(browser: Chromium, url: str, path: list[str]) -> None:
    """Open the report at ``url`` and click through ``path`` (category, subcategory) in its menu."""
    browser.open(url)
    for step in path:
        click_link(browser, step)


def show_item(browser: Chromium, url: str, path: list[str], label: str) -> None:
    """Open the report at ``url``, click through ``path`` (category, subcategory) and show the item labelled
    ``label`` (its text in the menu contains it); waits until its HTML page or figure has loaded."""
    open_menu(browser, url, path)
    browser.wait(f"{ITEM_ROWS}.length > 0")
    found = browser.eval(
        f"(() => {{ const r = {ITEM_ROWS}.find(r => r.innerText.includes({json.dumps(label)}));"
        " if (!r) return false; r.querySelector('a[iconname=eye]').click(); return true; })()"
    )
    if not found:
        items = browser.eval(f"{ITEM_ROWS}.map(r => r.innerText.trim())")
        raise LookupError(f"no item {label!r} under {' > '.join(path)}: {items}")
    browser.wait(
        "(() => { const f = document.querySelector('iframe[src^=\"data:text/html\"]'); if (f) return true;"
        " return Array.from(document.images).some(m => m.src.startsWith('data:image/png') && m.complete); })()"
    )
    time.sleep(1.0)  # let the iframe lay out before a screenshot
