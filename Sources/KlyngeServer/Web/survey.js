// Klynge citizen survey page. Every text from the survey or the study reaches the page with textContent;
// no HTML is ever built from data. Every map question has a list beside it, so the survey can be answered
// with a keyboard or a screen reader alone.
"use strict";

(function () {
  const UI = {
    da: {
      required: "påkrævet", choose: "Vælg …", none: "Jeg bruger ikke noget", often: "Hvor ofte?", how: "Hvordan kommer du derhen?",
      mapHint: "Eller klik på kortet (vi gemmer kun landsbyen).", mapFacility: "Eller klik på et sted på kortet.",
      mapPins: "Klik på kortet for at sætte en nål, eller vælg et sted på listen og tryk Tilføj.", addFromList: "Sted fra listen",
      add: "Tilføj", remove: "Fjern", kind: "Hvad er det?", submit: "Send mine svar", sending: "Sender …",
      consent: "Samtykke", age: (n) => `Jeg er fyldt ${n} år.`, mustConsent: "Sæt kryds ved samtykke for at sende.",
      mustAge: (n) => `Undersøgelsen er for personer på ${n} år og derover.`, missing: "Besvar de påkrævede spørgsmål.",
      tooMany: (n) => `Vælg højst ${n}.`, range: (a, b) => `Skriv et tal fra ${a} til ${b}.`, whole: "Skriv et helt tal.",
      notYet: (d) => `Undersøgelsen åbner ${d}.`, closed: "Undersøgelsen er lukket. Tak til alle, der svarede.",
      open: (d) => `Åben til og med ${d}.`, thanks: "Tak for dit svar", thanksText: "Dit svar er gemt.",
      mapLabel: "Kort over området", pinAt: "Nål", maxPins: (n) => `Højst ${n} nåle.`, failed: "Svaret blev ikke gemt: ",
      freq: { daily: "Dagligt", weekly: "Hver uge", monthly: "Hver måned", yearly: "Nogle gange om året", rarely: "Sjældnere" },
      mode: { walk: "Til fods", bike: "Cykel", car: "Bil", bus: "Bus eller anden kollektiv trafik", other: "Andet" },
      lang: "English", privacy: "Sådan bruger vi dine svar",
      status: { 409: "Du har allerede svaret fra denne enhed. Tak for det!", 403: "Undersøgelsen tager ikke imod svar lige nu.",
                429: "Der er kommet mange svar fra din forbindelse lige nu. Prøv igen om et minut.", 413: "Svaret er for langt.",
                400: "Tillad cookies for denne side, genindlæs den og prøv igen.", 503: "Tjenesten tager ikke imod svar lige nu." },
    },
    en: {
      required: "required", choose: "Choose …", none: "I use none", often: "How often?", how: "How do you get there?",
      mapHint: "Or click on the map (only the village is kept).", mapFacility: "Or click a place on the map.",
      mapPins: "Click the map to place a pin, or pick a place from the list and press Add.", addFromList: "Place from the list",
      add: "Add", remove: "Remove", kind: "What is it?", submit: "Send my answers", sending: "Sending …",
      consent: "Consent", age: (n) => `I am ${n} or older.`, mustConsent: "Tick the consent box to send.",
      mustAge: (n) => `The survey is for people aged ${n} and over.`, missing: "Answer the required questions.",
      tooMany: (n) => `Choose at most ${n}.`, range: (a, b) => `Give a number from ${a} to ${b}.`, whole: "Give a whole number.",
      notYet: (d) => `The survey opens on ${d}.`, closed: "The survey is closed. Thank you to everyone who answered.",
      open: (d) => `Open until ${d}.`, thanks: "Thank you for your answer", thanksText: "Your answer has been saved.",
      mapLabel: "Map of the area", pinAt: "Pin", maxPins: (n) => `At most ${n} pins.`, failed: "The answer was not saved: ",
      freq: { daily: "Daily", weekly: "Weekly", monthly: "Monthly", yearly: "A few times a year", rarely: "Less often" },
      mode: { walk: "On foot", bike: "Bicycle", car: "Car", bus: "Bus or other public transport", other: "Other" },
      lang: "Dansk", privacy: "How we use your answers",
      status: { 409: "You have already answered from this device. Thank you!", 403: "The survey is not taking answers now.",
                429: "Many answers have come from your connection just now. Please try again in a minute.", 413: "The answer is too long.",
                400: "Allow cookies for this page, reload it and try again.", 503: "The service is not taking answers now." },
    },
  };

  let def = null;
  let lang = "da";
  const state = { pins: {} };

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      e.setAttribute(k, v === true ? "" : String(v));
    }
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const t = (x) => (x ? (lang === "en" ? x.en : x.da) : "");
  const ui = () => UI[lang];
  const status = (msg, isError) => {
    const s = document.getElementById("status");
    s.textContent = msg;
    s.className = isError ? "error" : "";
  };
  function day(iso, endExclusive) {
    const d = new Date(iso);
    if (endExclusive) d.setTime(d.getTime() - 1000);
    return d.toLocaleDateString(lang === "en" ? "en-GB" : "da-DK", { day: "numeric", month: "long", year: "numeric" });
  }

  const M = window.KlyngeSurveyMap;
  const makeMap = (label, onClick) => M.make(def, label, onClick);
  const dot = M.dot, nearest = M.nearest, sizeMarks = M.sizeMarks;

  // ---- questions ----
  function questionBox(q, asFieldset) {
    const box = el(asFieldset ? "fieldset" : "div", { class: "question", id: `q-${q.id}`, "data-question": q.id });
    const head = el(asFieldset ? "legend" : "label", asFieldset ? {} : { for: `in-${q.id}`, class: "qtext" }, t(q.text));
    if (q.required) { head.appendChild(document.createTextNode(" ")); head.appendChild(el("span", { class: "required" }, `(${ui().required})`)); }
    box.appendChild(head);
    if (q.help) box.appendChild(el("p", { class: "help", id: `help-${q.id}` }, t(q.help)));
    box.appendChild(el("p", { class: "error", id: `err-${q.id}`, hidden: true }));
    return box;
  }
  function selectOf(id, items, first, describedBy) {
    const s = el("select", { id, "aria-describedby": describedBy || null });
    s.appendChild(el("option", { value: "" }, first));
    for (const it of items) s.appendChild(el("option", { value: it.id }, it.name));
    return s;
  }

  function renderQuestion(q) {
    const U = ui();
    switch (q.type) {
      case "single":
      case "multiple": {
        const box = questionBox(q, true);
        for (const o of q.options) {
          const id = `in-${q.id}-${o.id}`;
          const row = el("div", { class: "choice" });
          row.appendChild(el("input", { type: q.type === "single" ? "radio" : "checkbox", name: q.id, value: o.id, id }));
          row.appendChild(el("label", { for: id }, t(o.label)));
          box.appendChild(row);
        }
        return box;
      }
      case "short_text":
        { const box = questionBox(q); box.appendChild(el("input", { type: "text", id: `in-${q.id}`, maxlength: q.maxLength, "aria-describedby": q.help ? `help-${q.id}` : null })); return box; }
      case "long_text":
        { const box = questionBox(q); box.appendChild(el("textarea", { id: `in-${q.id}`, maxlength: q.maxLength, "aria-describedby": q.help ? `help-${q.id}` : null })); return box; }
      case "number":
        { const box = questionBox(q); box.appendChild(el("input", { type: "number", id: `in-${q.id}`, min: q.minimum, max: q.maximum, step: q.wholeNumber ? 1 : "any", inputmode: q.wholeNumber ? "numeric" : "decimal" })); return box; }
      case "home_village": {
        const box = questionBox(q);
        const sel = selectOf(`in-${q.id}`, def.villages, U.choose, q.help ? `help-${q.id}` : null);
        box.appendChild(sel);
        box.appendChild(el("p", { class: "help" }, U.mapHint));
        const marks = {};
        const map = makeMap(U.mapLabel, (c) => {
          const v = nearest(def.villages, c, map.k);
          if (v) { sel.value = v.id; sel.dispatchEvent(new Event("change", { bubbles: true })); }
        });
        for (const v of def.villages) marks[v.id] = dot(map, v.lon, v.lat, 5, "village", v.name);
        sel.addEventListener("change", () => { for (const [id, m] of Object.entries(marks)) m.setAttribute("class", id === sel.value ? "village chosen" : "village"); });
        box.appendChild(map.svg);
        return box;
      }
      case "facility_used": {
        const box = questionBox(q);
        const places = def.facilities[q.category] || [];
        const sel = selectOf(`in-${q.id}`, places, U.choose, q.help ? `help-${q.id}` : null);
        sel.appendChild(el("option", { value: "none" }, U.none));
        box.appendChild(sel);
        box.appendChild(el("p", { class: "help" }, U.mapFacility));
        const marks = {};
        const map = makeMap(U.mapLabel, (c) => {
          const f = nearest(places, c, map.k);
          if (f) { sel.value = f.id; sel.dispatchEvent(new Event("change", { bubbles: true })); }
        });
        for (const f of places) marks[f.id] = dot(map, f.lon, f.lat, 6, "facility", f.name);
        box.appendChild(map.svg);
        const row = el("div", { class: "row" });
        const fl = el("div"); fl.appendChild(el("label", { for: `in-${q.id}-frequency` }, U.often));
        const fs = el("select", { id: `in-${q.id}-frequency` }); fs.appendChild(el("option", { value: "" }, U.choose));
        for (const [k, v] of Object.entries(U.freq)) fs.appendChild(el("option", { value: k }, v));
        fl.appendChild(fs);
        const ml = el("div"); ml.appendChild(el("label", { for: `in-${q.id}-mode` }, U.how));
        const ms = el("select", { id: `in-${q.id}-mode` }); ms.appendChild(el("option", { value: "" }, U.choose));
        for (const [k, v] of Object.entries(U.mode)) ms.appendChild(el("option", { value: k }, v));
        ml.appendChild(ms);
        row.appendChild(fl); row.appendChild(ml);
        box.appendChild(row);
        const sync = () => {
          const using = sel.value && sel.value !== "none";
          row.hidden = !using;
          for (const [id, m] of Object.entries(marks)) m.setAttribute("class", id === sel.value ? "facility chosen" : "facility");
        };
        sel.addEventListener("change", sync);
        sync();
        return box;
      }
      case "place_pins": {
        const box = questionBox(q, true);
        state.pins[q.id] = state.pins[q.id] || [];
        box.appendChild(el("p", { class: "help" }, U.mapPins));
        const list = el("ul", { class: "pins-list", id: `pins-${q.id}` });
        const map = makeMap(U.mapLabel, (c) => addPin(c.lon, c.lat, ""));
        const marks = [];
        const others = [];
        box.appendChild(map.svg);
        const pickRow = el("div", { class: "row" });
        const pickId = `in-${q.id}-place`;
        const pickWrap = el("div");
        pickWrap.appendChild(el("label", { for: pickId }, U.addFromList));
        const places = def.villages.concat(...Object.values(def.facilities));
        const pick = selectOf(pickId, places, U.choose);
        pickWrap.appendChild(pick);
        const addBtn = el("button", { type: "button", class: "secondary" }, U.add);
        pickRow.appendChild(pickWrap); pickRow.appendChild(addBtn);
        box.appendChild(pickRow);
        box.appendChild(list);
        addBtn.addEventListener("click", () => {
          const p = places.find((x) => x.id === pick.value);
          if (p) addPin(p.lon, p.lat, p.name);
        });
        function redraw() {
          for (const m of marks) m.remove();
          marks.length = 0;
          list.replaceChildren();
          state.pins[q.id].forEach((p, i) => {
            marks.push(dot(map, p.lon, p.lat, 7, "pin", `${U.pinAt} ${i + 1}`));
            const li = el("li");
            li.appendChild(el("strong", {}, `${U.pinAt} ${i + 1}${p.near ? " – " + p.near : ""}`));
            const kid = `in-${q.id}-pin${i}-kind`, tid = `in-${q.id}-pin${i}-text`;
            li.appendChild(el("label", { for: kid }, U.kind));
            const ks = el("select", { id: kid });
            for (const k of q.pinKinds) ks.appendChild(el("option", { value: k.id }, t(k.label)));
            ks.value = p.kind;
            ks.addEventListener("change", () => { p.kind = ks.value; });
            li.appendChild(ks);
            li.appendChild(el("label", { for: tid }, t(q.followUp)));
            const ta = el("textarea", { id: tid, maxlength: q.maxLength });
            ta.value = p.text;
            ta.addEventListener("input", () => { p.text = ta.value; });
            li.appendChild(ta);
            const rm = el("button", { type: "button", class: "secondary" }, `${U.remove} (${U.pinAt} ${i + 1})`);
            rm.addEventListener("click", () => { state.pins[q.id].splice(i, 1); redraw(); });
            li.appendChild(rm);
            list.appendChild(li);
          });
          sizeMarks();
        }
        function addPin(lon, lat, near) {
          if (state.pins[q.id].length >= q.maxPins) { showError(q.id, U.maxPins(q.maxPins)); return; }
          state.pins[q.id].push({ lon, lat, kind: q.pinKinds[0].id, text: "", near });
          redraw();
          const last = list.lastElementChild && list.lastElementChild.querySelector("select");
          if (last) last.focus();
        }
        // Approved pins of others, faintly, for context.
        fetch("pins", { headers: { Accept: "application/json" } }).then((r) => (r.ok ? r.json() : [])).then((pins) => {
          for (const p of pins) others.push(dot(map, p.lon, p.lat, 4, "other-pin", p.text));
          sizeMarks();
        }).catch(() => {});
        // Pins placed before a language switch are drawn again.
        if (state.pins[q.id].length) redraw();
        return box;
      }
      default:
        return el("p", {}, "");
    }
  }

  function showError(qid, msg) {
    const e = document.getElementById(`err-${qid}`);
    if (!e) return;
    e.textContent = msg || "";
    e.hidden = !msg;
  }

  // The answer of a question as the service expects it (undefined: none).
  function valueOf(q) {
    const root = document.getElementById(`q-${q.id}`);
    switch (q.type) {
      case "single": { const c = root.querySelector("input:checked"); return c ? c.value : undefined; }
      case "multiple": { const cs = [...root.querySelectorAll("input:checked")].map((x) => x.value); return cs.length ? cs : undefined; }
      case "short_text": case "long_text": { const v = document.getElementById(`in-${q.id}`).value.trim(); return v ? v : undefined; }
      case "number": { const raw = document.getElementById(`in-${q.id}`).value; return raw === "" ? undefined : Number(raw); }
      case "home_village": { const v = document.getElementById(`in-${q.id}`).value; return v || undefined; }
      case "facility_used": {
        const v = document.getElementById(`in-${q.id}`).value;
        if (!v) return undefined;
        if (v === "none") return { facility: null };
        const f = document.getElementById(`in-${q.id}-frequency`).value, m = document.getElementById(`in-${q.id}-mode`).value;
        return { facility: v, frequency: f || null, mode: m || null };
      }
      case "place_pins": {
        const ps = state.pins[q.id] || [];
        return ps.length ? ps.map((p) => ({ lon: p.lon, lat: p.lat, kind: p.kind, text: p.text })) : undefined;
      }
    }
    return undefined;
  }

  function allQuestions() { return def.blocks.flatMap((b) => b.questions); }

  function shown(q, answers) {
    if (!q.showIf) return true;
    const a = answers[q.showIf.question];
    if (a === undefined) return false;
    return Array.isArray(a) ? a.some((x) => q.showIf.values.includes(x)) : q.showIf.values.includes(a);
  }

  function refreshConditions() {
    const answers = {};
    for (const q of allQuestions()) {
      const box = document.getElementById(`q-${q.id}`);
      const visible = shown(q, answers);
      box.hidden = !visible;
      if (visible) { const v = valueOf(q); if (v !== undefined) answers[q.id] = v; }
    }
    return answers;
  }

  function render() {
    const U = ui();
    document.documentElement.lang = lang;
    document.title = t(def.title);
    document.getElementById("title").textContent = t(def.title);
    const lb = document.getElementById("lang");
    lb.hidden = !def.languages.includes("en");
    lb.textContent = U.lang;
    const intro = document.getElementById("intro");
    intro.replaceChildren(el("p", {}, t(def.introduction)));
    const form = document.getElementById("survey");
    form.replaceChildren();
    M.reset();
    if (def.status !== "open") {
      status(def.status === "not_yet_open" ? U.notYet(day(def.opens)) : U.closed, false);
      form.hidden = true;
      return;
    }
    status(U.open(day(def.closes, true)), false);
    for (const b of def.blocks) {
      const fs = el("fieldset", { class: "block", id: `block-${b.id}` });
      fs.appendChild(el("legend", {}, t(b.title)));
      if (b.introduction) fs.appendChild(el("p", {}, t(b.introduction)));
      for (const q of b.questions) fs.appendChild(renderQuestion(q));
      form.appendChild(fs);
    }
    const c = el("fieldset", { class: "consent" });
    c.appendChild(el("legend", {}, U.consent));
    c.appendChild(el("h2", {}, U.privacy));
    c.appendChild(el("p", { class: "privacy" }, t(def.privacy)));
    const c1 = el("div", { class: "choice" });
    c1.appendChild(el("input", { type: "checkbox", id: "consent" }));
    c1.appendChild(el("label", { for: "consent" }, t(def.consent)));
    c.appendChild(c1);
    if (def.minimumAge > 0) {
      const c2 = el("div", { class: "choice" });
      c2.appendChild(el("input", { type: "checkbox", id: "age" }));
      c2.appendChild(el("label", { for: "age" }, U.age(def.minimumAge)));
      c.appendChild(c2);
    }
    form.appendChild(c);
    form.appendChild(el("button", { type: "submit", id: "send" }, U.submit));
    requestAnimationFrame(sizeMarks);
    form.addEventListener("change", refreshConditions);
    form.addEventListener("input", refreshConditions);
    refreshConditions();
  }

  async function submit(evt) {
    evt.preventDefault();
    const U = ui();
    const answers = refreshConditions();
    let firstBad = null;
    for (const q of allQuestions()) {
      showError(q.id, "");
      const box = document.getElementById(`q-${q.id}`);
      if (box.hidden) continue;
      const v = answers[q.id];
      let msg = "";
      if (q.required && v === undefined) msg = U.missing;
      else if (q.type === "multiple" && q.maxChoices && v && v.length > q.maxChoices) msg = U.tooMany(q.maxChoices);
      else if (q.type === "number" && v !== undefined && (!Number.isFinite(v) || v < q.minimum || v > q.maximum)) msg = U.range(q.minimum, q.maximum);
      else if (q.type === "number" && v !== undefined && q.wholeNumber && !Number.isInteger(v)) msg = U.whole;
      if (msg) { showError(q.id, msg); if (!firstBad) firstBad = box; }
    }
    if (firstBad) { status(U.missing, true); const f = firstBad.querySelector("input, select, textarea"); if (f) f.focus(); return; }
    if (!document.getElementById("consent").checked) { status(U.mustConsent, true); document.getElementById("consent").focus(); return; }
    const age = document.getElementById("age");
    if (age && !age.checked) { status(U.mustAge(def.minimumAge), true); age.focus(); return; }
    const send = document.getElementById("send");
    send.disabled = true;
    status(U.sending, false);
    try {
      const r = await fetch("answers", {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, credentials: "same-origin",
        body: JSON.stringify({ language: lang, consent: true, age_confirmed: age ? age.checked : true, answers }),
      });
      const body = await r.json().catch(() => ({}));
      if (r.status === 201) {
        document.getElementById("survey").hidden = true;
        document.getElementById("intro").hidden = true;
        const done = document.getElementById("done");
        document.getElementById("done-title").textContent = U.thanks;
        document.getElementById("done-text").textContent = U.thanksText;
        done.hidden = false;
        done.setAttribute("data-response", body.id || "");
        document.body.dataset.submitted = body.id || "1";
        status("", false);
        done.focus();
      } else {
        // Known refusals in the respondent's language; the service's own words for an answer it could not take.
        status(U.status[r.status] || U.failed + ((body.error && body.error.message) || r.status), true);
        document.body.dataset.failed = String(r.status);
        send.disabled = false;
      }
    } catch (e) {
      status(U.failed + String(e), true);
      send.disabled = false;
    }
  }

  document.getElementById("survey").addEventListener("submit", submit);
  // Switching language keeps what was answered: values are read before the form is rebuilt and set again after.
  function snapshotForm() {
    const form = document.getElementById("survey");
    return [...form.querySelectorAll("input, select, textarea")].filter((e) => e.id)
      .map((e) => ({ id: e.id, value: e.value, checked: e.checked }));
  }
  function restoreForm(saved) {
    for (const f of saved) {
      const e = document.getElementById(f.id);
      if (!e) continue;
      if (e.type === "checkbox" || e.type === "radio") e.checked = f.checked; else e.value = f.value;
      e.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
  document.getElementById("lang").addEventListener("click", () => {
    const saved = snapshotForm();
    lang = lang === "da" ? "en" : "da";
    render();
    restoreForm(saved);
  });
  fetch("definition.json", { headers: { Accept: "application/json" } })
    .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
    .then((d) => { def = d; render(); document.body.dataset.done = "1"; })
    .catch((e) => { status("Undersøgelsen kunne ikke hentes: " + e.message, true); document.body.dataset.error = e.message; });
})();
