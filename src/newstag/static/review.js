// newstag's review page. It uses only the public HTTP API, like any CMS:
//   GET /v1/model, GET /v1/tags?prefix=, GET /v1/tags/check, POST /v1/article, POST /v1/suggest,
//   POST /v1/related, GET /v1/related/items/{id}, POST /v1/feedback.
"use strict";

const KEY_STORE = "newstag.apiKey"; // sessionStorage only: gone when the tab closes
const TYPES = ["person", "place", "organisation", "group"];
const SOURCE_NAMES = {
  classifier: "model", "classifier+entity": "model + entity", entity: "entity",
};

const $ = (id) => document.getElementById(id);

const state = {
  model: null,      // GET /v1/model
  article: null,    // POST /v1/article: {title, body, text, dropped}
  result: null,     // POST /v1/suggest
  decisions: new Map(), // suggested tag -> "accepted" | "rejected"
  added: [],        // [{tag, type, known}]
};

// ---------------------------------------------------------------------------
// Talking to the service
// ---------------------------------------------------------------------------

class ServiceError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Call the API; resolves to the JSON answer, rejects with a one-line ServiceError. */
async function api(method, path, body) {
  const headers = {};
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers["X-API-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ServiceError(0, `${method} ${path}: the service cannot be reached (${err.message})`);
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (!response.ok) {
    const reason = data && data.error ? data.error : response.statusText || "no reason given";
    throw new ServiceError(response.status, `${method} ${path} answered ${response.status}: ${reason}`);
  }
  return data;
}

/** One line of status: an error (role alert) or a confirmation. */
function say(message, kind = "info") {
  const line = $("status");
  line.textContent = String(message).replace(/\s+/g, " ").trim();
  line.className = `status ${kind}`;
  line.setAttribute("role", kind === "error" ? "alert" : "status");
  line.hidden = false;
}

function fail(err) {
  if (err instanceof ServiceError && err.status === 401) askForKey(err.message);
  say(`Error: ${err.message}`, "error");
}

// ---------------------------------------------------------------------------
// API key (only when the service has keys switched on)
// ---------------------------------------------------------------------------

function askForKey() {
  $("key-form").hidden = false;
  $("api-key").focus();
}

function setupKeyForm() {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORE, $("api-key").value.trim());
    $("api-key").value = "";
    $("key-form").hidden = true;
    loadModel();
  });
  $("forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    say("API key forgotten.");
  });
}

// ---------------------------------------------------------------------------
// Model line, article input
// ---------------------------------------------------------------------------

async function loadModel() {
  try {
    state.model = await api("GET", "/v1/model");
  } catch (err) {
    $("model-line").textContent = "Model: unknown (the service did not answer)";
    fail(err);
    return;
  }
  $("status").hidden = true;
  showModel(state.model);
  const id = new URLSearchParams(location.search).get("id");
  if (id && !state.result) openItem(id);
}

function showModel(m) {
  const parts = [`Model ${m.name}`];
  if (m.version) parts.push(`version ${m.version}`);
  if (m.created) parts.push(`trained ${m.created.slice(0, 10)}`);
  parts.push(m.mode === "model" ? `${m.vocabulary.toLocaleString("en")} tags`
    : "entity tags only");
  parts.push(`newstag ${m.newstag}`);
  if (m.house_rules) parts.push("house rules on");
  if (m.index) parts.push("related index on");
  $("model-line").textContent = parts.join(" · ");
}

async function openItem(id) {
  if (!state.model.index) {
    say(`Error: cannot open article ${id}: the service has no related-headlines index`, "error");
    return;
  }
  try {
    const item = await api("GET", `/v1/related/items/${encodeURIComponent(id)}`);
    $("headline").value = item.headline;
    $("body").value = item.lead || "";
    $("article-id").value = item.id;
    await suggest();
  } catch (err) {
    fail(err);
  }
}

/** Fill the form from a dropped or chosen file (.txt, .html, .json). */
async function readFile(file) {
  $("input-box").open = true; // show what was read
  const text = await file.text();
  const name = file.name.toLowerCase();
  try {
    if (name.endsWith(".json")) {
      let record;
      try {
        record = JSON.parse(text);
      } catch (err) {
        throw new ServiceError(0, `${file.name}: not valid JSON (${err.message})`);
      }
      if (!record || typeof record !== "object" || Array.isArray(record)) {
        throw new ServiceError(0, `${file.name}: expected a JSON object with title and body`);
      }
      if (record.html) await fillFromService({html: record.html});
      else {
        $("headline").value = record.title || record.headline || "";
        $("body").value = record.body || record.text || "";
      }
      if (record.id !== undefined) $("article-id").value = String(record.id);
    } else if (name.endsWith(".html") || name.endsWith(".htm")) {
      await fillFromService({html: text});
    } else {
      $("headline").value = "";
      $("body").value = text;
    }
    say(`Read ${file.name}.`);
  } catch (err) {
    fail(err);
  }
}

/** Let the service extract the story (HTML pages), then fill the form with it. */
async function fillFromService(record) {
  const read = await api("POST", "/v1/article", record);
  $("headline").value = read.title;
  $("body").value = read.body;
}

function setupInput() {
  $("article-form").addEventListener("submit", (event) => {
    event.preventDefault();
    suggest();
  });
  $("body").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      suggest();
    }
  });
  $("file").addEventListener("change", () => {
    if ($("file").files.length) readFile($("file").files[0]);
  });
  const form = $("article-form");
  form.addEventListener("dragover", (event) => {
    event.preventDefault();
    form.classList.add("dropping");
  });
  form.addEventListener("dragleave", () => form.classList.remove("dropping"));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    form.classList.remove("dropping");
    if (event.dataTransfer.files.length) readFile(event.dataTransfer.files[0]);
  });
}

/** A stable id from the text (FNV-1a), for articles that come without one. */
function textId(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `review-${h.toString(16).padStart(8, "0")}`;
}

// ---------------------------------------------------------------------------
// Suggest: read the article, suggest tags, show both
// ---------------------------------------------------------------------------

async function suggest() {
  const title = $("headline").value.trim();
  const body = $("body").value.trim();
  if (!title && !body) {
    say("Error: paste a headline or text first", "error");
    $("body").focus();
    return;
  }
  const button = $("suggest");
  button.disabled = true;
  say("Reading the article and suggesting tags…");
  try {
    const record = title ? {title, body} : {body};
    const article = await api("POST", "/v1/article", record);
    const result = await api("POST", "/v1/suggest",
      {title: article.title, body: article.body, top_k: 12});
    if (!$("article-id").value.trim()) $("article-id").value = textId(article.text);
    state.article = article;
    state.result = result;
    state.decisions = new Map();
    state.added = [];
    showArticle();
    showTags();
    $("input-box").open = false;
    const n = result.tags.length;
    say(`${n} tag${n === 1 ? "" : "s"} suggested by model ${state.model ? state.model.name : "?"}.` +
        (result.warnings.length ? ` Warning: ${result.warnings.join("; ")}` : ""));
    if (state.model && state.model.index) showRelated(article);
  } catch (err) {
    fail(err);
  } finally {
    button.disabled = false;
  }
}

/** The article text split at every mention, each piece with the entity and tags over it. */
function segments(text, entities, tags) {
  const cuts = new Set([0, text.length]);
  const spans = [];
  entities.forEach((e, ei) => e.mentions.forEach((m) => spans.push({...m, ent: ei})));
  tags.forEach((t, ti) => t.evidence.forEach((ev) => {
    if (ev.kind === "mention" && ev.end > ev.start) spans.push({...ev, tag: ti});
  }));
  for (const s of spans) {
    if (s.start >= 0 && s.end <= text.length && s.start < s.end) {
      cuts.add(s.start);
      cuts.add(s.end);
    }
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i], points[i + 1]];
    const over = spans.filter((s) => s.start <= a && s.end >= b);
    const ent = over.find((s) => s.ent !== undefined);
    out.push({
      text: text.slice(a, b), start: a,
      ent: ent ? ent.ent : null, first: ent ? ent.start === a : false,
      tags: over.filter((s) => s.tag !== undefined).map((s) => s.tag),
    });
  }
  return out;
}

function entityTip(e) {
  return `${e.name} · ${e.type} · salience ${e.salience.toFixed(2)} · ` +
         `${e.count} mention${e.count === 1 ? "" : "s"}`;
}

function showArticle() {
  const {text, dropped} = state.article;
  const {entities, tags} = state.result;
  const box = $("text");
  box.replaceChildren();
  const headlineEnd = state.article.title.length;
  const headline = document.createElement("h3");
  headline.className = "headline";
  const bodyPart = document.createElement("div");
  bodyPart.className = "body";
  const focusable = new Set();
  for (const seg of segments(text, entities, tags)) {
    const target = seg.start < headlineEnd ? headline : bodyPart;
    let node;
    if (seg.ent !== null) {
      const e = entities[seg.ent];
      node = document.createElement("mark");
      node.className = `ent t-${TYPES.includes(e.type) ? e.type : "group"}`;
      node.dataset.tip = entityTip(e);
      node.setAttribute("aria-label", `${seg.text} (${entityTip(e)})`);
      if (seg.first && !focusable.has(seg.ent)) {
        node.tabIndex = 0; // one stop per entity for keyboard users
        focusable.add(seg.ent);
      }
    } else if (seg.tags.length) {
      node = document.createElement("span");
    } else {
      target.append(seg.text);
      continue;
    }
    node.textContent = seg.text;
    node.dataset.tags = ` ${seg.tags.join(" ")} `;
    target.append(node);
  }
  // the headline/body separator ("\n\n") lands in the body part: trim it
  if (bodyPart.firstChild && bodyPart.firstChild.nodeType === Node.TEXT_NODE) {
    bodyPart.firstChild.textContent = bodyPart.firstChild.textContent.replace(/^\n+/, "");
  }
  box.append(headline, bodyPart);
  showDropped(dropped);
  $("reading").hidden = false;
}

function showDropped(dropped) {
  const boxed = $("dropped-box");
  boxed.hidden = !dropped.length;
  $("dropped-summary").textContent =
    `The cleaner left out ${dropped.length} line${dropped.length === 1 ? "" : "s"} (share prompts, comments, sidebars)`;
  $("dropped").replaceChildren(...dropped.map((d) => {
    const li = document.createElement("li");
    li.textContent = `${d.text} — ${d.reason}`;
    return li;
  }));
}

// ---------------------------------------------------------------------------
// Tag chips: accept, reject, evidence
// ---------------------------------------------------------------------------

function sourceName(tag) {
  if (tag.new) return "new";
  return SOURCE_NAMES[tag.source] || tag.source;
}

function showTags() {
  const tags = state.result.tags;
  $("tags-hint").textContent = tags.length
    ? "Click or Enter accepts a tag, × or Delete rejects it; hover or focus a tag to see why."
    : "No tags suggested for this article; add your own below.";
  $("chips").replaceChildren(...tags.map(chip));
  renderAdded();
  updateTally();
}

function chip(tag, index) {
  const li = document.createElement("li");
  li.className = "chip";
  li.dataset.tag = tag.tag;
  const main = document.createElement("button");
  main.type = "button";
  main.className = "chip-main";
  main.setAttribute("aria-pressed", "false");
  const type = TYPES.includes(tag.type) ? tag.type : "topic";
  const name = document.createElement("span");
  name.className = "chip-name";
  name.textContent = tag.tag;
  const meta = document.createElement("span");
  meta.className = "chip-meta";
  const badge = document.createElement("span");
  badge.className = `badge t-${type}`;
  badge.textContent = tag.type;
  meta.append(badge, ` ${sourceName(tag)}`);
  const bar = document.createElement("span");
  bar.className = "bar";
  bar.setAttribute("aria-hidden", "true");
  const fill = document.createElement("span");
  fill.style.width = `${Math.round(tag.score * 100)}%`;
  bar.append(fill);
  const score = document.createElement("span");
  score.className = "score";
  score.textContent = tag.score.toFixed(2);
  main.append(name, meta, bar, score);
  main.setAttribute("aria-label",
    `${tag.tag}, ${tag.type}, score ${tag.score.toFixed(2)}, from ${sourceName(tag)}`);
  main.setAttribute("aria-describedby", "why");
  const reject = document.createElement("button");
  reject.type = "button";
  reject.className = "chip-reject";
  reject.textContent = "×";
  reject.setAttribute("aria-label", `Reject ${tag.tag}`);
  reject.setAttribute("aria-pressed", "false");

  main.addEventListener("click", () => decide(tag.tag, "accepted"));
  main.addEventListener("keydown", (event) => {
    if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      decide(tag.tag, "rejected");
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const all = [...document.querySelectorAll(".chip-main")];
      const next = all[all.indexOf(main) + (event.key === "ArrowDown" ? 1 : -1)];
      if (next) next.focus();
    }
  });
  reject.addEventListener("click", () => decide(tag.tag, "rejected"));
  for (const el of [main, reject]) {
    el.addEventListener("mouseenter", () => explain(index));
    el.addEventListener("focus", () => explain(index));
  }
  li.addEventListener("mouseleave", () => explain(null));
  li.append(main, reject);
  return li;
}

/** Toggle a decision: the same action twice undoes it. */
function decide(tag, decision) {
  if (state.decisions.get(tag) === decision) state.decisions.delete(tag);
  else state.decisions.set(tag, decision);
  for (const li of document.querySelectorAll(".chip")) {
    if (li.dataset.tag !== tag) continue;
    const now = state.decisions.get(tag) || "open";
    li.dataset.state = now;
    li.querySelector(".chip-main").setAttribute("aria-pressed", String(now === "accepted"));
    li.querySelector(".chip-reject").setAttribute("aria-pressed", String(now === "rejected"));
  }
  updateTally();
}

/** Show why tag ``index`` is suggested: mark its mentions, list its words. */
function explain(index) {
  for (const el of document.querySelectorAll("#text .hit")) el.classList.remove("hit");
  const why = $("why");
  if (index === null) {
    why.replaceChildren();
    return;
  }
  const tag = state.result.tags[index];
  const marked = document.querySelectorAll(`#text [data-tags*=" ${index} "]`);
  for (const el of marked) el.classList.add("hit");
  const mentions = tag.evidence.filter((e) => e.kind === "mention");
  const terms = tag.evidence.filter((e) => e.kind === "term");
  const lines = [];
  if (mentions.length) {
    const names = [...new Set(mentions.map((m) => m.via && m.via !== m.text ? `${m.text} (via ${m.via})` : m.text))];
    lines.push(["Mentions", `${names.join(", ")} — ${mentions.length} marked in the text`]);
  }
  if (terms.length) {
    lines.push(["Words", terms.map((t) => `${t.text} (${t.weight.toFixed(2)})`).join(", ")]);
  }
  if (!lines.length) lines.push(["Evidence", "none given"]);
  const title = document.createElement("p");
  title.className = "why-title";
  title.textContent = `Why “${tag.tag}”: ${tag.type}, ${sourceName(tag)}, score ${tag.score.toFixed(2)}`;
  const list = document.createElement("dl");
  for (const [term, text] of lines) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = text;
    list.append(dt, dd);
  }
  why.replaceChildren(title, list);
}

// ---------------------------------------------------------------------------
// Adding tags: type-ahead over the model's vocabulary, free text marked new
// ---------------------------------------------------------------------------

let typeAheadTimer = null;

function setupAdd() {
  $("add-tag").addEventListener("input", () => {
    clearTimeout(typeAheadTimer);
    typeAheadTimer = setTimeout(typeAhead, 120);
  });
  $("add-form").addEventListener("submit", (event) => {
    event.preventDefault();
    addTag($("add-tag").value);
  });
}

async function typeAhead() {
  const prefix = $("add-tag").value.trim();
  if (!prefix || !state.model || !state.model.vocabulary) {
    $("vocab").replaceChildren();
    return;
  }
  try {
    const found = await api("GET", `/v1/tags?prefix=${encodeURIComponent(prefix)}&limit=8`);
    $("vocab").replaceChildren(...found.tags.map((t) => {
      const option = document.createElement("option");
      option.value = t.tag;
      option.label = `${t.type} · ${t.count.toLocaleString("en")} articles`;
      return option;
    }));
  } catch (err) {
    fail(err);
  }
}

async function addTag(raw) {
  const text = raw.trim().replace(/\s+/g, " ");
  if (!text) return;
  if (!state.result) {
    say("Error: suggest tags for an article before adding tags", "error");
    return;
  }
  let checked;
  try { // house spelling, known to the model or new, allowed by the house rules
    checked = await api("GET", `/v1/tags/check?tag=${encodeURIComponent(text)}`);
  } catch (err) {
    fail(err);
    return;
  }
  if (!checked.allowed) {
    say(`Error: cannot add “${checked.tag}”: ${checked.reason}`, "error");
    return;
  }
  const same = (a) => a.toLocaleLowerCase() === checked.tag.toLocaleLowerCase();
  const suggested = state.result.tags.find((t) => same(t.tag));
  if (suggested) { // adding a suggested tag means accepting it
    if (state.decisions.get(suggested.tag) !== "accepted") decide(suggested.tag, "accepted");
    $("add-tag").value = "";
    return;
  }
  if (!state.added.some((a) => same(a.tag))) {
    state.added.push(checked.known ? {tag: checked.tag, type: checked.type, known: true}
      : {tag: checked.tag, type: "new", known: false});
  }
  $("add-tag").value = "";
  $("vocab").replaceChildren();
  renderAdded();
  updateTally();
}

function renderAdded() {
  $("added").replaceChildren(...state.added.map((a, i) => {
    const li = document.createElement("li");
    li.className = "added-tag";
    const name = document.createElement("span");
    name.textContent = a.tag;
    const badge = document.createElement("span");
    badge.className = a.known ? `badge t-${a.type}` : "badge t-new";
    badge.textContent = a.known ? a.type : "new";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "chip-reject";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove added tag ${a.tag}`);
    remove.addEventListener("click", () => {
      state.added.splice(i, 1);
      renderAdded();
      updateTally();
      $("add-tag").focus();
    });
    li.append(name, badge, remove);
    return li;
  }));
}

// ---------------------------------------------------------------------------
// Save: the decision goes to /v1/feedback with the article's title and body
// ---------------------------------------------------------------------------

function decision() {
  const pick = (what) => state.result.tags.map((t) => t.tag)
    .filter((t) => state.decisions.get(t) === what);
  return {
    suggested: state.result.tags.map((t) => t.tag),
    accepted: pick("accepted"),
    rejected: pick("rejected"),
    added: state.added.map((a) => a.tag),
  };
}

function updateTally() {
  if (!state.result) return;
  const d = decision();
  $("tally").textContent =
    `${d.accepted.length} accepted · ${d.rejected.length} rejected · ${d.added.length} added`;
  $("save").disabled = !(d.accepted.length || d.rejected.length || d.added.length);
}

async function save() {
  const d = decision();
  const id = $("article-id").value.trim() || textId(state.article.text);
  const m = state.model;
  const record = {
    article_id: id, ...d, title: state.article.title, body: state.article.body,
    model: m && m.version ? `${m.name}@${m.version}` : (m ? m.name : undefined),
  };
  $("save").disabled = true;
  try {
    const out = await api("POST", "/v1/feedback", record);
    say(`Saved feedback #${out.id} for article ${id}: ${d.accepted.length} accepted, ` +
        `${d.rejected.length} rejected, ${d.added.length} added.`, "ok");
  } catch (err) {
    fail(err);
  } finally {
    updateTally();
  }
}

// ---------------------------------------------------------------------------
// Related headlines
// ---------------------------------------------------------------------------

async function showRelated(article) {
  const panel = $("related-panel");
  try {
    const out = await api("POST", "/v1/related", {title: article.title, body: article.body, k: 5});
    $("related").replaceChildren(...out.results.map((hit) => {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/?id=${encodeURIComponent(hit.id)}`;
      link.textContent = hit.headline;
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = Number(hit.score).toFixed(2);
      li.append(link, " ", score);
      if (hit.date) li.append(` · ${String(hit.date).slice(0, 10)}`);
      return li;
    }));
    panel.hidden = !out.results.length;
  } catch (err) {
    panel.hidden = true;
    fail(err);
  }
}

// ---------------------------------------------------------------------------
// Entity tooltips (hover or focus)
// ---------------------------------------------------------------------------

function setupTips() {
  const tip = $("tip");
  const show = (event) => {
    const mark = event.target.closest("mark.ent");
    if (!mark) return;
    tip.textContent = mark.dataset.tip;
    tip.hidden = false;
    const box = mark.getBoundingClientRect();
    const left = Math.min(box.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8);
    tip.style.left = `${Math.max(4, left)}px`;
    tip.style.top = `${box.bottom + window.scrollY + 6}px`;
  };
  const hide = (event) => {
    if (event.target.closest("mark.ent")) tip.hidden = true;
  };
  $("text").addEventListener("mouseover", show);
  $("text").addEventListener("focusin", show);
  $("text").addEventListener("mouseout", hide);
  $("text").addEventListener("focusout", hide);
}

document.addEventListener("DOMContentLoaded", () => {
  setupKeyForm();
  setupInput();
  setupAdd();
  setupTips();
  $("save").addEventListener("click", save);
  loadModel();
});
