"""A minimal Chrome DevTools Protocol client (standard library only) for the service's browser checks.

Chromium runs headless with --remote-debugging-pipe: it reads JSON messages from fd 3 and writes to fd 4,
each terminated by a NUL byte. Every wait is bounded; the browser is killed when the client closes.

    with Browser() as b:
        page = b.new_page(1400, 900)
        page.goto("http://127.0.0.1:8080/app/")
        page.wait_for("document.body.dataset.done === '1'")
        print(page.evaluate("document.title"))
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

# Runs before the page's own scripts: records CSP violations where the checks can read them.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, line: e.lineNumber});
});
"""


class CDPError(Exception):
    pass


def find_chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Browser:
    def __init__(self, binary=None, extra_args=(), timeout=30):
        self.binary = binary or find_chromium()
        if not self.binary:
            raise CDPError("no chromium")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="cdp-profile-")
        self._next_id = 0
        self._lock = threading.Lock()
        self._pending = {}      # id → [Event, message]
        self._listeners = {}    # session id (or None) → callback(message)
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # Moved above fd 10 so the child's dup2 onto 3 and 4 cannot clobber one with the other.
        hi_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        hi_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def child_fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        args = [self.binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--mute-audio", "--hide-scrollbars",
                f"--user-data-dir={self.profile}", *extra_args, "about:blank"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     # Every other descriptor of ours is close-on-exec (PEP 446), so only 3 and 4 pass.
                                     preexec_fn=child_fds, close_fds=False)
        os.close(hi_r)
        os.close(hi_w)
        self._out = to_browser_w
        self._in = from_browser_r
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        try:
            self.version = self.send("Browser.getVersion", timeout=timeout)
        except Exception:
            self.close()
            raise

    # --- transport ---

    def _read_loop(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._in, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                self._dispatch(msg)
        with self._lock:  # the browser is gone: wake every waiter
            for slot in self._pending.values():
                slot[1] = {"error": {"message": "browser closed"}}
                slot[0].set()

    def _dispatch(self, msg):
        if "id" in msg:
            with self._lock:
                slot = self._pending.get(msg["id"])
            if slot:
                slot[1] = msg
                slot[0].set()
            return
        cb = self._listeners.get(msg.get("sessionId"))
        if cb:
            try:
                cb(msg)
            except Exception:
                pass

    def post(self, method, params=None, session=None):
        """Sends without waiting (safe from the reader thread)."""
        with self._lock:
            self._next_id += 1
            mid = self._next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        with self._lock:
            while data:
                data = data[os.write(self._out, data):]
        return mid

    def send(self, method, params=None, session=None, timeout=None):
        """Sends a command and waits (bounded) for its result."""
        with self._lock:
            self._next_id += 1
            mid = self._next_id
            slot = [threading.Event(), None]
            self._pending[mid] = slot
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        try:
            with self._lock:
                while data:
                    data = data[os.write(self._out, data):]
            if not slot[0].wait(timeout or self.timeout):
                raise CDPError(f"{method}: no answer within {timeout or self.timeout} s")
        except OSError as e:
            raise CDPError(f"{method}: {e}")
        finally:
            with self._lock:
                self._pending.pop(mid, None)
        if "error" in slot[1]:
            raise CDPError(f"{method}: {slot[1]['error'].get('message')}")
        return slot[1].get("result", {})

    # --- pages ---

    def new_page(self, width=1400, height=900):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, target, session)
        self._listeners[session] = page._on_event
        for domain in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            self.send(domain, session=session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        self.send("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_RECORDER}, session=session)
        return page

    def close(self):
        if self._closed:
            return
        self._closed = True
        try:
            if self.proc.poll() is None:
                self.post("Browser.close")
                self.proc.wait(timeout=5)
        except Exception:
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                try:
                    self.proc.wait(timeout=5)
                except Exception:
                    pass
            for fd in (self._out, self._in):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    def __init__(self, browser, target, session):
        self.browser = browser
        self.target = target
        self.session = session
        self.console = []       # (level, text)
        self.exceptions = []    # text of uncaught exceptions
        self.log = []           # Log.entryAdded: (source, level, text), CSP reports among them
        self.dialogs = []       # (type, message)
        self.prompt_text = None  # answer for window.prompt
        self.accept_dialogs = True
        self.responses = {}     # url → (status, headers) of the page's own requests
        self._load = threading.Event()

    def _on_event(self, msg):
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled":
            self.console.append((p.get("type"), " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.exceptions.append((d.get("exception") or {}).get("description") or d.get("text", ""))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            self.log.append((e.get("source"), e.get("level"), e.get("text")))
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append((p.get("type"), p.get("message")))
            params = {"accept": self.accept_dialogs}
            if p.get("type") == "prompt":
                params["promptText"] = self.prompt_text if self.prompt_text is not None else p.get("defaultPrompt", "")
            # From the reader thread: post, never wait, or the reader would wait on itself.
            self.browser.post("Page.handleJavaScriptDialog", params, session=self.session)
        elif method == "Page.loadEventFired":
            self._load.set()
        elif method == "Network.responseReceived":
            r = p.get("response", {})
            self.responses[r.get("url")] = (r.get("status"), r.get("headers", {}))

    def send(self, method, params=None, timeout=None):
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def goto(self, url, timeout=30):
        """Navigates and waits (bounded) for the load event."""
        self._load.clear()
        r = self.send("Page.navigate", {"url": url}, timeout=timeout)
        if r.get("errorText"):
            raise CDPError(f"navigate {url}: {r['errorText']}")
        if not self._load.wait(timeout):
            raise CDPError(f"navigate {url}: no load event within {timeout} s")

    def evaluate(self, expression, timeout=30):
        """Evaluates in the page (awaiting promises) and returns the value; page exceptions raise CDPError."""
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True,
                                           "userGesture": True, "timeout": int(timeout * 1000)}, timeout=timeout + 5)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CDPError("evaluate: " + ((d.get("exception") or {}).get("description") or d.get("text", "")))
        return r.get("result", {}).get("value")

    def wait_for(self, expression, timeout=30, interval=0.05):
        """Polls until the expression is truthy and returns its value; raises CDPError after the timeout."""
        end = time.monotonic() + timeout
        last = None
        while True:
            try:
                value = self.evaluate(expression, timeout=max(1, end - time.monotonic()))
                if value:
                    return value
            except CDPError as e:
                last = e
            if time.monotonic() > end:
                raise CDPError(f"timed out after {timeout} s waiting for {expression}" + (f" ({last})" if last else ""))
            time.sleep(interval)

    def csp_violations(self):
        return self.evaluate("window.__cspViolations || []") or []

    def click(self, x, y):
        """A real mouse click at viewport coordinates."""
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def key(self, key, code, text=None, key_code=0):
        """A real key press (keyDown with text, then keyUp)."""
        down = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": key_code}
        if text:
            down["text"] = text
        self.send("Input.dispatchKeyEvent", down)
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": key_code})

    def screenshot(self, path, timeout=30):
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False}, timeout=timeout)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self):
        try:
            self.browser.send("Target.closeTarget", {"targetId": self.target}, timeout=10)
        except CDPError:
            pass
        self.browser._listeners.pop(self.session, None)
