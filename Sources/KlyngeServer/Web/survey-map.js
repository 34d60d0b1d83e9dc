// Klynge survey maps: the study's outline as SVG (equirectangular at the study's latitude), marks that keep
// their size in screen pixels, clicks turned into longitude/latitude, and pins clustered by screen distance.
// Shared by the survey page and the kommune's results page; texts go in with textContent only.
"use strict";

window.KlyngeSurveyMap = (function () {
  const SVG = "http://www.w3.org/2000/svg";
  const maps = [];

  function make(data, label, onClick) {
    const [w, s, e, n] = data.bbox;
    const k = Math.cos(((s + n) / 2) * Math.PI / 180);
    // One scale on both axes (the study's shape kept); the element takes the same proportions.
    const W = 1000, H = W * (n - s) / ((e - w) * k);
    const px = (lon) => (lon - w) / (e - w) * W;
    const py = (lat) => (n - lat) / (n - s) * H;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("class", "map");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    svg.style.aspectRatio = `${W} / ${H.toFixed(1)}`;
    for (const ring of data.outlines) {
      const p = document.createElementNS(SVG, "polygon");
      p.setAttribute("points", ring.map((c) => `${px(c[0]).toFixed(1)},${py(c[1]).toFixed(1)}`).join(" "));
      p.setAttribute("class", "area");
      svg.appendChild(p);
    }
    const layer = document.createElementNS(SVG, "g");
    svg.appendChild(layer);
    if (onClick) {
      svg.addEventListener("click", (evt) => {
        const pt = svg.createSVGPoint();
        pt.x = evt.clientX; pt.y = evt.clientY;
        const m = svg.getScreenCTM();
        if (!m) return;
        const q = pt.matrixTransform(m.inverse());
        onClick({ lon: w + q.x / W * (e - w), lat: n - q.y / H * (n - s) }, evt);
      });
    }
    const map = { svg, layer, px, py, k, W, H };
    maps.push(map);
    return map;
  }

  /// Screen pixels per map unit (0 while the map is not laid out).
  function scaleOf(m) {
    const r = m.svg.getBoundingClientRect();
    return r.width && r.height ? Math.min(r.width / m.W, r.height / m.H) : 0;
  }

  function sizeMarks() {
    for (const m of maps) {
      const scale = scaleOf(m);
      if (!scale) continue;
      for (const c of m.layer.querySelectorAll("[data-px]")) {
        const v = Number(c.getAttribute("data-px")) / scale;
        if (c.tagName === "circle") c.setAttribute("r", v.toFixed(1)); else c.setAttribute("font-size", v.toFixed(1));
      }
      if (m.redraw) m.redraw(scale);
    }
  }
  window.addEventListener("resize", sizeMarks);

  function dot(map, lon, lat, r, cls, title) {
    const c = document.createElementNS(SVG, "circle");
    c.setAttribute("cx", map.px(lon).toFixed(1));
    c.setAttribute("cy", map.py(lat).toFixed(1));
    c.setAttribute("data-px", r);
    c.setAttribute("r", r);
    c.setAttribute("class", cls);
    if (title) { const tt = document.createElementNS(SVG, "title"); tt.textContent = title; c.appendChild(tt); }
    map.layer.appendChild(c);
    return c;
  }

  function nearest(places, c, k) {
    let best = null, bd = Infinity;
    for (const p of places) {
      const dx = (p.lon - c.lon) * k, dy = p.lat - c.lat, d = dx * dx + dy * dy;
      if (d < bd) { bd = d; best = p; }
    }
    return best;
  }

  /// Pins merged into clusters of those within `cellPx` screen pixels of each other (grid cells), drawn as one
  /// circle with its count; redrawn when the map's size changes, so a small map shows fewer, larger clusters.
  function clusteredPins(map, pins, cellPx, cls) {
    map.redraw = (scale) => {
      for (const old of map.layer.querySelectorAll(".cluster")) old.remove();
      const cell = cellPx / scale, groups = new Map();
      for (const p of pins) {
        const key = `${Math.floor(map.px(p.lon) / cell)}:${Math.floor(map.py(p.lat) / cell)}`;
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(p);
      }
      for (const g of groups.values()) {
        const x = g.reduce((a, p) => a + map.px(p.lon), 0) / g.length, y = g.reduce((a, p) => a + map.py(p.lat), 0) / g.length;
        const c = document.createElementNS(SVG, "circle");
        c.setAttribute("cx", x.toFixed(1)); c.setAttribute("cy", y.toFixed(1));
        c.setAttribute("r", ((g.length > 1 ? 9 : 5) / scale).toFixed(1));
        c.setAttribute("class", `cluster ${cls}`);
        const tt = document.createElementNS(SVG, "title");
        tt.textContent = g.map((p) => p.text).join(" · ");
        c.appendChild(tt);
        map.layer.appendChild(c);
        if (g.length > 1) {
          const t = document.createElementNS(SVG, "text");
          t.setAttribute("x", x.toFixed(1)); t.setAttribute("y", y.toFixed(1));
          t.setAttribute("class", "cluster count");
          t.setAttribute("font-size", (11 / scale).toFixed(1));
          t.setAttribute("text-anchor", "middle"); t.setAttribute("dominant-baseline", "central");
          t.textContent = String(g.length);
          map.layer.appendChild(t);
        }
      }
      map.svg.dataset.clusters = String(groups.size);
    };
    requestAnimationFrame(sizeMarks);
  }

  return { make, dot, nearest, sizeMarks, clusteredPins, reset: () => { maps.length = 0; } };
})();
