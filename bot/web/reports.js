// The reports page: GET /api/agent/reports with the console's session, drawn with Chart.js (vendored, bot/web/chart.js).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const token = sessionStorage.getItem("shopdesk.agent");
  const charts = {};
  const COLORS = ["#2f6fed", "#e8833a", "#3aa76d", "#c94f6d", "#8c6bd1", "#d1b73a", "#4bb3c4", "#7d8590", "#b5651d", "#5c946e"];

  function day(offset) {
    const d = new Date(Date.now() + offset * 86400000);
    return d.toISOString().slice(0, 10);
  }

  function percent(x) { return x === null ? "–" : `${(x * 100).toFixed(1)} %`; }
  function duration(s) {
    if (s === null) return "–";
    if (s < 90) return `${Math.round(s)} s`;
    if (s < 5400) return `${(s / 60).toFixed(1)} min`;
    return `${(s / 3600).toFixed(1)} h`;
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function fill(id, rows) {
    const body = $(id).querySelector("tbody");
    body.replaceChildren();
    for (const values of rows) {
      const tr = document.createElement("tr");
      values.forEach((v) => cell(tr, v));
      body.appendChild(tr);
    }
  }

  function tiles(r) {
    const shown = [
      ["Conversations", r.conversations], ["Kept by the bot", `${r.bot_resolved} (${percent(r.containment_rate)})`],
      ["Handed to people", `${r.handoffs} (${percent(r.handoff_rate)})`], ["First response", duration(r.avg_first_response_s)],
      ["Waiting in queue", duration(r.avg_wait_s)], ["Resolution", duration(r.avg_resolution_s)],
      ["CSAT", percent(r.csat_score)], ["Rating response rate", percent(r.csat_response_rate)],
      ["Fallback rate", percent(r.fallback_rate)],
    ];
    $("tiles").replaceChildren(...shown.map(([label, value]) => {
      const div = document.createElement("div");
      div.className = "tile";
      const b = document.createElement("strong");
      b.textContent = String(value);
      const span = document.createElement("span");
      span.textContent = label;
      div.append(b, span);
      return div;
    }));
  }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new window.Chart($(id), { ...config, options: { animation: false, responsive: true, ...config.options } });
  }

  function show(r) {
    tiles(r);
    const days = r.by_day.map((d) => d.date);
    draw("chart-days", {
      type: "bar",
      data: {
        labels: days,
        datasets: [
          { label: "kept by the bot", data: r.by_day.map((d) => d.bot_resolved), backgroundColor: COLORS[2] },
          { label: "handed to people", data: r.by_day.map((d) => d.handoffs), backgroundColor: COLORS[1] },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    });
    const reasons = Object.entries(r.handoffs_by_reason);
    draw("chart-reasons", {
      type: "doughnut",
      data: { labels: reasons.map(([k]) => k), datasets: [{ data: reasons.map(([, n]) => n), backgroundColor: COLORS }] },
    });
    draw("chart-intents", {
      type: "bar",
      data: {
        labels: r.top_intents.map((i) => i.intent),
        datasets: [{ label: "messages", data: r.top_intents.map((i) => i.count), backgroundColor: COLORS[0] }],
      },
      options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    fill("unserved", r.unserved.map((g) => [String(g.count), g.examples.join(" · ")]));
    fill("agents", Object.entries(r.by_agent).map(([name, a]) => [
      name, String(a.claimed), String(a.resolved), duration(a.avg_first_response_s), duration(a.avg_wait_s),
      duration(a.avg_resolution_s), percent(a.csat_score),
    ]));
    const groups = [...Object.entries(r.by_channel).map(([k, v]) => [`channel: ${k}`, v]),
      ...Object.entries(r.by_language).map(([k, v]) => [`language: ${k}`, v])];
    fill("groups", groups.map(([k, v]) => [k, String(v.conversations), percent(v.containment_rate), String(v.handoffs),
      percent(v.csat_score), percent(v.fallback_rate)]));
    $("report").hidden = false;
  }

  async function fetchReport(format) {
    const query = new URLSearchParams({ from: $("from").value, to: $("to").value, format });
    const resp = await fetch(`/api/agent/reports?${query}`, { headers: { Authorization: `Bearer ${token}` } });
    if (!resp.ok) {
      const data = await resp.json().catch(() => ({}));
      throw new Error(data.error ? data.error.message : resp.statusText);
    }
    return resp;
  }

  async function load() {
    $("error").textContent = "";
    try {
      show(await (await fetchReport("json")).json());
    } catch (err) {
      $("error").textContent = err.message;
    }
  }

  async function download() {
    try {
      const blob = await (await fetchReport("csv")).blob();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `shopdesk-report-${$("from").value}-${$("to").value}.csv`;
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (err) {
      $("error").textContent = err.message;
    }
  }

  $("from").value = day(-6);
  $("to").value = day(0);
  $("period").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("csv").addEventListener("click", download);
  if (!token) {
    $("signed-out").hidden = false;
    $("period").hidden = true;
  } else {
    load();
  }
})();
