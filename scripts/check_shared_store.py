#!/usr/bin/env python3
"""Several `klynge serve` instances sharing one PostgreSQL store behind nginx, checked with real servers on loopback.

A private PostgreSQL server (initdb in a temporary folder, password authentication) is started so that it can be
killed and restarted at will; two instances serve the sample study from it on their own ports, and nginx
balances them round-robin.

- Read-modify-write by 20 concurrent clients on the same scenarios, through the proxy and straight to either
  instance: every write appends its own mark to the scenario's description after reading it, with If-Match.
  No acknowledged write is lost, stale writes get 412, and each scenario's final description is exactly the
  acknowledged marks in the order of their versions (the chain of writes, none lost, none invented).
- Concurrent creation of one name through both instances: exactly one 201, the others 409.
- One device answering the survey through both instances at once: exactly one answer kept.
- A change made through one instance is visible through the other within the documented bound.
- `kill -9` of one instance during writes: the other keeps answering, every acknowledged write is in the
  database, and the restarted instance serves the same state.
- PostgreSQL stopped under load: writes get 503 with a JSON error, `/ready` says 503, reads still answer from
  memory; once it is back the instances recover by themselves (no restart).
- What QGIS opens: GDAL's PostgreSQL driver (ogrinfo) reads the views `klynge.scenarios` and
  `klynge.proposal_clusters` with their geometries in EPSG:25832; a new meeting place given in lon/lat lies where
  cs2cs puts it, and the dissolved clusters hold every area of the study once.
- `serve --studies` with two studies on the same database: a token of one study gets 401 on the other, each
  study's records stay its own, and the web page works under /studies/<id>/app/ in headless Chromium.
- No answer body ever holds the password, the connection string or the database's address; every answer
  carries an X-Request-Id and the logs are JSON lines with it.

Usage: check_shared_store.py KLYNGE STUDY OUT_FOLDER
"""
import concurrent.futures
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from oracle import Checks  # noqa: E402
from klynge_service import Service, request, free_port  # noqa: E402
from shared_servers import PrivatePostgres, Proxy, open_survey_study  # noqa: E402
import cdp  # noqa: E402

klynge, study, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
TOKEN = "shared-store-token-5521"
# How long a change may take to reach the other instance: the README's bound (--follow-seconds 1, plus the
# rebuild of the analysis) with room for a loaded 2-core machine.
FOLLOW_BOUND_SECONDS = 5
checks = Checks()
check = checks.check


AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
bodies_seen = []  # every answer body, checked for secrets at the end
bodies_lock = threading.Lock()
request_ids = {"missing": 0}


def call(method, url, body=None, headers=None, opener=None):
    """One request; (status, headers, body), with (0, {}, b'') for a connection that failed."""
    try:
        code, h, raw = request(method, url, body, headers, opener)
    except Exception:
        return 0, {}, b""
    with bodies_lock:
        bodies_seen.append(raw[:4000])
        if not h.get("X-Request-Id"):
            request_ids["missing"] += 1
    return code, h, raw


def get_scenario(base, sid):
    code, h, raw = call("GET", f"{base}/api/scenarios/{sid}")
    if code != 200:
        return None, None
    return h.get("ETag"), json.loads(raw)


def rmw_worker(phase, client, bases, sids, rounds, log, stop=None):
    """Reads a scenario, appends this write's mark to its description, writes it with If-Match; logs every outcome."""
    for i in range(rounds):
        if stop is not None and stop.is_set():
            return
        base = bases[(client + i) % len(bases)]
        sid = sids[(client * 7 + i) % len(sids)]
        etag, record = get_scenario(base, sid)
        if etag is None:
            log.append(("read-failed", sid, None, None, base))
            time.sleep(0.05)
            continue
        spec = record["scenario"]
        mark = f"{phase}{client}i{i}"
        spec["description"] = (spec.get("description") or "") + " " + mark
        code, h, raw = call("PUT", f"{base}/api/scenarios/{sid}", json.dumps(spec), {**AUTH, "If-Match": etag})
        version = json.loads(raw)["version"] if code == 200 else None
        log.append((code, sid, mark, version, base))


def chain_check(name, phase, base, sids, log, uncertain_ok, proxy_base=None):
    """The final description of each scenario is the acknowledged marks in version order; with `uncertain_ok`, marks
    of writes whose answer was lost (a killed instance) may sit between them, but never an invented or a refused one.
    A proxy retries a PUT whose instance died before answering (PUT is idempotent in HTTP); with If-Match the retry
    is refused (412) when the first attempt was kept, so a 412 through the proxy is an uncertain outcome too."""
    for sid in sids:
        _, record = get_scenario(base, sid)
        final = [m for m in (record["scenario"].get("description") or "").split() if m.startswith(phase)]
        acked = sorted([e for e in log if e[0] == 200 and e[1] == sid], key=lambda e: e[3])
        acked_marks = [e[2] for e in acked]
        retried = lambda e: uncertain_ok and e[4] == proxy_base and e[0] == 412  # noqa: E731
        refused = {e[2] for e in log if e[1] == sid and e[0] in (412, 409, 400, 401, 403, 404) and not retried(e)}
        uncertain = {e[2] for e in log if e[1] == sid and (e[0] not in (200, 412, 409, 400, 401, 403, 404, "read-failed") or retried(e))}
        missing = [m for m in acked_marks if m not in final]
        check(f"{name}: no acknowledged write to {sid} lost", not missing, missing[:5])
        if uncertain_ok:
            kept = [m for m in final if m in set(acked_marks)]
            check(f"{name}: acknowledged writes to {sid} in version order", kept == acked_marks, (kept[:8], acked_marks[:8]))
            invented = [m for m in final if m not in set(acked_marks) | uncertain]
            check(f"{name}: nothing in {sid} but acknowledged or unanswered writes", not invented, invented[:5])
        else:
            check(f"{name}: {sid} is exactly the acknowledged writes in version order", final == acked_marks,
                  (len(final), len(acked_marks), final[:6], acked_marks[:6]))
        check(f"{name}: no refused write is in {sid}", not (refused & set(final)), sorted(refused & set(final))[:5])
        if acked and not uncertain_ok:
            check(f"{name}: {sid} carries the last acknowledged version", record["version"] == acked[-1][3], (record["version"], acked[-1][3]))
        elif acked:
            # A write whose answer was lost (its instance killed after the commit) may be the last one kept.
            later = final[final.index(acked_marks[-1]) + 1:] if acked_marks[-1] in final else []
            check(f"{name}: {sid} is at the last acknowledged version or a later unanswered write",
                  record["version"] == acked[-1][3] or (record["version"] > acked[-1][3] and later and set(later) <= uncertain),
                  (record["version"], acked[-1][3], later))


def qgis_checks(pg, a):
    if not shutil.which("ogrinfo") or not shutil.which("cs2cs"):
        print("skipped: the views through GDAL (no ogrinfo or cs2cs)")
        return
    lon, lat = 10.61234, 55.87654
    body = json.dumps({"name": "Nyt sted", "open": [{"name": "Sted", "categories": ["hall"], "lonlat": [lon, lat]}]})
    code, _, raw = call("POST", f"{a.base}/api/scenarios", body, AUTH)
    check("a scenario with a new place", code == 201, (code, raw[:200]))
    code, _, raw = call("POST", f"{a.base}/api/regions", json.dumps({"clusters": 2}), AUTH)
    regions = json.loads(raw) if code == 200 else {}
    assignments = regions.get("assignments") or {}
    code, _, raw = call("POST", f"{a.base}/api/clusterings", json.dumps({"name": "To klynger", "assignments": assignments}), AUTH)
    check("a saved proposal of two clusters", code == 201, (code, raw[:200]))
    source = f"PG:host=127.0.0.1 port={pg.port} dbname=klynge user=postgres password={pg.password}"

    def ogr(layer, where):
        r = subprocess.run(["ogrinfo", "-ro", "-al", "-where", where, source, layer], capture_output=True, text=True)
        return r.stdout
    text = ogr("klynge.scenarios", "id = 'nyt-sted'")
    point = re.search(r"MULTIPOINT \(\(?([\d.]+) ([\d.]+)", text)
    expected = subprocess.run(["cs2cs", "-f", "%.4f", "EPSG:4326", "EPSG:25832"], input=f"{lat} {lon}\n", capture_output=True, text=True).stdout.split()
    check("ogrinfo reads the scenario's place in ETRS89 / UTM 32N", point is not None and "UTM zone 32N" in text, text[-600:])
    if point and len(expected) >= 2:
        dx, dy = float(point.group(1)) - float(expected[0]), float(point.group(2)) - float(expected[1])
        check("the place lies where cs2cs puts it (within 1 cm)", abs(dx) < 0.01 and abs(dy) < 0.01, (point.groups(), expected))
    text = ogr("klynge.proposal_clusters", "proposal = 'to-klynger'")
    areas = [int(m) for m in re.findall(r"areas \(Integer64\) = (\d+)", text)]
    check("ogrinfo reads the proposal's two dissolved clusters", len(areas) == 2 and text.count("MULTIPOLYGON") == 2, text[-400:])
    check("the clusters hold every area once", sum(areas) == len(assignments) and len(assignments) > 0, (areas, len(assignments)))


def token_line(token):
    r = subprocess.run([klynge, "token", "hash"], input=token + "\n", capture_output=True, text=True, check=True)
    return r.stdout.strip()


def studies_checks(pg, study_file, serve_args):
    folder = os.path.dirname(study_file)
    token_a, token_b = "alfa-editors-0123456789", "beta-editors-9876543210"
    conf = os.path.join(folder, "studies.yaml")
    with open(conf, "w") as f:
        f.write(f"store: {pg.url}\nstudies:\n"
                f"  - {{id: alfa, file: {study_file}, tokens: [{token_line(token_a)}]}}\n"
                f"  - {{id: beta, file: {study_file}, tokens: [{token_line(token_b)}]}}\n")
    check("the studies file holds no plaintext token", token_a not in open(conf).read() and token_b not in open(conf).read())
    port = free_port()
    log = open(os.path.join(folder, "studies.log"), "w")
    proc = subprocess.Popen([klynge, "serve", "--studies", conf, "--port", str(port), *serve_args], stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        check("a service of several studies starts", wait_until(lambda: call("GET", f"{base}/studies")[0] == 200, 60))
        listed = json.loads(call("GET", f"{base}/studies")[2])["studies"]
        check("/studies lists both", [x["id"] for x in listed] == ["alfa", "beta"], listed)
        body = json.dumps({"name": "Kun alfa", "close": ["node/5938809867"]})
        code, _, raw = call("POST", f"{base}/studies/beta/api/scenarios", body, {"Authorization": f"Bearer {token_a}", "Content-Type": "application/json"})
        check("study A's token on study B: 401", code == 401, (code, raw[:200]))
        code, _, raw = call("POST", f"{base}/studies/alfa/api/scenarios", body, {"Authorization": f"Bearer {token_a}", "Content-Type": "application/json"})
        check("study A's token on study A: 201", code == 201, (code, raw[:200]))
        check("the record is study A's alone", pg.sql("SELECT string_agg(study, ',') FROM klynge.records WHERE id = 'kun-alfa'") == "alfa")
        check("study B does not show it", call("GET", f"{base}/studies/beta/api/scenarios/kun-alfa")[0] == 404)
        if cdp.find_chromium():
            with cdp.Browser() as browser:
                page = browser.new_page(1400, 900)
                page.goto(f"{base}/studies/alfa/app/", timeout=60)
                page.wait_for("document.body.dataset.done === '1' || !!document.body.dataset.error", timeout=60)
                rows = page.evaluate("document.getElementById('villages').rows.length")
                error = page.evaluate("document.body.dataset.error || ''")
                saved = page.wait_for("document.body.textContent.includes('Kun alfa')", timeout=20)
                outside = [u for u in page.responses if u.startswith(base) and "/studies/alfa/" not in u]
                check("the page under /studies/alfa/app/ loads its villages", rows > 0 and not error, (rows, error))
                check("the page lists study A's saved scenario", saved)
                check("the page asks only for study A's addresses", not outside, outside[:3])
                check("the page runs without script errors", not page.exceptions, page.exceptions[:2])
        else:
            print("skipped: the page under a prefix (no chromium)")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def wait_until(predicate, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def main():
    missing = PrivatePostgres.missing() or Proxy.missing()
    if missing:
        print(f"skipped: {missing}")
        sys.exit(0)
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="klynge-shared-", dir=out)
    if os.geteuid() == 0:
        os.chmod(work, 0o755)
    pg = PrivatePostgres(os.path.join(work, "pg"))
    study_file = open_survey_study(study, work)
    serve_args = ("--follow-seconds", "1", "--survey-rate", "100000/0.001")
    a = Service(klynge, study_file, pg.url, TOKEN, extra=serve_args)
    b = Service(klynge, study_file, pg.url, TOKEN, extra=serve_args)
    check("both instances start on the shared store", a.up and b.up, (a.log, b.log))
    if not (a.up and b.up):
        pg.stop()
        checks.finish()
    proxy = Proxy(os.path.join(work, "nginx"), [a.port, b.port])
    try:
        run_checks(pg, a, b, proxy, study_file, serve_args)
    finally:
        for s in (a, b):
            s.kill(signal.SIGTERM)
        proxy.stop()
        pg.stop()
    if checks.failed == 0:
        shutil.rmtree(work, ignore_errors=True)
    checks.finish()


def run_checks(pg, a, b, proxy, study_file, serve_args):
    bases = [proxy.base, a.base, b.base]
    for s in (a, b):
        code, _, raw = call("GET", f"{s.base}/ready")
        check("ready with the database up", code == 200, (code, raw[:200]))
    check("the schema is made once by two instances starting together",
          pg.sql("SELECT count(*) = count(DISTINCT version) AND count(*) = max(version) AND count(*) >= 2 FROM klynge.schema_migrations") == "t")

    # A facility the scenarios close, so that each is a real change to the study.
    code, _, raw = call("GET", f"{a.base}/collections/facilities/items?limit=3")
    facility = json.loads(raw)["features"][0]["id"]

    # ---- concurrent creation of one name through both instances ----
    def create(i):
        base = (a.base, b.base)[i % 2]
        return call("POST", f"{base}/api/scenarios", json.dumps({"name": "Samtidig", "close": [facility]}), AUTH)[0]
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        codes = list(ex.map(create, range(16)))
    check("concurrent creation of one name: exactly one 201", codes.count(201) == 1, codes)
    check("concurrent creation of one name: the others 409", codes.count(409) == 15, codes)
    check("one record of that name in the database", pg.sql("SELECT count(*) FROM klynge.records WHERE kind = 'klynge_scenarios' AND id = 'samtidig'") == "1")

    # ---- visibility through the other instance ----
    code, h, raw = call("POST", f"{a.base}/api/scenarios", json.dumps({"name": "Synlig", "close": [facility]}), AUTH)
    check("a scenario made through instance A", code == 201, (code, raw[:200]))
    started = time.monotonic()
    seen = wait_until(lambda: call("GET", f"{b.base}/api/scenarios/synlig")[0] == 200, FOLLOW_BOUND_SECONDS)
    check(f"instance B shows it within {FOLLOW_BOUND_SECONDS} s", seen, f"{time.monotonic() - started:.1f} s")
    print(f"visible through the other instance after {time.monotonic() - started:.2f} s")
    # …and the analysis follows too: B's coverage of the saved scenario is the same as A's.
    ca = call("GET", f"{a.base}/api/coverage?category=hall&scenario=synlig")
    cb = call("GET", f"{b.base}/api/coverage?category=hall&scenario=synlig")
    check("both instances compute the same coverage for it", ca[0] == 200 and ca[2] == cb[2], (ca[0], cb[0], ca[2][:120], cb[2][:120]))

    # ---- read-modify-write by 20 clients ----
    sids = []
    for n in ("Fælles hus 1", "Fælles hus 2", "Fælles hus 3"):
        code, _, raw = call("POST", f"{proxy.base}/api/scenarios", json.dumps({"name": n, "description": "", "close": [facility]}), AUTH)
        check(f"made {n}", code == 201, (code, raw[:200]))
        sids.append(json.loads(raw)["id"])
    log = []
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        for f in [ex.submit(rmw_worker, "p", c, bases, sids, 12, log) for c in range(20)]:
            f.result()
    took = time.monotonic() - started
    codes = [e[0] for e in log]
    print(f"read-modify-write: {len(log)} attempts in {took:.1f} s: {codes.count(200)} acknowledged, {codes.count(412)} stale (412), "
          f"others {sorted(set(c for c in codes if c not in (200, 412)), key=str)}")
    check("read-modify-write: only 200 and 412 answers", set(codes) <= {200, 412}, sorted(set(map(str, codes))))
    check("read-modify-write: stale writes were refused with 412", codes.count(412) > 0, codes.count(412))
    # How many of the racing writes win depends on the machine's load (19 of 240 once, with a build beside it):
    # what must hold is that every scenario moved on; the chain check below proves none was lost or invented.
    won = {e[1] for e in log if e[0] == 200}
    check("read-modify-write: every scenario got acknowledged writes", won == set(sids), (codes.count(200), sorted(won)))
    wait_until(lambda: all(get_scenario(a.base, s)[0] == get_scenario(b.base, s)[0] for s in sids), FOLLOW_BOUND_SECONDS)
    chain_check("read-modify-write", "p", a.base, sids, log, uncertain_ok=False)
    for sid in sids:
        check(f"both instances serve the same {sid}", get_scenario(a.base, sid) == get_scenario(b.base, sid))

    # ---- one device, both instances ----
    answer = open(os.path.join(os.path.dirname(study), "survey-demo-answers.jsonl")).readline()
    survey_id = re.search(r"^id:\s*(\S+)", open(os.path.join(os.path.dirname(study_file), "survey.yaml")).read(), re.M).group(1)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    call("GET", f"{a.base}/survey/{survey_id}/", opener=opener)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    before = int(pg.sql("SELECT count(*) FROM klynge.records WHERE kind = 'klynge_survey_responses' AND id NOT LIKE 'device:%'"))

    def submit(i):
        base = (a.base, b.base)[i % 2]
        return call("POST", f"{base}/survey/{survey_id}/answers", answer, {"Content-Type": "application/json", "Cookie": cookie})[0]
    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        codes = list(ex.map(submit, range(12)))
    after = int(pg.sql("SELECT count(*) FROM klynge.records WHERE kind = 'klynge_survey_responses' AND id NOT LIKE 'device:%'"))
    check("one device through both instances: exactly one answer accepted", codes.count(201) == 1 and codes.count(409) == 11, codes)
    check("one device through both instances: exactly one answer stored", after - before == 1, (before, after))

    # ---- kill -9 of one instance during writes ----
    log = []
    stop = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        futures = [ex.submit(rmw_worker, "k", c, [proxy.base, a.base, b.base], sids, 400, log, stop) for c in range(20)]
        time.sleep(1.5)
        b.kill(signal.SIGKILL)
        killed_at = len(log)
        time.sleep(2.5)
        stop.set()
        for f in futures:
            f.result()
    after_kill = log[killed_at:]
    kc = [e[0] for e in log]
    print(f"kill -9 during writes: {len(log)} attempts ({len(after_kill)} after the kill): {kc.count(200)} acknowledged, {kc.count(412)} stale, "
          f"{sum(1 for c in kc if c not in (200, 412))} without an answer or refused by the proxy")
    check("kill -9: writes were acknowledged before and after the kill",
          any(e[0] == 200 for e in log[:killed_at]) and any(e[0] == 200 for e in after_kill))
    a_after = [e for e in after_kill if e[4] == a.base]
    check("after kill -9 of B, instance A keeps answering (200 or 412 only)", a_after and {e[0] for e in a_after} <= {200, 412},
          sorted(set(map(str, (e[0] for e in a_after)))))
    proxied = [e for e in after_kill[len(after_kill) // 2:] if e[4] == proxy.base]
    check("after kill -9 of B, the proxy sends requests to A", proxied and {e[0] for e in proxied} <= {200, 412},
          sorted(set(map(str, (e[0] for e in proxied)))))
    for sid in sids:
        stored = pg.sql(f"SELECT document FROM klynge.records WHERE kind = 'klynge_scenarios' AND id = '{sid}'")
        final = (json.loads(stored).get("description") or "").split()
        missing = [e[2] for e in log if e[0] == 200 and e[1] == sid and e[2] not in final]
        check(f"kill -9: every acknowledged write to {sid} is in the database", not missing, missing[:5])
    chain_check("kill -9", "k", a.base, sids, log, uncertain_ok=True, proxy_base=proxy.base)
    b2 = Service(klynge, study_file, pg.url, TOKEN, extra=serve_args)
    check("the killed instance starts again", b2.up, b2.log)
    for sid in sids:
        check(f"the restarted instance serves the same {sid}", get_scenario(a.base, sid) == get_scenario(b2.base, sid))
    b.proc, b.port, b.base = b2.proc, b2.port, b2.base  # stopped at the end with the others

    # ---- PostgreSQL stopped and started under load ----
    down_codes, down_bodies, up_again = [], [], {}
    stop = threading.Event()

    def load():
        i = 0
        while not stop.is_set():
            base = (a.base, b.base)[i % 2]
            was_down = pg_down.is_set()
            code, _, raw = call("POST", f"{base}/api/scenarios", json.dumps({"name": f"Under last {i}", "close": [facility]}), AUTH)
            if was_down and pg_down.is_set():
                down_codes.append(code)
                down_bodies.append(raw)
            elif pg_back.is_set() and code == 201:
                up_again.setdefault(base, time.monotonic())
            i += 1
            time.sleep(0.02)
    pg_down, pg_back = threading.Event(), threading.Event()
    readers = []

    def read_load():
        while not stop.is_set():
            readers.append(call("GET", f"{a.base}/api/scenarios")[0])
            time.sleep(0.02)
    threads = [threading.Thread(target=load), threading.Thread(target=read_load)]
    for t in threads:
        t.start()
    time.sleep(1)
    pg.stop()
    pg_down.set()
    time.sleep(1)
    ready_down = [call("GET", f"{s.base}/ready")[0] for s in (a, b)]
    reads_down = len(readers)
    time.sleep(2)
    reads_down = readers[reads_down:]
    pg_down.clear()
    pg.start()
    back = time.monotonic()
    pg_back.set()
    recovered = wait_until(lambda: len(up_again) == 2, 20)
    stop.set()
    for t in threads:
        t.join()
    print(f"PostgreSQL down: writes answered {sorted(set(map(str, down_codes)))}; both instances writing again after "
          f"{max(up_again.values(), default=back) - back:.1f} s")
    check("PostgreSQL down: writes get 503", down_codes and set(down_codes) <= {503}, sorted(set(map(str, down_codes))))
    check("PostgreSQL down: the 503s are JSON errors", all(json.loads(r)["error"]["status"] == 503 for r in down_bodies if r), down_bodies[:1])
    check("PostgreSQL down: /ready is 503 on both", ready_down == [503, 503], ready_down)
    check("PostgreSQL down: reads still answer", reads_down and set(reads_down) == {200}, sorted(set(map(str, reads_down))))
    check("PostgreSQL back: both instances write again without a restart", recovered, up_again)
    check("PostgreSQL back: /ready is 200 on both", [call("GET", f"{s.base}/ready")[0] for s in (a, b)] == [200, 200])

    # ---- what QGIS opens ----
    qgis_checks(pg, a)

    # ---- several studies in one service ----
    studies_checks(pg, study_file, serve_args)

    # ---- tokens and secrets ----
    code, _, raw = call("POST", f"{proxy.base}/api/scenarios", json.dumps({"name": "Uden", "close": [facility]}), {"Content-Type": "application/json"})
    check("a write without the token is 401", code == 401, code)
    code, _, raw = call("POST", f"{proxy.base}/api/scenarios", json.dumps({"name": "Forkert", "close": [facility]}),
                        {"Content-Type": "application/json", "Authorization": "Bearer wrong-token-123456"})
    check("a write with a wrong token is 401", code == 401, code)
    secrets = [pg.password.encode(), b"postgresql://", f"127.0.0.1:{pg.port}".encode(), f":{pg.port}".encode(), pg.folder.encode()]
    leaking = [b[:200] for b in bodies_seen if any(s in b for s in secrets)]
    print(f"answer bodies checked for secrets: {len(bodies_seen)}")
    check(f"no answer body (of {len(bodies_seen)}) names the password, the connection string or the database's address", not leaking, leaking[:2])
    check("every answer carries an X-Request-Id", request_ids["missing"] == 0, request_ids["missing"])
    logs = a.log_file.name
    with open(logs, errors="replace") as f:
        lines = [line for line in f if line.startswith("{")]
    parsed = [json.loads(line) for line in lines]
    requests = [p for p in parsed if p.get("event") == "request"]
    check("the instance logs one JSON line per request with its id", len(requests) > 100 and all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", p["id"]) for p in requests),
          len(requests))
    with open(logs, errors="replace") as f:
        text = f.read()
    check("the log never holds the password", pg.password not in text)


main()
