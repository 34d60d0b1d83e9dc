// Klynge working-group page.
// Names of villages, facilities, areas and scenarios come from data and URLs, so they are only ever put into
// the DOM as text (textContent, .value, setAttribute on plain attributes): nothing here parses markup.
"use strict";

const T = {
  da: {
    skip: "Gå til tal og mødesteder", subtitle: "Mødesteder i landsbyklyngerne", category: "Kategori", lang: "English",
    figures: "Nøgletal", covered: "dækket", mean: "Gennemsnit", worst: "Længst væk", today: "i dag",
    within: (cov, pop, thr, mode) => `${cov} af ${pop} indb. har højst ${thr}${mode}`,
    noneReach: (p, n) => `${p} indb. i ${n} ${T.da.byer(n)} når ingen ad vejene`,
    modes: { car: " i bil", bike: " på cykel", walk: " til fods", distance: "" },
    byer: n => (n === 1 ? "by" : "byer"),
    loseHead: (n, p) => `${n} ${T.da.byer(n)} mister dækning (${p} indb.)`,
    gainHead: (n, p) => `${n} ${T.da.byer(n)} får dækning (${p} indb.)`,
    areaLine: (a, n, p) => `${a}: ${n} ${T.da.byer(n)}, ${p} indb.`,
    villageLine: (v, p) => `${v} (${p} indb.)`,
    noChange: "Ingen byer skifter dækning.",
    facilities: "Mødesteder – slå fra og til", facilitiesHelp: "Fjern fluebenet, eller klik på mødestedet på kortet, for at lukke det.",
    serves: n => `${n} indb.`, servesTitle: "Indbyggere, der har stedet som nærmeste i dag",
    surveyUsers: n => `${n} svar bruger det`, surveyFew: n => `under ${n} svar`, surveyTitle: s => `Borgerundersøgelsen «${s}»: svar fra dem, der mest bruger stedet`,
    surveyAffected: (n, m, more) => `Borgerundersøgelsen: ${n} af ${m} svar bruger et sted, der lukker${more ? " (og nogle få flere)" : ""}.`,
    noFacilities: "Ingen mødesteder i denne kategori.",
    place: "Placér nyt mødested", placing: "Klik på kortet, hvor det nye mødested skal ligge (Esc fortryder)", cancel: "Fortryd",
    newName: "Navn på det nye mødested", newPlace: "Nyt mødested", newTag: "nyt", remove: "Fjern", removeNamed: n => `Fjern ${n}`,
    reset: "Nulstil",
    villages: "Byerne", show: "Vis", fAll: "Alle byer", fUncovered: "Ikke dækket", fLoses: "Mister dækning", fGains: "Får dækning",
    villagesHelp: "Længste rejsetid først.", villagesCaption: "Byerne med rejsetid til nærmeste åbne mødested",
    colVillage: "By", colPeople: "Indb.", colTime: "Tid", colDistance: "Afstand", colNearest: "Nærmeste",
    rows: (a, b, n) => `Rækker ${a}–${b} af ${n}`, noRows: "Ingen byer at vise", prev: "Forrige", next: "Næste",
    unreachable: "kan ikke nås",
    status: { covered: "dækket", gains: "får dækning", loses: "mister dækning", uncovered: "ikke dækket", none: "ingen oplysning" },
    impact: "Hvis én lukker", impactHelp: "Hvert mødested lukket alene, mindst kritiske først.",
    colFacility: "Mødested", colLose: "Mister dækning", nobody: "ingen",
    scenarios: "Scenarier", scenarioName: "Navn på scenariet", token: "Nøgle (token)", save: "Gem scenariet", savedTitle: "Gemte scenarier",
    noSaved: "Ingen gemte scenarier endnu.", load: "Hent", del: "Slet", invalid: "Ugyldigt",
    loadNamed: n => `Hent ${n}`, delNamed: n => `Slet ${n}`, updated: d => `Gemt ${d}`,
    needName: "Giv scenariet et navn.", needToken: "Skriv nøglen (token) for at gemme eller slette.",
    badToken: "Nøglen (token) blev ikke godkendt.", saved: n => `Gemt: ${n}`, deleted: n => `Slettet: ${n}`,
    overwrite: n => `Der findes allerede et scenarie med navnet „${n}“. Vil du erstatte det?`,
    confirmDelete: n => `Slet scenariet „${n}“?`, loaded: n => `Hentet: ${n}`,
    notFound: n => `Fandt intet gemt scenarie med navnet „${n}“.`,
    partial: "Dele af scenariet kan ikke vises på siden (sammenlægninger, omklassificeringer eller nye steder uden koordinater) og er udeladt.",
    downloads: "Hent data og kort", dlGeojson: "Byerne som GeoJSON", dlCsv: "Byerne som CSV", dlPng: "Kort i dag (PNG, A4)", dlPdf: "Kort i dag (PDF, A3)",
    legend: "Signaturforklaring", lgCovered: "Dækket", lgGains: "Får dækning", lgLoses: "Mister dækning", lgUncovered: "Ikke dækket",
    lgFacility: "Mødested", lgClosed: "Lukket mødested", lgNew: "Nyt mødested", lgSize: "Cirklens størrelse følger indbyggertallet.",
    mapTitle: "Kort over byer og mødesteder", zoomIn: "Zoom ind", zoomOut: "Zoom ud", zoomAll: "Hele kortet",
    unnamedVillage: p => `uden navn, ${p} indb.`, unnamedFacility: "mødested uden navn", unnamedArea: "område uden navn",
    unknownCategory: (c, used) => `Ukendt kategori „${c}“ – viser ${used}.`, unknownIds: ids => `Ukendt mødested-id: ${ids}`,
    badOpen: s => `Kunne ikke læse stedet „${s}“ (lon,lat,navn).`,
    busy: s => `Tjenesten har travlt – prøv igen om ${s} s`, offline: "Ingen forbindelse til tjenesten.", loading: "Henter data …",
    httpError: c => `Fejl fra tjenesten (HTTP ${c}).`,
    clusters: "Klyngeforslag", clustersHelp: "Sammenlign to inddelinger. Klik på et område på det venstre kort (eller vælg i listen) for at flytte det til en naboklynge.",
    clusterA: "Rediger", clusterB: "Sammenlign med", limits: "Krav til klyngerne", minPop: "Mindst indb.", maxPop: "Højst indb.",
    maxMin: "Højst min. til knudepunkt", clusterFigures: "Tal for de to inddelinger", areaList: "Områderne som liste",
    colArea: "Område", colCluster: "Klynge", clusterName: "Navn på det nye alternativ",
    clusterTokenHelp: "Gemmes med nøglen (token) fra Scenarier.", clusterSave: "Gem som nyt alternativ",
    ownClusters: "Studiets egne", edited: n => `${n} (redigeret)`, newCluster: "Ny klynge", newClusterN: n => `Ny klynge ${n}`,
    fClusters: "Klynger", fPeople: "Indb. pr. klynge (mindst–flest)", fMean: "Rejsetid til knudepunkt, gns.", fWorst: "Rejsetid, længst",
    fMoved: "Områder flyttet", fProblems: "Brud på kravene",
    moved: (a, c) => `${a} er flyttet til ${c}.`, noNeighbour: a => `${a} har ingen naboklynge at flytte til.`,
    valid: "Inddelingen opfylder alle krav.", miniTitle: n => `Kort over klyngerne i ${n}`,
    areaInCluster: (a, c, p) => `${a}: ${c} (${p} indb. i klyngen)`, hubOf: h => `knudepunkt ${h}`,
    needClusterName: "Giv alternativet et navn.", clusterSaved: n => `Gemt som nyt alternativ: ${n}`,
    clusterDelete: "Slet dette alternativ", confirmClusterDelete: n => `Slet alternativet «${n}»? Det kan ikke fortrydes.`, clusterDeleted: n => `Slettet: ${n}`,
    problem: {
      notContiguous: p => `${p.cluster} hænger ikke sammen`,
      tooFewPeople: p => `${p.cluster} har ${num(p.population)} indb., færre end ${num(p.limit)}`,
      tooManyPeople: p => `${p.cluster} har ${num(p.population)} indb., flere end ${num(p.limit)}`,
      noHub: p => `${p.cluster} har intet knudepunkt, som alle klyngens byer når inden for grænsen`,
      unreachable: p => `${p.areaName || p.area} når ikke knudepunktet ${p.hub} inden for grænsen`,
      missing: p => `${p.cluster} har intet ${categoryLabel(p.category).toLowerCase()}`,
      unassigned: p => `${p.areaName || p.area} er ikke i nogen klynge`,
    },
  },
  en: {
    skip: "Skip to figures and meeting places", subtitle: "Meeting places in the village clusters", category: "Category", lang: "Dansk",
    figures: "Key figures", covered: "covered", mean: "Mean", worst: "Farthest", today: "today",
    within: (cov, pop, thr, mode) => `${cov} of ${pop} people within ${thr}${mode}`,
    noneReach: (p, n) => `${p} people in ${n} ${T.en.villagesN(n)} reach none by road`,
    modes: { car: " by car", bike: " by bike", walk: " on foot", distance: "" },
    villagesN: n => (n === 1 ? "village" : "villages"),
    loseHead: (n, p) => `${n} ${T.en.villagesN(n)} lose coverage (${p} people)`,
    gainHead: (n, p) => `${n} ${T.en.villagesN(n)} gain coverage (${p} people)`,
    areaLine: (a, n, p) => `${a}: ${n} ${T.en.villagesN(n)}, ${p} people`,
    villageLine: (v, p) => `${v} (${p} people)`,
    noChange: "No village changes coverage.",
    facilities: "Meeting places – switch off and on", facilitiesHelp: "Untick a meeting place, or click it on the map, to close it.",
    serves: n => `${n} people`, servesTitle: "People who have it as their nearest today",
    surveyUsers: n => `${n} answers use it`, surveyFew: n => `under ${n} answers`, surveyTitle: s => `Citizen survey “${s}”: answers from those who mostly use the place`,
    surveyAffected: (n, m, more) => `Citizen survey: ${n} of ${m} answers use a place that closes${more ? " (and a few more)" : ""}.`,
    noFacilities: "No meeting places in this category.",
    place: "Place a new meeting place", placing: "Click the map where the new meeting place goes (Esc cancels)", cancel: "Cancel",
    newName: "Name of the new meeting place", newPlace: "New meeting place", newTag: "new", remove: "Remove", removeNamed: n => `Remove ${n}`,
    reset: "Reset",
    villages: "Villages", show: "Show", fAll: "All villages", fUncovered: "Not covered", fLoses: "Lose coverage", fGains: "Gain coverage",
    villagesHelp: "Longest travel first.", villagesCaption: "Villages with the travel to the nearest open meeting place",
    colVillage: "Village", colPeople: "People", colTime: "Time", colDistance: "Distance", colNearest: "Nearest",
    rows: (a, b, n) => `Rows ${a}–${b} of ${n}`, noRows: "No villages to show", prev: "Previous", next: "Next",
    unreachable: "unreachable",
    status: { covered: "covered", gains: "gains coverage", loses: "loses coverage", uncovered: "not covered", none: "no data" },
    impact: "If one closes", impactHelp: "Each meeting place closed alone, least critical first.",
    colFacility: "Meeting place", colLose: "Lose coverage", nobody: "nobody",
    scenarios: "Scenarios", scenarioName: "Scenario name", token: "Key (token)", save: "Save scenario", savedTitle: "Saved scenarios",
    noSaved: "No saved scenarios yet.", load: "Load", del: "Delete", invalid: "Invalid",
    loadNamed: n => `Load ${n}`, delNamed: n => `Delete ${n}`, updated: d => `Saved ${d}`,
    needName: "Give the scenario a name.", needToken: "Type the key (token) to save or delete.",
    badToken: "The key (token) was not accepted.", saved: n => `Saved: ${n}`, deleted: n => `Deleted: ${n}`,
    overwrite: n => `A scenario named “${n}” exists already. Replace it?`,
    confirmDelete: n => `Delete the scenario “${n}”?`, loaded: n => `Loaded: ${n}`,
    notFound: n => `Found no saved scenario named “${n}”.`,
    partial: "Parts of the scenario cannot be shown on the page (merges, recategorisations or new places without coordinates) and were left out.",
    downloads: "Download data and maps", dlGeojson: "Villages as GeoJSON", dlCsv: "Villages as CSV", dlPng: "Map of today (PNG, A4)", dlPdf: "Map of today (PDF, A3)",
    legend: "Legend", lgCovered: "Covered", lgGains: "Gains coverage", lgLoses: "Loses coverage", lgUncovered: "Not covered",
    lgFacility: "Meeting place", lgClosed: "Closed meeting place", lgNew: "New meeting place", lgSize: "Circle size follows the population.",
    mapTitle: "Map of villages and meeting places", zoomIn: "Zoom in", zoomOut: "Zoom out", zoomAll: "Whole map",
    unnamedVillage: p => `unnamed, ${p} ${p === "1" ? "person" : "people"}`, unnamedFacility: "unnamed meeting place", unnamedArea: "unnamed area",
    unknownCategory: (c, used) => `Unknown category “${c}” – showing ${used}.`, unknownIds: ids => `Unknown meeting place id: ${ids}`,
    badOpen: s => `Could not read the place “${s}” (lon,lat,name).`,
    busy: s => `The service is busy – try again in ${s} s`, offline: "No connection to the service.", loading: "Loading data …",
    httpError: c => `Error from the service (HTTP ${c}).`,
    clusters: "Cluster alternatives", clustersHelp: "Compare two divisions. Click an area on the left map (or choose in the list) to move it to a neighbouring cluster.",
    clusterA: "Edit", clusterB: "Compare with", limits: "Rules for the clusters", minPop: "Least people",
    maxPop: "Most people", maxMin: "Most minutes to the hub", clusterFigures: "Figures of the two divisions", areaList: "The areas as a list",
    colArea: "Area", colCluster: "Cluster", clusterName: "Name of the new alternative",
    clusterTokenHelp: "Saved with the key (token) from Scenarios.", clusterSave: "Save as a new alternative",
    ownClusters: "The study's own", edited: n => `${n} (edited)`, newCluster: "New cluster", newClusterN: n => `New cluster ${n}`,
    fClusters: "Clusters", fPeople: "People per cluster (least–most)", fMean: "Travel to the hub, mean", fWorst: "Travel, longest",
    fMoved: "Areas moved", fProblems: "Rules broken",
    moved: (a, c) => `${a} moved to ${c}.`, noNeighbour: a => `${a} has no neighbouring cluster to move to.`,
    valid: "The division meets every rule.", miniTitle: n => `Map of the clusters in ${n}`,
    areaInCluster: (a, c, p) => `${a}: ${c} (${p} people in the cluster)`, hubOf: h => `hub ${h}`,
    needClusterName: "Give the alternative a name.", clusterSaved: n => `Saved as a new alternative: ${n}`,
    clusterDelete: "Delete this alternative", confirmClusterDelete: n => `Delete the alternative “${n}”? This cannot be undone.`, clusterDeleted: n => `Deleted: ${n}`,
    problem: {
      notContiguous: p => `${p.cluster} is not contiguous`,
      tooFewPeople: p => `${p.cluster} has ${num(p.population)} people, fewer than ${num(p.limit)}`,
      tooManyPeople: p => `${p.cluster} has ${num(p.population)} people, more than ${num(p.limit)}`,
      noHub: p => `${p.cluster} has no hub that all its villages reach within the limit`,
      unreachable: p => `${p.areaName || p.area} does not reach the hub ${p.hub} within the limit`,
      missing: p => `${p.cluster} has no ${categoryLabel(p.category).toLowerCase()}`,
      unassigned: p => `${p.areaName || p.area} is in no cluster`,
    },
  },
};

const SVG_NS = "http://www.w3.org/2000/svg";
const PAGE_SIZE = 50;
const LIST_MAX = 10;          // more villages than this changing coverage: summarised per area
const MAP_UNITS = 1000;       // width of the map's user space

const params = new URLSearchParams(location.search);
const state = {
  lang: params.get("lang") === "en" ? "en" : "da",
  title: "Klynge",
  categories: [], labels: {}, category: null,
  areas: [], roads: [], villages: [], facilities: [],
  surveyUse: new Map(),  // category → what the citizen survey says of its facilities (small counts withheld)
  villageById: new Map(), facilityById: new Map(), areaName: new Map(),
  baselines: new Map(), impacts: new Map(), base: null,
  closed: new Set(), opened: [],   // opened: {name, lon, lat, categories}
  current: null, rows: [], page: 0, filter: "all",
  saved: [], invalid: [], placing: false, seq: 0, refreshes: 0,
  dl: [],
};

// ---------- small helpers ----------

const $ = id => document.getElementById(id);
function t(key, ...args) {
  const v = T[state.lang][key] ?? T.da[key] ?? key;
  return typeof v === "function" ? v(...args) : v;
}
const locale = () => (state.lang === "da" ? "da-DK" : "en-GB");
const formats = new Map();  // making an Intl.NumberFormat is slow; thousands of rows share a few
function num(v, digits = 0) {
  if (v == null || !Number.isFinite(v)) return "–";
  const key = locale() + digits;
  if (!formats.has(key)) formats.set(key, new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  return formats.get(key).format(v);
}
const sleep = ms => new Promise(r => setTimeout(r, ms));

// Only http(s)/blob URLs may become links; anything else (script or data URLs) is refused.
function safeUrl(value) {
  const u = new URL(String(value), location.href);
  if (!["http:", "https:", "blob:"].includes(u.protocol)) throw new Error("refused URL");
  return u.href;
}
function setAttr(node, name, value) {
  if (/^on/i.test(name) || name === "style") throw new Error("refused attribute " + name);
  node.setAttribute(name, /^(href|src|xlink:href|action|formaction)$/i.test(name) ? safeUrl(value) : String(value));
}
function build(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "text") node.textContent = String(v);
    else setAttr(node, k, v);
  }
  for (const c of children) if (c != null) node.append(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}
const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
const s = (tag, attrs, ...children) => build(document.createElementNS(SVG_NS, tag), attrs, children);

function setStatus(text, kind = "info") {
  const el = $("status");
  el.textContent = text || "";
  el.className = text ? kind : "";
}

// ---------- names ----------

function clean(name) { return typeof name === "string" ? name.trim() : ""; }
// The service may stand in a feature's id for a missing name; that is no name for people.
function realName(name, id) { const n = clean(name); return id != null && n === String(id) ? "" : n; }
function villageLabel(name, population, id) { return realName(name, id) || t("unnamedVillage", num(population)); }
function facilityLabel(name, id) { return realName(name, id) || t("unnamedFacility"); }
function areaLabel(id) { return realName(state.areaName.get(id), id) || t("unnamedArea"); }
function categoryLabel(c) { return clean((state.labels[c] || {})[state.lang]) || c; }
function facilityCategories(f) {
  return String(f.properties.category || "").split(/[;,|]/).map(x => x.trim()).filter(Boolean);
}

// ---------- the API ----------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}
function retryAfter(r) {
  const v = r.headers.get("Retry-After");
  if (v && /^\d+$/.test(v.trim())) return Number(v.trim());
  const d = v ? Date.parse(v) : NaN;
  return Number.isFinite(d) ? Math.max(1, Math.ceil((d - Date.now()) / 1000)) : 5;
}
// The page is at <BASE>/app/: BASE is "" for one study, "/studies/<id>" in a service of several.
const BASE = location.pathname.replace(/\/app\/[^/]*$/, "");
async function api(url, options = {}, retries = 0) {
  let r;
  try { r = await fetch(url.startsWith("/") ? BASE + url : url, Object.assign({ credentials: "same-origin" }, options)); }
  catch { throw new ApiError(0, t("offline")); }
  if (r.ok) return r.status === 204 ? null : r.json();
  if (r.status === 503) {
    const wait = retryAfter(r);
    if (retries > 0 && wait <= 10) {
      setStatus(t("busy", wait), "warn");
      await sleep(wait * 1000);
      return api(url, options, retries - 1);
    }
    throw new ApiError(503, t("busy", wait));
  }
  let message = "";
  try {
    const body = await r.json();
    const e = body && body.error;
    if (e && typeof e.message === "string") message = e.message + (typeof e.parameter === "string" ? ` (${e.parameter})` : "");
  } catch { /* not JSON */ }
  throw new ApiError(r.status, message || t("httpError", r.status));
}
const getJSON = url => api(url, {}, 2);

// A whole collection, page by page (the service caps the page size).
async function collection(id) {
  const out = [];
  for (;;) {
    const fc = await getJSON(`/collections/${encodeURIComponent(id)}/items?limit=10000&offset=${out.length}`);
    const page = Array.isArray(fc.features) ? fc.features : [];
    for (const f of page) out.push(f);
    const more = typeof fc.numberMatched === "number" ? out.length < fc.numberMatched
      : (Array.isArray(fc.links) ? fc.links : []).some(l => l && l.rel === "next");
    if (!page.length || !more) return out;
  }
}

function coverageQuery() {
  const q = ["category=" + encodeURIComponent(state.category)];
  if (state.closed.size) q.push("close=" + [...state.closed].map(encodeURIComponent).join(","));
  const open = openedHere();
  if (open.length) {
    q.push("open=" + encodeURIComponent(open.map(o => `${o.lon.toFixed(6)},${o.lat.toFixed(6)},${o.name.replace(/\|/g, "/")}`).join("|")));
  }
  return q.join("&");
}
const openedHere = () => state.opened.filter(o => o.categories.includes(state.category));

// ---------- the map ----------

const view = { k: 1, minX: 0, maxY: 0, s: 1, full: null, box: null, u: 1 };
const marks = new Map();  // village id → {el, title, r, status, text}

function rings(g) {
  if (!g) return [];
  if (g.type === "Polygon") return g.coordinates;
  if (g.type === "MultiPolygon") return g.coordinates.flat();
  return [];
}
function lines(g) {
  if (!g) return [];
  if (g.type === "LineString") return [g.coordinates];
  if (g.type === "MultiLineString") return g.coordinates;
  return [];
}
function pointOf(f) {
  const g = f && f.geometry;
  return g && g.type === "Point" && Array.isArray(g.coordinates) ? g.coordinates : null;
}
function project(lon, lat) { return [(lon * view.k - view.minX) * view.s, (view.maxY - lat) * view.s]; }
function unproject(x, y) { return [(x / view.s + view.minX) / view.k, view.maxY - y / view.s]; }
function pathOf(coords, close) {
  let d = "";
  coords.forEach((p, i) => { const [x, y] = project(p[0], p[1]); d += (i ? "L" : "M") + x.toFixed(1) + "," + y.toFixed(1); });
  return d && close ? d + "Z" : d;
}

function setupProjection() {
  const pts = [];
  for (const a of state.areas) for (const r of rings(a.geometry)) for (const p of r) pts.push(p);
  if (!pts.length) for (const v of state.villages) { const p = pointOf(v); if (p) pts.push(p); }
  if (!pts.length) pts.push([0, 0], [1, 1]);
  let minLon = Infinity, maxLon = -Infinity, minLat = Infinity, maxLat = -Infinity;
  for (const [x, y] of pts) { minLon = Math.min(minLon, x); maxLon = Math.max(maxLon, x); minLat = Math.min(minLat, y); maxLat = Math.max(maxLat, y); }
  // Plate carrée with longitudes shrunk by the cosine of the middle latitude: right for a kommune.
  view.k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
  view.minX = minLon * view.k;
  view.maxY = maxLat;
  view.s = MAP_UNITS / Math.max(1e-9, (maxLon - minLon) * view.k);
  const H = (maxLat - minLat) * view.s, pad = MAP_UNITS * 0.04;
  view.full = { x: -pad, y: -pad, w: MAP_UNITS + 2 * pad, h: H + 2 * pad };
  view.box = Object.assign({}, view.full);
}

// Units of the map per screen pixel, so marks keep their on-screen size at any zoom.
function applyView() {
  const svg = $("map"), b = view.box;
  svg.setAttribute("viewBox", `${b.x} ${b.y} ${b.w} ${b.h}`);
  const w = svg.clientWidth || 800, hgt = svg.clientHeight || 600;
  view.u = Math.max(b.w / w, b.h / hgt);
  for (const m of marks.values()) m.el.setAttribute("r", (radius(m) * view.u).toFixed(3));
  $("gAreaLabels").setAttribute("font-size", (13 * view.u).toFixed(3));
  $("gLabels").setAttribute("font-size", (12 * view.u).toFixed(3));
  drawFacilitiesOnMap();
  drawOpenedOnMap();
  drawLabels();
}

function drawBase() {
  const areas = $("gAreas"), roads = $("gRoads"), labels = $("gAreaLabels");
  areas.replaceChildren();
  labels.replaceChildren();
  for (const a of state.areas) {
    const d = rings(a.geometry).map(r => pathOf(r, true)).join("");
    areas.append(s("path", { class: "area", d }, s("title", { text: areaLabel(String(a.id ?? a.properties.id)) })));
    // Label at the centre of the largest ring's bounding box: enough for parishes.
    let best = null, bestSize = -1;
    for (const r of rings(a.geometry)) {
      const xs = r.map(p => p[0]), ys = r.map(p => p[1]);
      const size = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
      if (size > bestSize) { bestSize = size; best = [(Math.max(...xs) + Math.min(...xs)) / 2, (Math.max(...ys) + Math.min(...ys)) / 2]; }
    }
    const name = clean(a.properties.name);
    if (best && name) { const [x, y] = project(best[0], best[1]); labels.append(s("text", { x: x.toFixed(1), y: y.toFixed(1), text: name })); }
  }
  const d = [];
  for (const r of state.roads) for (const l of lines(r.geometry)) d.push(pathOf(l, false));
  roads.replaceChildren(s("path", { class: "road", d: d.join("") }));

  const g = $("gVillages");
  g.replaceChildren();
  $("gHighlight").replaceChildren();
  marks.clear();
  for (const v of state.villages) {
    const p = pointOf(v);
    if (!p) continue;
    const [x, y] = project(p[0], p[1]);
    const weight = Number(v.properties.weight) || 0;
    const title = s("title", { text: villageLabel(v.properties.name, weight, v.id) });
    const el = s("circle", { class: "village none", cx: x.toFixed(2), cy: y.toFixed(2), "data-id": String(v.id) }, title);
    g.append(el);
    marks.set(String(v.id), { el, title, r: Math.min(14, 2.6 + Math.sqrt(weight) / 3.2), status: "none", text: "" });
  }
}

function drawFacilitiesOnMap() {
  const g = $("gFacilities"), u = view.u, half = 7 * u;
  g.replaceChildren();
  for (const f of categoryFacilities()) {
    const p = pointOf(f);
    if (!p) continue;
    const [x, y] = project(p[0], p[1]);
    const closed = state.closed.has(String(f.id));
    const group = s("g", { class: closed ? "facility closed" : "facility", "data-id": String(f.id) },
      s("title", { text: facilityLabel(f.properties.name, f.id) }),
      s("rect", { x: (x - half).toFixed(2), y: (y - half).toFixed(2), width: (2 * half).toFixed(2), height: (2 * half).toFixed(2) }));
    if (closed) {
      const c = 10 * u;
      group.append(s("path", { class: "cross", d: `M${x - c},${y - c}L${x + c},${y + c}M${x + c},${y - c}L${x - c},${y + c}` }));
    }
    g.append(group);
  }
}

function drawOpenedOnMap() {
  const g = $("gOpened"), r = 10 * view.u;
  g.replaceChildren();
  for (const o of openedHere()) {
    const [x, y] = project(o.lon, o.lat);
    g.append(s("path", { class: "newplace", d: `M${x},${y - r}L${x + r},${y}L${x},${y + r}L${x - r},${y}Z` }, s("title", { text: o.name })));
  }
}

// Labels placed greedily (new places, then meeting places, then the largest villages); one that would
// overlap another is tried on each side and otherwise left out.
function drawLabels() {
  const gl = $("gLabels"), u = view.u, size = 12;
  gl.replaceChildren();
  const wanted = [];
  for (const o of openedHere()) { const [x, y] = project(o.lon, o.lat); wanted.push({ x, y, r: 10, text: o.name, cls: "fac" }); }
  for (const f of categoryFacilities()) {
    const p = pointOf(f), name = realName(f.properties.name, f.id);
    if (!p || !name) continue;
    const [x, y] = project(p[0], p[1]);
    wanted.push({ x, y, r: 8, text: name, cls: "fac" });
  }
  const big = state.villages.filter(v => pointOf(v) && realName(v.properties.name, v.id) && (Number(v.properties.weight) || 0) >= 100)
    .sort((a, b) => b.properties.weight - a.properties.weight);
  for (const v of big) {
    const p = pointOf(v), [x, y] = project(p[0], p[1]);
    wanted.push({ x, y, r: (marks.get(String(v.id)) || { r: 4 }).r, text: realName(v.properties.name, v.id), cls: null });
  }
  const placed = [];
  for (const m of wanted) { const r = m.r * u; placed.push({ x0: m.x - r, y0: m.y - r, x1: m.x + r, y1: m.y + r }); }
  const hit = b => placed.some(o => b.x0 < o.x1 && b.x1 > o.x0 && b.y0 < o.y1 && b.y1 > o.y0);
  for (const m of wanted) {
    const w = m.text.length * size * (m.cls ? 0.66 : 0.6) * u, hh = size * u, r = m.r * u + 3 * u;
    const options = [
      { x: m.x + r, y: m.y + hh * 0.35, anchor: "start", b: { x0: m.x + r, y0: m.y - hh / 2, x1: m.x + r + w, y1: m.y + hh / 2 } },
      { x: m.x - r, y: m.y + hh * 0.35, anchor: "end", b: { x0: m.x - r - w, y0: m.y - hh / 2, x1: m.x - r, y1: m.y + hh / 2 } },
      { x: m.x, y: m.y - r, anchor: "middle", b: { x0: m.x - w / 2, y0: m.y - r - hh, x1: m.x + w / 2, y1: m.y - r } },
      { x: m.x, y: m.y + r + hh * 0.8, anchor: "middle", b: { x0: m.x - w / 2, y0: m.y + r, x1: m.x + w / 2, y1: m.y + r + hh } },
    ];
    const ok = options.find(o => !hit(o.b));
    if (!ok) continue;
    placed.push(ok.b);
    gl.append(s("text", { class: m.cls, x: ok.x.toFixed(2), y: ok.y.toFixed(2), "text-anchor": ok.anchor, text: m.text }));
  }
}

function radius(m) {
  return m.status === "loses" || m.status === "gains" ? Math.max(5, m.r + 1.5) : m.r;
}

function paintVillages() {
  const hi = $("gHighlight"), lo = $("gVillages");
  for (const row of state.rows) {
    const m = marks.get(row.id);
    if (!m) continue;
    if (m.status !== row.status) {
      m.el.setAttribute("class", "village " + row.status);
      m.status = row.status;
      m.el.setAttribute("r", (radius(m) * view.u).toFixed(3));
      // Changed villages are drawn last so they stay visible among thousands.
      const want = row.status === "loses" || row.status === "gains" ? hi : lo;
      if (m.el.parentNode !== want) want.append(m.el);
    }
    const text = `${row.label} – ${formatValue(row.value)} (${t("status")[row.status]})`;
    if (m.text !== text) { m.title.textContent = text; m.text = text; }
  }
}

// Screen point → map user space.
function toMap(clientX, clientY) {
  const svg = $("map"), pt = svg.createSVGPoint();
  pt.x = clientX; pt.y = clientY;
  return pt.matrixTransform(svg.getScreenCTM().inverse());
}
let viewFrame = 0;
function applyViewSoon() {
  if (!viewFrame) viewFrame = requestAnimationFrame(() => { viewFrame = 0; applyView(); });
}
function zoom(factor, cx, cy) {
  const b = view.box, f = view.full;
  const w = Math.min(f.w * 1.5, Math.max(f.w / 60, b.w * factor));
  const k = w / b.w;
  const px = cx ?? b.x + b.w / 2, py = cy ?? b.y + b.h / 2;
  view.box = { x: px - (px - b.x) * k, y: py - (py - b.y) * k, w, h: b.h * k };
  $("map").setAttribute("viewBox", `${view.box.x} ${view.box.y} ${view.box.w} ${view.box.h}`);
  applyViewSoon();
}

function setupMapEvents() {
  const svg = $("map");
  let drag = null, suppress = false;
  svg.addEventListener("wheel", e => {
    e.preventDefault();
    const p = toMap(e.clientX, e.clientY);
    zoom(Math.exp(e.deltaY * 0.0015), p.x, p.y);
  }, { passive: false });
  svg.addEventListener("pointerdown", e => {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, box: Object.assign({}, view.box), moved: false, id: e.pointerId };
  });
  svg.addEventListener("pointermove", e => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 5) return;
    if (!drag.moved) { drag.moved = true; svg.setPointerCapture(drag.id); svg.classList.add("dragging"); }
    view.box = Object.assign({}, drag.box, { x: drag.box.x - dx * view.u, y: drag.box.y - dy * view.u });
    svg.setAttribute("viewBox", `${view.box.x} ${view.box.y} ${view.box.w} ${view.box.h}`);
  });
  const end = () => {
    if (drag && drag.moved) { suppress = true; svg.classList.remove("dragging"); setTimeout(() => { suppress = false; }, 0); }
    drag = null;
  };
  svg.addEventListener("pointerup", end);
  svg.addEventListener("pointercancel", end);
  svg.addEventListener("click", e => {
    if (suppress) return;
    if (state.placing) { placeAt(e.clientX, e.clientY); return; }
    const f = e.target.closest && e.target.closest(".facility");
    if (f && f.dataset.id) run(() => toggle(f.dataset.id));
  });
  $("zoomIn").addEventListener("click", () => zoom(1 / 1.6));
  $("zoomOut").addEventListener("click", () => zoom(1.6));
  $("zoomAll").addEventListener("click", () => { view.box = Object.assign({}, view.full); applyView(); });
  window.addEventListener("resize", applyViewSoon);
  document.addEventListener("keydown", e => { if (e.key === "Escape" && state.placing) setPlacing(false); });
}

// ---------- placing a new meeting place ----------

function setPlacing(on) {
  state.placing = on;
  $("map").classList.toggle("placing", on);
  $("place").classList.toggle("active", on);
  $("place").textContent = on ? t("cancel") : t("place");
  const hint = $("placingHint");
  hint.hidden = !on;
  hint.textContent = on ? t("placing") : "";
}
function placeAt(clientX, clientY) {
  setPlacing(false);
  const p = toMap(clientX, clientY);
  const [lon, lat] = unproject(p.x, p.y);
  const answer = window.prompt(t("newName"), t("newPlace"));
  if (answer === null) return;
  const name = clean(answer) || t("newPlace");
  const place = { name, lon, lat, categories: [state.category] };
  state.opened.push(place);
  run(async () => {
    try { await refresh(); } catch (e) { state.opened = state.opened.filter(o => o !== place); drawOpenedList(); drawOpenedOnMap(); throw e; }
  });
}

// ---------- side panel ----------

function categoryFacilities() {
  return state.facilities.filter(f => facilityCategories(f).includes(state.category));
}

const toggles = new Map();  // facility id → {li, input}
function drawFacilityList() {
  const ul = $("facilities");
  ul.replaceChildren();
  toggles.clear();
  const served = new Map((state.impacts.get(state.category) || []).map(i => [String(i.siteId), i.populationServed]));
  const list = categoryFacilities().slice().sort((a, b) => facilityLabel(a.properties.name, a.id).localeCompare(facilityLabel(b.properties.name, b.id), locale()));
  if (!list.length) ul.append(h("li", { class: "empty help", text: t("noFacilities") }));
  for (const f of list) {
    const id = String(f.id), closed = state.closed.has(id);
    const input = h("input", { type: "checkbox", "data-id": id });
    input.checked = !closed;
    input.addEventListener("change", () => run(() => toggle(id)));
    const meta = served.has(id) ? h("span", { class: "meta", title: t("servesTitle"), text: t("serves", num(served.get(id))) }) : null;
    const use = state.surveyUse.get(state.category);
    let said = null;
    if (use && Object.prototype.hasOwnProperty.call(use.users, id)) {
      const n = use.users[id];
      said = h("span", { class: "meta survey-use", "data-id": id, title: t("surveyTitle", clean(use.title)),
                         text: n == null ? t("surveyFew", num(use.minimumGroupSize)) : t("surveyUsers", num(n)) });
    }
    const li = h("li", { class: closed ? "closed" : null },
      h("label", { class: "toggle" }, input, h("span", { class: "name", text: facilityLabel(f.properties.name, f.id) }), meta, said));
    ul.append(li);
    toggles.set(id, { li, input });
  }
}
function updateFacilityList() {
  for (const [id, { li, input }] of toggles) {
    const closed = state.closed.has(id);
    input.checked = !closed;
    li.classList.toggle("closed", closed);
  }
}

function drawOpenedList() {
  const ul = $("opened");
  ul.replaceChildren();
  state.opened.forEach(o => {
    if (!o.categories.includes(state.category)) return;
    const button = h("button", { type: "button", class: "secondary small", "aria-label": t("removeNamed", o.name), text: t("remove") });
    button.addEventListener("click", () => {
      state.opened = state.opened.filter(x => x !== o);
      run(refresh);
    });
    ul.append(h("li", {}, h("div", { class: "opened-item" },
      h("span", { class: "diamond", "aria-hidden": "true" }),
      h("span", { class: "name", text: o.name }), h("span", { class: "tag", text: t("newTag") }), button)));
  });
}

function formatValue(v) {
  if (v == null || !Number.isFinite(v)) return t("unreachable");
  const s0 = state.current && state.current.categories[0];
  return s0 && s0.metric === "distance" ? `${num(v / 1000, 1)} km` : `${num(v / 60, 1)} min`;
}

function drawFigures() {
  const s0 = state.current.categories[0], b0 = state.base.categories[0];
  $("share").textContent = `${num(s0.coveredShare * 100, 1)} %`;
  $("share").dataset.value = Number(s0.coveredShare).toFixed(6);
  const mode = s0.metric === "distance" ? "" : (t("modes")[s0.mode] || "");
  $("within").textContent = t("within", num(s0.coveredPopulation), num(s0.population), formatValue(s0.threshold), mode);
  $("mean").textContent = `${formatValue(s0.mean)} (${t("today")} ${formatValue(b0.mean)})`;
  // The farthest of those who reach a facility, and apart from them those who reach none.
  let worst = "–";
  if (s0.worstReachableId != null) {
    const v = state.villageById.get(String(s0.worstReachableId));
    worst = `${villageLabel(s0.worstReachableName, v ? v.properties.weight : 0, s0.worstReachableId)}, ${formatValue(s0.maxReachable)}`;
  }
  if (s0.populationUnreachable > 0) worst += ` · ${t("noneReach", num(s0.populationUnreachable), s0.pointsUnreachable)}`;
  $("worst").textContent = worst;
  // Beside the people who lose their nearest place: the survey's answers from users of the places closed.
  const use = state.surveyUse.get(state.category), line = $("survey-affected");
  line.hidden = !use || !use.respondents;
  if (use && use.respondents) {
    let n = 0, more = false;
    for (const id of state.closed) {
      if (!Object.prototype.hasOwnProperty.call(use.users, id)) continue;
      if (use.users[id] == null) more = true; else n += use.users[id];
    }
    line.textContent = t("surveyAffected", num(n), num(use.respondents), more);
    line.dataset.value = String(n);
  }
}

function changeBlock(kind, rows) {
  const people = rows.reduce((a, r) => a + (r.population || 0), 0);
  const block = h("div", { class: "change " + kind, "data-count": String(rows.length) },
    h("p", { text: t(kind === "loses" ? "loseHead" : "gainHead", rows.length, num(people)) }));
  const ul = h("ul");
  if (rows.length > LIST_MAX) {
    // Thousands of small places: one line per area says more than a wall of names.
    block.dataset.mode = "areas";
    const by = new Map();
    for (const r of rows) {
      const e = by.get(r.areaId) || { n: 0, people: 0 };
      e.n += 1; e.people += r.population || 0;
      by.set(r.areaId, e);
    }
    [...by.entries()].sort((a, b) => b[1].people - a[1].people || b[1].n - a[1].n)
      .forEach(([area, e]) => ul.append(h("li", { text: t("areaLine", area == null ? t("unnamedArea") : areaLabel(area), e.n, num(e.people)) })));
  } else {
    block.dataset.mode = "villages";
    rows.slice().sort((a, b) => (b.population || 0) - (a.population || 0))
      .forEach(r => ul.append(h("li", { text: r.name ? t("villageLine", r.label, num(r.population)) : r.label })));
  }
  block.append(ul);
  return block;
}
function drawChanges() {
  const box = $("changes");
  box.replaceChildren();
  const loses = state.rows.filter(r => r.status === "loses"), gains = state.rows.filter(r => r.status === "gains");
  const whatIf = state.closed.size || openedHere().length;
  if (loses.length) box.append(changeBlock("loses", loses));
  if (gains.length) box.append(changeBlock("gains", gains));
  if (!loses.length && !gains.length && whatIf) box.append(h("div", { class: "change none" }, h("p", { text: t("noChange") })));
}

function filteredRows() {
  const f = state.filter;
  if (f === "all") return state.rows;
  if (f === "uncovered") return state.rows.filter(r => r.status === "uncovered" || r.status === "loses");
  return state.rows.filter(r => r.status === f);
}
function drawTable() {
  const rows = filteredRows(), n = rows.length;
  const pages = Math.max(1, Math.ceil(n / PAGE_SIZE));
  state.page = Math.min(Math.max(0, state.page), pages - 1);
  const first = state.page * PAGE_SIZE, shown = rows.slice(first, first + PAGE_SIZE);
  const body = $("villages");
  body.replaceChildren();
  for (const r of shown) {
    const nearest = r.c && r.c.facilityId != null ? facilityLabel(r.c.facilityName, r.c.facilityId) : "–";
    body.append(h("tr", { class: r.status === "loses" || r.status === "gains" ? r.status : null, "data-id": r.id },
      h("td", {}, h("div", { class: "vname" },
        h("span", { class: "dot " + r.status, title: t("status")[r.status] }),
        h("span", {}, h("span", { class: "vlabel", text: r.label }), h("span", { class: "sr-only", text: ` (${t("status")[r.status]})` }),
          h("span", { class: "area", text: r.areaId == null ? "" : areaLabel(r.areaId) })))),
      h("td", { class: "num", text: num(r.population) }),
      h("td", { class: "num", text: r.c && r.c.facilityId != null ? formatValue(r.value) : "–" }),
      h("td", { text: r.c && r.c.facilityId != null ? nearest : t("unreachable") })));
  }
  $("pageInfo").textContent = n ? t("rows", num(first + 1), num(first + shown.length), num(n)) : t("noRows");
  $("prevPage").disabled = state.page === 0;
  $("nextPage").disabled = state.page >= pages - 1;
  const metric = state.current && state.current.categories[0].metric;
  $("colValue").textContent = t(metric === "distance" ? "colDistance" : "colTime");
}

function drawImpact() {
  const body = $("impact");
  body.replaceChildren();
  for (const i of state.impacts.get(state.category) || []) {
    const lose = Math.round(i.populationLosingCoverage || 0);
    body.append(h("tr", {}, h("td", { text: facilityLabel(i.name, i.siteId) }),
      h("td", { class: "num", text: lose ? t("serves", num(lose)) : t("nobody") })));
  }
}

// ---------- downloads (built locally: the what-if on screen, not today's) ----------

function csvText(v) {
  let x = v == null ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(x)) x = "'" + x;  // a spreadsheet must not read a name as a formula
  return /[",\r\n;]/.test(x) || x !== x.trim() ? '"' + x.replace(/"/g, '""') + '"' : x;
}
function csvNumber(v) { return v == null || !Number.isFinite(v) ? "" : String(v); }
// Built a moment after each refresh (not inside it), and on demand if a link is used before that.
let downloadsTimer = 0, downloadsStale = true;
function scheduleDownloads() {
  downloadsStale = true;
  clearTimeout(downloadsTimer);
  downloadsTimer = setTimeout(drawDownloads, 150);
}
function drawDownloads() {
  clearTimeout(downloadsTimer);
  downloadsStale = false;
  for (const u of state.dl) URL.revokeObjectURL(u);
  state.dl = [];
  const cat = state.category, slug = cat.replace(/[^A-Za-z0-9_-]/g, "_");
  const lines = ["id,name,area,population,covered,change,duration_s,distance_m,nearest_id,nearest_name"];
  const features = [];
  for (const r of state.rows) {
    const c = r.c || {};
    lines.push([csvText(r.id), csvText(r.name), csvText(r.areaId == null ? "" : areaLabel(r.areaId)), csvNumber(r.population),
      c.covered ? "true" : "false", csvText(r.status), csvNumber(c.durationSeconds), csvNumber(c.distanceMeters),
      csvText(c.facilityId), csvText(c.facilityName)].join(","));
    const v = state.villageById.get(r.id);
    features.push({ type: "Feature", id: r.id, geometry: v ? v.geometry : null,
      properties: { name: r.name || null, area: r.areaId == null ? null : areaLabel(r.areaId), population: r.population,
        covered: !!c.covered, change: r.status, duration_s: c.durationSeconds ?? null, distance_m: c.distanceMeters ?? null,
        nearest_id: c.facilityId ?? null, nearest_name: c.facilityName ?? null } });
  }
  const csv = URL.createObjectURL(new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" }));
  const geo = URL.createObjectURL(new Blob([JSON.stringify({ type: "FeatureCollection", features })], { type: "application/geo+json" }));
  state.dl.push(csv, geo);
  setAttr($("dlCsv"), "href", csv);
  setAttr($("dlCsv"), "download", `klynge-${slug}.csv`);
  setAttr($("dlGeojson"), "href", geo);
  setAttr($("dlGeojson"), "download", `klynge-${slug}.geojson`);
  const c = encodeURIComponent(cat);
  setAttr($("dlPng"), "href", `${BASE}/maps/coverage.png?category=${c}&paper=A4&lang=${state.lang}`);
  setAttr($("dlPdf"), "href", `${BASE}/maps/coverage.pdf?category=${c}&paper=A3&lang=${state.lang}`);
}

// ---------- scenarios ----------

async function loadSavedList() {
  const r = await getJSON("/api/scenarios");
  state.saved = Array.isArray(r.saved) ? r.saved.filter(x => x && x.scenario) : [];
  state.invalid = Array.isArray(r.invalid) ? r.invalid : [];
  drawSavedList();
}
function formatDate(s0) {
  const d = new Date(s0);
  return Number.isNaN(d.getTime()) ? String(s0 || "") : d.toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" });
}
function drawSavedList() {
  const ul = $("savedList");
  ul.replaceChildren();
  if (!state.saved.length && !state.invalid.length) ul.append(h("li", { class: "empty", text: t("noSaved") }));
  for (const r of state.saved) {
    const name = String(r.scenario.name ?? r.id);
    const load = h("button", { type: "button", class: "secondary small load", "aria-label": t("loadNamed", name), text: t("load") });
    load.addEventListener("click", () => run(() => loadScenario(r.id)));
    const del = h("button", { type: "button", class: "danger small delete", "aria-label": t("delNamed", name), text: t("del") });
    del.addEventListener("click", () => run(() => deleteScenario(r.id, r.etag, name)));
    ul.append(h("li", { "data-id": String(r.id) }, h("span", { class: "name", text: name }), load, del,
      h("span", { class: "meta", text: r.updated ? t("updated", formatDate(r.updated)) : "" })));
  }
  for (const r of state.invalid) {
    const name = String(r.name ?? r.id);
    const del = h("button", { type: "button", class: "danger small delete", "aria-label": t("delNamed", name), text: t("del") });
    del.addEventListener("click", () => run(() => deleteScenario(r.id, r.etag, name)));
    ul.append(h("li", { class: "invalid", "data-id": String(r.id) }, h("span", { class: "name", text: name }),
      h("span", { class: "tag invalid", text: t("invalid") }), del,
      h("span", { class: "meta reason", text: String(r.reason ?? "") })));
  }
}
function token() {
  const v = $("token").value.trim();
  if (!v) { setStatus(t("needToken"), "warn"); $("token").focus(); }
  return v;
}
function writeError(e) {
  return e instanceof ApiError && e.status === 401 ? new ApiError(401, t("badToken")) : e;
}
async function save() {
  const name = clean($("scenarioName").value);
  document.body.dataset.saved = "0";
  if (!name) { setStatus(t("needName"), "warn"); $("scenarioName").focus(); return; }
  const key = token();
  if (!key) return;
  const body = JSON.stringify({ name, close: [...state.closed],
    open: state.opened.map(o => ({ name: o.name, categories: o.categories, lonlat: [o.lon, o.lat] })) });
  const existing = state.saved.find(r => r.scenario.name === name);
  if (existing && !window.confirm(t("overwrite", name))) return;
  const headers = { "Content-Type": "application/json", Authorization: "Bearer " + key };
  try {
    if (existing) {
      headers["If-Match"] = `"${existing.etag}"`;
      await api(`/api/scenarios/${encodeURIComponent(existing.id)}`, { method: "PUT", headers, body });
    } else {
      await api("/api/scenarios", { method: "POST", headers, body });
    }
  } catch (e) { throw writeError(e); }
  setStatus(t("saved", name));
  await loadSavedList();
  document.body.dataset.saved = "1";
}
// If-Match carries the record's ETag: the store never reuses one, so a stale page cannot overwrite.
async function deleteScenario(id, etag, name) {
  const key = token();
  if (!key || !window.confirm(t("confirmDelete", name))) return;
  const headers = { Authorization: "Bearer " + key };
  if (etag != null) headers["If-Match"] = `"${etag}"`;
  try { await api(`/api/scenarios/${encodeURIComponent(id)}`, { method: "DELETE", headers }); }
  catch (e) { throw writeError(e); }
  setStatus(t("deleted", name));
  await loadSavedList();
  document.body.dataset.deleted = String(id);
}
async function loadScenario(id) {
  const r = await getJSON(`/api/scenarios/${encodeURIComponent(id)}`);
  const sc = r.scenario || {};
  state.closed = new Set((Array.isArray(sc.close) ? sc.close : []).map(String));
  const open = Array.isArray(sc.open) ? sc.open : [];
  state.opened = open.filter(o => Array.isArray(o.lonlat) && o.lonlat.length === 2 && o.lonlat.every(Number.isFinite))
    .map(o => ({ name: clean(o.name) || t("newPlace"), lon: o.lonlat[0], lat: o.lonlat[1],
      categories: Array.isArray(o.categories) && o.categories.length ? o.categories.map(String) : [state.category] }));
  const partial = open.length !== state.opened.length || (sc.merge && sc.merge.length) || (sc.recategorise && sc.recategorise.length);
  $("scenarioName").value = String(sc.name ?? "");
  await refresh();
  setStatus(partial ? t("partial") : t("loaded", String(sc.name ?? "")), partial ? "warn" : "info");
}

// ---------- cluster alternatives ----------

// Two clusterings side by side; the left one is a working copy the planner edits area by area. Every
// change is checked by the service against the rules typed here (POST /api/regions/check, no token).
const clusterState = { list: [], a: null, b: null, work: null, original: null, checkA: null, checkB: null, seq: 0, names: 0 };

async function loadClusterings(select) {
  const r = await getJSON("/api/clusterings");
  clusterState.list = (Array.isArray(r.clusterings) ? r.clusterings : []).filter(c => c && c.valid && c.assignments && typeof c.assignments === "object");
  $("clusterCard").hidden = !clusterState.list.length || !state.areas.length;
  if ($("clusterCard").hidden) return;
  const options = () => clusterState.list.map(c => h("option", { value: String(c.id), text: clusteringLabel(c) }));
  $("clusterA").replaceChildren(...options());
  $("clusterB").replaceChildren(...options());
  const ids = clusterState.list.map(c => String(c.id));
  clusterState.a = select && ids.includes(select) ? select : (ids.includes(clusterState.a) ? clusterState.a : ids[0]);
  clusterState.b = ids.includes(clusterState.b) ? clusterState.b : ids[Math.min(1, ids.length - 1)];
  $("clusterA").value = clusterState.a;
  $("clusterB").value = clusterState.b;
  syncDeleteButton();
  startEditing();
  await checkClusters();
}
// A saved alternative can be deleted; the study's own clusters belong to the study file.
function syncDeleteButton() {
  const c = clusteringById(clusterState.a);
  $("clusterDelete").hidden = !c || !!c.ownClusters;
}
async function deleteClustering() {
  const c = clusteringById(clusterState.a);
  if (!c || c.ownClusters) return;
  if (!confirm(t("confirmClusterDelete", clusteringLabel(c)))) return;
  const key = token();
  if (!key) return;
  try {
    await api(`/api/clusterings/${encodeURIComponent(String(c.id))}`, { method: "DELETE", headers: { Authorization: "Bearer " + key } });
  } catch (e) { throw writeError(e); }
  setStatus(t("clusterDeleted", clusteringLabel(c)));
  clusterState.a = null;
  await loadClusterings();
  document.body.dataset.clusterDeleted = String(c.id);
}
function clusteringLabel(c) { return c.ownClusters ? t("ownClusters") : clean(c.name) || String(c.id); }
function clusteringById(id) { return clusterState.list.find(c => String(c.id) === String(id)); }
function areaIdOf(a) { return String(a.id ?? a.properties.id); }

function startEditing() {
  const c = clusteringById(clusterState.a);
  clusterState.original = Object.assign({}, c ? c.assignments : {});
  clusterState.work = Object.assign({}, clusterState.original);
  clusterState.names = 0;
}

// Colours by cluster name, in sorted order, so a cluster keeps its colour while areas move.
function colourIndex(assignments) {
  const names = [...new Set(Object.values(assignments).map(String))].sort((x, y) => x.localeCompare(y, locale()));
  return new Map(names.map((n, i) => [n, i % 8]));
}

function drawMini(svgId, assignments, check, label) {
  const svg = $(svgId), g = svg.querySelector("g"), b = view.full;
  svg.setAttribute("viewBox", `${b.x} ${b.y} ${b.w} ${b.h}`);
  svg.querySelector("title").textContent = t("miniTitle", label);
  const colours = colourIndex(assignments);
  const clusters = (check && check.clusters) || [];
  const people = new Map(clusters.map(c => [String(c.name), c.population]));
  // The key: each cluster's colour, name, hub and people.
  $(svgId === "miniA" ? "keyA" : "keyB").replaceChildren(...[...colours.keys()].map(name => {
    const c = clusters.find(x => String(x.name) === name);
    const hub = c && c.hub ? t("hubOf", clean(c.hub.name) || String(c.hub.id)) : "";
    return h("li", {}, h("span", { class: "swatch k" + colours.get(name), "aria-hidden": "true" }), h("span", { text: name }),
      h("span", { class: "meta", text: ` · ${num(people.get(name) || 0)} ${state.lang === "da" ? "indb." : "people"}${hub ? " · " + hub : ""}` }));
  }));
  g.replaceChildren();
  for (const a of state.areas) {
    const id = areaIdOf(a), cluster = assignments[id];
    const d = rings(a.geometry).map(r => pathOf(r, true)).join("");
    const moved = svgId === "miniA" && clusterState.original[id] !== cluster;
    const cls = (cluster == null ? "none" : "k" + colours.get(String(cluster))) + (moved ? " moved" : "");
    const text = cluster == null ? areaLabel(id) : t("areaInCluster", areaLabel(id), String(cluster), num(people.get(String(cluster)) || 0));
    const path = s("path", { d, class: cls, "data-area": id }, s("title", { text }));
    g.append(path);
  }
}

function neighbourClusters(id) {
  const n = (clusterState.checkA && clusterState.checkA.neighbours && clusterState.checkA.neighbours[id]) || [];
  const own = clusterState.work[id];
  return [...new Set(n.map(x => clusterState.work[x]).filter(c => c != null && c !== own).map(String))].sort((x, y) => x.localeCompare(y, locale()));
}

// A click moves the area to the next neighbouring cluster in turn.
function moveArea(id, to) {
  const choices = neighbourClusters(id);
  const target = to != null ? to : choices[(choices.indexOf(String(clusterState.work[id])) + 1) % Math.max(1, choices.length)];
  if (target == null) { setStatus(t("noNeighbour", areaLabel(id)), "warn"); return; }
  clusterState.work[id] = target;
  setStatus(t("moved", areaLabel(id), target));
  run(checkClusters);
}

function limitsBody() {
  const body = {};
  for (const [field, key] of [["minPop", "minPopulation"], ["maxPop", "maxPopulation"], ["maxMin", "maxMinutes"]]) {
    const v = $(field).value.trim();
    if (v === "") continue;
    const n = Number(v.replace(",", "."));
    if (Number.isFinite(n) && n > 0) body[key] = n;
  }
  return body;
}

async function postCheck(assignments) {
  return api("/api/regions/check", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(Object.assign({ assignments }, limitsBody())) }, 2);
}

async function checkClusters() {
  const seq = ++clusterState.seq;
  const other = clusteringById(clusterState.b);
  const [a, b] = await Promise.all([postCheck(clusterState.work), other ? postCheck(other.assignments) : Promise.resolve(null)]);
  if (seq !== clusterState.seq) return;  // a later change is being checked
  clusterState.checkA = a;
  clusterState.checkB = b;
  drawClusters();
  document.body.dataset.clusterChecks = String(+(document.body.dataset.clusterChecks || 0) + 1);
  document.body.dataset.clusterValid = a && a.valid ? "1" : "0";
}

function figuresOf(check, assignments, original) {
  const clusters = (check && check.clusters) || [];
  const pops = clusters.map(c => c.population);
  let weighted = 0, people = 0, worst = null;
  for (const c of clusters) {
    if (Number.isFinite(c.meanToHub)) { weighted += c.meanToHub * c.population; people += c.population; }
    if (Number.isFinite(c.worstToHub)) worst = worst == null ? c.worstToHub : Math.max(worst, c.worstToHub);
  }
  const moved = original ? Object.keys(assignments).filter(id => original[id] !== assignments[id]).length : null;
  return [
    [t("fClusters"), num(clusters.length)],
    [t("fPeople"), pops.length ? `${num(Math.min(...pops))}–${num(Math.max(...pops))}` : "–"],
    [t("fMean"), people > 0 ? `${num(weighted / people, 1)} min` : "–"],
    [t("fWorst"), worst == null ? "–" : `${num(worst, 1)} min`],
    [t("fMoved"), moved == null ? "–" : num(moved)],
    [t("fProblems"), num(((check && check.problems) || []).length)],
  ];
}

function problemText(p) {
  const f = T[state.lang].problem[p.kind];
  return f ? f(p) : String(p.text || p.kind);
}

function drawClusters() {
  const a = clusteringById(clusterState.a), b = clusteringById(clusterState.b);
  const nameA = a ? t("edited", clusteringLabel(a)) : "", nameB = b ? clusteringLabel(b) : "";
  drawMini("miniA", clusterState.work, clusterState.checkA, nameA);
  if (b) drawMini("miniB", b.assignments, clusterState.checkB, nameB);
  $("figAName").textContent = nameA;
  $("figBName").textContent = nameB;
  const fa = figuresOf(clusterState.checkA, clusterState.work, clusterState.original), fb = figuresOf(clusterState.checkB, b ? b.assignments : {}, null);
  $("clusterFigures").replaceChildren(...fa.map((row, i) => h("tr", {}, h("th", { scope: "row", text: row[0] }), h("td", { text: row[1] }), h("td", { text: fb[i][1] }))));
  const problems = (clusterState.checkA && clusterState.checkA.problems) || [];
  $("clusterProblems").replaceChildren(problems.length
    ? h("ul", {}, ...problems.map(p => h("li", { text: problemText(p) })))
    : h("p", { class: "ok", text: t("valid") }));
  $("clusterSave").disabled = !(clusterState.checkA && clusterState.checkA.valid);
  drawAreaRows();
}

// The keyboard and screen-reader way to move areas: one select per area, offering its own cluster, the
// clusters of its neighbours and a new cluster.
function drawAreaRows() {
  const rows = state.areas.map(a => {
    const id = areaIdOf(a), own = clusterState.work[id];
    const choices = [...new Set([own == null ? null : String(own), ...neighbourClusters(id)].filter(x => x != null))];
    const sel = h("select", { "data-area": id, "aria-label": t("colCluster") + ": " + areaLabel(id) },
      ...choices.map(c => h("option", { value: c, text: c })), h("option", { value: "\u0000new", text: t("newCluster") }));
    if (own != null) sel.value = String(own);
    sel.addEventListener("change", () => {
      let to = sel.value;
      if (to === "\u0000new") {
        const used = new Set(Object.values(clusterState.work).map(String));
        do { clusterState.names += 1; to = t("newClusterN", clusterState.names); } while (used.has(to));
      }
      moveArea(id, to);
    });
    return h("tr", {}, h("td", { text: areaLabel(id) }), h("td", {}, sel));
  });
  $("areaRows").replaceChildren(...rows);
}

async function saveClustering() {
  const name = clean($("clusterName").value);
  document.body.dataset.clusterSaved = "0";
  if (!name) { setStatus(t("needClusterName"), "warn"); $("clusterName").focus(); return; }
  const key = token();
  if (!key) return;
  let r;
  try {
    r = await api("/api/clusterings", { method: "POST", headers: { "Content-Type": "application/json", Authorization: "Bearer " + key },
      body: JSON.stringify(Object.assign({ name, assignments: clusterState.work }, limitsBody())) });
  } catch (e) { throw writeError(e); }
  setStatus(t("clusterSaved", name));
  $("clusterName").value = "";
  await loadClusterings(r && r.id != null ? String(r.id) : null);
  document.body.dataset.clusterSaved = "1";
}

function setupClusterEvents() {
  $("clusterA").addEventListener("change", e => { clusterState.a = e.target.value; syncDeleteButton(); startEditing(); run(checkClusters); });
  $("clusterDelete").addEventListener("click", () => run(deleteClustering));
  $("clusterB").addEventListener("change", e => { clusterState.b = e.target.value; run(checkClusters); });
  for (const id of ["minPop", "maxPop", "maxMin"]) $(id).addEventListener("change", () => run(checkClusters));
  $("miniA").addEventListener("click", e => {
    const path = e.target.closest ? e.target.closest("path[data-area]") : null;
    if (path) moveArea(path.getAttribute("data-area"));
  });
  $("clusterReset").addEventListener("click", () => { startEditing(); run(checkClusters); });
  $("clusterForm").addEventListener("submit", e => { e.preventDefault(); run(saveClustering); });
}

// ---------- refresh: one what-if, merged over the category's baseline ----------

function statusOf(c, b) {
  if (!c) return "none";
  if (c.covered) return b && !b.covered ? "gains" : "covered";
  return b && b.covered ? "loses" : "uncovered";
}
const catOf = p => (Array.isArray(p.categories) ? p.categories.find(c => c.category === state.category) || p.categories[0] : null);

async function refresh() {
  const seq = ++state.seq;
  document.body.dataset.ready = "0";
  try {
    const whatIf = state.closed.size || openedHere().length;
    // Only the villages whose result differs from the baseline come back; the rest are the baseline's.
    // No automatic retry here: a busy service is reported and the click undone, so the person decides.
    const resp = whatIf ? await api(`/api/coverage?${coverageQuery()}&points=changed&access=none`) : state.base;
    if (seq !== state.seq) return;  // a later click has taken over
    const changed = new Map((resp.points || []).map(p => [String(p.demandId), p]));
    state.current = resp;
    state.rows = state.base.points.map(bp => {
      const id = String(bp.demandId), p = changed.get(id) || bp;
      const c = catOf(p), b = catOf(bp);
      const metric = resp.categories[0].metric;
      const name = realName(p.name, id);
      return { id, name, label: villageLabel(name, p.population), population: p.population, areaId: p.areaId ?? bp.areaId,
        c, status: statusOf(c, b), value: c ? (metric === "distance" ? c.distanceMeters : c.durationSeconds) : null };
    });
    state.rows.sort((a, b) => (b.value ?? Infinity) - (a.value ?? Infinity) || b.population - a.population);
    drawFigures();
    drawChanges();
    drawTable();
    updateFacilityList();
    drawOpenedList();
    drawFacilitiesOnMap();
    drawOpenedOnMap();
    drawLabels();
    paintVillages();
    scheduleDownloads();
    syncUrl();
  } finally {
    if (seq === state.seq) {
      state.refreshes += 1;
      document.body.dataset.refreshes = String(state.refreshes);
      document.body.dataset.ready = "1";
    }
  }
}

async function toggle(id) {
  const flip = () => { if (state.closed.has(id)) state.closed.delete(id); else state.closed.add(id); updateFacilityList(); };
  flip();
  try { await refresh(); } catch (e) { flip(); throw e; }  // the figures shown still belong to the boxes ticked
}

async function selectCategory(cat) {
  state.category = cat;
  $("category").value = cat;
  if (!state.baselines.has(cat)) {
    const c = encodeURIComponent(cat);
    const [base, impact] = await Promise.all([getJSON(`/api/coverage?category=${c}&access=none`), getJSON(`/api/impact?category=${c}`)]);
    state.baselines.set(cat, base);
    state.impacts.set(cat, Array.isArray(impact) ? impact : []);
  }
  state.base = state.baselines.get(cat);
  state.page = 0;
  drawFacilityList();
  drawImpact();
  await refresh();
}

// Harmless view parameters only, so the address can be shared.
function syncUrl() {
  const q = new URLSearchParams();
  if (state.lang !== "da") q.set("lang", state.lang);
  q.set("category", state.category);
  if (state.closed.size) q.set("close", [...state.closed].join(","));
  const open = openedHere();
  if (open.length) q.set("open", open.map(o => `${o.lon.toFixed(6)},${o.lat.toFixed(6)},${o.name.replace(/\|/g, "/")}`).join("|"));
  history.replaceState(null, "", location.pathname + "?" + q.toString());
}

// ---------- language ----------

function translate() {
  document.documentElement.lang = state.lang;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  for (const e of document.querySelectorAll("[data-ta]")) e.setAttribute("aria-label", t(e.dataset.ta));
  $("lang").textContent = t("lang");
  $("lang").setAttribute("lang", state.lang === "da" ? "en" : "da");
  $("place").textContent = state.placing ? t("cancel") : t("place");
  if (state.placing) $("placingHint").textContent = t("placing");
  fillCategories();
}
function fillCategories() {
  const sel = $("category");
  sel.replaceChildren(...state.categories.map(c => h("option", { value: c, text: categoryLabel(c) })));
  if (state.category) sel.value = state.category;
}

// ---------- errors ----------

async function run(fn) {
  try { await fn(); } catch (e) {
    setStatus(e && e.message ? e.message : String(e), "error");
    document.body.dataset.lastError = e && e.message ? e.message : String(e);
  }
}

// ---------- start-up ----------

function applyUrl() {
  const notes = [];
  const close = params.get("close");
  if (close) {
    const unknown = [];
    for (const id of close.split(",").map(x => x.trim()).filter(Boolean)) {
      if (state.facilityById.has(id)) state.closed.add(id); else unknown.push(id);
    }
    if (unknown.length) notes.push(t("unknownIds", unknown.join(", ")));
  }
  const open = params.get("open");
  if (open) {
    for (const item of open.split("|")) {
      const parts = item.split(",");
      const lon = Number(parts[0]), lat = Number(parts[1]);
      if (parts.length < 2 || !Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
        notes.push(t("badOpen", item));
        continue;
      }
      state.opened.push({ lon, lat, name: clean(parts.slice(2).join(",")) || t("newPlace"), categories: [state.category] });
    }
  }
  return notes;
}

async function start() {
  translate();
  setStatus(t("loading"));
  setupMapEvents();
  const [land, cats, areas, villages, roads, facilities] = await Promise.all([
    getJSON("/"), getJSON("/api/categories"), collection("areas"), collection("demand"), collection("roads"), collection("facilities"),
    loadSavedList().catch(e => setStatus(e.message, "warn"))]);
  state.title = clean(land && land.title) || "Klynge";
  $("title").textContent = state.title;
  document.title = state.title;
  state.categories = (Array.isArray(cats) ? cats : []).map(c => String(c.key));
  state.labels = Object.fromEntries((Array.isArray(cats) ? cats : []).map(c => [String(c.key), c]));
  state.areas = areas; state.villages = villages; state.roads = roads; state.facilities = facilities;
  for (const a of areas) state.areaName.set(String(a.id ?? a.properties.id), a.properties.name);
  for (const v of villages) state.villageById.set(String(v.id), v);
  for (const f of facilities) state.facilityById.set(String(f.id), f);
  // The citizen survey's users per facility, when the study has a survey; a page without one works as before.
  for (const u of await getJSON("/api/survey-use").catch(() => [])) {
    if (u && typeof u.category === "string" && !state.surveyUse.has(u.category)) state.surveyUse.set(u.category, u);
  }
  fillCategories();
  setupProjection();
  drawBase();
  applyView();

  const notes = [];
  const wanted = params.get("category");
  let cat = state.categories[0];
  if (wanted && state.categories.includes(wanted)) cat = wanted;
  else if (wanted) notes.push(t("unknownCategory", wanted, categoryLabel(cat)));
  state.category = cat;
  notes.push(...applyUrl());
  await selectCategory(cat);
  setStatus(notes.join(" "), notes.length ? "warn" : "info");
  setupClusterEvents();
  await loadClusterings().catch(e => setStatus(e.message, "warn"));

  const load = params.get("load");
  if (load != null) {
    const hit = state.saved.find(r => r.scenario.name === load);
    document.body.dataset.found = hit ? "1" : "0";
    if (hit) await loadScenario(hit.id);
    else setStatus(t("notFound", load), "warn");
  }

  $("category").addEventListener("change", e => run(() => selectCategory(e.target.value)));
  $("reset").addEventListener("click", () => { state.closed.clear(); state.opened = []; run(refresh); });
  $("place").addEventListener("click", () => setPlacing(!state.placing));
  // A form so Enter saves too; never submitted (the page's CSP forbids form actions anyway).
  $("saveForm").addEventListener("submit", e => { e.preventDefault(); run(save); });
  for (const id of ["dlCsv", "dlGeojson"]) $(id).addEventListener("click", () => { if (downloadsStale) drawDownloads(); });
  $("villageFilter").addEventListener("change", e => { state.filter = e.target.value; state.page = 0; drawTable(); });
  $("prevPage").addEventListener("click", () => { state.page -= 1; drawTable(); });
  $("nextPage").addEventListener("click", () => { state.page += 1; drawTable(); });
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "da" ? "en" : "da";
    translate();
    drawBase();
    applyView();
    drawFacilityList();
    drawImpact();
    drawSavedList();
    if (!$("clusterCard").hidden) { for (const o of [...$("clusterA").options, ...$("clusterB").options]) o.textContent = clusteringLabel(clusteringById(o.value)); drawClusters(); }
    for (const m of marks.values()) { m.status = ""; m.text = ""; }
    run(refresh);
  });
  document.body.dataset.done = "1";
}

start().catch(e => {
  const message = e && e.message ? e.message : String(e);
  setStatus(message, "error");
  document.body.dataset.error = message;
});
