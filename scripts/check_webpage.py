#!/usr/bin/env python3
"""The service checked with real clients: a headless Chromium (driven over the DevTools protocol, scripts/cdp.py)
uses the web page, ogrinfo reads the OGC API, and plain HTTP requests check security, persistence and crash safety.

Also: hostile names (from study data, saved scenarios and URL parameters) must never run as script, the page's
security headers, and the page at kommune size (about 4,000 demand points, scripts/make_kommune_study.py).

Usage: check_webpage.py KLYNGE_BINARY STUDY.yaml OUT_FOLDER
Prints 'N passed, N failed'; exits 1 on a failure; skips (exit 0) without chromium.
"""
import csv
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ left in scripts/
import cdp  # noqa: E402
from oracle import Checks  # noqa: E402
from klynge_service import Service, free_port, request  # noqa: E402

klynge, study, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
if not cdp.find_chromium():
    print("skipped: no chromium")
    sys.exit(0)
os.makedirs(out, exist_ok=True)
checks = Checks()
check = checks.check
TOKEN = "proeve-token-123"
STARTED = time.monotonic()
CLOSED = ["node/5938809867", "way/413945490"]   # two halls
HALLS = ["node/5938809867", "way/413945490", "way/463402465"]
NETTO = "way/213216789"                         # a shop no study scenario mentions
# Each payload runs script if a page ever parses it as markup or follows it as a link.
PAYLOADS = {
    "img": '<img src=x onerror="document.body.dataset.pwned=1">',
    "svg": '<svg onload="document.body.dataset.pwned=1">',
    "script": '"><script>document.body.dataset.pwned=1</script>',
    "js": "javascript:document.body.dataset.pwned=1",
}
FORMULA = '=HYPERLINK("http://example.invalid")'


# ---------- servers and requests ----------

def Server(study_file, store, port=None, timeout=90):
    return Service(klynge, study_file, store, TOKEN, port=port, timeout=timeout)


def get_json(url):
    code, _, raw = request("GET", url)
    if code != 200:
        raise RuntimeError(f"GET {url}: {code} {raw[:200]!r}")
    return json.loads(raw)


def post_scenario(base, spec):
    return request("POST", f"{base}/api/scenarios", json.dumps(spec),
                   {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})


def js(value):
    """A Python value as a JavaScript literal."""
    return json.dumps(value)


# ---------- the page ----------

LOADED = "document.body.dataset.done === '1' || !!document.body.dataset.error"

# What executable content the document holds; a clean page sets the numbers every other page must match.
AUDIT = """(() => {
  const all = [...document.querySelectorAll('*')];
  const on = all.filter(e => [...e.attributes].some(a => /^on/i.test(a.name))).map(e => e.tagName.toLowerCase());
  const urls = all.filter(e => [...e.attributes].some(a => /^(href|src|xlink:href|action|formaction)$/i.test(a.name) &&
                                                          /^\\s*javascript:/i.test(a.value))).length;
  const n = tag => document.getElementsByTagName(tag).length;
  return {pwned: document.body.dataset.pwned === undefined ? null : document.body.dataset.pwned,
          img: n('img'), script: n('script'), iframe: n('iframe'), object: n('object'), embed: n('embed'), svg: n('svg'),
          onAttributes: on, scriptUrls: urls, error: document.body.dataset.error || null};
})()"""


def open_page(browser, url, timeout=60):
    page = browser.new_page(1400, 900)
    page.goto(url, timeout=timeout)
    page.wait_for(LOADED, timeout=timeout)
    return page


def text_of(page, selector):
    return page.evaluate(f"(document.querySelector({js(selector)}) || {{textContent: ''}}).textContent") or ""


def share_of(page):
    v = page.evaluate("document.getElementById('share').dataset.value")
    return float(v) if v else None


def wait_refresh(page, action, timeout=30):
    """Runs an action in the page and waits for the refresh it starts to finish."""
    n = int(page.evaluate("+(document.body.dataset.refreshes || 0)"))
    page.evaluate(action)
    page.wait_for(f"+(document.body.dataset.refreshes || 0) > {n} && document.body.dataset.ready === '1'", timeout=timeout)


clean_counts = {}


def audit(page, label, shown=()):
    """Nothing ran, no executable element appeared, the hostile text is on the page as text, no CSP report."""
    a = page.evaluate(AUDIT)
    check(f"{label}: nothing executed", a["pwned"] is None, a)
    extra = {k: (a[k], clean_counts.get(k)) for k in ("img", "script", "iframe", "object", "embed", "svg") if a[k] != clean_counts.get(k)}
    check(f"{label}: no injected elements (img/script/iframe/object/svg as on a clean page)", not extra, extra)
    check(f"{label}: no on* attributes and no script URLs", not a["onAttributes"] and not a["scriptUrls"], a)
    for selector, text in shown:
        got = text_of(page, selector)
        check(f"{label}: the name is shown as text in {selector}", text in got, got[:300])
    violations = page.csp_violations() + [e for e in page.log if "Content Security Policy" in (e[2] or "")]
    check(f"{label}: no CSP violations", not violations, violations[:3])
    check(f"{label}: no script errors", not page.exceptions, page.exceptions[:3])
    return a


def study_copy(src_study, folder, name="study.yaml", edit=None):
    """The study file with its sources made absolute (so it may live elsewhere), optionally edited."""
    text = open(src_study).read()
    text = re.sub(r"(\bsource:\s*)(?![/\"'])", r"\g<1>" + os.path.dirname(src_study) + "/", text)
    text = text.replace("surveys: [survey.yaml]", "surveys: [" + os.path.join(os.path.dirname(src_study), "survey.yaml") + "]")
    if edit:
        text = edit(text)
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# ---------- the checks ----------

def check_headers(base):
    for path, kind in [("/app/", "text/html"), ("/app/app.js", "javascript"), ("/app/app.css", "text/css")]:
        code, headers, body = request("GET", base + path)
        ctype = headers.get("Content-Type", "")
        check(f"{path}: 200 as {kind}", code == 200 and kind in ctype, f"{code} {ctype}")
        csp = headers.get("Content-Security-Policy", "")
        check(f"{path}: CSP with script-src 'self' and frame-ancestors 'none'", "script-src 'self'" in csp and "frame-ancestors 'none'" in csp,
              csp or "no Content-Security-Policy header")
        check(f"{path}: X-Content-Type-Options: nosniff", headers.get("X-Content-Type-Options", "").lower() == "nosniff",
              headers.get("X-Content-Type-Options"))
    # The page's own files hold nothing that parses markup or runs strings, and no inline script or style.
    html = request("GET", base + "/app/")[2].decode()
    script = request("GET", base + "/app/app.js")[2].decode()
    bad_html = [p for p in [r"<script(?![^>]*\ssrc=)[^>]*>", r"<style", r"\sstyle\s*=", r"<[^>]+\son\w+\s*=", r"javascript:"]
                if re.search(p, html, re.I)]
    check("index.html: no inline script, style or event attributes", not bad_html, bad_html)
    bad_js = [w for w in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "javascript:",
                          "setTimeout(\"", "setTimeout('"] if w in script]
    check("app.js: no markup parsing, eval or script URLs", not bad_js, bad_js)


def check_main(browser, server, tmp):
    global clean_counts
    base = server.base
    close = ",".join(CLOSED)
    # The page closes two halls; the share it shows equals the CLI's for the same scenario.
    page = open_page(browser, f"{base}/app/?category=hall&close={close}")
    loaded = page.evaluate("document.body.dataset.done === '1' && !document.body.dataset.error")
    check("page loads", loaded, page.evaluate("document.body.dataset.error"))
    clean_counts = page.evaluate(AUDIT)
    page_share = share_of(page)
    extra = study_copy(study, tmp, "cli.yaml", lambda t: re.sub(r"\nscenarios:\n", "\nscenarios:\n  - name: Browser\n    close: [" + ", ".join(CLOSED) + "]\n", t))
    cli = json.loads(subprocess.run([klynge, "coverage", extra, "--scenario", "Browser", "--category", "hall", "--json"],
                                    capture_output=True, text=True, check=True).stdout)
    cli_share = cli["categories"][0]["coveredShare"]
    check("page share equals the CLI", page_share is not None and abs(page_share - cli_share) < 1e-6, f"page {page_share}, CLI {cli_share}")
    # The farthest village shown is the CLI's worst among those who reach a hall, with its time in minutes.
    worst_text = page.evaluate("document.getElementById('worst').textContent")
    cli_worst = cli["categories"][0]
    minutes = f"{cli_worst['maxReachable'] / 60:.1f}".replace(".", ",")
    check("the farthest village is the CLI's worst reachable", cli_worst["worstReachableName"] in worst_text and minutes in worst_text,
          f"page {worst_text!r}, CLI {cli_worst['worstReachableName']} {minutes}")
    baseline = get_json(f"{base}/api/coverage?category=hall")["categories"][0]["coveredShare"]
    check("closing halls changed the share", page_share is not None and page_share < baseline, f"{page_share} vs {baseline}")
    check("the page's language is Danish", page.evaluate("document.documentElement.lang") == "da")
    check("the map has an accessible name",
          bool(page.evaluate("(() => { const m = document.getElementById('map'); const id = m.getAttribute('aria-labelledby');"
                             " return (m.getAttribute('aria-label') || (id && document.getElementById(id).textContent) || '').trim(); })()")))
    unlabelled = page.evaluate("[...document.querySelectorAll('input, select')].filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.id)")
    check("every input has a label", not unlabelled, unlabelled)
    legend = page.evaluate("document.querySelectorAll('#legend li').length")
    check("the map has a legend (7 entries)", legend == 7, legend)
    check("the village table is sorted worst first",
          page.evaluate("(() => { const v = [...document.querySelectorAll('#villages tr')].map(r => r.dataset.id);"
                        " return v.length > 0 && v[0] === state.rows[0].id; })()"))
    # A facility switched off with the keyboard alone (focus and Space).
    before = share_of(page)
    page.evaluate("document.querySelector('#facilities input[data-id=\"way/463402465\"]').focus()")
    n = int(page.evaluate("+document.body.dataset.refreshes"))
    page.key(" ", "Space", " ", 32)
    page.wait_for(f"+document.body.dataset.refreshes > {n} && document.body.dataset.ready === '1'", timeout=20)
    check("a facility can be switched off with the keyboard",
          page.evaluate("!document.querySelector('#facilities input[data-id=\"way/463402465\"]').checked") and share_of(page) != before,
          (before, share_of(page)))
    focus = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    check("the focused checkbox shows a focus outline", focus not in (None, "none"), focus)
    wait_refresh(page, "document.querySelector('#facilities input[data-id=\"way/463402465\"]').click()")
    page.screenshot(os.path.join(out, "webpage.png"))
    check("screenshot kept", os.path.getsize(os.path.join(out, "webpage.png")) > 10000)
    page.close()

    # A new meeting place from the URL: the share follows the server's figure.
    page = open_page(browser, f"{base}/app/?category=hall&open=10.575,55.95,Multihus")
    api = get_json(f"{base}/api/coverage?category=hall&open=10.575,55.95,Multihus")["categories"][0]["coveredShare"]
    check("a new meeting place shows its coverage", share_of(page) is not None and abs(share_of(page) - api) < 1e-6 and api > baseline,
          f"{share_of(page)} vs {api}")
    page.close()

    # A new meeting place put on the map with a click, named through the prompt with a hostile name.
    page = open_page(browser, f"{base}/app/?category=hall")
    x, y = page.evaluate("(() => { const svg = document.getElementById('map'); const [x, y] = project(10.575, 55.95);"
                         " const p = svg.createSVGPoint(); p.x = x; p.y = y; const q = p.matrixTransform(svg.getScreenCTM()); return [q.x, q.y]; })()")
    page.prompt_text = PAYLOADS["js"]
    page.evaluate("document.getElementById('place').click()")
    n = int(page.evaluate("+document.body.dataset.refreshes"))
    page.click(x, y)
    page.wait_for(f"+document.body.dataset.refreshes > {n} && document.body.dataset.ready === '1'", timeout=20)
    placed = page.evaluate("state.opened.map(o => [o.lon, o.lat, o.name])")
    check("a click on the map places a new meeting place", len(placed) == 1 and abs(placed[0][0] - 10.575) < 0.01 and abs(placed[0][1] - 55.95) < 0.01,
          placed)
    if placed:
        lon, lat = placed[0][0], placed[0][1]
        q = urllib.parse.quote(f"{lon:.6f},{lat:.6f},{PAYLOADS['js']}")
        api = get_json(f"{base}/api/coverage?category=hall&open={q}")["categories"][0]["coveredShare"]
        check("the placed meeting place shows the server's figure", abs(share_of(page) - api) < 1e-6, f"{share_of(page)} vs {api}")
    audit(page, "hostile name typed for a new place", [("#opened", PAYLOADS["js"])])
    page.close()

    # ?save= and ?token= do nothing: saving needs a typed token and a press of Save.
    page = open_page(browser, f"{base}/app/?category=hall&close={close}&save=Fra%20URL&token={TOKEN}")
    time.sleep(0.5)
    names = [r["scenario"]["name"] for r in get_json(f"{base}/api/scenarios")["saved"]]
    check("?save= and ?token= in the URL neither save nor fill the token", "Fra URL" not in names and page.evaluate("document.getElementById('token').value") == "",
          names)
    # Save pressed without a token: a message, no request.
    page.evaluate(f"(() => {{ const e = document.getElementById('scenarioName'); e.value = 'Uden nøgle'; e.dispatchEvent(new Event('input', {{bubbles: true}}));"
                  " document.getElementById('save').click(); })()")
    time.sleep(0.3)
    names = [r["scenario"]["name"] for r in get_json(f"{base}/api/scenarios")["saved"]]
    check("Save without a token asks for it and saves nothing", "Uden nøgle" not in names and text_of(page, "#status").strip() != "", text_of(page, "#status"))
    # A wrong token: refused, and the page says so.
    save_from_page(page, "Forkert nøgle", token="forkert")
    names = [r["scenario"]["name"] for r in get_json(f"{base}/api/scenarios")["saved"]]
    check("a wrong token is refused with a message on the page", page.evaluate("document.body.dataset.saved") != "1" and "Forkert nøgle" not in names
          and text_of(page, "#status").strip() != "", text_of(page, "#status"))
    # Saved from the page as a person would: token and name typed, Save pressed.
    save_from_page(page, "Fra browseren")
    check("page saved the scenario", page.evaluate("document.body.dataset.saved") == "1", text_of(page, "#status"))
    saved = {r["scenario"]["name"]: r for r in get_json(f"{base}/api/scenarios")["saved"]}
    check("the saved scenario holds the closed halls", sorted((saved.get("Fra browseren") or {"scenario": {}})["scenario"].get("close") or []) == sorted(CLOSED),
          saved.get("Fra browseren"))
    check("the page lists the saved scenario", "Fra browseren" in text_of(page, "#savedList"))
    page.close()
    return cli_share


def check_clusters(browser, server, tmp):
    """The cluster editor: the study's own clusters (not contiguous on Samsø) are flagged; moving Besser to
    Midtøen by clicking the map mends it, checked against the command line's view of the same clustering;
    the keyboard list moves areas too; the result is saved as a new alternative the CLI can use."""
    base = server.base
    page = open_page(browser, f"{base}/app/?category=hall")
    page.wait_for("+(document.body.dataset.clusterChecks || 0) >= 1", timeout=30)
    check("clusters: the editor starts on the study's own clusters",
          page.evaluate("document.getElementById('clusterA').value") == "study" and not page.evaluate("document.getElementById('clusterCard').hidden"))
    problems = text_of(page, "#clusterProblems")
    check("clusters: the study's own Nordøen is flagged as not contiguous", "Nordøen hænger ikke sammen" in problems, problems)
    check("clusters: saving is disabled while a rule is broken", page.evaluate("document.getElementById('clusterSave').disabled"))
    # Besser (7241) is Nordøen's part that does not touch Nordby: click it on the left map until it is in Midtøen.
    for _ in range(3):
        if page.evaluate("document.querySelector('#areaRows select[data-area=\"7241\"]').value") == "Midtøen":
            break
        n = int(page.evaluate("+document.body.dataset.clusterChecks"))
        page.evaluate("document.querySelector('#miniA path[data-area=\"7241\"]').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
        page.wait_for(f"+document.body.dataset.clusterChecks > {n}", timeout=30)
    check("clusters: a click moved Besser to Midtøen", page.evaluate("document.querySelector('#areaRows select[data-area=\"7241\"]').value") == "Midtøen")
    check("clusters: the edited clustering is valid", page.evaluate("document.body.dataset.clusterValid") == "1", text_of(page, "#clusterProblems"))
    # The same clustering through the command line: a file with area_id,cluster, compared with the CLI's figures.
    work = page.evaluate("JSON.stringify(clusterState.work)")
    assignments = json.loads(work)
    path = os.path.join(tmp, "edited.csv")
    with open(path, "w") as f:
        f.write("area_id,cluster\n" + "".join(f"{a},{c}\n" for a, c in sorted(assignments.items())))
    cli = json.loads(subprocess.run([klynge, "regions", "compare", study, "--clustering", path, "--json"],
                                    capture_output=True, text=True, check=True).stdout)["alternatives"][0]
    figures = page.evaluate("[...document.querySelectorAll('#clusterFigures tr')].map(r => [...r.cells].map(c => c.textContent))")
    rows = {r[0]: r[1] for r in figures}
    check("clusters: the page counts the CLI's clusters", rows.get("Klynger") == str(cli["clusters"]), (rows, cli["clusters"]))
    people = f"{int(cli['populationMin']):,}".replace(",", ".") + "–" + f"{int(cli['populationMax']):,}".replace(",", ".")
    check("clusters: the page's smallest and largest cluster are the CLI's", rows.get("Indb. pr. klynge (mindst–flest)") == people, (rows, people))
    # A limit the edit breaks: 2,000 people at most.
    n = int(page.evaluate("+document.body.dataset.clusterChecks"))
    page.evaluate("(() => { const e = document.getElementById('maxPop'); e.value = '2000'; e.dispatchEvent(new Event('change')); })()")
    page.wait_for(f"+document.body.dataset.clusterChecks > {n}", timeout=30)
    check("clusters: a population limit is checked live", "flere end 2.000" in text_of(page, "#clusterProblems"), text_of(page, "#clusterProblems"))
    n = int(page.evaluate("+document.body.dataset.clusterChecks"))
    page.evaluate("(() => { const e = document.getElementById('maxPop'); e.value = ''; e.dispatchEvent(new Event('change')); })()")
    page.wait_for(f"+document.body.dataset.clusterChecks > {n}", timeout=30)
    # The keyboard way: Kolby (7243) joins a neighbouring cluster through its select.
    sel = "#areaRows select[data-area=\"7243\"]"
    options = page.evaluate(f"[...document.querySelector({js(sel)}).options].map(o => o.value)")
    target = next((o for o in options if o not in ("Sydøen", "\u0000new")), None)
    check("clusters: Kolby's list offers its neighbouring clusters", target is not None, options)
    if target:
        n = int(page.evaluate("+document.body.dataset.clusterChecks"))
        page.evaluate(f"(() => {{ const e = document.querySelector({js(sel)}); e.focus(); e.value = {js(target)}; e.dispatchEvent(new Event('change')); }})()")
        page.wait_for(f"+document.body.dataset.clusterChecks > {n}", timeout=30)
        check("clusters: the list moved Kolby", page.evaluate("clusterState.work['7243']") == target)
    page.evaluate("document.activeElement && document.activeElement.blur(); document.getElementById('clusterCard').scrollIntoView({block: 'start'})")
    time.sleep(0.5)
    page.screenshot(os.path.join(out, "webpage-clusters.png"))
    audit(page, "clusters")
    # Saved with the token as a new alternative; the command line uses it from the store.
    page.evaluate(f"document.getElementById('token').value = {js(TOKEN)}; document.getElementById('clusterName').value = 'Fra siden'")
    page.evaluate("document.body.dataset.lastError = ''; document.getElementById('clusterSave').click()")
    page.wait_for("document.body.dataset.clusterSaved === '1' || !!document.body.dataset.lastError", timeout=30)
    check("clusters: saved from the page", page.evaluate("document.body.dataset.clusterSaved") == "1", page.evaluate("document.body.dataset.lastError"))
    saved = [c for c in get_json(f"{base}/api/clusterings")["clusterings"] if c["name"] == "Fra siden"]
    check("clusters: the service lists the saved alternative with the page's assignments",
          len(saved) == 1 and saved[0]["assignments"] == page.evaluate("clusterState.work"), saved)
    check("clusters: the saved alternative is an OGC collection", request("GET", f"{base}/collections/clustering-fra-siden/items")[0] == 200)
    # A second alternative, saved and then deleted with the page's button (the study's own clusters have none).
    page.evaluate("document.getElementById('clusterName').value = 'Slettes igen'; document.body.dataset.clusterSaved = '0'")
    page.evaluate("document.getElementById('clusterSave').click()")
    page.wait_for("document.body.dataset.clusterSaved === '1' || !!document.body.dataset.lastError", timeout=30)
    check("clusters: the delete button is offered for a saved alternative", page.evaluate("!document.getElementById('clusterDelete').hidden"))
    page.evaluate("document.getElementById('clusterDelete').click()")
    page.wait_for("!!document.body.dataset.clusterDeleted || !!document.body.dataset.lastError", timeout=30)
    names = [c["name"] for c in get_json(f"{base}/api/clusterings")["clusterings"]]
    check("clusters: deleted from the page", "Slettes igen" not in names and "Fra siden" in names, names)
    check("clusters: its collection is gone", request("GET", f"{base}/collections/clustering-slettes-igen/items")[0] == 404)
    page.evaluate("document.getElementById('clusterA').value = 'study'; document.getElementById('clusterA').dispatchEvent(new Event('change'))")
    check("clusters: the study's own clusters cannot be deleted", page.evaluate("document.getElementById('clusterDelete').hidden"))
    page.close()


def check_cli_store(store, tmp):
    """The scenario saved on the page is in the one store the command line reads too."""
    r = subprocess.run([klynge, "scenarios", "list", study, "--store", store, "--json"], capture_output=True, text=True)
    rows = json.loads(r.stdout) if r.returncode == 0 else []
    check("klynge scenarios list shows the page's scenario", any(x["id"] == "fra-browseren" and x["source"] == "saved" for x in rows), r.stdout + r.stderr)
    out = os.path.join(tmp, "report")
    r = subprocess.run([klynge, "report", study, "--store", store, "--out-dir", out], capture_output=True, text=True)
    summary = open(os.path.join(out, "summary.md"), encoding="utf-8").read() if r.returncode == 0 else ""
    check("klynge report compares the page's scenario", "Fra browseren" in summary, r.stderr[-400:])


def save_from_page(page, name, token=TOKEN):
    page.evaluate(f"""(() => {{
      const type = (id, v) => {{ const e = document.getElementById(id); e.focus(); e.value = v; e.dispatchEvent(new Event('input', {{bubbles: true}})); }};
      type('token', {js(token)}); type('scenarioName', {js(name)});
      document.body.dataset.lastError = '';
      document.getElementById('save').click();
    }})()""")
    page.wait_for("document.body.dataset.saved === '1' || !!document.body.dataset.lastError", timeout=20)


def check_url_params(browser, base):
    p = PAYLOADS
    cases = [
        ("hostile ?open= name", f"/app/?category=hall&open=10.575,55.95,{urllib.parse.quote(p['img'])}", [("#opened", p["img"])]),
        ("hostile ?category=", f"/app/?category={urllib.parse.quote(p['svg'])}", [("#status", p["svg"])]),
        ("hostile ?lang=", f"/app/?lang={urllib.parse.quote(p['script'])}", []),
        ("hostile ?load=", f"/app/?load={urllib.parse.quote(p['img'])}", [("#status", p["img"])]),
        ("hostile ?close=", f"/app/?close={urllib.parse.quote(p['script'])}", [("#status", p["script"])]),
        ("?open= with a script URL", f"/app/?category=hall&open=10.575,55.95,{urllib.parse.quote(p['js'])}", [("#opened", p["js"])]),
    ]
    for label, path, shown in cases:
        page = open_page(browser, base + path)
        check(f"{label}: the page still loads", page.evaluate("document.body.dataset.done") == "1", page.evaluate("document.body.dataset.error"))
        audit(page, label, shown)
        if "lang=" in path:
            check(f"{label}: the page stays Danish", page.evaluate("document.documentElement.lang") == "da")
        page.close()


def check_hostile_scenarios(browser, base):
    p = PAYLOADS
    code, _, raw = post_scenario(base, {"name": p["img"], "close": CLOSED[:1]})
    check("a scenario with a hostile name is stored (201)", code == 201, raw[:200])
    code, _, raw = post_scenario(base, {"name": "Nyt hus", "open": [{"name": p["svg"], "categories": ["hall"], "lonlat": [10.575, 55.95]}]})
    check("a scenario with a hostile new facility is stored (201)", code == 201, raw[:200])
    ids = {r["scenario"]["name"]: r["id"] for r in get_json(f"{base}/api/scenarios")["saved"]}
    page = open_page(browser, f"{base}/app/?category=hall")
    audit(page, "hostile scenario names listed", [("#savedList", p["img"])])
    if p["img"] in ids:
        wait_refresh(page, f"document.querySelector('#savedList li[data-id={js(ids[p['img']])}] button.load').click()")
        audit(page, "hostile-named scenario loaded", [("#savedList", p["img"])])
        check("the loaded name is in the name field as a value", page.evaluate("document.getElementById('scenarioName').value") == p["img"])
    if "Nyt hus" in ids:
        wait_refresh(page, f"document.querySelector('#savedList li[data-id={js(ids['Nyt hus'])}] button.load').click()")
        audit(page, "scenario with a hostile new facility loaded", [("#opened", p["svg"]), ("#villages", p["svg"])])
    page.close()
    page = open_page(browser, f"{base}/app/?category=hall&load={urllib.parse.quote('Nyt hus')}")
    check("?load= finds the scenario with the hostile facility", page.evaluate("document.body.dataset.found") == "1")
    audit(page, "?load= of the scenario with a hostile facility", [("#opened", p["svg"])])
    page.close()


def check_security(base):
    # The requests that once ended the process: each a 400 naming its parameter, and the service stays up.
    for path, parameter in [("/collections/roads/items?offset=9223372036854775807", "offset"),
                            ("/collections/roads/items?offset=9223372036854775800&limit=10", "offset"),
                            ("/maps/coverage.png?dpi=nan", "dpi"), ("/maps/coverage.png?dpi=inf", "dpi"),
                            ("/maps/coverage.png?width=800&height=600&dpi=0", "dpi"), ("/maps/coverage.png?dpi=-5", "dpi"),
                            ("/maps/coverage.png?dpi=1e9&width=800&height=600", "dpi")]:
        code, _, raw = request("GET", base + path)
        try:
            named = json.loads(raw)["error"].get("parameter")
        except (ValueError, KeyError, TypeError, AttributeError):
            named = None
        check(f"{path}: 400 naming {parameter}", code == 400 and named == parameter, raw[:200])
    check("the service is still up", request("GET", f"{base}/conformance")[0] == 200)
    body = json.dumps({"name": "Sikkerhed", "close": CLOSED})
    check("write without token: 401", request("POST", f"{base}/api/scenarios", body, {"Content-Type": "application/json"})[0] == 401)
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    check("oversized body: 413", request("POST", f"{base}/api/scenarios", " " * 300000 + body, auth)[0] == 413)
    code, _, raw = request("POST", f"{base}/api/scenarios", '{"name": ', auth)
    try:
        message = json.loads(raw)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = None
    check("malformed JSON: 400 with a message", code == 400 and bool(message), raw)
    code, headers, _ = request("POST", f"{base}/api/scenarios", body, auth)
    check("save: 201", code == 201)
    stale = dict(auth, **{"If-Match": '"0"'})
    check("stale If-Match: 412", request("PUT", f"{base}/api/scenarios/sikkerhed", body, stale)[0] == 412)
    check("delete without token: 401", request("DELETE", f"{base}/api/scenarios/sikkerhed")[0] == 401)
    code, _, raw = request("GET", f"{base}/api/scenarios/..%2F..%2Fetc%2Fpasswd")
    check("an id is an id, never a path", code == 404, raw)


def check_ogr(base):
    r = subprocess.run(["ogrinfo", f"OAPIF:{base}/"], capture_output=True, text=True, timeout=60)
    check("ogrinfo lists the collections", all(c in r.stdout for c in ["areas", "demand", "facilities", "coverage"]), r.stdout + r.stderr)
    r = subprocess.run(["ogrinfo", "-so", f"OAPIF:{base}/", "demand"], capture_output=True, text=True, timeout=60)
    check("ogrinfo counts the villages", "Feature Count: 28" in r.stdout, r.stdout[-400:])


def check_ipv6(tmp):
    """Bound to ::1, links carry the bracketed address, and GDAL follows them (read-only, so no store is made)."""
    port = free_port()
    proc = subprocess.Popen([klynge, "serve", study, "--host", "::1", "--port", str(port), "--store", os.path.join(tmp, "v6.gpkg")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://[::1]:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/conformance", timeout=2)
                break
            except Exception:
                time.sleep(0.1)
        r = subprocess.run(["ogrinfo", "-so", f"OAPIF:{base}/", "demand"], capture_output=True, text=True, timeout=60)
        check("ogrinfo OAPIF:http://[::1]:P/ counts the villages", "Feature Count: 28" in r.stdout, r.stdout[-400:] + r.stderr[-400:])
        links = get_json(f"{base}/")["links"]
        check("links from [::1] keep the address", all(l["href"].startswith(base + "/") for l in links), links)
        req = urllib.request.Request(f"{base}/collections", method="HEAD")
        with urllib.request.urlopen(req, timeout=10) as resp:
            check("HEAD answers like GET without a body", resp.status == 200 and resp.read() == b"")
        check("a read-only service made no store", not os.path.exists(os.path.join(tmp, "v6.gpkg")))
    finally:
        proc.kill()
        proc.wait()


def check_reload(browser, base, cli_share):
    page = open_page(browser, f"{base}/app/?category=hall&load=Fra%20browseren")
    check("page finds the saved scenario after a restart", page.evaluate("document.body.dataset.found") == "1")
    check("the loaded scenario shows the same share", share_of(page) is not None and cli_share is not None
          and abs(share_of(page) - cli_share) < 1e-6, share_of(page))
    page.close()


def check_invalid(browser, tmp, store):
    """A saved scenario the study can no longer take (its facility left the data) is listed as invalid and can be deleted."""
    copy = os.path.join(tmp, "store-invalid.gpkg")
    shutil.copyfile(store, copy)
    for ext in ("-wal", "-shm"):
        if os.path.exists(store + ext):
            shutil.copyfile(store + ext, copy + ext)
    edited = study_copy(study, tmp, "without-netto.yaml", lambda t: t.replace(
        "    fields: { id: osm_id, name: name, category: category }\n",
        "    fields: { id: osm_id, name: name, category: category }\n    overrides:\n      - { id: \"" + NETTO + "\", exclude: true }\n", 1))
    server = Server(edited, copy)
    check("the service starts with a saved scenario it can no longer use", server.up, server.log)
    if not server.up:
        return
    try:
        listing = get_json(f"{server.base}/api/scenarios")
        invalid = {r.get("id"): r for r in listing.get("invalid") or []}
        check("GET /api/scenarios lists it under `invalid` with a reason", "uden-netto" in invalid and bool(invalid["uden-netto"].get("reason")), listing)
        check("the usable scenarios are still listed", "Fra browseren" in [r["scenario"]["name"] for r in listing.get("saved", [])], listing)
        page = open_page(browser, f"{server.base}/app/?category=hall")
        item = "#savedList li.invalid[data-id='uden-netto']"
        reason = (invalid.get("uden-netto") or {}).get("reason") or "?"
        check("the page marks the scenario invalid and gives the reason", reason in text_of(page, item), text_of(page, "#savedList"))
        page.evaluate(f"""(() => {{ const e = document.getElementById('token'); e.value = {js(TOKEN)}; e.dispatchEvent(new Event('input', {{bubbles: true}}));
                        document.querySelector("{item} button.delete").click(); }})()""")
        try:
            page.wait_for("document.body.dataset.deleted === 'uden-netto' || !!document.body.dataset.lastError", timeout=20)
        except cdp.CDPError:
            pass
        check("Delete on the page removes the invalid scenario", request("GET", f"{server.base}/api/scenarios/uden-netto")[0] == 404
              and page.evaluate(f"!document.querySelector({js(item)})"), text_of(page, "#status"))
        page.close()
    finally:
        server.kill()


def sqlite_columns(gpkg, table):
    con = sqlite3.connect(gpkg)
    try:
        cols = [r[1] for r in con.execute(f"PRAGMA table_info('{table}')")]
        geom = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (table,)).fetchone()[0]
    finally:
        con.close()
    return [c for c in cols if c != "fid"], geom


def sql_text(s):
    return "'" + s.replace("'", "''") + "'"


def make_hostile_study(folder):
    """A copy of the sample whose village, facility, area, category and study names are hostile."""
    src_dir = os.path.dirname(study)
    gpkg_src = os.path.join(src_dir, "samsoe-osm.gpkg")
    gpkg = os.path.join(folder, "hostile-osm.gpkg")
    for i, (layer, name_sql) in enumerate([
            ("places", f"CASE WHEN name = 'Besser' THEN {sql_text(FORMULA)} ELSE {sql_text(PAYLOADS['img'])} || name END"),
            ("facilities", f"{sql_text(PAYLOADS['svg'])} || name")]):
        cols, geom = sqlite_columns(gpkg_src, layer)
        select = ", ".join(f"{name_sql} AS name" if c == "name" else f'"{c}"' for c in cols)
        subprocess.run(["ogr2ogr", *(["-update"] if i else ["-f", "GPKG"]), gpkg, gpkg_src, "-nln", layer,
                        "-sql", f"SELECT {select} FROM {layer}"], check=True, capture_output=True, timeout=60)
    subprocess.run(["ogr2ogr", "-update", gpkg, gpkg_src, "roads"], check=True, capture_output=True, timeout=60)
    with open(os.path.join(src_dir, "samsoe_sogne.geojson")) as f:
        areas = json.load(f)
    for feat in areas["features"]:
        feat["properties"]["SOGNENAVN"] = PAYLOADS["script"] + feat["properties"]["SOGNENAVN"]
    with open(os.path.join(folder, "hostile_sogne.geojson"), "w") as f:
        json.dump(areas, f, ensure_ascii=False)

    def edit(text):
        text = text.replace("samsoe-osm.gpkg", "hostile-osm.gpkg").replace("samsoe_sogne.geojson", "hostile_sogne.geojson")
        # The map context layers stay where they are (read, never written).
        text = text.replace("source: land.geojson", "source: " + os.path.join(src_dir, "land.geojson"))
        text = text.replace("source: ../denmark/", "source: " + os.path.join(src_dir, "..", "denmark") + "/")
        text = text.replace("surveys: [survey.yaml]", "surveys: [" + os.path.join(src_dir, "survey.yaml") + "]")
        text = text.replace("source: erhverv.geojson", "source: " + os.path.join(src_dir, "erhverv.geojson"))
        text = re.sub(r"^name: .*$", "name: '" + PAYLOADS["js"] + "'", text, count=1, flags=re.M)
        text = text.replace("hall:         { da: Forsamlingshus,", "hall:         { da: '" + PAYLOADS["img"] + "',")
        # The sample's scenarios and clusters name villages and facilities by their (now changed) names (and the plan its scenario).
        for block in ("scenarios", "clusters", "plan"):
            text = re.sub(r"\n" + block + r":\n(.|\n)*?(?=\n\S|\Z)", "\n", text)
        return text

    text = edit(open(study).read())
    path = os.path.join(folder, "study.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def download(browser, page, link_id, folder, timeout=20):
    """Clicks a download link as a person would and returns the text of the file the browser saved."""
    os.makedirs(folder, exist_ok=True)
    browser.send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": folder})
    page.evaluate(f"document.getElementById({js(link_id)}).click()")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = [f for f in os.listdir(folder) if not f.endswith(".crdownload")]
        if done:
            time.sleep(0.2)
            with open(os.path.join(folder, done[0]), encoding="utf-8") as f:
                return f.read()
        time.sleep(0.1)
    raise cdp.CDPError(f"no download from #{link_id} within {timeout} s")


def check_hostile_study(browser, tmp):
    folder = os.path.join(tmp, "hostile")
    os.makedirs(folder)
    try:
        path = make_hostile_study(folder)
    except subprocess.CalledProcessError as e:
        check("hostile study written with ogr2ogr", False, e.stderr)
        return
    server = Server(path, os.path.join(folder, "store.gpkg"))
    check("the service serves a study with hostile names", server.up, server.log)
    if not server.up:
        return
    try:
        page = open_page(browser, f"{server.base}/app/?category=hall&close={','.join(CLOSED)}")
        check("hostile study: the page loads", page.evaluate("document.body.dataset.done") == "1", page.evaluate("document.body.dataset.error"))
        audit(page, "hostile study names", [
            ("#villages", PAYLOADS["img"]),        # village names
            ("#facilities", PAYLOADS["svg"]),      # facility names
            ("#villages", PAYLOADS["script"]),     # area names under each village
            ("#title", PAYLOADS["js"]),            # the study's name
            ("#category", PAYLOADS["img"]),        # a category label
            ("#changes", PAYLOADS["img"]),         # villages that lose coverage
            ("#impact", PAYLOADS["svg"]),
            ("#gAreaLabels", PAYLOADS["script"]),  # map labels
        ])
        wait_refresh(page, "document.getElementById('lang').click()")
        audit(page, "hostile study names in English", [("#villages", PAYLOADS["img"])])
        # The CSV: every name quoted so it round-trips, and a formula-looking name defused.
        text = download(browser, page, "dlCsv", os.path.join(folder, "downloads"))
        check("CSV download is a blob URL", page.evaluate("document.getElementById('dlCsv').href.startsWith('blob:')"))
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        names = {r["name"] for r in rows}
        check("CSV: hostile names round-trip as plain fields", any(n.startswith(PAYLOADS["img"]) for n in names) and len(rows) == 28,
              list(names)[:3])
        check("CSV: a name starting with = is prefixed with an apostrophe", "'" + FORMULA in names, [n for n in names if "HYPERLINK" in n])
        page.close()
    finally:
        server.kill()


def check_kommune(browser, tmp):
    folder = os.path.join(tmp, "kommune")
    r = subprocess.run([sys.executable, os.path.join(HERE, "make_kommune_study.py"), folder], capture_output=True, text=True, timeout=120)
    check("kommune study written", r.returncode == 0, r.stderr)
    if r.returncode:
        return
    t0 = time.monotonic()
    server = Server(os.path.join(folder, "study.yaml"), os.path.join(folder, "store.gpkg"), timeout=120)
    check("the service serves the kommune study", server.up, server.log)
    if not server.up:
        return
    started = time.monotonic() - t0
    try:
        t0 = time.monotonic()
        page = open_page(browser, f"{server.base}/app/?category=hall", timeout=90)
        loaded = time.monotonic() - t0
        check("kommune: the page loads", page.evaluate("document.body.dataset.done") == "1", page.evaluate("document.body.dataset.error"))
        rows = page.evaluate("document.querySelectorAll('#villages tr').length")
        check("kommune: at most 60 village rows in the DOM", 0 < rows <= 60, rows)
        info = text_of(page, "#pageInfo")
        check("kommune: the table says which rows of 4,000 it shows", "4.000" in info, info)
        check("kommune: unnamed villages get a readable name", re.search(r"uden navn, \d+ indb\.", text_of(page, "#villages")), text_of(page, "#villages")[:200])
        page.evaluate("document.getElementById('nextPage').click()")
        check("kommune: the next page shows rows 51–100", "51–100" in text_of(page, "#pageInfo"), text_of(page, "#pageInfo"))
        # Two halls closed with their checkboxes, one at a time.
        for hall in ["way/463402465", "node/5938809867"]:
            wait_refresh(page, f"document.querySelector('#facilities input[data-id={js(hall)}]').click()", timeout=60)
        mode = page.evaluate("(document.querySelector('#changes .change.loses') || {dataset: {}}).dataset.mode")
        summary = text_of(page, "#changes .change.loses")
        check("kommune: losing coverage is summarised per area", mode == "areas" and re.search(r": \d+ byer, [\d.]+ indb\.", summary), summary[:300])
        # The merge of the changed points over the baseline gives what the full answer says, village by village.
        full = get_json(f"{server.base}/api/coverage?category=hall&close=way/463402465,node/5938809867")
        want = {p["demandId"]: bool(p["categories"][0].get("covered")) for p in full["points"]}
        got = page.evaluate("Object.fromEntries(state.rows.map(r => [r.id, !!(r.c && r.c.covered)]))")
        wrong = [k for k in want if want[k] != got.get(k)]
        check("kommune: the merged villages equal the full what-if", len(got) == len(want) == 4000 and not wrong, (len(got), len(want), wrong[:5]))
        share = share_of(page)
        check("kommune: the share equals the API's", share is not None and abs(share - full["categories"][0]["coveredShare"]) < 1e-6,
              (share, full["categories"][0]["coveredShare"]))
        entries = page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/api/coverage'))"
                                ".map(e => ({url: e.name, transfer: e.transferSize, body: e.encodedBodySize}))")
        baseline = [e for e in entries if urllib.parse.urlsplit(e["url"]).query == "category=hall&access=none"]
        whatifs = [e for e in entries if "close=" in e["url"]]
        check("kommune: the baseline is fetched once", len(baseline) == 1, entries)
        check("kommune: each what-if asks for points=changed", len(whatifs) == 2 and all("points=changed" in e["url"] for e in whatifs), whatifs)
        check("kommune: geometry is not downloaded again for a what-if",
              page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/collections/demand/')).length") == 1)
        if baseline and len(whatifs) == 2:
            b = baseline[0]["body"]
            check("kommune: a one-hall what-if transfers under a quarter of the baseline", whatifs[0]["body"] < b / 4,
                  f"what-if {whatifs[0]['body']} bytes (transfer {whatifs[0]['transfer']}), baseline {b} bytes")
            check("kommune: every what-if transfers less than the baseline", all(e["body"] < b for e in whatifs),
                  [(e["body"], e["transfer"]) for e in whatifs])
        page.evaluate("document.getElementById('panel').scrollTop = 0")
        page.screenshot(os.path.join(out, "webpage-kommune.png"))
        check("kommune screenshot kept", os.path.getsize(os.path.join(out, "webpage-kommune.png")) > 10000)
        wait_refresh(page, "document.getElementById('lang').click()", timeout=60)
        check("kommune: English names unnamed villages too", page.evaluate("document.documentElement.lang") == "en"
              and re.search(r"unnamed, \d+ (people|person)", text_of(page, "#villages")), text_of(page, "#villages")[:200])
        check("kommune: no script errors", not page.exceptions, page.exceptions[:3])
        print(f"kommune study: service up in {started:.1f} s, page ready in {loaded:.1f} s")
        page.close()
    finally:
        server.kill()


def section(name, fn, *args):
    """Runs a group of checks; an error (a timeout, a page that broke) fails the group, never the whole run."""
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        check(f"{name} ran to the end", False, f"{type(e).__name__}: {e}")
        return None


def main():
    with tempfile.TemporaryDirectory() as tmp, cdp.Browser() as browser:
        store = os.path.join(tmp, "store.gpkg")
        server = Server(study, store)
        if not server.up:
            raise SystemExit("the server did not start: " + server.log)
        base = server.base
        try:
            section("headers", check_headers, base)
            cli_share = section("main page", check_main, browser, server, tmp)
            section("the command line reads the page's store", check_cli_store, store, tmp)
            section("cluster editor", check_clusters, browser, server, tmp)
            section("URL parameters", check_url_params, browser, base)
            section("hostile scenarios", check_hostile_scenarios, browser, base)
            section("ogrinfo", check_ogr, base)
            section("IPv6 and HEAD", check_ipv6, tmp)
            section("security", check_security, base)
            # Killed right after an acknowledged save: nothing lost.
            code = post_scenario(base, {"name": "Lige før nedbrud", "close": CLOSED[:1]})[0]
            check("save before the crash: 201", code == 201)
            code = post_scenario(base, {"name": "Uden Netto", "close": [NETTO]})[0]
            check("save a scenario that closes a shop: 201", code == 201)
            server.kill(signal.SIGKILL)
            server = Server(study, store, port=server.port)
            check("the service restarts on the same store", server.up, server.log)
            if server.up:
                check("acknowledged save survives kill -9", request("GET", f"{base}/api/scenarios/lige-foer-nedbrud")[0] == 200)
                section("reload after restart", check_reload, browser, base, cli_share)
                server.kill(signal.SIGTERM)
            section("invalid scenarios", check_invalid, browser, tmp, store)
        finally:
            server.kill()
        section("hostile study", check_hostile_study, browser, tmp)
        section("kommune study", check_kommune, browser, tmp)
    print(f"check_webpage: {time.monotonic() - STARTED:.0f} s")
    checks.finish()


if __name__ == "__main__":
    main()
