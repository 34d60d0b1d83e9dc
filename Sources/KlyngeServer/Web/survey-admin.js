// Klynge survey results for the kommune: fetched with the bearer token, shown with textContent only
// (respondents' texts and pins are data, never markup).
"use strict";

(function () {
  // The page is at <base>/survey/<id>/admin/, where <base> is "" or "/studies/<study>" in a service of several studies.
  const m = location.pathname.match(/^(.*)\/survey\/([^/]+)\//);
  const base = m ? m[1] : "";
  const id = m ? m[2] : "";
  let token = sessionStorage.getItem("klynge-token") || "";
  const status = (m, bad) => { const s = document.getElementById("status"); s.textContent = m; s.className = bad ? "error" : ""; };
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined && v !== false) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function table(headers, rows) {
    const tb = el("table");
    const tr = el("tr");
    for (const h of headers) tr.appendChild(el("th", { scope: "col" }, h));
    tb.appendChild(el("thead")).appendChild(tr);
    const body = el("tbody");
    for (const r of rows) {
      const row = el("tr");
      r.forEach((c, i) => row.appendChild(el("td", typeof c === "number" || i > 0 && /^[<\d]/.test(String(c)) ? { class: "n" } : {}, String(c))));
      body.appendChild(row);
    }
    tb.appendChild(body);
    return tb;
  }
  let minimum = 5;
  const n = (g) => (g.suppressed ? `< ${minimum}` : String(g.respondents));
  const pct = (x) => `${Math.round(x * 100)} %`;
  async function api(path, opts) {
    const r = await fetch(base + path, Object.assign({ headers: { Authorization: `Bearer ${token}`, Accept: "application/json" } }, opts || {}));
    if (!r.ok) {
      const b = await r.json().catch(() => ({}));
      throw new Error((b.error && b.error.message) || String(r.status));
    }
    return r;
  }

  function show(res) {
    document.getElementById("title").textContent = res.title;
    minimum = res.minimumGroupSize;
    const body = document.getElementById("body");
    body.replaceChildren();
    const h = (t) => body.appendChild(el("h2", {}, t));
    body.appendChild(el("p", {}, `${res.respondents} svar (${res.web} på nettet, ${res.paper} fra papir). Grupper med under ${res.minimumGroupSize} svar vises som "< ${res.minimumGroupSize}".`));
    h("Svar pr. landsby"); body.appendChild(table(["Landsby", "Svar"], res.byVillage.map((g) => [g.name, n(g)])));
    h("Svar pr. område"); body.appendChild(table(["Område", "Svar"], res.byArea.map((g) => [g.name, n(g)])));
    if (res.byCluster.length) { h("Svar pr. klynge"); body.appendChild(table(["Klynge", "Svar"], res.byCluster.map((g) => [g.name, n(g)]))); }
    for (const b of res.blocks) {
      h(b.title);
      for (const q of b.questions) {
        body.appendChild(el("h3", {}, `${q.text} (${q.answered} svar)`));
        if (q.options) body.appendChild(table(["Svar", "Antal"], q.options.map((o) => [o.label, o.count])));
        if (q.number) body.appendChild(el("p", {}, `Gennemsnit ${q.number.mean.toFixed(1)}, median ${q.number.median}, fra ${q.number.minimum} til ${q.number.maximum}`));
        if (q.texts) { const ul = el("ul", { class: "texts" }); for (const t of q.texts) ul.appendChild(el("li", {}, t)); body.appendChild(ul); }
      }
    }
    for (const u of res.facilityUse) {
      h(`Brug: ${u.category}`);
      body.appendChild(table(["Sted", "Brugere"], u.facilities.map((f) => [f.name, f.users])));
      body.appendChild(table(["Transport", "Antal", "Andel"], u.modes.map((m) => [m.label, m.count, pct(m.share)])));
    }
    for (const o of res.observedVersusNearest) {
      h(`Nærmeste eller et andet sted: ${o.category} (${o.mode})`);
      body.appendChild(el("p", {}, `${o.usingNearest} af ${o.respondents} bruger det nærmeste${o.shareUsingNearest == null ? "" : ` (${pct(o.shareUsingNearest)})`}.`
        + (o.meanExtraMinutes == null ? "" : ` De øvrige har i gennemsnit ${o.meanExtraMinutes.toFixed(1)} min længere.`)));
      body.appendChild(table(["Bruger i stedet", "Svar", "Min. længere"], o.elsewhere.map((e) => [e.name, e.respondents, e.meanExtraMinutes.toFixed(1)])));
    }
    h("Steder på kortet");
    if (def && res.pins.length) {
      // Pins merged by screen distance: a small map shows fewer, larger clusters with their counts.
      const map = window.KlyngeSurveyMap.make(def, "Kort over nålene", null);
      body.appendChild(map.svg);
      window.KlyngeSurveyMap.clusteredPins(map, res.pins, 28, "pin-cluster");
    }
    const ul = el("ul", { class: "pins-list" });
    for (const p of res.pins) {
      const li = el("li", { "data-pin": p.id });
      li.appendChild(el("strong", {}, `${p.kind} · ${p.status}`));
      li.appendChild(el("p", { class: "pin-text" }, p.text));
      if (p.status !== "approved") li.appendChild(decision(p, "approve", "Godkend"));
      if (p.status !== "rejected") li.appendChild(decision(p, "reject", "Afvis"));
      ul.appendChild(li);
    }
    body.appendChild(ul);
  }
  function decision(p, what, label) {
    const b = el("button", { type: "button", class: "secondary" }, label);
    b.addEventListener("click", async () => {
      try { await api(`/survey/${id}/pins/${encodeURIComponent(p.id)}/${what}`, { method: "POST" }); await load(); } catch (e) { status(e.message, true); }
    });
    return b;
  }
  let def = null;
  async function load() {
    if (!def) def = await fetch(`${base}/survey/${id}/definition.json`).then((r) => (r.ok ? r.json() : null)).catch(() => null);
    window.KlyngeSurveyMap.reset();
    const r = await api(`/survey/${id}/results`);
    show(await r.json());
    document.getElementById("results").hidden = false;
    status("", false);
    document.body.dataset.done = String(Number(document.body.dataset.done || 0) + 1);
  }
  document.getElementById("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    token = document.getElementById("token").value;
    sessionStorage.setItem("klynge-token", token);
    try { await load(); } catch (err) { status(err.message, true); document.body.dataset.error = err.message; }
  });
  for (const b of document.querySelectorAll("[data-export]")) {
    b.addEventListener("click", async () => {
      try {
        const f = b.getAttribute("data-export");
        const r = await api(`/survey/${id}/export?format=${f}`);
        const url = URL.createObjectURL(await r.blob());
        const a = el("a", { href: url, download: `${id}.${f}` });
        document.body.appendChild(a); a.click(); a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 5000);
      } catch (e) { status(e.message, true); }
    });
  }
  document.getElementById("close-now").addEventListener("click", async () => {
    if (!confirm("Luk undersøgelsen nu? Der kan ikke komme flere svar.")) return;
    try { await api(`/survey/${id}/close`, { method: "POST" }); status("Undersøgelsen er lukket.", false); } catch (e) { status(e.message, true); }
  });
  if (token) load().catch(() => {});
})();
