// 自治体DX 事例検索ページ — the search page. Article text is always inserted as text, never as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("search-form");
  const fields = ["q", "mode", "prefecture", "source", "date_from", "date_to", "k"];
  const DEFAULTS = { mode: "hybrid", k: "10" };
  const PAGE_SIZE = 20;
  const SIMILAR_K = 10;
  const TITLE = "自治体DX 事例検索";
  const state = { municipality: "", municipalityName: "", answer: null, seq: 0, lastSearch: "", focusView: false,
    focusAfter: null };
  const SVG_NS = "http://www.w3.org/2000/svg";
  const ROLE_LABEL = { subject: "取り組みの主体", inherited: "主体（前後の文脈から）", mention: "言及のみ" };
  const KIND_LABEL = { prefecture: "都道府県", designated_city: "政令指定都市", city: "市", special_ward: "特別区",
    ward: "行政区", town: "町", village: "村" };

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

  // ------------------------------------------------------------ links inside the page

  // relative URLs ("?m=…"): the page keeps working when it is served under a path prefix
  const placeUrl = (code) => `?m=${encodeURIComponent(code)}`;
  const similarUrl = (id) => `?similar=${encodeURIComponent(id)}`;

  /** A real link (it can be opened in a new tab or copied) that a plain click follows without reloading. */
  function pageLink(attrs, url, ...children) {
    const link = el("a", { ...attrs, href: url }, ...children);
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      navigate(url, { focus: true });
    });
    return link;
  }

  // ------------------------------------------------------------ results

  function placeLabel(place) {
    return place.level === "prefecture" || !place.prefecture || place.name === place.prefecture
      ? place.name : `${place.name}（${place.prefecture}）`;
  }

  /**
   * One passage as a list item. options: prefix (unique ids per list), rank (the number shown, or null),
   * role (this place's role on a municipality page), similar (show the 「似た事例」 link).
   */
  function renderPassage(passage, index, options = {}) {
    const { prefix = "r", rank = index + 1, role = null, similar = true } = options;
    const titleId = `${prefix}-title-${index}`;
    const url = safeUrl(passage.url);
    const title = url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, passage.title || "（無題）")
      : el("span", {}, passage.title || "（無題）");
    const meta = el("p", { className: "passage-meta" },
      role ? el("span", { className: `role-badge role-${role}` }, ROLE_LABEL[role] || role) : null,
      el("span", { className: "source" }, passage.source || "掲載元不明"),
      passage.published ? el("time", { datetime: passage.published }, passage.published) : el("span", {}, "日付不明"),
      passage.heading ? el("span", { className: "heading" }, passage.heading) : null);
    const places = passage.municipalities || [];
    const placeList = places.length
      ? el("p", { className: "passage-places" }, "自治体: ",
        ...places.map((p) => pageLink({ className: `tag role-${p.role}`, "data-code": p.code,
          title: `${p.name}の事例を開く` }, placeUrl(p.code), placeLabel(p))))
      : null;
    const elsewhere = (passage.also_at || []).map(safeUrl).filter(Boolean);
    const alsoAt = elsewhere.length
      ? el("p", { className: "passage-also" }, "同じ記事の掲載先: ",
        ...elsewhere.map((u) => el("a", { href: u, target: "_blank", rel: "noopener noreferrer" }, u)))
      : null;
    const actions = similar
      ? el("p", { className: "passage-actions" },
        pageLink({ className: "similar-link", "aria-describedby": titleId }, similarUrl(passage.id), "似た事例"))
      : null;
    return el("li", { className: "passage", "data-id": passage.id, "data-article": passage.article_id },
      el("article", { "aria-labelledby": titleId },
        el("h4", { id: titleId, className: "passage-title" },
          rank === null ? null : el("span", { className: "rank" }, `${rank}. `), title),
        meta, passageBody(passage), placeList, alsoAt, actions));
  }

  /** A list of place chips, one `chip(place, count)` item each (count: the passages the place stands on). */
  function placeChips(list, places, chip) {
    list.replaceChildren();
    if (!places.length) {
      list.append(el("li", { className: "empty" }, "自治体は見つかりませんでした。"));
      return;
    }
    for (const place of places) list.append(chip(place, (place.passage_ids || []).length));
  }

  function renderPlaces(places) {
    placeChips($("places"), places, (place, count) => {
      const button = el("button", {
        type: "button", className: "chip", "data-code": place.code,
        "aria-label": `${placeLabel(place)}、根拠 ${count} 件。この自治体に絞り込む`,
      }, el("span", { className: "chip-name" }, placeLabel(place)), el("span", { className: "count", "aria-hidden": "true" }, String(count)));
      button.addEventListener("click", () => filterBy(place));
      button.addEventListener("mouseenter", () => spotlight(place.code, true));
      button.addEventListener("mouseleave", () => spotlight(place.code, false));
      button.addEventListener("focus", () => spotlight(place.code, true));
      button.addEventListener("blur", () => spotlight(place.code, false));
      const open = pageLink({ className: "chip-open", "data-code": place.code, "aria-label": `${place.name}の事例` },
        placeUrl(place.code), "事例");
      return el("li", { className: "chip-pair" }, button, open);
    });
  }

  /** Chips that open each place's page (similar cases: there is no search to narrow). */
  function renderPlaceLinks(list, places) {
    placeChips(list, places, (place, count) => el("li", {}, pageLink({ className: "chip", "data-code": place.code,
      "aria-label": `${placeLabel(place)}の事例、根拠 ${count} 件` }, placeUrl(place.code),
    el("span", { className: "chip-name" }, placeLabel(place)),
    el("span", { className: "count", "aria-hidden": "true" }, String(count)))));
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

  // ------------------------------------------------------------ facets

  const FACET_SHOWN = 10; // values shown per group before 「ほか N 件を表示」
  const FACETS = [
    { key: "prefecture", label: "都道府県" },
    { key: "source", label: "掲載元" },
    { key: "year", label: "年" },
  ];

  /** The year the date fields cover exactly (YYYY-01-01 to YYYY-12-31), or "". */
  function activeYear() {
    const from = $("date_from").value, to = $("date_to").value;
    const year = from.slice(0, 4);
    return /^\d{4}$/.test(year) && from === `${year}-01-01` && to === `${year}-12-31` ? year : "";
  }

  function facetValue(key) {
    return key === "year" ? activeYear() : $(key).value;
  }

  function setFacet(key, value) {
    if (key === "year") {
      $("date_from").value = value ? `${value}-01-01` : "";
      $("date_to").value = value ? `${value}-12-31` : "";
    } else {
      setField(key, value);
    }
  }

  function applyFacet(key, value) {
    setFacet(key, value);
    state.focusAfter = value ? `#active-facet-list button[data-facet="${key}"]` : "#facets-heading";
    runSearch();
  }

  /** The filters in force, each with the button that lifts it. */
  function renderActiveFacets() {
    const items = [];
    for (const { key, label } of FACETS) {
      const value = facetValue(key);
      if (!value) continue;
      const shown = key === "year" ? `${value}年` : value;
      items.push({ key, text: `${label}: ${shown}`, name: shown, clear: () => applyFacet(key, "") });
    }
    const from = $("date_from").value, to = $("date_to").value;
    if ((from || to) && !activeYear()) {
      const range = `${from || "…"} 〜 ${to || "…"}`;
      items.push({ key: "date", text: `掲載日: ${range}`, name: range, clear: () => {
        $("date_from").value = "";
        $("date_to").value = "";
        state.focusAfter = "#facets-heading";
        runSearch();
      } });
    }
    $("active-facet-list").replaceChildren(...items.map((item) => el("li", {},
      el("button", { type: "button", className: "chip active-chip", "data-facet": item.key,
        "aria-label": `${item.name} の絞り込みを解除`, onclick: item.clear },
      el("span", {}, item.text), el("span", { className: "clear-mark", "aria-hidden": "true" }, "×")))));
    $("active-facets").hidden = !items.length;
  }

  function renderFacets(facets) {
    $("facets").hidden = !facets;
    if (!facets) return;
    $("facets-hint").textContent = `質問に関連する上位 ${facets.depth ?? "—"} 件の候補（得点が最上位に近いもの）に含まれる記事の数です。押すとその条件で絞り込みます。`;
    for (const { key, label } of FACETS) {
      const list = $(`facet-${key}`);
      const active = facetValue(key);
      const items = (facets[key] || []).filter((item) => item && item.name);
      const buttons = items.map((item) => {
        const on = String(item.name) === active;
        const name = key === "year" ? `${item.name}年` : String(item.name);
        // the accessible name leaves out the group's own word: 「都道府県」 must label only the form's select
        return el("li", {}, el("button", {
          type: "button", className: "chip facet", "data-facet": key, "data-value": item.name, "aria-pressed": String(on),
          "aria-label": `${name}、${item.count} 件${on ? "（絞り込み中、押すと解除）" : "。この条件で絞り込む"}`,
          onclick: () => applyFacet(key, on ? "" : String(item.name)),
        }, el("span", {}, name), el("span", { className: "count", "aria-hidden": "true" }, String(item.count))));
      });
      list.replaceChildren(...buttons);
      if (!items.length) list.append(el("li", { className: "empty" }, "なし"));
      if (buttons.length > FACET_SHOWN) {
        const extra = buttons.slice(FACET_SHOWN);
        const more = `ほか ${extra.length} 件を表示`;
        extra.forEach((li) => { li.hidden = true; });
        const toggle = el("button", { type: "button", className: "link-button facet-more", "aria-expanded": "false" }, more);
        toggle.addEventListener("click", () => {
          const open = toggle.getAttribute("aria-expanded") !== "true";
          extra.forEach((li) => { li.hidden = !open; });
          toggle.setAttribute("aria-expanded", String(open));
          toggle.textContent = open ? "少なく表示" : more;
          if (open) extra[0].querySelector("button").focus();
        });
        list.append(el("li", { className: "facet-more-item" }, toggle));
      }
    }
    renderActiveFacets();
  }

  // ------------------------------------------------------------ CSV

  function updateCsv(query) {
    const csv = new URLSearchParams(query);
    csv.set("format", "csv");
    const link = $("csv");
    link.setAttribute("href", `/search?${csv}`);
    link.hidden = false;
  }

  /** With a read key the plain link would be refused: fetch with the key and save the answer as a Blob. */
  async function saveCsvWithKey(event) {
    const headers = authHeaders();
    if (!headers.Authorization) return; // the link downloads by itself
    event.preventDefault();
    const link = $("csv");
    try {
      const response = await fetch(link.getAttribute("href"), { headers: { Accept: "text/csv", ...headers } });
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        throw Object.assign(new Error("csv"), { detail: (body && body.error) || { ja: `CSV を保存できませんでした（${response.status}）` } });
      }
      const disposition = response.headers.get("Content-Disposition") || "";
      const match = /filename\*=UTF-8''([^;]+)/i.exec(disposition) || /filename="?([^";]+)"?/i.exec(disposition);
      let name = "jsearch.csv";
      try {
        if (match) name = decodeURIComponent(match[1].trim());
      } catch { /* a malformed name: keep the plain one */ }
      const url = URL.createObjectURL(await response.blob());
      const save = el("a", { href: url, download: name, hidden: true });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      showError(error.detail || { ja: "CSV を保存できませんでした", en: String(error.message || error) });
    }
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

  /** Sets a field; a select gains the option first when it lacks it (a deep link may name any source). */
  function setField(name, value) {
    const field = $(name);
    if (field.tagName === "SELECT" && value && ![...field.options].some((o) => o.value === value)) {
      field.append(el("option", { value }, value));
    }
    field.value = value;
  }

  function showError(detail) {
    const box = $("error");
    box.replaceChildren(el("p", {}, detail.ja || "エラーが発生しました"),
      detail.en ? el("p", { className: "error-en", lang: "en" }, detail.en) : null);
    box.hidden = false;
  }

  /** The search the form describes: it becomes the page's URL (a new history entry when it changed). */
  function runSearch() {
    const query = params();
    $("error").hidden = true;
    if (!query.get("q")) {
      showError({ ja: "検索語を入力してください", en: "Enter a query" });
      $("q").focus();
      return;
    }
    navigate(`?${query}`);
  }

  /** A failed load: the status line, the error box and, on 401, the read-key field. */
  function failed(error, what) {
    if (error.status === 401) {
      $("key-field").hidden = false;
      $("key").focus();
    }
    $("status").textContent = `${what}できませんでした。`;
    showError(error.detail || { ja: "サーバーに接続できません", en: String(error.message || error) });
  }

  async function doSearch(query) {
    const q = query.get("q") || "";
    state.lastSearch = `?${query}`;
    const seq = ++state.seq;
    $("status").textContent = `「${q}」を検索しています…`;
    form.setAttribute("aria-busy", "true");
    document.title = `「${q}」の検索結果 — ${TITLE}`;
    try {
      const answer = await getJson(`/search?${query}`);
      if (seq !== state.seq) return;
      render(answer, query);
    } catch (error) {
      if (seq !== state.seq) return;
      failed(error, "検索");
    } finally {
      if (seq === state.seq) form.removeAttribute("aria-busy");
    }
  }

  // ------------------------------------------------------------ 入力候補: the search box as a WAI-ARIA 1.2 combobox

  const KIND_NAME = { title: "記事", heading: "見出し", municipality: "自治体", term: "語", query: "過去の検索" };
  const SUGGEST_DELAY_MS = 120;

  /** Suggestions under the search box: debounced, never while an IME composes (compositionstart to
   * compositionend), ArrowUp/Down to move, Enter to take one and search, Escape to close. */
  function setupCombobox() {
    const input = $("q");
    const list = $("q-suggestions");
    const combo = { composing: false, timer: 0, seq: 0, active: -1, items: [] };

    function close() {
      clearTimeout(combo.timer);
      combo.seq++;
      combo.items = [];
      combo.active = -1;
      list.replaceChildren();
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function setActive(index) {
      combo.active = index;
      [...list.children].forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
      if (index < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      const option = list.children[index];
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      const item = combo.items[index];
      if (!item) return;
      input.value = item.text;
      close();
      runSearch();
    }

    function show(items) {
      combo.items = items;
      combo.active = -1;
      list.replaceChildren(...items.map((item, i) => el("li", {
        id: `q-option-${i}`, role: "option", "aria-selected": "false",
        onmousedown: (event) => event.preventDefault(), // the box keeps the focus
        onclick: () => choose(i),
      }, el("span", { className: "text" }, item.text),
      el("span", { className: "kind" }, KIND_NAME[item.kind] || item.kind))));
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", String(items.length > 0));
      input.removeAttribute("aria-activedescendant");
    }

    async function fetchSuggestions() {
      const prefix = input.value.trim();
      const seq = ++combo.seq;
      if (!prefix || combo.composing) {
        if (!prefix) close();
        return;
      }
      try {
        const answer = await getJson(`/suggest?${new URLSearchParams({ q: prefix, k: "8" })}`);
        if (seq === combo.seq && !combo.composing && document.activeElement === input) show(answer.suggestions || []);
      } catch {
        if (seq === combo.seq) close(); // suggestions are a help: a failure only hides them
      }
    }

    function schedule() {
      clearTimeout(combo.timer);
      combo.timer = setTimeout(fetchSuggestions, SUGGEST_DELAY_MS);
    }

    input.addEventListener("compositionstart", () => {
      combo.composing = true;
      clearTimeout(combo.timer);
      combo.seq++; // an answer still on its way is dropped
    });
    input.addEventListener("compositionend", () => {
      combo.composing = false;
      schedule();
    });
    input.addEventListener("input", (event) => {
      if (event.isComposing || combo.composing) return;
      schedule();
    });
    input.addEventListener("keydown", (event) => {
      if (event.isComposing || combo.composing || event.keyCode === 229) return; // the IME's own keys
      const open = !list.hidden && combo.items.length > 0;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) { fetchSuggestions(); return; }
        setActive(combo.active + 1 >= combo.items.length ? 0 : combo.active + 1);
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        setActive(combo.active <= 0 ? combo.items.length - 1 : combo.active - 1);
      } else if (event.key === "Enter" && open && combo.active >= 0) {
        event.preventDefault();
        choose(combo.active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 0));
    form.addEventListener("submit", close);
  }

  /** 「もしかして」: the rewrite the answer offers, as a link to its search. */
  function renderDidYouMean(answer, query) {
    const box = $("did-you-mean");
    const offer = answer.did_you_mean;
    box.hidden = !offer;
    if (!offer) return;
    const next = new URLSearchParams(query);
    next.set("q", offer.text);
    const link = $("did-you-mean-link");
    link.textContent = offer.text;
    link.setAttribute("href", `?${next}`);
  }

  // ------------------------------------------------------------ 新着: answers not shown at the last visit

  const SEEN_KEY = "jsearch-seen";
  const SEEN_QUERIES = 50;
  const SEEN_ARTICLES = 200;

  /** The articles shown for this search at the last visit (null on the first), and this visit's recorded. */
  function lastSeen(key, articles) {
    let all = {};
    try { all = JSON.parse(localStorage.getItem(SEEN_KEY) || "{}") || {}; } catch { all = {}; }
    const before = Array.isArray(all[key]) ? new Set(all[key]) : null;
    delete all[key];
    all[key] = [...new Set([...articles, ...(before || [])])].slice(0, SEEN_ARTICLES);
    const keys = Object.keys(all);
    for (const old of keys.slice(0, Math.max(0, keys.length - SEEN_QUERIES))) delete all[old];
    try { localStorage.setItem(SEEN_KEY, JSON.stringify(all)); } catch { /* storage full or off */ }
    return before;
  }

  function seenKey(query) {
    const p = new URLSearchParams(query);
    return ["q", "prefecture", "municipality", "source", "date_from", "date_to"].map((k) => p.get(k) || "").join("\u0001");
  }

  function markNew(passages, query) {
    const before = lastSeen(seenKey(query), passages.map((p) => p.article_id));
    if (!before) return;
    for (const item of $("passages").querySelectorAll("li.passage")) {
      if (before.has(item.dataset.article)) continue;
      const title = item.querySelector(".passage-title");
      if (title) title.prepend(el("span", { className: "new-badge", title: "前回この検索を開いた後に届いた記事" }, "新着"));
    }
  }

  // ------------------------------------------------------------ この検索を保存

  async function saveSearch() {
    const query = new URLSearchParams(state.lastSearch.replace(/^\?/, ""));
    const q = query.get("q") || "";
    if (!q) return;
    const name = window.prompt("保存する検索の名前", q);
    if (name === null) return;
    const filters = {};
    for (const k of ["prefecture", "municipality", "source", "date_from", "date_to"]) if (query.get(k)) filters[k] = query.get(k);
    try {
      const response = await fetch("/saved-searches", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", ...authHeaders() },
        body: JSON.stringify({ name: name.trim() || q, q, filters }),
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        throw Object.assign(new Error("save"), { status: response.status,
          detail: (body && body.error) || { ja: `保存できませんでした（${response.status}）`, en: "" } });
      }
      $("feed-url").value = body.feed_url;
      $("saved-box").hidden = false;
      $("feed-url").focus();
      $("feed-url").select();
      $("status").textContent = `「${body.name}」を保存しました。新着はフィードに載ります。`;
    } catch (error) {
      failed(error, "検索の保存");
    }
  }

  /** 「…も含めて検索しました」 with a link to the words alone (expand=false), or the way back. */
  function renderExpanded(answer, query) {
    const box = $("expanded");
    const added = answer.expanded || [];
    const alone = query.get("expand") === "false";
    const other = new URLSearchParams(query);
    if (alone) other.delete("expand"); else other.set("expand", "false");
    const link = el("a", { id: "expand-link", href: `?${other}` },
      alone ? "同義語・表記ゆれも含めて検索" : `「${answer.query}」の語だけで検索`);
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      navigate(link.getAttribute("href"), { focus: true });
    });
    if (alone) box.replaceChildren("入力した語だけで検索しました。", link);
    else if (added.length) box.replaceChildren(`${added.map((t) => `「${t}」`).join("")}も含めて検索しました。`, link);
    box.hidden = !(alone || added.length);
  }

  function render(answer, query) {
    state.answer = answer;
    renderExpanded(answer, query);
    const passages = answer.passages || [];
    const places = answer.municipalities || [];
    $("passages").replaceChildren(...passages.map((p, i) => renderPassage(p, i)));
    markNew(passages, query);
    $("saved-box").hidden = true;
    if (!passages.length) $("passages").append(el("li", { className: "empty" }, "条件に合う文章はありませんでした。条件を緩めてください。"));
    renderPlaces(places);
    drawDots(places);
    renderFacets(answer.facets || null);
    renderDidYouMean(answer, query);
    updateCsv(query);
    const named = state.municipality && places.find((p) => p.code === state.municipality);
    if (named && !state.municipalityName) {
      state.municipalityName = placeLabel(named);
      showActiveFilter();
    }
    showView("results");
    const seconds = (answer.took_ms / 1000).toFixed(2);
    $("status").textContent = `「${answer.query}」の検索結果: 文章 ${passages.length} 件、自治体 ${places.length} 件（${seconds} 秒）`;
    focusAfterRender();
  }

  function focusAfterRender() {
    const selector = state.focusAfter;
    state.focusAfter = null;
    const target = selector && document.querySelector(selector);
    if (target) {
      if (!target.hasAttribute("tabindex") && !/^(BUTTON|A|INPUT|SELECT)$/.test(target.tagName)) target.setAttribute("tabindex", "-1");
      target.focus();
    }
  }

  // ------------------------------------------------------------ a municipality's cases

  async function showPlace(code, offset, limit) {
    const seq = ++state.seq;
    $("status").textContent = "自治体の事例を読み込んでいます…";
    try {
      const data = await getJson(`/municipalities/${encodeURIComponent(code)}?limit=${limit}&offset=${offset}`);
      if (seq !== state.seq) return;
      renderPlace(data, limit);
    } catch (error) {
      if (seq !== state.seq) return;
      showView(null);
      failed(error, "自治体の事例を表示");
    }
  }

  function renderPlace(data, asked) {
    const limit = Number(data.limit) || asked;
    const passages = data.passages || [];
    const offset = Number(data.offset) || 0;
    const total = Number(data.total) || 0;
    const name = data.name || data.code;
    $("place-heading").textContent = `${name}の事例`;
    const facts = [["prefecture", "都道府県", data.level === "prefecture" ? "" : data.prefecture],
      ["kind", "種別", KIND_LABEL[data.kind] || data.kind || ""], ["code", "団体コード", data.code],
      ["former", "旧名称", (data.former_names || []).join("、")]];
    $("place-facts").replaceChildren(...facts.filter(([, , value]) => value)
      .flatMap(([key, term, value]) => [el("dt", {}, term), el("dd", { className: `fact-${key}` }, value)]));
    const subject = [], mention = [];
    passages.forEach((p) => (p.role === "mention" ? mention : subject).push(p));
    const list = (items, prefix, start) => items.map((p, i) => renderPassage(p, i,
      { prefix, rank: start + i + 1, role: p.role }));
    $("place-subject-list").replaceChildren(...list(subject, "ps", offset));
    $("place-mention-list").replaceChildren(...list(mention, "pm", offset + subject.length));
    $("place-subject").hidden = !subject.length;
    $("place-mention").hidden = !mention.length;
    $("place-empty").hidden = passages.length > 0;
    const last = offset + passages.length;
    $("place-count").textContent = `文章 ${total} 件（取り組みの主体として書かれた文章が先、言及のみの文章が後。新しい順）`;
    $("place-range").textContent = passages.length ? `${offset + 1}〜${last} 件目 / 全 ${total} 件` : "";
    const pageUrl = (at) => {
      const query = new URLSearchParams({ m: data.code });
      if (at > 0) query.set("offset", String(at));
      if (limit !== PAGE_SIZE) query.set("limit", String(limit));
      return `?${query}`;
    };
    setPager($("place-prev"), offset > 0 ? pageUrl(Math.max(0, offset - limit)) : null);
    setPager($("place-next"), last < total ? pageUrl(last) : null);
    showBack($("place-back"));
    document.title = `${name}の事例 — ${TITLE}`;
    showView("place-view");
    $("status").textContent = `${name}の事例: 文章 ${total} 件`;
  }

  function setPager(link, url) {
    link.hidden = !url;
    if (url) link.setAttribute("href", url);
    link.dataset.url = url || "";
  }

  function showBack(link) {
    link.hidden = !state.lastSearch;
    if (state.lastSearch) link.setAttribute("href", state.lastSearch);
  }

  // ------------------------------------------------------------ similar cases

  async function showSimilar(id) {
    const seq = ++state.seq;
    $("status").textContent = "似た事例を探しています…";
    try {
      const data = await getJson(`/passages/${encodeURIComponent(id)}/similar?k=${SIMILAR_K}`);
      if (seq !== state.seq) return;
      renderSimilar(data);
    } catch (error) {
      if (seq !== state.seq) return;
      showView(null);
      failed(error, "似た事例を表示");
    }
  }

  function renderSimilar(data) {
    const source = data.passage;
    const passages = data.passages || [];
    const places = data.municipalities || [];
    $("similar-heading").textContent = `「${source.title || "（無題）"}」に似た事例`;
    $("similar-source").replaceChildren(renderPassage(source, 0, { prefix: "ss", rank: null, similar: false }));
    $("similar-list").replaceChildren(...passages.map((p, i) => renderPassage(p, i, { prefix: "sl" })));
    if (!passages.length) $("similar-list").append(el("li", { className: "empty" }, "ほかの記事に似た文章はありませんでした。"));
    renderPlaceLinks($("similar-places"), places);
    showBack($("similar-back"));
    document.title = `似た事例 — ${TITLE}`;
    showView("similar-view");
    $("status").textContent = `似た事例: 文章 ${passages.length} 件、自治体 ${places.length} 件`;
  }

  // ------------------------------------------------------------ views and the URL

  const VIEWS = ["results", "place-view", "similar-view"];

  function showView(name) {
    for (const id of VIEWS) $(id).hidden = id !== name;
    if (name !== "results") $("did-you-mean").hidden = true;
    if (name && state.focusView) $(name).focus();
    state.focusView = false;
  }

  /** Goes to a URL of this page: a new history entry (unless it is the current one), then shows that view. */
  function navigate(url, { focus = false } = {}) {
    const target = new URL(url, location.href);
    const same = target.search === location.search;
    history[same ? "replaceState" : "pushState"](null, "", `${target.pathname}${target.search}`);
    if (!same) window.scrollTo(0, 0);
    state.focusView = focus;
    route();
  }

  /** The form as the URL describes it (absent fields back to their defaults). */
  function restore(query) {
    for (const name of fields) setField(name, query.get(name) || DEFAULTS[name] || "");
    const code = query.get("municipality") || "";
    if (code !== state.municipality) state.municipalityName = "";
    state.municipality = code;
    showActiveFilter();
  }

  /** Shows the view the URL names: ?m= a municipality, ?similar= similar cases, ?q= a search. */
  function route() {
    const query = new URLSearchParams(location.search);
    $("error").hidden = true;
    if (query.get("m")) {
      const offset = Math.max(0, parseInt(query.get("offset") || "0", 10) || 0);
      const limit = Math.min(Math.max(parseInt(query.get("limit") || String(PAGE_SIZE), 10) || PAGE_SIZE, 1), 100);
      showPlace(query.get("m"), offset, limit);
    } else if (query.get("similar")) {
      showSimilar(query.get("similar"));
    } else if (query.get("q")) {
      restore(query);
      if ($("results").hidden) showView(null); // coming from another view: it must not stay up during the search
      doSearch(query);
    } else {
      state.seq++;
      restore(query);
      showView(null);
      $("status").textContent = "";
      document.title = TITLE;
    }
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

  /** The web sources the server crawls, with the time each was last crawled (shown only when there are some). */
  async function loadCrawlSources() {
    const answer = await getJson("/sources");
    const list = $("crawl-source-list");
    list.replaceChildren(...answer.sources.map((s) => {
      const url = safeUrl(s.url);
      const when = s.last_crawl ? new Date(s.last_crawl).toLocaleString("ja-JP") : "未取得";
      return el("li", { className: "crawl-source" },
        el("span", { className: "source" }, s.name || "（名前なし）"), " ",
        url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, s.url) : el("span", {}, s.url),
        ` — ${s.every} ごと、最終取得: `, s.last_crawl ? el("time", { datetime: s.last_crawl }, when) : when);
    }));
    $("crawl-sources").hidden = answer.sources.length === 0;
  }

  setupCombobox();
  $("did-you-mean-link").addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate($("did-you-mean-link").getAttribute("href"));
  });
  $("save-search").addEventListener("click", saveSearch);
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
    route();
  });
  $("csv").addEventListener("click", saveCsvWithKey);
  for (const id of ["place-back", "similar-back", "place-prev", "place-next"]) {
    $(id).addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      navigate($(id).getAttribute("href"), { focus: true });
    });
  }
  window.addEventListener("popstate", () => route());

  loadMap().catch(() => { $("map").textContent = "地図を読み込めませんでした。"; });
  loadSources().catch(() => {});
  loadCrawlSources().catch(() => {});
  route();
})();
