// The agent console: queue by priority then waiting time, live through a websocket; all text shown as text.
(() => {
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem("shopdesk.agent");
  let me = JSON.parse(sessionStorage.getItem("shopdesk.agent.me") || "null");
  let openId = null;
  let lastSeq = 0;

  async function call(method, path, body) {
    const resp = await fetch(path, {
      method, headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await resp.json();
    if (resp.status === 401) { sessionStorage.clear(); location.reload(); }
    if (!resp.ok) throw new Error(data.error ? data.error.message : resp.statusText);
    return data;
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function waited(seconds) {
    if (seconds === null || seconds === undefined) return "";
    const m = Math.floor(seconds / 60);
    return m ? `${m} min ${Math.floor(seconds % 60)} s` : `${Math.floor(seconds)} s`;
  }

  async function refreshQueue() {
    const data = await call("GET", "/api/agent/queue");
    for (const [listId, rows] of [["queue", data.queue], ["mine", data.mine]]) {
      const list = $(listId);
      list.textContent = "";
      rows.forEach((row) => {
        const item = el("li", null, `row ${row.priority || ""}`);
        item.dataset.id = row.id;
        item.appendChild(el("span", row.priority, "badge"));
        item.appendChild(el("strong", row.reason));
        item.appendChild(el("span", ` · ${row.skill} · ${row.channel} · waiting ${waited(row.waiting_seconds)}`));
        item.appendChild(el("div", row.last_message || "", "last"));
        item.onclick = () => open(row.id);
        list.appendChild(item);
      });
    }
  }

  async function open(id) {
    openId = id;
    lastSeq = 0;
    const data = await call("GET", `/api/agent/conversations/${id}`);
    $("detail").hidden = false;
    $("d-error").textContent = "";
    $("d-title").textContent = `Conversation ${id.slice(0, 8).toUpperCase()}`;
    $("d-meta").textContent = `${data.status} · ${data.channel} · ${data.reason || ""} · ${data.priority || ""} · ${data.skill || ""}` +
      (data.assignee ? ` · with ${data.assignee}` : "") +
      (data.metrics.waiting_seconds !== null ? ` · waited ${waited(data.metrics.waiting_seconds)}` : "");
    $("d-summary").textContent = data.summary || "";
    $("claim").hidden = data.status !== "queued";
    const mine = data.status === "assigned" && data.assignee === me.name;
    $("resolve").hidden = !mine;
    $("handback").hidden = !mine;
    $("reply").hidden = !mine;
    $("transcript").textContent = "";
    data.messages.forEach(addMessage);
    showOrder(data.order);
  }

  function addMessage(m) {
    if (m.seq <= lastSeq) return;
    lastSeq = m.seq;
    const item = el("li", null, `msg ${m.author}`);
    item.appendChild(el("span", m.author === "agent" ? m.agent : m.author, "who"));
    item.appendChild(el("span", m.text, "text"));
    $("transcript").appendChild(item);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function showOrder(order) {
    const box = $("order");
    box.textContent = "";
    if (!order) { box.appendChild(el("dt", "No order in this conversation")); return; }
    const rows = order.error ? [["Order", order.number], ["Note", order.error]] : [
      ["Order", order.number], ["Status", order.status], ["Customer", `${order.customer.name} (${order.customer.email}, ${order.customer.phone})`],
      ["Account", order.customer.account_status], ["Total", `${order.total} ${order.currency}`],
      ["Items", order.items.map((i) => i.name).join(", ")],
      ["Shipment", order.shipments.map((s) => `${s.carrier} ${s.tracking_number}: ${s.status}`).join("; ") || "none"],
      ["Refunds", order.refunds.map((r) => `${r.number}: ${r.stage}`).join("; ") || "none"],
    ];
    rows.forEach(([k, v]) => { box.appendChild(el("dt", k)); box.appendChild(el("dd", v)); });
  }

  async function act(path, body) {
    try { await call("POST", `/api/agent/conversations/${openId}/${path}`, body); await open(openId); await refreshQueue(); }
    catch (err) { $("d-error").textContent = err.message; }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/agent/ws?token=${encodeURIComponent(token)}`);
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.conversation_id === openId && data.type === "message") addMessage(data.message);
      if (data.type === "status") { refreshQueue(); if (data.conversation_id === openId) open(openId); }
      if (data.type === "message") refreshQueue();
    };
    socket.onclose = () => setTimeout(connect, 2000);
  }

  function enter() {
    $("login").hidden = true;
    $("desk").hidden = false;
    $("me").textContent = me.name;
    refreshQueue();
    connect();
    setInterval(refreshQueue, 15000);
  }

  $("login").onsubmit = async (event) => {
    event.preventDefault();
    const resp = await fetch("/api/agent/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }),
    });
    const data = await resp.json();
    if (!resp.ok) { $("login-error").textContent = data.error.message; return; }
    token = data.token; me = data.agent;
    sessionStorage.setItem("shopdesk.agent", token);
    sessionStorage.setItem("shopdesk.agent.me", JSON.stringify(me));
    enter();
  };
  $("claim").onclick = () => act("claim");
  $("resolve").onclick = () => act("resolve");
  $("handback").onclick = () => act("handback", { note: prompt("What did you do? (the bot will know)") || "" });
  $("reply").onsubmit = (event) => {
    event.preventDefault();
    const text = $("reply-text").value;
    $("reply-text").value = "";
    if (text.trim()) act("messages", { text });
  };
  if (token && me) enter();
})();
