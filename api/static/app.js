// 自治体DX 事例検索ページ — the search page. Article text is always inserted as text, never as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("search-form");
  const fields = ["q", "mode", "prefecture", "source", "date_from", "date_to", "k"];
  const state = { municipality: "", municipalityName: "", answer: null, seq: 0 };
  const SVG_NS = "http://www.w3.org/2000/svg";

  /** An element with attributes and children; strings become text nodes. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function authHeaders() {
    const key = sessionStorage.getItem("jsearch-read-key") || "";
    return key ? { Authorization: `Bearer ${key}` } : {};
  }

  async function getJson(path) {
    const response = await fetch(path, { headers: { Accept: "application/json", ...authHeaders() } });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const error = (body && body.error) || { ja: `サーバーの応答が不正です（${response.status}）`, en: "" };
      throw Object.assign(new Error(error.en || error.ja), { status: response.status, detail: error });
    }
    return body;
  }

  // ------------------------------------------------------------ highlighted text

  /** Text nodes and <mark>s for text[from:to], marking the highlight spans that fall inside. */
  function markedText(text, highlights, from = 0, to = text.length) {
    const nodes = [];
    let at = from;
    for (const { start, end } of [...highlights].sort((a, b) => a.start - b.start)) {
      const s = Math.max(start, at), e = Math.min(end, to);
      if (e <= s) continue;
      if (s > at) nodes.push(document.createTextNode(text.slice(at, s)));
      nodes.push(el("mark", {}, text.slice(s, e)));
      at = e;
    }
    if (at < to) nodes.push(document.createTextNode(text.slice(at, to)));
    return nodes;
  }

  const WINDOW = 160;

  function passageBody(passage) {
    const text = passage.text || "";
    const highlights = passage.highlights || [];
    const body = el("p", { className: "passage-text" });
    if (text.length <= WINDOW * 2) {
      body.append(...markedText(text, highlights));
      return body;
    }
    const first = highlights.length ? highlights[0].start : 0;
    const from = Math.max(0, Math.min(first - WINDOW / 3, text.length - WINDOW * 2));
    const to = Math.min(text.length, from + WINDOW * 2);
    const short = () => [from > 0 ? "…" : "", ...markedText(text, highlights, from, to), to < text.length ? "…" : ""];
    body.append(...short());
    const toggle = el("button", { type: "button", className: "link-button", "aria-expanded": "false" }, "全文を表示");
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      body.replaceChildren(...(open ? markedText(text, highlights) : short()));
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "折りたたむ" : "全文を表示";
    });
    return el("div", {}, body, toggle);
  }

  // ------------------------------------------------------------ results

  function placeLabel(place) {
    return place.level === "prefecture" || !place.prefecture || place.name === place.prefecture
      ? place.name : `${place.name}（${place.prefecture}）`;
  }

  function renderPassage(passage, index) {
    const url = safeUrl(passage.url);
    const title = url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, passage.title || "（無題）")
      : el("span", {}, passage.title || "（無題）");
    const meta = el("p", { className: "passage-meta" },
      el("span", { className: "source" }, passage.source || "掲載元不明"),
      passage.published ? el("time", { datetime: passage.published }, passage.published) : el("span", {}, "日付不明"),
      passage.heading ? el("span", { className: "heading" }, passage.heading) : null);
    const places = passage.municipalities || [];
    const placeList = places.length
      ? el("p", { className: "passage-places" }, "自治体: ",
        ...places.map((p) => el("span", { className: `tag role-${p.role}` }, placeLabel(p))))
      : null;
    return el("li", { className: "passage", id: `passage-${passage.id}` },
      el("article", { "aria-labelledby": `title-${index}` },
        el("h4", { id: `title-${index}`, className: "passage-title" }, el("span", { className: "rank" }, `${index + 1}. `), title),
        meta, passageBody(passage), placeList));
  }

  function renderPlaces(places) {
    const list = $("places");
    list.replaceChildren();
    if (!places.length) {
      list.append(el("li", { className: "empty" }, "自治体は見つかりませんでした。"));
      return;
    }
    for (const place of places) {
      const count = (place.passage_ids || []).length;
      const button = el("button", {
        type: "button", className: "chip", "data-code": place.code,
        "aria-label": `${placeLabel(place)}、根拠 ${count} 件。この自治体に絞り込む`,
      }, el("span", { className: "chip-name" }, placeLabel(place)), el("span", { className: "count", "aria-hidden": "true" }, String(count)));
      button.addEventListener("click", () => filterBy(place));
      button.addEventListener("mouseenter", () => spotlight(place.code, true));
      button.addEventListener("mouseleave", () => spotlight(place.code, false));
      button.addEventListener("focus", () => spotlight(place.code, true));
      button.addEventListener("blur", () => spotlight(place.code, false));
      list.append(el("li", {}, button));
    }
  }

  function filterBy(place) {
    if (place.level === "prefecture") {
      $("prefecture").value = place.name;
      clearMunicipality(false);
    } else {
      state.municipality = place.code;
      state.municipalityName = placeLabel(place);
    }
    showActiveFilter();
    // the chip that had focus is about to be redrawn: keep keyboard users next to the filter they set
    (state.municipality ? $("clear-municipality") : $("prefecture")).focus();
    runSearch();
  }

  function clearMunicipality(search = true) {
    state.municipality = "";
    state.municipalityName = "";
    showActiveFilter();
    if (search) runSearch();
  }

  function showActiveFilter() {
    $("active-filter").hidden = !state.municipality;
    $("active-filter-label").textContent = state.municipality ? `絞り込み中: ${state.municipalityName || state.municipality}` : "";
  }

  // ------------------------------------------------------------ map

  let mapSvg = null;

  async function loadMap() {
    const response = await fetch("/static/japan.svg");
    const doc = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
    const svg = document.importNode(doc.documentElement, true);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    $("map").replaceChildren(svg);
    mapSvg = svg;
    if (state.answer) drawDots(state.answer.municipalities);
  }

  function project(lat, lon, prefecture) {
    const d = mapSvg.dataset;
    const box = mapSvg.viewBox.baseVal;
    if (prefecture === "沖縄県") {
      lon += Number(d.insetLon);
      lat += Number(d.insetLat);
    }
    const x = (lon - Number(d.lon0)) * Number(d.kx) * Number(d.scale);
    const y = (Number(d.lat0) - lat) * Number(d.scale);
    return [Math.min(Math.max(x, 3), box.width - 3), Math.min(Math.max(y, 3), box.height - 3)];
  }

  function drawDots(places) {
    if (!mapSvg) return;
    const layer = mapSvg.querySelector(".dots");
    layer.replaceChildren();
    const located = places.filter((p) => typeof p.lat === "number" && typeof p.lon === "number");
    for (const place of [...located].reverse()) {
      const [x, y] = project(place.lat, place.lon, place.prefecture);
      const count = (place.passage_ids || []).length;
      const dot = document.createElementNS(SVG_NS, "circle");
      dot.setAttribute("cx", x.toFixed(1));
      dot.setAttribute("cy", y.toFixed(1));
      dot.setAttribute("r", (2.5 + 1.6 * Math.sqrt(count)).toFixed(1));
      dot.setAttribute("class", `dot level-${place.level}`);
      dot.dataset.code = place.code;
      const title = document.createElementNS(SVG_NS, "title");
      title.textContent = `${placeLabel(place)}：根拠 ${count} 件`;
      dot.append(title);
      dot.addEventListener("click", () => filterBy(place));
      layer.append(dot);
    }
    $("map").setAttribute("aria-label",
      located.length ? `日本地図。事例の自治体 ${located.length} か所: ${located.map(placeLabel).join("、")}`
        : "日本地図。位置のわかる自治体はありません");
  }

  function spotlight(code, on) {
    if (!mapSvg) return;
    for (const dot of mapSvg.querySelectorAll(".dot")) {
      if (dot.dataset.code === code) dot.classList.toggle("hot", on);
    }
  }

  // ------------------------------------------------------------ search

  function params() {
    const query = new URLSearchParams();
    for (const name of fields) {
      const value = $(name).value.trim();
      if (value) query.set(name, value);
    }
    if (state.municipality) query.set("municipality", state.municipality);
    return query;
  }

  function showError(detail) {
    const box = $("error");
    box.replaceChildren(el("p", {}, detail.ja || "エラーが発生しました"),
      detail.en ? el("p", { className: "error-en", lang: "en" }, detail.en) : null);
    box.hidden = false;
  }

  async function runSearch() {
    const query = params();
    const q = query.get("q") || "";
    $("error").hidden = true;
    if (!q) {
      showError({ ja: "検索語を入力してください", en: "Enter a query" });
      $("q").focus();
      return;
    }
    history.replaceState(null, "", `?${query}`);
    const seq = ++state.seq;
    $("status").textContent = `「${q}」を検索しています…`;
    form.setAttribute("aria-busy", "true");
    try {
      const answer = await getJson(`/search?${query}`);
      if (seq !== state.seq) return;
      render(answer);
    } catch (error) {
      if (seq !== state.seq) return;
      if (error.status === 401) {
        $("key-field").hidden = false;
        $("key").focus();
      }
      $("status").textContent = "検索できませんでした。";
      showError(error.detail || { ja: "サーバーに接続できません", en: String(error.message || error) });
    } finally {
      if (seq === state.seq) form.removeAttribute("aria-busy");
    }
  }

  function render(answer) {
    state.answer = answer;
    const passages = answer.passages || [];
    const places = answer.municipalities || [];
    $("passages").replaceChildren(...passages.map(renderPassage));
    if (!passages.length) $("passages").append(el("li", { className: "empty" }, "条件に合う文章はありませんでした。条件を緩めてください。"));
    renderPlaces(places);
    drawDots(places);
    $("results").hidden = false;
    const seconds = (answer.took_ms / 1000).toFixed(2);
    $("status").textContent = `「${answer.query}」の検索結果: 文章 ${passages.length} 件、自治体 ${places.length} 件（${seconds} 秒）`;
  }

  async function loadSources() {
    const seen = new Set();
    for (let offset = 0; offset < 2000; offset += 200) {
      const page = await getJson(`/articles?offset=${offset}&limit=200`);
      for (const article of page.articles) if (article.source) seen.add(article.source);
      if (offset + 200 >= page.total) break;
    }
    const select = $("source");
    const current = select.value;
    const have = new Set([...select.options].map((o) => o.value));
    for (const source of [...seen].sort()) if (!have.has(source)) select.append(el("option", { value: source }, source));
    select.value = current;
  }

  function restore() {
    const query = new URLSearchParams(location.search);
    for (const name of fields) {
      if (!query.has(name)) continue;
      if (name === "source") $("source").append(el("option", { value: query.get(name) }, query.get(name)));
      $(name).value = query.get(name);
    }
    if (query.get("municipality")) {
      state.municipality = query.get("municipality");
      showActiveFilter();
    }
    return Boolean(query.get("q"));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    runSearch();
  });
  for (const name of ["mode", "prefecture", "source", "date_from", "date_to", "k"]) {
    $(name).addEventListener("change", () => { if ($("q").value.trim()) runSearch(); });
  }
  $("clear-municipality").addEventListener("click", () => { clearMunicipality(); $("q").focus(); });
  $("key").addEventListener("change", () => {
    sessionStorage.setItem("jsearch-read-key", $("key").value);
    runSearch();
  });

  const pending = restore();
  loadMap().catch(() => { $("map").textContent = "地図を読み込めませんでした。"; });
  loadSources().catch(() => {});
  if (pending) runSearch();
})();
