/// The working-group page: served by the service itself, no CDN and no internet needed.
enum WebPage {
    static let html = #"""
    <!doctype html>
    <html lang="da">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Klynge</title>
    <style>
      :root { --ink: #222; --muted: #666; --line: #d8d4ca; --accent: #1f5f99; --lose: #c0392b; --gain: #1a9850; }
      * { box-sizing: border-box; }
      body { margin: 0; font: 16px/1.4 "DejaVu Sans", system-ui, sans-serif; color: var(--ink); background: #f7f5f0; }
      header { display: flex; align-items: center; gap: 1rem; padding: .6rem 1rem; background: #fff; border-bottom: 1px solid var(--line); }
      header h1 { font-size: 1.3rem; margin: 0; flex: 1; }
      main { display: grid; grid-template-columns: minmax(320px, 380px) 1fr; gap: 0; height: calc(100vh - 56px); }
      aside { overflow-y: auto; padding: .8rem 1rem; background: #fff; border-right: 1px solid var(--line); }
      section { margin-bottom: 1.1rem; }
      h2 { font-size: 1rem; margin: .2rem 0 .5rem; }
      select, input, button { font: inherit; padding: .3rem .5rem; }
      button { background: var(--accent); color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
      button.secondary { background: #e9e5db; color: var(--ink); }
      .facility { display: flex; align-items: center; gap: .5rem; padding: .25rem 0; border-bottom: 1px dotted var(--line); }
      .facility.closed span { text-decoration: line-through; color: var(--muted); }
      .big { font-size: 2rem; font-weight: bold; }
      .figures div { margin: .15rem 0; }
      table { width: 100%; border-collapse: collapse; font-size: .9rem; }
      td, th { padding: .15rem .3rem; border-bottom: 1px solid #eee; text-align: left; }
      td.num { text-align: right; }
      tr.lose td { color: var(--lose); font-weight: bold; }
      tr.gain td { color: var(--gain); font-weight: bold; }
      #map { width: 100%; height: 100%; background: #dfe9ef; }
      #map .area { fill: #f4f1e8; stroke: #b9ae96; stroke-width: .8; }
      #map .road { fill: none; stroke: #a59c8c; stroke-width: .6; }
      #map .village { stroke: #fff; stroke-width: 1.2; }
      #map .fac { cursor: pointer; stroke: #fff; stroke-width: 1.5; }
      #map text { font-size: 12px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
      .downloads a { display: inline-block; margin: .15rem .3rem .15rem 0; }
      #status { color: var(--muted); font-size: .9rem; }
    </style>
    </head>
    <body>
    <header>
      <h1 id="title">Klynge</h1>
      <label><span data-t="category">Kategori</span> <select id="category"></select></label>
      <button class="secondary" id="lang">English</button>
    </header>
    <main>
    <aside>
      <section>
        <div class="big" id="share" data-value="">–</div>
        <div class="figures" id="figures"></div>
      </section>
      <section>
        <h2 data-t="facilities">Mødesteder – slå fra og til</h2>
        <div id="facilities"></div>
        <div id="opened"></div>
        <button class="secondary" id="place" data-t="place">Placér nyt mødested</button>
        <button class="secondary" id="reset" data-t="reset">Nulstil</button>
      </section>
      <section>
        <h2 data-t="scenarios">Scenarier</h2>
        <div><input id="scenarioName" placeholder="Navn på scenariet" data-tp="name"> <button id="save" data-t="save">Gem</button></div>
        <div style="margin-top:.4rem"><input id="token" type="password" placeholder="Nøgle (token)" data-tp="token"></div>
        <div style="margin-top:.4rem"><select id="saved"><option value="">–</option></select> <button class="secondary" id="load" data-t="load">Hent</button></div>
        <div id="status"></div>
      </section>
      <section>
        <h2 data-t="villages">Byerne</h2>
        <table><thead><tr><th data-t="village">By</th><th data-t="people">Indb.</th><th data-t="time">Tid</th><th data-t="nearest">Nærmeste</th></tr></thead><tbody id="villages"></tbody></table>
      </section>
      <section>
        <h2 data-t="impact">Hvis én lukker</h2>
        <table><tbody id="impact"></tbody></table>
      </section>
      <section class="downloads">
        <h2 data-t="downloads">Hent</h2>
        <a id="dlGeojson" href="#">GeoJSON</a><a id="dlCsv" href="#">CSV</a><a id="dlPng" href="#">PNG</a><a id="dlPdf" href="#">PDF</a>
      </section>
    </aside>
    <svg id="map" role="img" aria-label="Kort"></svg>
    </main>
    <script src="/app/app.js"></script>
    </body>
    </html>
    """#

    static let script = #"""
    "use strict";
    const T = {
      da: { category: "Kategori", facilities: "Mødesteder – slå fra og til", reset: "Nulstil", scenarios: "Scenarier", save: "Gem", load: "Hent",
            villages: "Byerne", village: "By", people: "Indb.", time: "Tid", nearest: "Nærmeste", impact: "Hvis én lukker", downloads: "Hent",
            name: "Navn på scenariet", token: "Nøgle (token)", covered: "dækket", within: "inden for", mean: "Gennemsnit", worst: "Længst",
            loses: "mister dækning", gains: "får dækning", saved: "Gemt", needName: "Giv scenariet et navn", lang: "English",
            closesAlone: "lukket alene", lose: "mister", place: "Placér nyt mødested", clickMap: "Klik på kortet, hvor det nye mødested skal ligge",
            newName: "Navn på det nye mødested", newPlace: "Nyt mødested" },
      en: { category: "Category", facilities: "Meeting places – switch off and on", reset: "Reset", scenarios: "Scenarios", save: "Save", load: "Load",
            villages: "Villages", village: "Village", people: "Pop.", time: "Time", nearest: "Nearest", impact: "If one closes", downloads: "Download",
            name: "Scenario name", token: "Key (token)", covered: "covered", within: "within", mean: "Mean", worst: "Farthest",
            loses: "lose coverage", gains: "gain coverage", saved: "Saved", needName: "Give the scenario a name", lang: "Dansk",
            closesAlone: "closed alone", lose: "lose", place: "Place a new meeting place", clickMap: "Click the map where the new meeting place goes",
            newName: "Name of the new meeting place", newPlace: "New meeting place" }
    };
    const params = new URLSearchParams(location.search);
    const state = { lang: params.get("lang") || "da", category: null, closed: new Set(), opened: [], placing: false, baseline: null, current: null,
                    facilities: [], villages: [], areas: [], roads: [], categories: [] };
    const t = k => T[state.lang][k] || k;
    const $ = id => document.getElementById(id);
    const fmt = (v, unit) => v == null ? "–" : (unit === "min" ? (v / 60) : (v / 1000)).toFixed(1).replace(".", state.lang === "da" ? "," : ".") + " " + unit;
    async function get(url) { const r = await fetch(url); if (!r.ok) throw new Error((await r.json()).error.message); return r.json(); }

    function translate() {
      document.documentElement.lang = state.lang;
      document.querySelectorAll("[data-t]").forEach(e => e.textContent = t(e.dataset.t));
      document.querySelectorAll("[data-tp]").forEach(e => e.placeholder = t(e.dataset.tp));
      $("lang").textContent = t("lang");
    }

    // A plain projection: longitude scaled by the cosine of the middle latitude.
    let proj = null;
    function setupProjection() {
      const pts = state.areas.flatMap(a => rings(a.geometry).flat());
      const xs = pts.map(p => p[0]), ys = pts.map(p => p[1]);
      const lat0 = (Math.min(...ys) + Math.max(...ys)) / 2, k = Math.cos(lat0 * Math.PI / 180);
      const minX = Math.min(...xs) * k, maxX = Math.max(...xs) * k, minY = Math.min(...ys), maxY = Math.max(...ys);
      const svg = $("map"), W = svg.clientWidth || 800, H = svg.clientHeight || 600, pad = 20;
      const s = Math.min((W - 2 * pad) / (maxX - minX), (H - 2 * pad) / (maxY - minY));
      const dx = (W - 2 * pad - (maxX - minX) * s) / 2;
      proj = p => [pad + (p[0] * k - minX) * s + dx, pad + (maxY - p[1]) * s];
      proj.inverse = (x, y) => [((x - pad - dx) / s + minX) / k, maxY - (y - pad) / s];
    }
    function rings(g) { return !g ? [] : g.type === "Polygon" ? g.coordinates : g.type === "MultiPolygon" ? g.coordinates.flat() : []; }
    function lines(g) { return !g ? [] : g.type === "LineString" ? [g.coordinates] : g.type === "MultiLineString" ? g.coordinates : []; }
    const path = (coords, close) => coords.map((p, i) => (i ? "L" : "M") + proj(p).map(v => v.toFixed(1)).join(",")).join("") + (close ? "Z" : "");

    function drawMap() {
      if (!proj) setupProjection();
      const rows = state.current ? state.current.points : [];
      const byId = Object.fromEntries(rows.map(r => [r.demandId, r.categories[0]]));
      const base = state.baseline ? Object.fromEntries(state.baseline.points.map(r => [r.demandId, r.categories[0]])) : {};
      let out = state.areas.map(a => `<path class="area" d="${rings(a.geometry).map(r => path(r, true)).join("")}"/>`).join("");
      out += `<path class="road" d="${state.roads.flatMap(r => lines(r.geometry)).map(l => path(l)).join("")}"/>`;
      for (const v of state.villages) {
        const c = byId[v.id], b = base[v.id], [x, y] = proj(v.geometry.coordinates);
        const color = !c ? "#888" : c.covered ? (b && !b.covered ? "#1a9850" : "#7fb77e") : (b && b.covered ? "#c0392b" : "#f0a35e");
        const r = 3 + Math.sqrt(v.properties.weight) / 4;
        out += `<circle class="village" cx="${x}" cy="${y}" r="${r}" fill="${color}"><title>${v.properties.name}</title></circle>`;
        if (v.properties.weight >= 100) out += `<text x="${x + r + 3}" y="${y + 4}">${v.properties.name}</text>`;
      }
      for (const f of state.facilities) {
        const [x, y] = proj(f.geometry.coordinates), closed = state.closed.has(f.id);
        out += `<rect class="fac" data-id="${f.id}" x="${x - 7}" y="${y - 7}" width="14" height="14" fill="${closed ? "#999" : "#1f3a5f"}"><title>${f.properties.name}</title></rect>`;
        if (closed) out += `<path d="M${x - 9},${y - 9}L${x + 9},${y + 9}M${x + 9},${y - 9}L${x - 9},${y + 9}" stroke="#c0392b" stroke-width="3"/>`;
      }
      for (const n of state.opened) {
        const [x, y] = proj([n.lon, n.lat]);
        out += `<circle cx="${x}" cy="${y}" r="9" fill="#2166ac" stroke="#111" stroke-width="2"><title>${n.name}</title></circle><text x="${x + 12}" y="${y + 4}">${n.name}</text>`;
      }
      $("map").innerHTML = out;
      $("map").querySelectorAll(".fac").forEach(e => e.addEventListener("click", () => toggle(e.dataset.id)));
    }

    function drawFacilities() {
      $("facilities").innerHTML = state.facilities.map(f => `<label class="facility ${state.closed.has(f.id) ? "closed" : ""}">
        <input type="checkbox" data-id="${f.id}" ${state.closed.has(f.id) ? "" : "checked"}> <span>${f.properties.name || f.id}</span></label>`).join("");
      $("facilities").querySelectorAll("input").forEach(e => e.addEventListener("change", () => toggle(e.dataset.id)));
      $("opened").innerHTML = state.opened.map((n, i) => `<label class="facility"><input type="checkbox" checked data-i="${i}"> <span>${n.name} (${t("newPlace").toLowerCase()})</span></label>`).join("");
      $("opened").querySelectorAll("input").forEach(e => e.addEventListener("change", async () => { state.opened.splice(+e.dataset.i, 1); await refresh(); }));
    }

    function drawFigures() {
      const s = state.current.categories[0], unit = s.metric === "duration" ? "min" : "km";
      $("share").textContent = (s.coveredShare * 100).toFixed(1).replace(".", state.lang === "da" ? "," : ".") + " % " + t("covered");
      $("share").dataset.value = s.coveredShare.toFixed(6);
      const base = state.baseline.categories[0];
      const lost = state.current.points.filter((p, i) => !p.categories[0].covered && state.baseline.points[i].categories[0].covered);
      $("figures").innerHTML = `<div>${t("within")} ${fmt(s.threshold, unit)}: ${Math.round(s.coveredPopulation)} / ${Math.round(s.population)}</div>
        <div>${t("mean")}: ${fmt(s.mean, unit)} (${fmt(base.mean, unit)})</div><div>${t("worst")}: ${s.worstServedName || "–"} ${fmt(s.max, unit)}</div>
        <div style="color:var(--lose)">${lost.length ? lost.map(p => p.name).join(", ") + " " + t("loses") : ""}</div>`;
      const rows = state.current.points.map((p, i) => ({ p, c: p.categories[0], b: state.baseline.points[i].categories[0] }))
        .sort((a, b) => (b.c.durationSeconds ?? b.c.distanceMeters ?? 1e9) - (a.c.durationSeconds ?? a.c.distanceMeters ?? 1e9));
      $("villages").innerHTML = rows.map(({ p, c, b }) => `<tr class="${b.covered && !c.covered ? "lose" : !b.covered && c.covered ? "gain" : ""}">
        <td>${p.name}</td><td class="num">${Math.round(p.population)}</td><td class="num">${fmt(unit === "min" ? c.durationSeconds : c.distanceMeters, unit)}</td>
        <td>${c.facilityName || "–"}</td></tr>`).join("");
    }

    async function refresh() {
      const cat = encodeURIComponent(state.category);
      const close = [...state.closed].map(encodeURIComponent).join(",");
      const open = state.opened.map(n => `${n.lon.toFixed(6)},${n.lat.toFixed(6)},${n.name.replace(/[|,]/g, " ")}`).join("|");
      state.current = await get(`/api/coverage?category=${cat}${close ? "&close=" + close : ""}${open ? "&open=" + encodeURIComponent(open) : ""}`);
      drawFigures(); drawMap(); drawFacilities();
      $("dlGeojson").href = `/collections/coverage/items?limit=10000`;
      $("dlCsv").href = "data:text/csv;charset=utf-8," + encodeURIComponent("id,name,population,covered,seconds\n" +
        state.current.points.map(p => [p.demandId, p.name, p.population, p.categories[0].covered, p.categories[0].durationSeconds ?? ""].join(",")).join("\n"));
      $("dlPng").href = `/maps/coverage.png?category=${cat}&paper=A4`;
      $("dlPdf").href = `/maps/coverage.pdf?category=${cat}&paper=A3`;
      document.body.dataset.ready = "1";
    }

    async function toggle(id) { state.closed.has(id) ? state.closed.delete(id) : state.closed.add(id); await refresh(); }

    async function selectCategory(cat) {
      state.category = cat;
      state.closed.clear();
      state.opened = [];
      const fc = await get(`/collections/facilities/items?limit=10000`);
      state.facilities = fc.features.filter(f => (f.properties.category || "").split(";").includes(cat));
      state.baseline = await get(`/api/coverage?category=${encodeURIComponent(cat)}`);
      const impact = await get(`/api/impact?category=${encodeURIComponent(cat)}`);
      $("impact").innerHTML = impact.map(i => `<tr><td>${i.name || i.siteId}</td><td class="num">${Math.round(i.populationLosingCoverage)} ${t("lose")}</td></tr>`).join("");
      await refresh();
    }

    async function loadSaved() {
      const s = await get("/api/scenarios");
      $("saved").innerHTML = `<option value="">–</option>` + s.saved.map(r => `<option value="${r.id}">${r.scenario.name}</option>`).join("");
      return s.saved;
    }

    async function save(name) {
      if (!name) { $("status").textContent = t("needName"); return false; }
      const body = JSON.stringify({ name, close: [...state.closed],
        open: state.opened.map(n => ({ name: n.name, categories: [state.category], lonlat: [n.lon, n.lat] })) });
      const r = await fetch("/api/scenarios", { method: "POST", headers: { "Content-Type": "application/json", "Authorization": "Bearer " + $("token").value }, body });
      const o = await r.json();
      $("status").textContent = r.ok ? t("saved") + ": " + name : o.error.message;
      await loadSaved();
      return r.ok;
    }

    async function loadScenario(id) {
      const r = await get(`/api/scenarios/${encodeURIComponent(id)}`);
      state.closed = new Set(r.scenario.close || []);
      state.opened = (r.scenario.open || []).filter(o => o.lonlat).map(o => ({ name: o.name, lon: o.lonlat[0], lat: o.lonlat[1] }));
      $("scenarioName").value = r.scenario.name;
      await refresh();
    }

    async function start() {
      translate();
      const [areas, demand, roads, baseline] = await Promise.all([get("/collections/areas/items?limit=10000"),
        get("/collections/demand/items?limit=10000"), get("/collections/roads/items?limit=100000"), get("/api/coverage")]);
      state.areas = areas.features; state.villages = demand.features; state.roads = roads.features;
      const land = await get("/");
      $("title").textContent = land.title;
      state.categories = baseline.categories.map(c => c.category);
      state.labels = Object.fromEntries((await get("/api/categories")).map(c => [c.key, c]));
      const fill = () => { const v = $("category").value;
        $("category").innerHTML = state.categories.map(c => `<option value="${c}">${(state.labels[c] || {})[state.lang] || c}</option>`).join("");
        if (v) $("category").value = v; };
      fill();
      state.fillCategories = fill;
      $("category").addEventListener("change", e => selectCategory(e.target.value));
      $("reset").addEventListener("click", async () => { state.closed.clear(); state.opened = []; await refresh(); });
      $("place").addEventListener("click", () => { state.placing = true; $("status").textContent = t("clickMap"); $("map").style.cursor = "crosshair"; });
      $("map").addEventListener("click", async ev => {
        if (!state.placing) return;
        state.placing = false;
        $("map").style.cursor = "";
        const box = $("map").getBoundingClientRect();
        const [lon, lat] = proj.inverse(ev.clientX - box.left, ev.clientY - box.top);
        const name = (prompt(t("newName"), t("newPlace")) || t("newPlace")).trim();
        state.opened.push({ name, lon, lat });
        $("status").textContent = "";
        await refresh();
      });
      $("save").addEventListener("click", () => save($("scenarioName").value.trim()));
      $("load").addEventListener("click", () => $("saved").value && loadScenario($("saved").value));
      $("lang").addEventListener("click", () => { state.lang = state.lang === "da" ? "en" : "da"; translate(); state.fillCategories(); refresh(); });
      window.addEventListener("resize", () => { proj = null; drawMap(); });
      const saved = await loadSaved();
      const cat = params.get("category") || state.categories[0];
      $("category").value = cat;
      await selectCategory(cat);
      // Scripted use (tests, links): ?close=…&save=…&token=…&load=…
      if (params.get("token")) $("token").value = params.get("token");
      if (params.get("close")) { params.get("close").split(",").forEach(id => state.closed.add(id)); await refresh(); }
      if (params.get("open")) {
        params.get("open").split("|").forEach(s => { const [lon, lat, name] = s.split(","); state.opened.push({ lon: +lon, lat: +lat, name: name || t("newPlace") }); });
        await refresh();
      }
      if (params.get("save")) { $("scenarioName").value = params.get("save"); document.body.dataset.saved = (await save(params.get("save"))) ? "1" : "0"; }
      if (params.get("load")) {
        const hit = saved.find(r => r.scenario.name === params.get("load"));
        document.body.dataset.found = hit ? "1" : "0";
        if (hit) await loadScenario(hit.id);
      }
      document.body.dataset.done = "1";
    }
    start().catch(e => { $("status").textContent = e.message; document.body.dataset.error = e.message; });
    """#
}
