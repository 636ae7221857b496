// 自治体DX 事例検索ウィジェット — embed on any intranet page:
//   <div id="dx-search"></div>
//   <script src="http://HOST:PORT/widget.js" data-target="#dx-search"></script>
// Optional: data-k="5" (passages), data-mode="hybrid", data-key="…" (read key, when the server requires one).
// The API is the script's own origin (the server must list this page's origin in JSEARCH_CORS_ORIGINS).
// Shadow DOM isolates the styles both ways; article text is only ever inserted as text.
(() => {
  "use strict";
  const script = document.currentScript
    || [...document.querySelectorAll("script[src]")].find((s) => /\/widget\.js(\?|$)/.test(s.src));
  if (!script) return;
  const api = new URL(script.src, location.href).origin;
  const options = script.dataset;
  const k = Math.min(Math.max(parseInt(options.k || "5", 10) || 5, 1), 50);

  let host = options.target ? document.querySelector(options.target) : null;
  if (!host) {
    host = document.createElement("div");
    script.after(host);
  }
  if (host.shadowRoot) return; // already mounted
  const root = host.attachShadow({ mode: "open" });

  const CSS = `
    :host { all: initial; display: block; font-family: "Hiragino Kaku Gothic ProN", "Yu Gothic UI", "Meiryo",
      "Noto Sans CJK JP", sans-serif; color: #1d2733; line-height: 1.6; font-size: 15px; }
    * { box-sizing: border-box; }
    [hidden] { display: none !important; }
    .box { border: 1px solid #c9d2db; border-radius: 8px; padding: 12px; background: #fff; }
    form { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; }
    label { font-weight: bold; }
    input { flex: 1 1 14em; font: inherit; padding: 6px 8px; border: 2px solid #4e5b68; border-radius: 6px; }
    button { font: inherit; cursor: pointer; }
    .go { background: #0b5cad; color: #fff; border: 0; border-radius: 6px; padding: 6px 14px; }
    :focus-visible { outline: 3px solid #c24d00; outline-offset: 2px; }
    .status { min-height: 1.4em; margin: 6px 0; font-size: 13px; color: #4e5b68; }
    .error { color: #b3261e; }
    ul.chips { list-style: none; display: flex; flex-wrap: wrap; gap: 4px; padding: 0; margin: 0 0 8px; }
    .chip { border: 1px solid #0b5cad; color: #0b5cad; background: #fff; border-radius: 999px; padding: 1px 4px 1px 10px;
      display: inline-flex; gap: 4px; align-items: center; font-size: 13px; }
    .chip[aria-pressed="true"] { background: #e6effa; }
    .count { background: #0b5cad; color: #fff; border-radius: 999px; padding: 0 6px; font-size: 12px; }
    ol { list-style: none; padding: 0; margin: 0; }
    li.hit { border-top: 1px solid #e3e8ee; padding: 8px 0; }
    .title { font-weight: bold; margin: 0; }
    a { color: #0b5cad; }
    .meta { color: #4e5b68; font-size: 12px; margin: 0; }
    .text { margin: 4px 0 0; font-size: 14px; white-space: pre-wrap; overflow-wrap: anywhere; }
    mark { background: #fff1a8; color: inherit; }
    .more { font-size: 13px; margin-top: 6px; display: inline-block; }
    .links { display: flex; flex-wrap: wrap; gap: 4px 16px; }
    .link-button { background: none; border: 0; padding: 0; color: #0b5cad; text-decoration: underline; font-size: 13px; }
    .actions { margin: 4px 0 0; }
    .similar { margin: 6px 0 0 8px; padding: 4px 0 4px 10px; border-left: 3px solid #c9d2db; }
    .similar-title { font-size: 13px; font-weight: bold; margin: 0; color: #4e5b68; }
    .similar li.hit { padding: 6px 0; }
    .similar .text { font-size: 13px; }
    .places { margin: 2px 0 0; font-size: 12px; color: #4e5b68; }
    .combo { position: relative; flex: 1 1 14em; display: flex; }
    .combo input { flex: 1 1 auto; }
    .suggestions { position: absolute; top: 100%; left: 0; right: 0; z-index: 10; list-style: none; margin: 2px 0 0;
      padding: 2px 0; background: #fff; border: 1px solid #4e5b68; border-radius: 6px; max-height: 18em; overflow-y: auto; }
    .suggestions li { padding: 3px 8px; cursor: pointer; display: flex; gap: 8px; }
    .suggestions li[aria-selected="true"] { background: #dbe8f7; outline: 2px solid #0b5cad; outline-offset: -2px; }
    .suggestions .kind { margin-left: auto; color: #4e5b68; font-size: 12px; white-space: nowrap; }
    .offer { margin: 0 0 6px; font-size: 14px; }
  `;

  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  };
  const safeUrl = (url) => {
    try {
      const parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch {
      return null;
    }
  };
  const marked = (text, highlights, from, to) => {
    const nodes = [];
    let at = from;
    for (const { start, end } of [...(highlights || [])].sort((a, b) => a.start - b.start)) {
      const s = Math.max(start, at), e = Math.min(end, to);
      if (e <= s) continue;
      if (s > at) nodes.push(document.createTextNode(text.slice(at, s)));
      nodes.push(el("mark", {}, text.slice(s, e)));
      at = e;
    }
    if (at < to) nodes.push(document.createTextNode(text.slice(at, to)));
    return nodes;
  };
  const label = (p) => (p.level === "prefecture" || !p.prefecture ? p.name : `${p.name}（${p.prefecture}）`);

  const uid = Math.random().toString(36).slice(2, 8);
  const input = el("input", { id: `dx-q-${uid}`, type: "search", maxlength: "1000", autocomplete: "off",
    placeholder: "例: 窓口キャッシュレスの事例", role: "combobox", "aria-autocomplete": "list",
    "aria-expanded": "false", "aria-controls": `dx-s-${uid}` });
  const listbox = el("ul", { id: `dx-s-${uid}`, class: "suggestions", role: "listbox", "aria-label": "入力候補", hidden: true });
  const form = el("form", { role: "search", "aria-label": "自治体DX 事例検索" },
    el("label", { for: `dx-q-${uid}` }, "事例検索"), el("div", { class: "combo" }, input, listbox),
    el("button", { type: "submit", class: "go" }, "検索"));
  const offer = el("p", { class: "offer", hidden: true });
  const status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const chips = el("ul", { class: "chips", "aria-label": "事例の自治体（押すと絞り込み）" });
  const hits = el("ol", { "aria-label": "答えとなる文章" });
  const more = el("a", { class: "more", target: "_blank", rel: "noopener" }, "検索ページで詳しく見る");
  const csv = el("a", { class: "more csv", download: "" }, "CSV で保存");
  const links = el("p", { class: "links", hidden: true }, more, csv);
  root.append(el("style", {}, CSS), el("div", { class: "box" }, form, status, offer, chips, hits, links));

  let municipality = "";
  let seq = 0;
  let serial = 0;

  const headers = (accept) => {
    const sent = { Accept: accept };
    if (options.key) sent.Authorization = `Bearer ${options.key}`;
    return sent;
  };
  const getJson = async (path) => {
    const response = await fetch(`${api}${path}`, { headers: headers("application/json"), mode: "cors", credentials: "omit" });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error((body && body.error && body.error.ja) || `エラー（${response.status}）`);
    return body;
  };
  const failure = (error) => (error instanceof TypeError ? "検索サーバーに接続できません" : String(error.message || error));

  /** One passage; `similar` adds the 「似た事例」 button that opens the nearest passages of other articles below it. */
  const renderHit = (p, similar = true, size = 220) => {
    const url = safeUrl(p.url);
    const id = `dx-hit-${uid}-${++serial}`;
    const title = url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, p.title || "（無題）")
      : el("span", {}, p.title || "（無題）");
    const text = p.text || "";
    const first = (p.highlights && p.highlights.length) ? p.highlights[0].start : 0;
    const from = Math.max(0, Math.min(first - 40, text.length - size));
    const to = Math.min(text.length, from + size);
    const item = el("li", { class: similar ? "hit" : "hit similar-hit", "data-id": p.id, "data-article": p.article_id },
      el("p", { class: "title", id }, title),
      el("p", { class: "meta" }, [p.source, p.published].filter(Boolean).join("・")),
      el("p", { class: "text" }, from > 0 ? "…" : "", marked(text, p.highlights, from, to), to < text.length ? "…" : ""));
    if (!similar) {
      const names = (p.municipalities || []).map(label);
      if (names.length) item.append(el("p", { class: "places" }, `自治体: ${names.join("、")}`));
      return item;
    }
    const box = el("div", { class: "similar", id: `${id}-similar`, hidden: true });
    const button = el("button", { type: "button", class: "link-button similar-button", "aria-expanded": "false",
      "aria-controls": `${id}-similar`, "aria-describedby": id }, "似た事例");
    let loaded = false;
    button.addEventListener("click", async () => {
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      button.textContent = open ? "似た事例を閉じる" : "似た事例";
      box.hidden = !open;
      if (!open || loaded) return;
      const note = el("p", { class: "status", role: "status" }, "似た事例を探しています…");
      box.replaceChildren(note);
      try {
        const body = await getJson(`/passages/${encodeURIComponent(p.id)}/similar?k=${Math.min(k, 5)}`);
        loaded = true;
        const list = el("ol", { "aria-label": "似た事例（ほかの記事の文章）" }, ...body.passages.map((s) => renderHit(s, false, 140)));
        if (!body.passages.length) list.append(el("li", { class: "hit" }, "ほかの記事に似た文章はありませんでした。"));
        const places = (body.municipalities || []).slice(0, 8).map(label);
        box.replaceChildren(el("p", { class: "similar-title" }, `似た事例 ${body.passages.length} 件`
          + (places.length ? `（${places.join("、")}）` : "")), list);
      } catch (error) {
        note.className = "status error";
        note.textContent = failure(error);
      }
    });
    item.append(el("p", { class: "actions" }, button), box);
    return item;
  };

  const renderChips = (places) => {
    chips.replaceChildren(...places.slice(0, 12).map((place) => {
      const count = (place.passage_ids || []).length;
      const pressed = municipality === place.code;
      const button = el("button", { type: "button", class: "chip", "aria-pressed": String(pressed),
        "aria-label": `${label(place)}、根拠 ${count} 件${pressed ? "（絞り込み中、押すと解除）" : "。この自治体に絞り込む"}` },
      el("span", {}, label(place)), el("span", { class: "count", "aria-hidden": "true" }, String(count)));
      button.addEventListener("click", () => {
        municipality = pressed || place.level === "prefecture" ? "" : place.code;
        search();
      });
      return el("li", {}, button);
    }));
  };

  async function search() {
    const q = input.value.trim();
    if (!q) {
      status.textContent = "検索語を入力してください";
      return;
    }
    const query = new URLSearchParams({ q, k: String(k), mode: options.mode || "hybrid" });
    if (municipality) query.set("municipality", municipality);
    const mine = ++seq;
    status.className = "status";
    status.textContent = "検索しています…";
    try {
      const response = await fetch(`${api}/search?${query}`, { headers: headers("application/json"), mode: "cors",
        credentials: "omit" });
      const body = await response.json().catch(() => null);
      if (mine !== seq) return;
      if (!response.ok) throw new Error((body && body.error && body.error.ja) || `エラー（${response.status}）`);
      hits.replaceChildren(...body.passages.map((p) => renderHit(p)));
      if (!body.passages.length) hits.append(el("li", { class: "hit" }, "見つかりませんでした。"));
      renderChips(body.municipalities || []);
      offer.hidden = !body.did_you_mean;
      if (body.did_you_mean) {
        const meant = body.did_you_mean.text;
        const button = el("button", { type: "button", class: "link-button" }, meant);
        button.addEventListener("click", () => { input.value = meant; municipality = ""; search(); });
        offer.replaceChildren("もしかして: ", button);
      }
      const page = new URLSearchParams({ q });
      if (municipality) page.set("municipality", municipality);
      more.setAttribute("href", `${api}/?${page}`);
      query.set("format", "csv");
      csv.setAttribute("href", `${api}/search?${query}`);
      links.hidden = false;
      status.textContent = `文章 ${body.passages.length} 件、自治体 ${(body.municipalities || []).length} 件`;
    } catch (error) {
      if (mine !== seq) return;
      status.className = "status error";
      status.textContent = failure(error);
    }
  }

  // A plain link downloads by itself (the server sends it as an attachment); with a read key, fetch and save a Blob.
  csv.addEventListener("click", async (event) => {
    if (!options.key) return;
    event.preventDefault();
    try {
      const response = await fetch(csv.getAttribute("href"), { headers: headers("text/csv"), mode: "cors", credentials: "omit" });
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        throw new Error((body && body.error && body.error.ja) || `エラー（${response.status}）`);
      }
      const url = URL.createObjectURL(await response.blob());
      const save = el("a", { href: url, download: "jsearch.csv", hidden: true });
      root.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      status.className = "status error";
      status.textContent = `CSV を保存できませんでした: ${failure(error)}`;
    }
  });

  // 入力候補: a WAI-ARIA 1.2 combobox; debounced, never while an IME composes, ↑↓ Enter Esc.
  const KINDS = { title: "記事", heading: "見出し", municipality: "自治体", term: "語", query: "過去の検索" };
  const combo = { composing: false, timer: 0, seq: 0, active: -1, items: [] };
  const closeList = () => {
    clearTimeout(combo.timer);
    combo.seq++;
    combo.items = [];
    combo.active = -1;
    listbox.replaceChildren();
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };
  const setActive = (index) => {
    combo.active = index;
    [...listbox.children].forEach((o, i) => o.setAttribute("aria-selected", String(i === index)));
    const option = listbox.children[index];
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  };
  const choose = (index) => {
    const item = combo.items[index];
    if (!item) return;
    input.value = item.text;
    closeList();
    municipality = "";
    search();
  };
  const suggest = async () => {
    const prefix = input.value.trim();
    const mine = ++combo.seq;
    if (!prefix) { closeList(); return; }
    if (combo.composing) return;
    try {
      const body = await getJson(`/suggest?${new URLSearchParams({ q: prefix, k: "8" })}`);
      if (mine !== combo.seq || combo.composing || root.activeElement !== input) return;
      combo.items = body.suggestions || [];
      combo.active = -1;
      listbox.replaceChildren(...combo.items.map((item, i) => {
        const option = el("li", { id: `dx-s-${uid}-${i}`, role: "option", "aria-selected": "false" },
          el("span", {}, item.text), el("span", { class: "kind" }, KINDS[item.kind] || item.kind));
        option.addEventListener("mousedown", (event) => event.preventDefault());
        option.addEventListener("click", () => choose(i));
        return option;
      }));
      listbox.hidden = combo.items.length === 0;
      input.setAttribute("aria-expanded", String(combo.items.length > 0));
      input.removeAttribute("aria-activedescendant");
    } catch {
      if (mine === combo.seq) closeList();
    }
  };
  const schedule = () => {
    clearTimeout(combo.timer);
    combo.timer = setTimeout(suggest, 120);
  };
  input.addEventListener("compositionstart", () => { combo.composing = true; clearTimeout(combo.timer); combo.seq++; });
  input.addEventListener("compositionend", () => { combo.composing = false; schedule(); });
  input.addEventListener("input", (event) => { if (!event.isComposing && !combo.composing) schedule(); });
  input.addEventListener("keydown", (event) => {
    if (event.isComposing || combo.composing || event.keyCode === 229) return;
    const open = !listbox.hidden && combo.items.length > 0;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!open) { suggest(); return; }
      setActive(combo.active + 1 >= combo.items.length ? 0 : combo.active + 1);
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      setActive(combo.active <= 0 ? combo.items.length - 1 : combo.active - 1);
    } else if (event.key === "Enter" && open && combo.active >= 0) {
      event.preventDefault();
      choose(combo.active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      closeList();
    }
  });
  input.addEventListener("blur", () => setTimeout(closeList, 0));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    closeList();
    municipality = "";
    search();
  });
})();
