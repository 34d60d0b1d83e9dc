"""`klynge serve` as the browser and HTTP checks start it, and the one request helper they share."""
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """`klynge serve` on a free port; `up` is False (and `log` says why) when it did not start."""

    def __init__(self, klynge, study_file, store, token, extra=(), port=None, timeout=90):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_file = tempfile.NamedTemporaryFile(prefix="klynge-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([klynge, "serve", study_file, "--port", str(self.port), "--token", token, "--store", store, *extra],
                                     stdout=subprocess.DEVNULL, stderr=self.log_file)
        self.up = False
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            try:
                urllib.request.urlopen(f"{self.base}/conformance", timeout=2)
                self.up = True
                break
            except Exception:
                time.sleep(0.1)
        if not self.up:
            self.kill()

    @property
    def log(self):
        with open(self.log_file.name, errors="replace") as f:
            return f.read()[-600:]

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.up = False


def request(method, url, body=None, headers=None, opener=None):
    """(status, headers, body) of one request; HTTP errors are answers too."""
    req = urllib.request.Request(url, data=body.encode() if isinstance(body, str) else body, method=method, headers=headers or {})
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
