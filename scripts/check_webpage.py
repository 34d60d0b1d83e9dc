#!/usr/bin/env python3
"""The service checked with real clients: a headless Chromium drives the web page, ogrinfo reads the
OGC API, and plain HTTP requests check security, persistence and crash safety.

Usage: check_webpage.py KLYNGE_BINARY STUDY.yaml OUT_FOLDER
Prints 'N passed, N failed'; exits 1 on a failure; skips (exit 0) without chromium.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from oracle import Checks

klynge, study, out = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    print("skipped: no chromium")
    sys.exit(0)
os.makedirs(out, exist_ok=True)
checks = Checks()
check = checks.check
TOKEN = "proeve-token-123"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(store, port):
    p = subprocess.Popen([klynge, "serve", study, "--port", str(port), "--token", TOKEN, "--store", store],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/conformance", timeout=1)
            return p
        except Exception:
            time.sleep(0.1)
    p.kill()
    raise SystemExit("the server did not start: " + p.stderr.read())


def dom(url):
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000", "--dump-dom", url],
                       capture_output=True, text=True, timeout=120)
    return r.stdout


def share(html):
    m = re.search(r'id="share" data-value="([0-9.]+)"', html)
    return float(m.group(1)) if m else None


def request(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body.encode() if isinstance(body, str) else body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


closed = ["node/5938809867", "way/413945490"]
with tempfile.TemporaryDirectory() as tmp:
    store = os.path.join(tmp, "store.gpkg")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(store, port)
    try:
        # The page closes two halls; the share it shows equals the CLI's for the same scenario.
        html = dom(f"{base}/app/?category=hall&close={','.join(closed)}")
        check("page loads", 'data-done="1"' in html and "data-error" not in html, html[-300:])
        page_share = share(html)
        text = open(study).read().replace("source: ", "source: " + os.path.dirname(study) + "/")
        text += "\n" if not text.endswith("\n") else ""
        extra = os.path.join(tmp, "cli.yaml")
        with open(extra, "w") as f:
            f.write(re.sub(r"\nscenarios:\n", "\nscenarios:\n  - name: Browser\n    close: [" + ", ".join(closed) + "]\n", text))
        cli = json.loads(subprocess.run([klynge, "coverage", extra, "--scenario", "Browser", "--category", "hall", "--json"],
                                        capture_output=True, text=True, check=True).stdout)
        cli_share = cli["categories"][0]["coveredShare"]
        check("page share equals the CLI", page_share is not None and abs(page_share - cli_share) < 1e-6, f"page {page_share}, CLI {cli_share}")
        baseline = json.loads(request("GET", f"{base}/api/coverage?category=hall")[2])["categories"][0]["coveredShare"]
        check("closing halls changed the share", page_share is not None and page_share < baseline, f"{page_share} vs {baseline}")
        # A new meeting place put on the map (as a click would): the share follows the server's figure.
        html = dom(f"{base}/app/?category=hall&open=10.575,55.95,Multihus")
        api = json.loads(request("GET", f"{base}/api/coverage?category=hall&open=10.575,55.95,Multihus")[2])["categories"][0]["coveredShare"]
        check("a new meeting place shows its coverage", share(html) is not None and abs(share(html) - api) < 1e-6 and api > baseline, f"{share(html)} vs {api}")
        # Save from the page, restart the server, load it again.
        html = dom(f"{base}/app/?category=hall&close={','.join(closed)}&save=Fra%20browseren&token={TOKEN}")
        check("page saved the scenario", 'data-saved="1"' in html, re.findall(r'id="status">[^<]*', html))
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000", "--window-size=1400,900",
                        f"--screenshot={os.path.join(out, 'webpage.png')}", f"{base}/app/?category=hall&close={','.join(closed)}"],
                       capture_output=True, timeout=120)
        check("screenshot kept", os.path.getsize(os.path.join(out, "webpage.png")) > 10000)
        # OGC API Features as QGIS/GDAL sees it.
        r = subprocess.run(["ogrinfo", f"OAPIF:{base}/"], capture_output=True, text=True)
        check("ogrinfo lists the collections", all(c in r.stdout for c in ["areas", "demand", "facilities", "coverage"]), r.stdout + r.stderr)
        r = subprocess.run(["ogrinfo", "-so", f"OAPIF:{base}/", "demand"], capture_output=True, text=True)
        check("ogrinfo counts the villages", "Feature Count: 28" in r.stdout, r.stdout[-400:])
        # Security.
        body = json.dumps({"name": "Sikkerhed", "close": closed})
        check("write without token: 401", request("POST", f"{base}/api/scenarios", body, {"Content-Type": "application/json"})[0] == 401)
        auth = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
        check("oversized body: 413", request("POST", f"{base}/api/scenarios", " " * 300000 + body, auth)[0] == 413)
        code, _, raw = request("POST", f"{base}/api/scenarios", '{"name": ', auth)
        check("malformed JSON: 400 with a message", code == 400 and "message" in json.loads(raw)["error"], raw)
        code, headers, _ = request("POST", f"{base}/api/scenarios", body, auth)
        check("save: 201", code == 201)
        stale = dict(auth, **{"If-Match": '"0"'})
        check("stale If-Match: 412", request("PUT", f"{base}/api/scenarios/sikkerhed", body, stale)[0] == 412)
        code, _, raw = request("GET", f"{base}/api/scenarios/..%2F..%2Fetc%2Fpasswd")
        check("an id is an id, never a path", code == 404, raw)
        # Killed right after an acknowledged save: nothing lost.
        code, _, _ = request("POST", f"{base}/api/scenarios", json.dumps({"name": "Lige før nedbrud", "close": closed[:1]}), auth)
        check("save before the crash: 201", code == 201)
        server.send_signal(signal.SIGKILL)
        server.wait()
        server = start(store, port)
        check("acknowledged save survives kill -9", request("GET", f"{base}/api/scenarios/lige-foer-nedbrud")[0] == 200)
        html = dom(f"{base}/app/?category=hall&load=Fra%20browseren")
        check("page finds the saved scenario after a restart", 'data-found="1"' in html)
        check("the loaded scenario shows the same share", share(html) is not None and abs(share(html) - cli_share) < 1e-6, share(html))
    finally:
        server.kill()
checks.finish()
