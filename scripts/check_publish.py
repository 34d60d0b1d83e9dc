#!/usr/bin/env python3
"""The published plan (`klynge publish`) held to independent truths: the static site and the A4 PDF.

- The site: index.html with a <nav> table of contents, chapter pages N-slug.html linked from it and from each other
  (previous/next), plan.css, maps/*.svg, klynge-site.txt listing exactly the files. No script anywhere, a strict
  Content-Security-Policy meta on every page, no resource from outside the folder.
- Every figure taken from an analysis (an element with data-src, data-path, data-value) is recomputed: the checker
  runs the klynge command behind its source itself (coverage, compare, profile, clusters, impact, regions compare,
  survey results),
  walks data-path into the JSON, and holds data-value to the JSON value and the shown text to
  round(value × data-scale, data-decimals) in the page's language (da 12.345,6; en 12,345.6; null shows '–').
  A minimum number of figures and every expected source kind must be present, so the check cannot pass empty.
- Maps: <figure> with <img src="maps/X.svg" alt="…">, a "Figur N:" caption and a data table in <details>.
- Structure: one h1 per page, heading levels never skip, every table has <th scope>, lang set.
- In headless Chromium (scripts/cdp.py), each page over file://: every request stays inside the folder, no console
  error, no CSP violation, images load, axe-core (from the axe-selenium-python package) finds no WCAG 2.1 A/AA
  violation, and nothing overflows horizontally at 360 px.
- The PDF: A4 on every page, at least chapters + 2 pages, every font embedded, selectable text, each page after the
  cover numbered in its footer, the contents page lists every chapter title, and every figure shown on the site is
  in the PDF's text.

Usage: check_publish.py --klynge .build/debug/klynge --study data/samsoe/study.yaml --site DIR --pdf FILE
         [--store FILE] [--survey ID] [--clustering NAME] [--scenario S ...] [--lang da|en]
         [--expect-chapters N] [--absent-chapter SLUG ...] [--min-figures N]
Prints 'N passed, N failed'; exits 1 on any failure.
"""
import argparse
import html.parser
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ left in scripts/
import cdp  # noqa: E402
from oracle import Checks  # noqa: E402

CHAPTER_RE = re.compile(r"^(\d+)-([a-z0-9][a-z0-9-]*)\.html$")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Start tags that close an open element of these kinds (the HTML parser's implied end tags, simplified).
IMPLIED = {"p": {"p"}, "li": {"li"}, "tr": {"tr", "td", "th"}, "td": {"td", "th"}, "th": {"td", "th"},
           "thead": {"tbody", "tfoot", "tr", "td", "th"}, "tbody": {"thead", "tbody", "tfoot", "tr", "td", "th"},
           "tfoot": {"thead", "tbody", "tr", "td", "th"}, "option": {"option"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}}
NULL_TEXT = "–"
MINUS = "−"


class Counted(Checks):
    """Checks whose check() also returns whether it passed."""

    def check(self, name, ok, detail=""):
        super().check(name, ok, detail)
        return bool(ok)


# ---------- a small DOM ----------

class Node:
    def __init__(self, tag, attrs, parent, line):
        self.tag, self.attrs, self.parent, self.line = tag, dict(attrs), parent, line
        self.children = []  # Node or str

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self, tag=None):
        for c in self.children:
            if isinstance(c, Node):
                if tag is None or c.tag == tag:
                    yield c
                yield from c.iter(tag)

    def find(self, tag):
        return next(self.iter(tag), None)

    def ancestor(self, tag):
        p = self.parent
        while p is not None and p.tag != tag:
            p = p.parent
        return p

    def describe(self):
        a = " ".join(f'{k}="{v}"' for k, v in self.attrs.items() if k in ("id", "class", "data-src", "data-path"))
        return f"<{self.tag}{' ' + a if a else ''}> (line {self.line})"


class TreeBuilder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None, 0)
        self.stack = [self.root]
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        closes = IMPLIED.get(tag)
        if closes:
            # Close an open element of those kinds up to the nearest table/list boundary.
            for i in range(len(self.stack) - 1, 0, -1):
                t = self.stack[i].tag
                if t in closes:
                    del self.stack[i:]
                    break
                if t in ("table", "ul", "ol", "dl", "select", "div", "section", "body"):
                    break
        node = Node(tag, [(k, v if v is not None else "") for k, v in attrs], self.stack[-1], self.getpos()[0])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, [(k, v if v is not None else "") for k, v in attrs], self.stack[-1], self.getpos()[0])
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(path):
    b = TreeBuilder()
    with open(path, encoding="utf-8") as f:
        b.feed(f.read())
    b.close()
    return b.root, b.doctype


def squash(s):
    return re.sub(r"\s+", " ", s).strip()


def nows(s):
    """Text without any whitespace, and one minus sign, for comparing across line breaks and fonts."""
    return re.sub(r"\s+", "", s).replace(MINUS, "-").replace("\u00ad", "")


# ---------- JSON sources and numbers ----------

class Sources:
    """Runs the klynge command behind each data-src once and keeps its JSON."""

    def __init__(self, args, lang):
        self.args, self.lang, self.cache = args, lang, {}

    def base(self, sub):
        cmd = [self.args.klynge, *sub, self.args.study]
        if self.args.store:
            cmd += ["--store", self.args.store]
        return cmd

    def command(self, src):
        kind, _, name = src.partition(":")
        if kind == "coverage":  # the baseline, or with a name a scenario's coverage
            return self.base(["coverage"]) + (["--scenario", name] if name else []) + ["--json"], None
        if kind == "compare" and name:
            return self.base(["compare"]) + ["--scenario", name, "--json"], name
        if kind == "profile" and not name:
            return self.base(["profile"]) + (["--clustering", self.args.clustering] if self.args.clustering else []) + \
                ["--lang", self.lang, "--json"], None
        if kind == "clusters" and not name:
            return self.base(["clusters"]) + (["--clustering", self.args.clustering] if self.args.clustering else []) + ["--json"], None
        if kind == "regions" and not name:  # the cluster geography's alternatives: the study's own and every saved proposal
            return self.base(["regions", "compare"]) + ["--lang", self.lang, "--json"], None
        if kind == "impact" and name:
            return self.base(["impact"]) + ["--category", name, "--json"], None
        if kind == "survey" and name:
            return self.base(["survey", "results"]) + ["--survey", name, "--language", self.lang, "--json"], None
        raise ValueError(f"unknown data-src {src!r}")

    def get(self, src):
        """(json, error)."""
        if src not in self.cache:
            try:
                cmd, key = self.command(src)
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
                if r.returncode != 0:
                    raise ValueError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()[-400:]}")
                value = json.loads(r.stdout)
                if key is not None:
                    if not isinstance(value, dict) or key not in value:
                        raise ValueError(f"{' '.join(cmd)}: no key {key!r} in its JSON (keys {list(value)[:5] if isinstance(value, dict) else type(value).__name__})")
                    value = value[key]
                self.cache[src] = (value, None)
            except Exception as e:  # noqa: BLE001 - reported as the figure's failure
                self.cache[src] = (None, str(e))
        return self.cache[src]


def resolve(value, path, others=lambda: []):
    """Walks a data-path; raises ValueError with where it stopped.

    klynge's JSON leaves out a figure a place cannot have (Swift drops nil): a last key missing from an object
    counts as null when a sibling object in the same list has that key, or when the same path has it in the JSON
    of another source of the same command (`others`), so a misspelt key still fails."""
    if not isinstance(path, list):
        raise ValueError("data-path is not a JSON array")
    root = value
    last_list, tail_start = None, 0
    for i, step in enumerate(path):
        where = json.dumps(path[:i + 1], ensure_ascii=False)
        if isinstance(step, bool):
            raise ValueError(f"step {i} is a boolean")
        if isinstance(step, str):
            if isinstance(value, dict) and step not in value and i == len(path) - 1 and last_list is not None and \
                    any(_has(e, path[tail_start:]) for e in last_list):
                return None
            if isinstance(value, dict) and step not in value and i == len(path) - 1 and \
                    any(_exists(o, path) for o in others() if o is not root):
                return None
            if not isinstance(value, dict) or step not in value:
                keys = list(value)[:12] if isinstance(value, dict) else type(value).__name__
                raise ValueError(f"at {where}: no key {step!r} (has {keys})")
            value = value[step]
        elif isinstance(step, int):
            if not isinstance(value, list) or not (0 <= step < len(value)):
                raise ValueError(f"at {where}: index {step} outside a list of {len(value) if isinstance(value, list) else type(value).__name__}")
            last_list, tail_start = value, i + 1
            value = value[step]
        elif isinstance(step, dict):
            if not isinstance(value, list):
                raise ValueError(f"at {where}: selector on a {type(value).__name__}, not a list")
            hits = [e for e in value if isinstance(e, dict) and all(k in e and e[k] == v for k, v in step.items())]
            if len(hits) != 1:
                raise ValueError(f"at {where}: {len(hits)} elements match (need exactly one)")
            last_list, tail_start = value, i + 1
            value = hits[0]
        else:
            raise ValueError(f"at step {i}: {step!r} is neither key, index nor selector")
    return value


def _exists(value, path):
    """Whether the whole path resolves in value (selectors included)."""
    try:
        resolve(value, path)
        return True
    except ValueError:
        return False


def _has(value, keys):
    """Whether a walk of object keys exists in value (for telling a left-out figure from a wrong key)."""
    for k in keys:
        if not isinstance(k, str) or not isinstance(value, dict) or k not in value:
            return False
        value = value[k]
    return True


def number_re(lang):
    if lang == "en":
        return r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
    return r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"


def parse_shown(text, lang):
    """The number an element shows: (value or None for null, decimals shown, problem or None)."""
    t = text.replace("\u00a0", " ").replace("\u202f", " ").strip()
    if t == NULL_TEXT:
        return None, 0, None
    m = re.match(r"^([+\-" + MINUS + r"]?)\s?(" + number_re(lang) + r")(.*)$", t)
    if not m:
        return None, 0, f"no number in {text!r} (language {lang})"
    sign, digits, rest = m.groups()
    if re.search(r"\d", rest):
        return None, 0, f"{text!r}: digits after the number ({lang} formatting?)"
    if rest and not rest.startswith(" ") and rest[0] not in "%":
        return None, 0, f"{text!r}: no space between the number and {rest!r}"
    group, dec = (",", ".") if lang == "en" else (".", ",")
    whole, _, frac = digits.partition(dec)
    v = float(whole.replace(group, "") + ("." + frac if frac else ""))
    if sign in ("-", MINUS):
        v = -v
    return v, len(frac), None


def fmt(v, decimals, lang):
    s = f"{abs(v):,.{decimals}f}"
    if lang == "da":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return (MINUS if v < 0 else "") + s


# ---------- the checks ----------

class Site:
    def __init__(self, folder):
        self.folder = os.path.realpath(folder)
        self.pages = {}     # file name → (root, doctype)
        self.chapters = []  # (number, slug, file name) in order

    def load(self):
        names = sorted(os.listdir(self.folder))
        chapters = []
        for n in names:
            m = CHAPTER_RE.match(n)
            if m:
                chapters.append((int(m.group(1)), m.group(2), n))
        self.chapters = sorted(chapters)
        for n in ["index.html"] + [c[2] for c in self.chapters]:
            self.pages[n] = parse_html(os.path.join(self.folder, n))

    def inside(self, path):
        p = os.path.realpath(path)
        return p == self.folder or p.startswith(self.folder + os.sep)


def local_target(site, page, url):
    """(path or None, problem or None) of a URL in a page; None path for fragments and external links."""
    u = urllib.parse.urlsplit(url)
    if u.scheme or u.netloc:
        return None, None
    if not u.path:
        return None, None
    path = os.path.normpath(os.path.join(site.folder, os.path.dirname(page), urllib.parse.unquote(u.path)))
    if not site.inside(path):
        return path, f"{url} leaves the site folder"
    return path, None


def csp_problems(policy):
    d = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            d[words[0].lower()] = [w.lower() for w in words[1:]]
    problems = []
    if "default-src" not in d:
        problems.append("no default-src")
    script = d.get("script-src", d.get("default-src", ["*"]))
    if script != ["'none'"]:
        problems.append(f"script-src is {' '.join(script)}, not 'none' (the site has no script)")
    for k, words in d.items():
        for w in words:
            if w in ("'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:", "'unsafe-hashes'") or "://" in w or \
                    (re.search(r"\w\.\w", w) and not w.startswith("'")):
                problems.append(f"{k} allows {w}")
    return problems


def check_structure(site, args, checks):
    check = checks.check
    lang_seen = set()
    chapters = site.chapters
    numbers = [c[0] for c in chapters]
    check("chapter pages exist (N-slug.html)", chapters, os.listdir(site.folder))
    check("chapters are numbered 1..N without gaps", numbers == list(range(1, len(numbers) + 1)), numbers)
    if args.expect_chapters is not None:
        check(f"{args.expect_chapters} chapters", len(chapters) == args.expect_chapters, [c[2] for c in chapters])
    for slug in args.absent_chapter:
        present = [c[2] for c in chapters if c[1] == slug]
        check(f"no chapter '{slug}'", not present, present)

    # klynge-site.txt lists exactly the files.
    listing = os.path.join(site.folder, "klynge-site.txt")
    actual = set()
    for dirpath, _, files in os.walk(site.folder):
        for f in files:
            actual.add(os.path.relpath(os.path.join(dirpath, f), site.folder))
    actual.discard("klynge-site.txt")
    if check("klynge-site.txt exists", os.path.isfile(listing), listing):
        listed = set()
        for line in open(listing, encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#"):
                listed.add(line if os.path.exists(os.path.join(site.folder, line)) else line.split()[0])
        listed.discard("klynge-site.txt")
        check("klynge-site.txt lists every file of the site, and only those", listed == actual,
              f"listed but missing: {sorted(listed - actual)[:10]}; present but not listed: {sorted(actual - listed)[:10]}")
    check("plan.css exists", os.path.isfile(os.path.join(site.folder, "plan.css")))
    svgs = [f for f in actual if f.startswith("maps/") and f.endswith(".svg")]
    check("maps/*.svg exist", svgs, sorted(actual))
    scripts_anywhere = [f for f in actual if f.endswith((".js", ".mjs", ".wasm"))]
    check("no script files in the site", not scripts_anywhere, scripts_anywhere)

    # The contents: a <nav> in index.html linking every chapter; chapters link their neighbours.
    index = site.pages["index.html"][0]
    navs = list(index.iter("nav"))
    nav_links = {urllib.parse.urlsplit(a.attrs.get("href", "")).path for n in navs for a in n.iter("a")}
    check("index.html has a <nav>", navs)
    missing = [c[2] for c in chapters if c[2] not in nav_links]
    check("the <nav> of index.html links every chapter", not missing, f"not linked: {missing}")
    stray = [h for h in nav_links if CHAPTER_RE.match(h) and h not in {c[2] for c in chapters}]
    check("the <nav> links no missing chapter", not stray, stray)
    for i, (num, slug, name) in enumerate(chapters):
        root = site.pages[name][0]
        hrefs = {urllib.parse.urlsplit(a.attrs.get("href", "")).path for a in root.iter("a")}
        want = ([chapters[i - 1][2]] if i > 0 else []) + ([chapters[i + 1][2]] if i + 1 < len(chapters) else [])
        check(f"{name}: links its previous/next chapter", all(w in hrefs for w in want), f"needs {want}")
        check(f"{name}: links back to index.html", "index.html" in hrefs or "./" in hrefs, "no link to index.html")

    figure_numbers = []
    for name, (root, doctype) in site.pages.items():
        html_el = root.find("html")
        lang = (html_el.attrs.get("lang", "") if html_el is not None else "")
        lang_seen.add(lang)
        check(f"{name}: <!DOCTYPE html>", (doctype or "").lower() == "doctype html", doctype)
        check(f"{name}: <html lang> is da or en", lang in ("da", "en"), repr(lang))
        if args.lang:
            check(f"{name}: lang is {args.lang}", lang == args.lang, lang)
        metas = list(root.iter("meta"))
        check(f"{name}: <meta charset=utf-8>", any(m.attrs.get("charset", "").lower() == "utf-8" for m in metas))
        vp = [m.attrs.get("content", "") for m in metas if m.attrs.get("name") == "viewport"]
        check(f"{name}: viewport meta with width=device-width", vp and "width=device-width" in vp[0], vp)
        csp = [m.attrs.get("content", "") for m in metas if m.attrs.get("http-equiv", "").lower() == "content-security-policy"]
        if check(f"{name}: a Content-Security-Policy meta", len(csp) == 1, csp):
            p = csp_problems(csp[0])
            check(f"{name}: the CSP is strict", not p, f"{p} in {csp[0]!r}")
        title = root.find("title")
        check(f"{name}: a non-empty <title>", title is not None and squash(title.text()), None)
        sheets = [l.attrs.get("href") for l in root.iter("link") if "stylesheet" in l.attrs.get("rel", "")]
        check(f"{name}: uses plan.css", "plan.css" in sheets, sheets)

        # No script of any kind.
        bad = [n.describe() for n in root.iter() if n.tag in ("script", "iframe", "object", "embed", "frame", "applet", "base")]
        bad += [f"{n.describe()} {k}=" for n in root.iter() for k in n.attrs if k.lower().startswith("on")]
        bad += [f"{n.describe()} {k}={v!r}" for n in root.iter() for k, v in n.attrs.items()
                if re.match(r"\s*(javascript|vbscript|data:text/html)", v or "", re.I) and k in ("href", "src", "action", "formaction", "xlink:href")]
        check(f"{name}: no script, frames, event attributes or script URLs", not bad, bad[:5])
        inline_style = [n.describe() for n in root.iter() if "style" in n.attrs] + [n.describe() for n in root.iter("style")]
        check(f"{name}: no inline styles (the CSP allows only plan.css)", not inline_style, inline_style[:5])

        # Every reference inside the folder resolves; resources never leave it.
        for n in root.iter():
            for k in ("href", "src", "srcset", "data", "poster", "action"):
                if k not in n.attrs:
                    continue
                urls = [u.strip().split()[0] for u in n.attrs[k].split(",") if u.strip()] if k == "srcset" else [n.attrs[k]]
                for url in urls:
                    u = urllib.parse.urlsplit(url)
                    is_resource = not (n.tag == "a" or n.tag == "area")
                    if is_resource and (u.scheme or u.netloc) and u.scheme != "data":
                        check(f"{name}: {n.describe()} {k} is inside the site", False, url)
                        continue
                    path, problem = local_target(site, name, url)
                    if problem:
                        check(f"{name}: {n.describe()} {k}", False, problem)
                    elif path is not None:
                        check(f"{name}: {n.describe()} {k}={url} exists", os.path.exists(path), path)
                    if u.fragment and not u.path:
                        ids = {m.attrs.get("id") for m in root.iter()}
                        check(f"{name}: #{u.fragment} exists", u.fragment in ids, url)

        # Headings: one h1, first heading h1, never deeper by more than one level.
        heads = [n for n in root.iter() if re.fullmatch(r"h[1-6]", n.tag)]
        levels = [int(h.tag[1]) for h in heads]
        check(f"{name}: exactly one h1", levels.count(1) == 1, f"{levels.count(1)} h1")
        check(f"{name}: the first heading is h1", levels[:1] == [1], levels[:5])
        skips = [f"h{a}→h{b} at {heads[i + 1].describe()}" for i, (a, b) in enumerate(zip(levels, levels[1:])) if b > a + 1]
        check(f"{name}: heading levels never skip", not skips, skips[:5])
        empty = [h.describe() for h in heads if not squash(h.text())]
        check(f"{name}: no empty heading", not empty, empty)

        # Images and figures.
        for img in root.iter("img"):
            alt = img.attrs.get("alt")
            check(f"{name}: {img.describe()} src={img.attrs.get('src')} has a non-empty alt", alt is not None and alt.strip(), repr(alt))
            src = img.attrs.get("src", "")
            if src.startswith("maps/"):
                fig = img.ancestor("figure")
                check(f"{name}: map {src} is a maps/NAME.svg", re.fullmatch(r"maps/[^/]+\.svg", src), src)
                if not check(f"{name}: map {src} is in a <figure>", fig is not None):
                    continue
        for fig in root.iter("figure"):
            img = fig.find("img")
            cap = fig.find("figcaption")
            captext = squash(cap.text()) if cap is not None else ""
            label = f"{name}: figure {captext[:40]!r} {fig.describe()}"
            m = re.match(r"(?:Figur|Figure) (\d+)\s*[:.]\s*\S", captext)
            check(f"{label}: a <figcaption> 'Figur N: …'", m, repr(captext))
            if m:
                figure_numbers.append((int(m.group(1)), name))
            if img is not None:
                details = [d for d in fig.iter("details") if d.find("table") is not None]
                check(f"{label}: a data table in <details>", details)
                for d in details:
                    check(f"{label}: <details> has a <summary>", d.find("summary") is not None)

        # Tables: header cells with scope.
        for t in root.iter("table"):
            ths = list(t.iter("th"))
            cap = t.find("caption")
            label = f"{name}: table {t.describe()}{' ' + repr(squash(cap.text())[:40]) if cap is not None else ''}"
            check(f"{label}: has <th> headers", ths)
            noscope = [squash(th.text())[:30] for th in ths if th.attrs.get("scope") not in ("col", "row", "colgroup", "rowgroup")]
            check(f"{label}: every <th> has a scope", not noscope, f"without scope: {noscope[:5]}")
            check(f"{label}: has a <caption> or is in a captioned figure",
                  cap is not None or (t.ancestor("figure") is not None and t.ancestor("figure").find("figcaption") is not None) or
                  t.attrs.get("aria-label") or t.attrs.get("aria-labelledby"))

    # Figure numbers run 1, 2, 3 … through the site in reading order.
    order = ["index.html"] + [c[2] for c in chapters]
    figure_numbers.sort(key=lambda x: order.index(x[1]))
    nums = [n for n, _ in figure_numbers]
    check("figures are numbered 1..N in reading order", nums == list(range(1, len(nums) + 1)), nums)
    check("one language on every page", len(lang_seen) == 1, lang_seen)

    # SVG maps and the stylesheet: well-formed, no script, nothing fetched from outside.
    for f in sorted(svgs):
        path = os.path.join(site.folder, f)
        try:
            root = ET.parse(path).getroot()
            ok = root.tag.endswith("svg")
        except ET.ParseError as e:
            check(f"{f}: well-formed SVG", False, e)
            continue
        check(f"{f}: an <svg> root", ok, root.tag)
        text = open(path, encoding="utf-8", errors="replace").read()
        bad = re.findall(r"<script|\son\w+\s*=|javascript:|<foreignObject", text, re.I)
        ext = re.findall(r"""(?:href\s*=\s*["']|url\(\s*["']?|@import\s+["'])\s*((?:https?:|file:|//)[^"')\s]*)""", text, re.I)
        check(f"{f}: no script in the SVG", not bad, bad[:3])
        check(f"{f}: no external references in the SVG", not ext, ext[:3])
    css = os.path.join(site.folder, "plan.css")
    if os.path.isfile(css):
        text = open(css, encoding="utf-8").read()
        ext = re.findall(r"""(?:url\(\s*["']?|@import\s+["']?)\s*((?:https?:|file:|//)[^"')\s]*)""", text, re.I)
        check("plan.css: no external references", not ext, ext)
    return lang_seen.pop() if len(lang_seen) == 1 else "da"


def row_label(el):
    tr = el.ancestor("tr")
    if tr is None:
        return ""
    th = next((c for c in tr.iter("th")), None)
    return squash(th.text())[:40] if th is not None else ""


def check_figures(site, args, lang, checks):
    """Every [data-src] element against the JSON it names. Returns the shown texts."""
    check = checks.check
    sources = Sources(args, lang)
    shown_texts = []
    kinds = {}
    every_src = sorted({el.attrs["data-src"] for root, _ in site.pages.values() for el in root.iter() if "data-src" in el.attrs})

    def same_kind(src):
        """The JSON of the other sources of the same command (every compare:S), for telling a left-out figure
        (Swift leaves out a nil field) from a misspelt key: the key must exist in one of them."""
        kind = src.partition(":")[0]
        return [d for k in every_src if k != src and k.partition(":")[0] == kind for d in [sources.get(k)[0]] if d is not None]

    for name, (root, _) in site.pages.items():
        for el in root.iter():
            if "data-src" not in el.attrs:
                continue
            src = el.attrs["data-src"]
            text = squash(el.text())
            shown_texts.append((name, el, text))
            kinds.setdefault(src, 0)
            kinds[src] += 1
            where = f"{name}: {el.describe()} row {row_label(el)!r} shown {text!r}"
            raw_path = el.attrs.get("data-path")
            if raw_path is None or "data-value" not in el.attrs:
                check(f"{where}: has data-path and data-value", False, el.attrs)
                continue
            try:
                path = json.loads(raw_path)
            except ValueError as e:
                check(f"{where}: data-path is JSON", False, f"{raw_path!r}: {e}")
                continue
            data, err = sources.get(src)
            if err:
                check(f"{where}: source {src}", False, err)
                continue
            try:
                value = resolve(data, path, lambda: same_kind(src))
            except ValueError as e:
                check(f"{where}: data-path {raw_path} resolves in {src}", False, e)
                continue
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                check(f"{where}: data-path {raw_path} in {src} is a number", False, f"it is {json.dumps(value, ensure_ascii=False)[:80]}")
                continue
            dv = el.attrs["data-value"].strip()
            if value is None:
                check(f"{where}: data-value of {src} {raw_path}", dv == "", f"JSON has null, data-value={dv!r}")
                check(f"{where}: null shows as '{NULL_TEXT}'", text == NULL_TEXT, f"shown {text!r}")
                continue
            try:
                dvf = float(dv)
            except ValueError:
                check(f"{where}: data-value of {src} {raw_path}", False, f"data-value={dv!r}, JSON {value!r}")
                continue
            check(f"{where}: data-value of {src} {raw_path}", abs(dvf - value) <= 1e-9 * max(1.0, abs(value)),
                  f"data-value={dv}, JSON {value!r}")
            try:
                scale = float(el.attrs.get("data-scale", "1") or "1")
                decimals = int(el.attrs.get("data-decimals", "0") or "0")
            except ValueError:
                check(f"{where}: data-scale/data-decimals are numbers", False, el.attrs)
                continue
            expected = round(value * scale, decimals)
            got, got_decimals, problem = parse_shown(text, lang)
            if problem:
                check(f"{where}: {src} {raw_path}", False, f"{problem}; expected {fmt(expected, decimals, lang)}")
                continue
            if got is None:  # '–' for a number
                check(f"{where}: {src} {raw_path}", False, f"shown as null, expected {fmt(expected, decimals, lang)} (value {value!r})")
                continue
            # Within half a unit of the last decimal of value × scale: a tie may round either way.
            ok = abs(got - value * scale) <= 0.5 * 10 ** -decimals + 1e-9 * max(1.0, abs(value * scale)) and got_decimals == decimals
            check(f"{where}: {src} {raw_path}", ok,
                  f"expected {fmt(expected, decimals, lang)} (value {value!r} × {scale:g}, {decimals} decimals), shown {text!r}")
    # Enough figures, and every kind of source the plan has.
    check(f"at least {args.min_figures} figures checked", len(shown_texts) >= args.min_figures, f"{len(shown_texts)} figures")
    present = {k.partition(":")[0] for k in kinds}
    required = set(args.require_source)
    if args.survey:
        required.add("survey")
    missing = sorted(required - present)
    check("every kind of source is present", not missing, f"missing {missing}; present {sorted(kinds)}")
    for s in args.scenario:
        check(f"figures of scenario {s!r} (compare:{s})", f"compare:{s}" in kinds, sorted(kinds))
    if args.scenario:
        extra = [k for k in kinds if k.startswith("compare:") and k[8:] not in args.scenario]
        check("only the chosen scenarios are compared", not extra, extra)
    if args.survey:
        check(f"figures of survey {args.survey}", f"survey:{args.survey}" in kinds, sorted(kinds))
    print(f"figures: {len(shown_texts)} from {', '.join(f'{k} ({v})' for k, v in sorted(kinds.items()))}")
    return shown_texts


# ---------- the PDF ----------

def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()[:300]}")
    return r.stdout


def page_words(pdf):
    """Per page: (width, height, [(text, xMin, yMin, xMax, yMax)]) from pdftotext -bbox."""
    out = run(["pdftotext", "-bbox", pdf, "-"])
    pages = []
    for m in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out, re.S):
        words = [(html.unescape(w[4]), float(w[0]), float(w[1]), float(w[2]), float(w[3]))
                 for w in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', m.group(3))]
        pages.append((float(m.group(1)), float(m.group(2)), words))
    return pages


def check_pdf(site, args, shown, checks):
    check = checks.check
    pdf = args.pdf
    if not check("the PDF exists", os.path.isfile(pdf), pdf):
        return
    inside = os.path.join(site.folder, "plan.pdf")
    if os.path.isfile(inside) and os.path.realpath(inside) != os.path.realpath(pdf):
        check("the site's plan.pdf is the same PDF", open(inside, "rb").read() == open(pdf, "rb").read(), inside)
    try:
        info = run(["pdfinfo", pdf])
    except RuntimeError as e:
        check("pdfinfo reads the PDF", False, e)
        return
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    nchap = args.expect_chapters if args.expect_chapters is not None else len(site.chapters)
    check(f"the PDF has at least chapters + 2 = {nchap + 2} pages", pages >= nchap + 2, f"{pages} pages")
    sizes = re.findall(r"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts", run(["pdfinfo", "-f", "1", "-l", str(pages), pdf]), re.M)
    not_a4 = [(int(n), float(w), float(h)) for n, w, h in sizes if abs(float(w) - 595) > 1 or abs(float(h) - 842) > 1]
    check("every page is A4 portrait (595 × 842 pt ± 1)", sizes and not not_a4, f"pages not A4: {not_a4[:5]}")
    fonts = run(["pdffonts", pdf]).splitlines()
    rows = fonts[2:]
    check("the PDF has fonts (text, not outlines)", rows, fonts)
    # Columns: name type encoding emb sub uni object ID; emb is the 4th from the right-hand end (emb sub uni obj ID).
    not_embedded = [r for r in rows if r.split()[-5] != "yes"]
    check("every font is embedded", not not_embedded, not_embedded[:5])
    text = run(["pdftotext", "-enc", "UTF-8", pdf, "-"])
    check("the PDF has selectable text", len(re.findall(r"[A-Za-zÆØÅæøå]{3,}", text)) >= 50, f"{len(text)} characters")

    words = page_words(pdf)
    check("pdftotext -bbox sees every page", len(words) == pages, f"{len(words)} of {pages}")
    unnumbered = []
    for n, (w, h, ws) in enumerate(words, start=1):
        if n == 1:
            continue
        footer = " ".join(t for t, x0, y0, x1, y1 in sorted(ws, key=lambda x: (round(x[2]), x[1])) if y0 > h * 0.88)
        if not re.search(rf"(?<!\d){n}(?!\d)", footer):
            unnumbered.append((n, footer[:60]))
    check("every page after the cover has its number in the footer", not unnumbered, f"(page, footer text): {unnumbered[:8]}")

    # The contents page (page 2, or 2–3) lists every chapter title.
    page_text = [nows(" ".join(t for t, *_ in ws)) for _, _, ws in words]
    contents = "".join(page_text[1:3]) if len(page_text) > 2 else "".join(page_text[1:2])
    starts = []
    for num, slug, name in site.chapters:
        h1 = site.pages[name][0].find("h1")
        title = squash(h1.text()) if h1 is not None else slug
        bare = nows(re.sub(r"^\d+[.:]?\s+", "", title))
        check(f"the contents page lists chapter {num} {title!r}", bare in contents, "not on page 2–3")
        first = max([3] + starts[-1:])
        later = [i + 1 for i, t in enumerate(page_text) if i + 1 >= first and bare in t]
        check(f"chapter {num} {title!r} is in the PDF after the contents", later, f"title on no page from {first} on")
        starts.append(later[0] if later else first)

    # Every figure shown on the site is in the PDF's text (whitespace aside) …
    alltext = nows(text)
    missing = [(name, el.describe(), t) for name, el, t in shown if nows(t) and nows(t) not in alltext]
    check(f"every figure shown on the site is in the PDF ({len(shown)})", not missing,
          f"{len(missing)} missing, e.g. {missing[:8]}")
    # … and each chapter's figures stand in that chapter's pages at least as often as on its web page, as whole
    # numbers (so a changed figure whose old text is also shown elsewhere is still caught).
    plain = [re.sub(r"\s+", " ", " ".join(t for t, *_ in ws)).replace(MINUS, "-") for _, _, ws in words]
    for k, (num, slug, name) in enumerate(site.chapters):
        lo, hi = starts[k], (starts[k + 1] if k + 1 < len(starts) else len(plain))
        chunk = " ".join(plain[lo - 1:max(hi, lo)])
        counts = {}
        for page_name, el, t in shown:
            if page_name == name and re.search(r"\d", t):
                counts[t] = counts.get(t, 0) + 1
        short = []
        for t, n in counts.items():
            pat = r"\s*".join(re.escape(c) for c in re.sub(r"\s+", "", t.replace(MINUS, "-")))
            got = len(re.findall(r"(?<![\d.,+\-])" + pat + r"(?!\d|[.,]\d)", chunk))
            if got < n:
                short.append((t, n, got))
        check(f"{name}: its figures are on its PDF pages {lo}–{max(hi, lo)} as often as on the site", not short,
              f"(text, on the site, in the PDF): {short[:8]}")


# ---------- the browser ----------

PAGE_AUDIT = """(() => {
  const vw = document.documentElement.clientWidth;
  const sw = document.scrollingElement.scrollWidth;
  const over = [];
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.right > vw + 1 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > vw + 1)) {
      over.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') + ' right=' + Math.round(r.right));
    }
  }
  const broken = [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'));
  return {vw, sw, over: over.slice(0, 8), broken};
})()"""


def axe_source():
    """axe-core's axe.min.js from PyPI packages that carry it: axe-playwright-python (axe-core 4.x, installed without
    its playwright dependency: only the file is read), else axe-selenium-python (axe-core 3.1)."""
    for package, rel in (("axe_playwright_python", "axe.min.js"), ("axe_selenium_python", os.path.join("node_modules", "axe-core", "axe.min.js"))):
        spec = importlib.util.find_spec(package)
        for d in (spec.submodule_search_locations or []) if spec else []:
            p = os.path.join(d, rel)
            if os.path.isfile(p):
                return open(p, encoding="utf-8").read()
    return None


def open_recorded(browser, width, height, mobile=False):
    page = browser.new_page(width, height)
    if mobile:
        page.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})
    page.requests, page.failed = [], []
    original = page._on_event

    def on_event(msg):
        m, p = msg.get("method"), msg.get("params", {})
        if m == "Network.requestWillBeSent":
            page.requests.append(p.get("request", {}).get("url", ""))
        elif m == "Network.loadingFailed":
            page.failed.append((p.get("requestId"), p.get("errorText"), p.get("blockedReason")))
        original(msg)

    browser._listeners[page.session] = on_event
    return page


def url_inside(site, url):
    u = urllib.parse.urlsplit(url)
    if u.scheme == "data" or url == "about:blank":
        return True
    if u.scheme != "file":
        return False
    return site.inside(urllib.parse.unquote(u.path))


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def check_browser(site, args, checks):
    check = checks.check
    axe_note = []
    if not check("chromium is installed", cdp.find_chromium()):
        return
    axe = axe_source()
    check("axe-core (pip install axe-selenium-python) is installed", axe)
    with cdp.Browser() as browser:
        for name in site.pages:
            url = "file://" + urllib.parse.quote(os.path.join(site.folder, name))
            page = open_recorded(browser, 1280, 900)
            try:
                page.goto(url)
            except cdp.CDPError as e:
                check(f"{name}: opens in chromium", False, e)
                page.close()
                continue
            page.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 200)))")
            outside = [u for u in page.requests if not url_inside(site, u)]
            check(f"{name}: every request stays in the site folder ({len(page.requests)} requests)", not outside, outside[:5])
            check(f"{name}: no request failed", not page.failed, page.failed[:5])
            errors = [c for c in page.console if c[0] in ("error", "assert")] + \
                     [("exception", e) for e in page.exceptions] + [e for e in page.log if e[1] == "error"]
            check(f"{name}: no console errors", not errors, errors[:5])
            csp = page.csp_violations() + [e for e in page.log if "Content Security Policy" in (e[2] or "")]
            check(f"{name}: no CSP violations", not csp, csp[:5])
            a = page.evaluate(PAGE_AUDIT)
            check(f"{name}: every image loads", not a["broken"], a["broken"])
            scripts = page.evaluate("document.scripts.length")
            check(f"{name}: no script in the DOM", scripts == 0, scripts)
            if axe:
                # Injected by DevTools, not by the page: the page's CSP does not apply to Runtime.evaluate.
                page.evaluate(axe + "\n;true", timeout=60)
                # Tags this axe-core has rules for (3.1 has no rule tagged wcag21a; asking for it is an error).
                tags = page.evaluate(f"(() => {{ const t = new Set(axe.getRules().flatMap(r => r.tags));"
                                     f" return {json.dumps(AXE_TAGS)}.filter(x => t.has(x)); }})()")
                if not axe_note:
                    axe_note.append(1)
                    print(f"axe-core {page.evaluate('axe.version')}: rules tagged {tags}"
                          f"{' (none tagged ' + str(sorted(set(AXE_TAGS) - set(tags))) + ')' if set(tags) != set(AXE_TAGS) else ''}")
                result = page.evaluate(
                    f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(tags)}}}}})"
                    ".then(r => ({violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
                    " nodes: v.nodes.map(n => n.target.join(' '))})), passes: r.passes.length}))", timeout=120)
                vs = result["violations"]
                for v in vs:
                    print(f"  axe {name}: {v['id']} ({v['impact']}): {v['help']}; nodes: {v['nodes'][:6]}"
                          f"{' …' if len(v['nodes']) > 6 else ''}")
                check(f"{name}: axe-core finds no WCAG 2.1 A/AA violation ({result['passes']} rules pass)", not vs,
                      [f"{v['id']} ({v['impact']}) ×{len(v['nodes'])}" for v in vs])
                print(f"  {name}: {len(page.requests)} requests, axe {result['passes']} rules pass, {len(vs)} violations")
            page.close()

            phone = open_recorded(browser, 360, 740, mobile=True)
            try:
                phone.goto(url)
                phone.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 200)))")
                a = phone.evaluate(PAGE_AUDIT)
                check(f"{name}: no horizontal overflow at 360 px", a["sw"] <= a["vw"],
                      f"scrollWidth {a['sw']} > {a['vw']}; widest: {a['over']}")
            except cdp.CDPError as e:
                check(f"{name}: opens at 360 px", False, e)
            phone.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--klynge", required=True)
    ap.add_argument("--study", required=True)
    ap.add_argument("--site", required=True, help="the folder publish wrote")
    ap.add_argument("--pdf", help="the PDF publish wrote")
    ap.add_argument("--store")
    ap.add_argument("--survey")
    ap.add_argument("--clustering")
    ap.add_argument("--scenario", action="append", default=[], help="the scenarios given to publish (repeatable)")
    ap.add_argument("--lang", choices=["da", "en"])
    ap.add_argument("--expect-chapters", type=int)
    ap.add_argument("--absent-chapter", action="append", default=[])
    ap.add_argument("--min-figures", type=int, default=100)
    ap.add_argument("--require-source", action="extend", nargs="+", default=None,
                    help="source kinds that must appear (default: coverage, compare, profile, clusters)")
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium checks (for quick runs only)")
    ap.add_argument("--max-shown", type=int, default=80, help="failures printed in full")
    args = ap.parse_args()
    if args.require_source is None:
        args.require_source = ["coverage", "compare", "profile", "clusters"]
    args.klynge = os.path.abspath(args.klynge)
    args.study = os.path.abspath(args.study)
    checks = Counted(max_shown=args.max_shown)
    site = Site(args.site)
    if not checks.check("the site folder has index.html", os.path.isfile(os.path.join(site.folder, "index.html")), site.folder):
        checks.finish()
    site.load()
    lang = check_structure(site, args, checks)
    shown = check_figures(site, args, lang, checks)
    if args.pdf:
        check_pdf(site, args, shown, checks)
    if not args.no_browser:
        check_browser(site, args, checks)
    checks.finish()


if __name__ == "__main__":
    main()
