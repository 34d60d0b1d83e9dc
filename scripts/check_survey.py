#!/usr/bin/env python3
"""The citizen survey, answered in headless Chromium and held to independent truths.

- A survey (written here, open from two days ago) is answered by scripted respondents: half through the
  maps with mouse clicks, half with the keyboard alone (Tab, arrows, Space, Enter, typed text). The tallies
  `/survey/<id>/results` reports must equal the submitted answers exactly, with villages below the minimum
  group size suppressed.
- Observed-versus-nearest use is recomputed from the exported answers (GeoJSON) and `klynge matrix`.
- Bad answers (closed survey, unknown question, hidden question, bad option, village or number, pins outside
  the study, no consent, too large a body) get a 4xx and store nothing; one address flooding is limited.
- Script and HTML in answers and in the survey's own texts never execute on the survey page or the admin page.
- `kill -9` during a stream of answers loses no acknowledged answer, and the store passes SQLite's integrity check.
- Every form field has a label, the page's language is set, and text contrast is at least 4.5:1.

Usage: check_survey.py KLYNGE STUDY OUT_FOLDER
"""
import datetime
import http.cookiejar
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import cdp  # noqa: E402
from oracle import Checks  # noqa: E402
from klynge_service import Service, request  # noqa: E402

klynge, study, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
if not cdp.find_chromium():
    print("skipped: no chromium")
    sys.exit(0)
os.makedirs(out, exist_ok=True)
checks = Checks()
check = checks.check
TOKEN = "survey-token-1234"
PWN = '<img src=x onerror="document.body.dataset.pwned=1">'
SCRIPT = '<script>document.body.dataset.pwned=1</script>'


def Server(study_file, store, rate="100000/0.001"):
    return Service(klynge, study_file, store, TOKEN, extra=("--survey-rate", rate))


def device():
    """A client with its own cookie jar: one device."""
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def answer(base, survey, payload, opener=None, raw=None):
    opener = opener or device()
    request("GET", f"{base}/survey/{survey}/", opener=opener)
    body = raw if raw is not None else json.dumps(payload)
    code, _, raw = request("POST", f"{base}/survey/{survey}/answers", body, {"Content-Type": "application/json"}, opener)
    return code, raw


def results(base, survey):
    code, _, raw = request("GET", f"{base}/survey/{survey}/results", headers={"Authorization": f"Bearer {TOKEN}"})
    if code != 200:
        raise RuntimeError(f"results: {code} {raw[:200]!r}")
    return json.loads(raw)


# ---- the study and its test surveys ----

def make_study(folder):
    today = datetime.date.today()
    survey = f"""
id: test-open
title: {{ da: 'Prøveundersøgelse {PWN}', en: Test survey }}
introduction: {{ da: "Indledning {SCRIPT}", en: Introduction }}
consent: {{ da: Jeg siger ja, en: I agree }}
privacy: {{ da: Anonymt, en: Anonymous }}
opens: {(today - datetime.timedelta(days=2)).isoformat()}
closes: {(today + datetime.timedelta(days=20)).isoformat()}
languages: [da, en]
minimum_group_size: 5
moderation: true
blocks:
  - id: om
    title: Om dig
    questions:
      - {{ id: home, type: home_village, required: true, text: Hvor bor du? }}
      - id: age
        type: single
        required: true
        text: Alder
        options:
          - {{ id: young, label: Ung }}
          - {{ id: mid, label: Midt }}
          - {{ id: old, label: 'Ældre {PWN}' }}
      - id: acts
        type: multiple
        max_choices: 2
        text: Aktiviteter
        options:
          - {{ id: eat, label: Spisning }}
          - {{ id: sport, label: Sport }}
          - {{ id: talk, label: Foredrag }}
      - {{ id: n, type: number, minimum: 1, maximum: 20, text: Husstand }}
  - id: steder
    title: Steder
    questions:
      - {{ id: hall, type: facility_used, category: hall, text: Forsamlingshus }}
      - id: assoc
        type: single
        text: Forening?
        options:
          - {{ id: ja, label: Ja }}
          - {{ id: nej, label: Nej }}
      - {{ id: which, type: short_text, text: Hvilken?, show_if: {{ question: assoc, equals: ja }} }}
      - {{ id: pins, type: place_pins, text: Steder, max_pins: 3 }}
      - {{ id: ideas, type: long_text, text: Idéer }}
"""
    closed = """
id: test-closed
title: Lukket
introduction: Lukket
consent: Ja
privacy: Anonymt
opens: 2020-01-01
closes: 2020-01-21
blocks:
  - id: b
    title: B
    questions:
      - { id: q, type: short_text, text: Q }
"""
    with open(os.path.join(folder, "open.yaml"), "w") as f:
        f.write(survey)
    with open(os.path.join(folder, "closed.yaml"), "w") as f:
        f.write(closed)
    text = open(study).read()
    text = re.sub(r"(\bsource:\s*)(?![/\"'])", r"\g<1>" + os.path.dirname(study) + "/", text)
    text = re.sub(r"^surveys:.*$", "surveys: [open.yaml, closed.yaml]", text, flags=re.M)
    path = os.path.join(folder, "study.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


# ---- browser helpers ----

def key(page, name):
    codes = {"Tab": ("Tab", 9, None), "ArrowDown": ("ArrowDown", 40, None), "Space": (" ", 32, " "), "Enter": ("Enter", 13, "\r")}
    k, code, text = codes[name]
    page.key(k, "Space" if name == "Space" else name, text=text, key_code=code)


def active(page):
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


def tab_to(page, element_id, limit=400):
    for _ in range(limit):
        if active(page) == element_id:
            return True
        key(page, "Tab")
    return active(page) == element_id


def type_text(page, text):
    page.send("Input.insertText", {"text": text})


def centre(page, js_element):
    r = page.evaluate(f"(() => {{ const e = {js_element}; if (!e) return null; e.scrollIntoView({{block: 'center'}}); "
                      f"const b = e.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2]; }})()")
    return r


def click_element(page, js_element):
    c = centre(page, js_element)
    if not c:
        raise RuntimeError(f"nothing to click: {js_element}")
    page.click(c[0], c[1])


def circle_titled(question, title):
    return (f"[...document.querySelectorAll('#q-{question} circle')].find(c => c.querySelector('title') && "
            f"c.querySelector('title').textContent === {json.dumps(title)})")


def open_survey(browser, base, survey, width=420, height=900):
    page = browser.new_page(width, height)
    page.send("Network.clearBrowserCookies")
    page.goto(f"{base}/survey/{survey}/")
    page.wait_for("document.body.dataset.done === '1' || !!document.body.dataset.error", timeout=30)
    return page


def select_by_keys(page, element_id, value):
    """Focus by Tab, then ArrowDown until the select holds `value` (the keyboard path)."""
    if not tab_to(page, element_id):
        raise RuntimeError(f"Tab never reached #{element_id}")
    for _ in range(200):
        if page.evaluate(f"document.getElementById({json.dumps(element_id)}).value") == value:
            return
        key(page, "ArrowDown")
    raise RuntimeError(f"#{element_id} never took {value}")


def answer_by_map(page, d, plan):
    v = next(x for x in d["villages"] if x["id"] == plan["home"])
    click_element(page, circle_titled("home", v["name"]))
    click_element(page, f"document.getElementById('in-age-{plan['age']}').nextElementSibling")
    for a in plan["acts"]:
        click_element(page, f"document.getElementById('in-acts-{a}')")
    if plan.get("n") is not None:
        click_element(page, "document.getElementById('in-n')")
        type_text(page, str(plan["n"]))
    if plan.get("hall"):
        f = next(x for x in d["facilities"]["hall"] if x["id"] == plan["hall"][0])
        click_element(page, circle_titled("hall", f["name"]))
        # Native select popups cannot be clicked headless: frequency and mode are set as a choice would.
        page.evaluate(f"(() => {{ for (const [id, v] of [['in-hall-frequency', {json.dumps(plan['hall'][1])}], ['in-hall-mode', {json.dumps(plan['hall'][2])}]]) "
                      "{ const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change', {bubbles: true})); } })()")
    if plan.get("assoc"):
        click_element(page, f"document.getElementById('in-assoc-{plan['assoc']}')")
        if plan.get("which"):
            click_element(page, "document.getElementById('in-which')")
            type_text(page, plan["which"])
    for pin in plan.get("pins", []):
        click_element(page, "document.querySelector('#q-pins svg')")
        i = page.evaluate("document.querySelectorAll('#pins-pins li').length") - 1
        click_element(page, f"document.getElementById('in-pins-pin{i}-text')")
        type_text(page, pin)
    if plan.get("ideas"):
        click_element(page, "document.getElementById('in-ideas')")
        type_text(page, plan["ideas"])
    click_element(page, "document.getElementById('consent')")
    click_element(page, "document.getElementById('age')")
    click_element(page, "document.getElementById('send')")


def answer_by_keyboard(page, d, plan):
    select_by_keys(page, "in-home", plan["home"])
    options = ["young", "mid", "old"]
    tab_to(page, "in-age-young")
    steps = options.index(plan["age"])
    if steps == 0:
        key(page, "Space")
    for _ in range(steps):
        key(page, "ArrowDown")
    for a in plan["acts"]:
        tab_to(page, f"in-acts-{a}")
        key(page, "Space")
    if plan.get("n") is not None:
        tab_to(page, "in-n")
        type_text(page, str(plan["n"]))
    if plan.get("hall"):
        select_by_keys(page, "in-hall", plan["hall"][0])
        select_by_keys(page, "in-hall-frequency", plan["hall"][1])
        select_by_keys(page, "in-hall-mode", plan["hall"][2])
    if plan.get("assoc"):
        tab_to(page, "in-assoc-ja")
        if plan["assoc"] == "ja":
            key(page, "Space")
        else:
            key(page, "ArrowDown")
        if plan.get("which"):
            tab_to(page, "in-which")
            type_text(page, plan["which"])
    for i, pin in enumerate(plan.get("pins", [])):
        place = d["villages"][i]["id"]
        select_by_keys(page, "in-pins-place", place)
        key(page, "Tab")
        key(page, "Enter")  # Tilføj: the new pin's kind select takes the focus
        page.wait_for(f"document.getElementById('in-pins-pin{i}-kind') === document.activeElement", timeout=10)
        key(page, "Tab")
        type_text(page, pin)
    if plan.get("ideas"):
        tab_to(page, "in-ideas")
        type_text(page, plan["ideas"])
    tab_to(page, "consent")
    key(page, "Space")
    tab_to(page, "age")
    key(page, "Space")
    tab_to(page, "send")
    key(page, "Enter")


def plans(d):
    vs = [v["id"] for v in d["villages"]]
    halls = [f["id"] for f in d["facilities"]["hall"]]
    homes = [vs[0]] * 6 + [vs[1]] * 5 + [vs[2]] * 2 + [vs[3]]
    ages = ["young", "mid", "old"]
    acts = [["eat"], ["sport", "talk"], [], ["eat", "talk"]]
    freq = ["daily", "weekly", "monthly", "yearly", "rarely"]
    modes = ["walk", "bike", "car", "bus", "other"]
    out = []
    for i, home in enumerate(homes):
        p = {"home": home, "age": ages[i % 3], "acts": acts[i % 4], "n": (i % 5) + 1 if i % 3 else None}
        if i % 4 != 3:
            p["hall"] = (halls[i % 2], freq[i % 5], modes[i % 5])
        p["assoc"] = "ja" if i % 2 == 0 else "nej"
        if p["assoc"] == "ja" and i % 4 == 0:
            p["which"] = f"Forening {i} {SCRIPT}"
        if i in (0, 7):
            p["pins"] = [f"Sted {i} {PWN}"]
        if i % 3 == 1:
            p["ideas"] = f"Idé {i}\n{PWN} & {SCRIPT}"
        out.append(p)
    return out


AUDIT = """(() => {
  const all = [...document.querySelectorAll('*')];
  return {pwned: document.body.dataset.pwned || null, img: document.getElementsByTagName('img').length,
          script: document.getElementsByTagName('script').length,
          on: all.filter(e => [...e.attributes].some(a => /^on/i.test(a.name))).length};
})()"""

A11Y = """(() => {
  const fields = [...document.querySelectorAll('input, select, textarea')].filter(e => e.type !== 'hidden');
  const unlabelled = fields.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id || e.name);
  function rgb(s) { const m = s.match(/[\\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 1]; }
  function lum(c) { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); }
  function bg(e) { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length < 4 || c[3] > 0.99) return c; } return [255, 255, 255]; }
  const low = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('svg') || e.closest('[hidden]') || !e.offsetParent) continue;
    if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const a = lum(rgb(getComputedStyle(e).color)), b = lum(bg(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push([e.tagName, e.textContent.trim().slice(0, 30), ratio.toFixed(2)]);
  }
  return {lang: document.documentElement.lang, unlabelled, low: low.slice(0, 5), fields: fields.length};
})()"""


def audit(page, label):
    a = page.evaluate(AUDIT)
    check(f"{label}: nothing executed", a["pwned"] is None, a)
    check(f"{label}: no img elements or on* attributes from data", a["img"] == 0 and a["on"] == 0, a)
    violations = page.csp_violations()
    check(f"{label}: no CSP violations", not violations, violations[:3])
    check(f"{label}: no script errors", not page.exceptions, page.exceptions[:3])


def expected_tallies(ps, d):
    exp = {"age": {}, "acts": {}, "assoc": {}, "villages": {}, "hall": {}, "modes": {}, "n": []}
    for p in ps:
        exp["age"][p["age"]] = exp["age"].get(p["age"], 0) + 1
        for a in p["acts"]:
            exp["acts"][a] = exp["acts"].get(a, 0) + 1
        exp["assoc"][p["assoc"]] = exp["assoc"].get(p["assoc"], 0) + 1
        exp["villages"][p["home"]] = exp["villages"].get(p["home"], 0) + 1
        if p.get("hall"):
            exp["hall"][p["hall"][0]] = exp["hall"].get(p["hall"][0], 0) + 1
            exp["modes"][p["hall"][2]] = exp["modes"].get(p["hall"][2], 0) + 1
        if p.get("n") is not None:
            exp["n"].append(p["n"])
    return exp


def check_tallies(res, ps, d):
    exp = expected_tallies(ps, d)
    check("respondents: every submitted answer", res["respondents"] == len(ps), res["respondents"])
    qs = {q["id"]: q for b in res["blocks"] for q in b["questions"]}
    for qid in ("age", "acts", "assoc"):
        got = {o["id"]: o["count"] for o in qs[qid]["options"]}
        want = {o: exp[qid].get(o, 0) for o in got}
        check(f"tally of `{qid}` equals the submitted answers", got == want, (got, want))
    got_n = qs["n"].get("number") or {}
    if exp["n"]:
        check("number: count and mean", got_n.get("count") == len(exp["n"]) and abs(got_n.get("mean", 0) - sum(exp["n"]) / len(exp["n"])) < 1e-9,
              (got_n, exp["n"]))
    for g in res["byVillage"]:
        n = exp["villages"].get(g["id"], 0)
        if 0 < n < res["minimumGroupSize"]:
            check(f"village {g['id']} with {n} answers is suppressed", g["suppressed"] and g.get("respondents") is None, g)
        else:
            check(f"village {g['id']}: {n} answers", not g["suppressed"] and g.get("respondents") == n, g)
    use = next(u for u in res["facilityUse"] if u["question"] == "hall")
    got = {f["id"]: f["users"] for f in use["facilities"]}
    check("facility users equal the submitted answers", got == exp["hall"], (got, exp["hall"]))
    modes = {m["id"]: m["count"] for m in use["modes"] if m["count"]}
    check("mode counts equal the submitted answers", modes == exp["modes"], (modes, exp["modes"]))
    texts = sorted(p["ideas"].strip() for p in ps if p.get("ideas"))
    check("free texts stored as written (markup kept as text)", qs["ideas"].get("texts") == texts, (qs["ideas"].get("texts"), texts))


def check_observed(base, res, tmp, study_file):
    """Observed against nearest from the exported answers and `klynge matrix`, computed here."""
    code, _, raw = request("GET", f"{base}/survey/test-open/export?format=geojson", headers={"Authorization": f"Bearer {TOKEN}"})
    check("export GeoJSON: 200", code == 200, code)
    fc = json.loads(raw)
    responses = [f for f in fc["features"] if f["properties"].get("layer") == "responses"]
    check("export: one feature per response", len(responses) == res["respondents"], len(responses))
    check("export: flat properties (no nested objects)", all(not isinstance(v, (dict, list)) for f in responses for v in f["properties"].values()))
    matrix = os.path.join(tmp, "matrix-hall-car.csv")
    subprocess.run([klynge, "matrix", study_file, "--mode", "car", "--category", "hall", "-o", matrix], check=True, capture_output=True, timeout=120)
    dur = {}
    with open(matrix) as f:
        next(f)
        for line in f:
            a, b, _, s = line.strip().split(",")
            dur[(a, b)] = float(s) if s else float("inf")
    halls = {b for (_, b) in dur}
    n = near = 0
    extras = []
    for f in responses:
        p = f["properties"]
        used, home = p.get("hall_facility"), p.get("village_id")
        if not used or used == "none" or not home:
            continue
        best = min(dur[(home, h)] for h in halls)
        if dur[(home, used)] == float("inf") or best == float("inf"):
            continue
        n += 1
        if dur[(home, used)] - best <= 0.011:
            near += 1
        else:
            extras.append((dur[(home, used)] - best) / 60)
    o = next(x for x in res["observedVersusNearest"] if x["question"] == "hall")
    check("observed vs nearest: respondents", o["respondents"] == n, (o["respondents"], n))
    check("observed vs nearest: using the nearest", o["usingNearest"] == near, (o["usingNearest"], near))
    if extras:
        mean = sum(extras) / len(extras)
        check("observed vs nearest: mean extra minutes", abs((o["meanExtraMinutes"] or 0) - mean) < 0.01, (o["meanExtraMinutes"], mean))


def check_refusals(base):
    def count():
        return results(base, "test-open")["respondents"]
    before = count()
    d = json.loads(request("GET", f"{base}/survey/test-open/definition.json")[2])
    home = d["villages"][0]["id"]
    ok = {"consent": True, "age_confirmed": True, "answers": {"home": home, "age": "mid"}}
    cases = [
        ("unknown question", dict(ok, answers=dict(ok["answers"], nope="x")), 422),
        ("hidden question answered", dict(ok, answers=dict(ok["answers"], assoc="nej", which="x")), 422),
        ("not an option", dict(ok, answers=dict(ok["answers"], age="ancient")), 422),
        ("unknown village", dict(ok, answers=dict(ok["answers"], home="node/0")), 422),
        ("number out of range", dict(ok, answers=dict(ok["answers"], n=99)), 422),
        ("too many choices", dict(ok, answers=dict(ok["answers"], acts=["eat", "sport", "talk"])), 422),
        ("pin outside the study", dict(ok, answers=dict(ok["answers"], pins=[{"lon": 12.5, "lat": 40.0, "kind": "wish", "text": ""}])), 422),
        ("no consent", dict(ok, consent=False), 422),
        ("required question missing", dict(ok, answers={"age": "mid"}), 422),
    ]
    for name, payload, status in cases:
        code, raw = answer(base, "test-open", payload)
        msg = json.loads(raw).get("error", {}).get("message", "") if raw else ""
        check(f"refused ({name}): {status} with a message", code == status and len(msg) > 5, (code, raw[:200]))
    code, _ = answer(base, "test-open", None, raw='{"consent": true, "answers": {"n": 1e999}}')
    check("refused (an infinite number): 4xx", 400 <= code < 500, code)
    code, _ = answer(base, "test-open", None, raw="[" * 5000 + "]" * 5000)
    check("refused (deep nesting): 4xx", 400 <= code < 500, code)
    code, _ = answer(base, "test-open", None, raw=json.dumps(dict(ok, answers=dict(ok["answers"], pad="x" * 80_000))))
    check("refused (too large a body): 413", code == 413, code)
    code, raw = answer(base, "test-closed", {"consent": True, "age_confirmed": True, "answers": {"q": "x"}})
    check("refused (survey closed): 403", code == 403, (code, raw[:200]))
    check("nothing stored by refused answers", count() == before, (count(), before))
    opener = device()
    code1, _ = answer(base, "test-open", ok, opener)
    code2, raw2 = answer(base, "test-open", ok, opener)
    check("one answer per device: the second is 409", code1 == 201 and code2 == 409, (code1, code2, raw2[:200]))
    code = request("GET", f"{base}/survey/test-open/results")[0]
    check("results without the token: 401", code == 401, code)
    code = request("GET", f"{base}/survey/test-open/results", headers={"Authorization": "Bearer wrong-token-0000"})[0]
    check("results with a wrong token: 401", code == 401, code)
    return 1  # the one accepted answer


def check_flood(study_file, tmp):
    s = Server(study_file, os.path.join(tmp, "flood.gpkg"), rate="20/30")
    check("flood server starts", s.up, s.log)
    if not s.up:
        return
    d = json.loads(request("GET", f"{s.base}/survey/test-open/definition.json")[2])
    ok = {"consent": True, "age_confirmed": True, "answers": {"home": d["villages"][0]["id"], "age": "mid"}}
    codes = [answer(s.base, "test-open", ok)[0] for _ in range(40)]
    check("flooding one address: limited with 429", codes.count(429) >= 19 and codes.count(201) <= 20, codes)
    check("flooding: at most the burst stored", results(s.base, "test-open")["respondents"] <= 20)
    s.kill(signal.SIGTERM)


def check_kill9(study_file, tmp):
    store = os.path.join(tmp, "kill.gpkg")
    s = Server(study_file, store)
    check("kill -9 server starts", s.up, s.log)
    if not s.up:
        return
    d = json.loads(request("GET", f"{s.base}/survey/test-open/definition.json")[2])
    ok = {"consent": True, "age_confirmed": True, "answers": {"home": d["villages"][1]["id"], "age": "old", "ideas": "stream"}}
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def stream():
        while not stop.is_set():
            try:
                code, raw = answer(s.base, "test-open", ok)
            except Exception:
                return
            if code == 201:
                with lock:
                    acked.append(json.loads(raw)["id"])
    threads = [threading.Thread(target=stream) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(3)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    check("kill -9: answers were acknowledged before the kill", len(acked) > 5, len(acked))
    con = sqlite3.connect(store)
    integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    stored = {r[0] for r in con.execute("SELECT id FROM klynge_survey_responses WHERE name = 'test-open'")}
    con.close()
    check("kill -9: the store passes SQLite's integrity check", integrity == "ok", integrity)
    missing = [a for a in acked if a not in stored]
    check(f"kill -9: every acknowledged answer is stored ({len(acked)} acknowledged, {len(stored)} stored)", not missing, missing[:5])
    s2 = Server(study_file, store)
    check("after kill -9 the service starts again on the store", s2.up, s2.log)
    if s2.up:
        check("after kill -9 the results count every acknowledged answer", results(s2.base, "test-open")["respondents"] >= len(acked))
        s2.kill(signal.SIGTERM)


def main():
    tmp = tempfile.mkdtemp(prefix="klynge-survey-check-")
    study_file = make_study(tmp)
    v = subprocess.run([klynge, "survey", "check", study_file], capture_output=True, text=True, timeout=120)
    check("`klynge survey check` accepts the test surveys", v.returncode == 0, v.stderr[-400:])
    server = Server(study_file, os.path.join(tmp, "store.gpkg"))
    check("the service starts with the surveys", server.up, server.log)
    if not server.up:
        checks.finish()
    base = server.base
    d = json.loads(request("GET", f"{base}/survey/test-open/definition.json")[2])
    ps = plans(d)
    with cdp.Browser() as browser:
        page = open_survey(browser, base, "test-open")
        a = page.evaluate(A11Y)
        check("survey page: the language is set", a["lang"] == "da", a)
        check("survey page: every field has a label", not a["unlabelled"] and a["fields"] > 10, a)
        check("survey page: text contrast at least 4.5:1", not a["low"], a["low"])
        audit(page, "survey page with markup in the survey's texts")
        check("survey page: the survey's own markup shown as text", PWN in page.evaluate("document.getElementById('title').textContent"))
        page.screenshot(os.path.join(out, "survey-page.png"))
        page.close()
        phone = open_survey(browser, base, "test-open", width=360, height=740)
        wide = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        check("on a 360 px phone nothing is wider than the screen", wide[0] <= wide[1], wide)
        phone.close()
        for i, p in enumerate(ps):
            page = open_survey(browser, base, "test-open")
            try:
                (answer_by_map if i % 2 == 0 else answer_by_keyboard)(page, d, p)
                page.wait_for("!!document.body.dataset.submitted || !!document.body.dataset.failed", timeout=30)
                ok = page.evaluate("document.body.dataset.submitted || null")
                check(f"respondent {i} ({'map' if i % 2 == 0 else 'keyboard'}) submitted", ok is not None,
                      page.evaluate("document.getElementById('status').textContent"))
            except Exception as e:
                check(f"respondent {i} ({'map' if i % 2 == 0 else 'keyboard'}) could answer", False, repr(e)[:300])
            audit(page, f"respondent {i}")
            page.close()
        res = results(base, "test-open")
        check_tallies(res, ps, d)
        check_observed(base, res, tmp, study_file)

        # The working group's page: what the survey says of each hall beside who it serves, small counts
        # withheld, and the answers affected when a hall is switched off.
        exp = expected_tallies(ps, d)["hall"]
        wg = browser.new_page(1400, 900)
        wg.goto(f"{base}/app/?category=hall")
        wg.wait_for("document.body.dataset.done === '1' || !!document.body.dataset.error", timeout=60)
        shown = wg.evaluate("Object.fromEntries([...document.querySelectorAll('.survey-use')].map(e => [e.dataset.id, e.textContent]))")
        for hall, n in exp.items():
            text = shown.get(hall, "")
            ok = ("under 5" in text) if n < 5 else (f"{n} svar" in text)
            check(f"working group page: hall {hall} shows {n} survey answers ({'withheld' if n < 5 else 'counted'})", ok, text)
        big = [h for h, n in exp.items() if n >= 5]
        if big:
            n0 = int(wg.evaluate("+(document.body.dataset.refreshes || 0)"))
            wg.evaluate(f"document.querySelector('#facilities input[data-id={json.dumps(big[0])}]').click()")
            wg.wait_for(f"+(document.body.dataset.refreshes || 0) > {n0} && document.body.dataset.ready === '1'", timeout=30)
            got = wg.evaluate("document.getElementById('survey-affected').dataset.value")
            check("working group page: switching off a hall gives its survey users as affected", got == str(exp[big[0]]), (got, exp[big[0]]))
        audit(wg, "working group page with survey counts")
        wg.close()

        # The administrator's page: hostile answers shown as text; a pin approved there becomes public.
        admin = browser.new_page(1200, 900)
        admin.goto(f"{base}/survey/test-open/admin/")
        admin.evaluate(f"document.getElementById('token').value = {json.dumps(TOKEN)}")
        click_element(admin, "document.querySelector('#login button')")
        admin.wait_for("document.body.dataset.done === '1' || !!document.body.dataset.error", timeout=30)
        audit(admin, "admin page with hostile answers")
        admin.screenshot(os.path.join(out, "survey-admin.png"))
        check("admin page: the pins' map draws them (clustered by screen distance)",
              int(admin.evaluate("(document.querySelector('#body svg') || {dataset: {}}).dataset.clusters || 0")) >= 1)
        body = admin.evaluate("document.getElementById('body').textContent")
        check("admin page: hostile free text shown as text", PWN in body and SCRIPT in body, body[:200])
        check("public pins: none before moderation", json.loads(request("GET", f"{base}/survey/test-open/pins")[2]) == [])
        click_element(admin, "[...document.querySelectorAll('#body button')].find(b => b.textContent === 'Godkend')")
        admin.wait_for("document.body.dataset.done === '2'", timeout=30)
        public = json.loads(request("GET", f"{base}/survey/test-open/pins")[2])
        check("public pins: the approved pin only", len(public) == 1 and PWN in public[0]["text"], public)
        admin.close()
        page = open_survey(browser, base, "test-open")
        page.wait_for("document.querySelectorAll('#q-pins circle.other-pin').length === 1", timeout=20)
        audit(page, "survey page with an approved hostile pin")
        page.close()

        check_refusals(base)
        # The page in English, switched half-way: what was answered stays.
        page = open_survey(browser, base, "test-open")
        click_element(page, "document.getElementById('in-age-mid')")
        click_element(page, "document.getElementById('in-ideas')")
        type_text(page, "kept across languages")
        click_element(page, "document.querySelector('#q-pins svg')")
        click_element(page, "document.getElementById('lang')")
        check("English page", page.evaluate("document.documentElement.lang") == "en"
              and "Test survey" in page.evaluate("document.getElementById('title').textContent"))
        kept = page.evaluate("[document.getElementById('in-age-mid').checked, document.getElementById('in-ideas').value, "
                             "document.querySelectorAll('#pins-pins li').length]")
        check("switching language keeps the answers and pins", kept == [True, "kept across languages", 1], kept)
        page.close()
        # A second answer from the same device is refused in the respondent's language.
        page = open_survey(browser, base, "test-open")
        page.evaluate("document.cookie")  # the device cookie is HttpOnly: the page cannot read or change it
        answer_by_map(page, d, {"home": d["villages"][0]["id"], "age": "young", "acts": []})
        page.wait_for("!!document.body.dataset.submitted || !!document.body.dataset.failed", timeout=30)
        page.close()
        page = browser.new_page(420, 900)
        page.goto(f"{base}/survey/test-open/")
        page.wait_for("document.body.dataset.done === '1'", timeout=30)
        answer_by_map(page, d, {"home": d["villages"][0]["id"], "age": "young", "acts": []})
        page.wait_for("!!document.body.dataset.submitted || !!document.body.dataset.failed", timeout=30)
        said = page.evaluate("[document.body.dataset.failed || '', document.getElementById('status').textContent]")
        check("a second answer from the same browser: 409, said in Danish", said[0] == "409" and "allerede svaret" in said[1], said)
        page.close()
    server.kill(signal.SIGTERM)
    check_flood(study_file, tmp)
    check_kill9(study_file, tmp)
    checks.finish()


main()
