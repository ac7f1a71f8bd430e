// The chat widget: one conversation per browser (kept across reloads), live through a websocket.
(() => {
  const KEY = "shopdesk.conversation";
  const $ = (id) => document.getElementById(id);
  const STATUS = { bot: "Assistant", queued: "Waiting for an agent", assigned: "Agent", resolved: "Resolved" };
  let conv = JSON.parse(localStorage.getItem(KEY) || "null");
  let lastSeq = 0;
  let socket = null;

  const headers = () => ({ "Content-Type": "application/json", Authorization: `Bearer ${conv.token}` });

  async function start() {
    if (!conv) {
      const resp = await fetch("/api/conversations", { method: "POST" });
      conv = await resp.json();
      localStorage.setItem(KEY, JSON.stringify(conv));
    }
    if (!(await catchUp())) {  // the stored conversation is gone: begin a new one
      localStorage.removeItem(KEY);
      conv = null;
      lastSeq = 0;
      $("chat-log").textContent = "";
      return start();
    }
    connect();
  }

  async function catchUp() {
    const resp = await fetch(`/api/conversations/${conv.conversation_id}/messages?after=${lastSeq}`, { headers: headers() });
    if (!resp.ok) return false;
    const body = await resp.json();
    body.messages.forEach(render);
    setStatus(body.status);
    return true;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/conversations/${conv.conversation_id}?token=${encodeURIComponent(conv.token)}`);
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "message") render(data.message);
      if (data.type === "status") setStatus(data.status);
      if (data.type === "rating_request" && $("rating").hidden) showRating();
    };
    socket.onclose = () => setTimeout(() => catchUp().then(connect), 2000);
  }

  function render(m) {
    if (m.seq <= lastSeq) return;
    lastSeq = m.seq;
    const item = document.createElement("li");
    item.className = `msg ${m.author}`;
    item.dataset.seq = m.seq;
    if (m.author === "agent" && m.agent) {
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = m.agent;
      item.appendChild(who);
    }
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = m.text;  // never innerHTML: messages are shown as text
    item.appendChild(text);
    $("chat-log").appendChild(item);
    $("chat-log").scrollTop = $("chat-log").scrollHeight;
    showButtons(m.author === "bot" ? m.buttons : m.author === "customer" ? [] : null);
  }

  function showButtons(buttons) {
    if (buttons === null) return;
    const box = $("quick-replies");
    box.textContent = "";
    buttons.forEach((b) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      button.onclick = () => { box.textContent = ""; send(b.payload, b.title); };  // once: a second click would be stale
      box.appendChild(button);
    });
  }

  function setStatus(status) {
    const label = $("chat-status");
    label.dataset.status = status;
    label.textContent = STATUS[status] || status;
    if (status !== "resolved") $("rating").hidden = true;
    else if ($("rating").hidden && !localStorage.getItem(`${KEY}.rated.${conv.conversation_id}`)) showRating();
  }

  function showRating() {
    const form = $("rating");
    const stars = $("stars");
    stars.textContent = "";
    for (let n = 1; n <= 5; n += 1) {
      const star = document.createElement("button");
      star.type = "button";
      star.textContent = "★";
      star.title = `${n} of 5`;
      star.dataset.value = n;
      star.onclick = () => { form.dataset.value = n; [...stars.children].forEach((s) => s.classList.toggle("on", s.dataset.value <= n)); };
      stars.appendChild(star);
    }
    form.hidden = false;
  }

  async function send(text, label) {
    if (!text.trim()) return;
    const resp = await fetch(`/api/conversations/${conv.conversation_id}/messages`, {
      method: "POST", headers: headers(), body: JSON.stringify(label ? { text, label } : { text }),
    });
    const body = await resp.json();
    if (!resp.ok) { alert(body.error ? body.error.message : "Sending failed"); return; }
    await catchUp();
  }

  $("chat-form").onsubmit = (event) => {
    event.preventDefault();
    const input = $("chat-input");
    const text = input.value;
    input.value = "";
    send(text);
  };
  $("rating").onsubmit = async (event) => {
    event.preventDefault();
    const form = $("rating");
    const rating = Number(form.dataset.value || 0);
    if (!rating) return;
    await fetch(`/api/conversations/${conv.conversation_id}/rating`, {
      method: "POST", headers: headers(), body: JSON.stringify({ rating, comment: $("rating-comment").value }),
    });
    form.hidden = true;
    localStorage.setItem(`${KEY}.rated.${conv.conversation_id}`, "1");
    const thanks = document.createElement("li");
    thanks.className = "msg system";
    thanks.textContent = "Thank you for your rating!";
    $("chat-log").appendChild(thanks);
  };
  $("chat-toggle").onclick = () => $("chat").classList.toggle("closed");
  start();
})();
