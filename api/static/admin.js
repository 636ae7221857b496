// 検索ログの集計ページ — the admin page: GET /analytics with the write key, tables and an SVG bar chart drawn here.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const SVG_NS = "http://www.w3.org/2000/svg";
  const KEY = "jsearch-admin-key";

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Bars of searches per day, with the day under every few bars and the count over each. */
  function chart(days) {
    const box = $("chart");
    box.replaceChildren();
    if (!days.length) { box.textContent = "この期間の検索はありません。"; return; }
    const width = 720, height = 220, pad = 28;
    const most = Math.max(...days.map((d) => d.count));
    const step = (width - pad) / days.length;
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", width: "100%",
      "aria-label": `日ごとの検索数（${days.length} 日、最大 ${most} 件）` });
    root.append(svg("line", { x1: pad, y1: height - pad, x2: width, y2: height - pad, stroke: "#555" }));
    const every = Math.max(1, Math.ceil(days.length / 10));
    days.forEach((d, i) => {
      const h = ((height - 2 * pad) * d.count) / most;
      const x = pad + i * step;
      const bar = svg("rect", { x: x + 1, y: height - pad - h, width: Math.max(1, step - 2), height: h,
        fill: "#2b6cb0", class: "bar" });
      bar.append(svg("title", {}, `${d.day}: ${d.count} 件`));
      root.append(bar);
      if (step > 14) root.append(svg("text", { x: x + step / 2, y: height - pad - h - 3, "font-size": 10,
        "text-anchor": "middle" }, String(d.count)));
      if (i % every === 0) root.append(svg("text", { x: x + step / 2, y: height - 8, "font-size": 10,
        "text-anchor": "middle" }, d.day.slice(5)));
    });
    box.append(root);
  }

  function table(id, rows) {
    const node = $(id);
    node.replaceChildren();
    const head = document.createElement("tr");
    for (const label of ["", "件数"]) { const th = document.createElement("th"); th.textContent = label; head.append(th); }
    node.append(head);
    if (!rows.length) {
      const tr = document.createElement("tr"); const td = document.createElement("td");
      td.colSpan = 2; td.textContent = "なし"; tr.append(td); node.append(tr); return;
    }
    for (const row of rows) {
      const tr = document.createElement("tr");
      for (const value of [row.name, String(row.count)]) {
        const td = document.createElement("td"); td.textContent = value; tr.append(td);
      }
      node.append(tr);
    }
  }

  function params(extra = {}) {
    const p = new URLSearchParams(extra);
    if ($("from").value) p.set("from", $("from").value);
    if ($("to").value) p.set("to", $("to").value);
    return p;
  }

  async function call(extra) {
    const key = $("key").value.trim();
    sessionStorage.setItem(KEY, key);
    const response = await fetch(`/analytics?${params(extra)}`, { headers: { Authorization: `Bearer ${key}` } });
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try { message = (await response.json()).error.ja; } catch (_) { /* not JSON */ }
      throw new Error(message);
    }
    return response;
  }

  async function show(event) {
    if (event) event.preventDefault();
    $("status").textContent = "集計しています…";
    try {
      const data = await (await call()).json();
      $("status").textContent = `${data.from} 〜 ${data.to}: 検索 ${data.searches} 件（異なる検索語 ${data.distinct_queries}）`;
      $("weak-hint").textContent = `最上位の文章の類似度が ${data.weak_below} 未満だった検索です。`;
      chart(data.per_day);
      for (const id of ["top_queries", "zero_hit_queries", "weak_answer_queries", "municipalities"]) table(id, data[id]);
    } catch (error) {
      $("status").textContent = `集計できませんでした: ${error.message}`;
    }
  }

  async function download() {
    try {
      const blob = await (await call({ format: "csv" })).blob();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "searchlog.csv";
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (error) {
      $("status").textContent = `ダウンロードできませんでした: ${error.message}`;
    }
  }

  $("key").value = sessionStorage.getItem(KEY) || "";
  $("admin-form").addEventListener("submit", show);
  $("csv").addEventListener("click", download);
  if ($("key").value) show();
})();
