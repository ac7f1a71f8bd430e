// The chat widget: one conversation per browser (kept across reloads), live through a websocket.
// The page speaks English, simplified or traditional Chinese (i18n.js); what the server sends is shown as text.
(() => {
  const KEY = "shopdesk.conversation";
  const $ = (id) => document.getElementById(id);
  const STRINGS = {
    en: {
      pageTitle: "Demo Shop",
      shopName: "Demo Shop",
      categories: "Apparel · Electronics · Food · Home · Gift cards",
      tshirt: "Cotton T-shirt",
      tshirtPrice: "79.00 CNY",
      tshirtNote: "7-day no-reason returns",
      earbuds: "Wireless earbuds",
      earbudsPrice: "499.00 CNY",
      earbudsNote: "15-day quality guarantee",
      mangoes: "Fresh mangoes 5 kg",
      mangoesPrice: "128.00 CNY",
      mangoesNote: "Perishable: no no-reason returns",
      topup: "Game top-up code",
      topupPrice: "68.00 CNY",
      topupNote: "Not returnable once delivered",
      hint: "Questions about an order? Ask our assistant, bottom right. Try order 80000005 with li.wei@example.com.",
      chatLabel: "Customer service chat",
      chatToggle: "Chat with us",
      chatTitle: "Customer service",
      status_bot: "Assistant",
      status_queued: "Waiting for an agent",
      status_assigned: "Agent",
      status_resolved: "Resolved",
      ratingPrompt: "How did we do?",
      ratingStars: "Rating",
      star: "{n} of 5",
      ratingComment: "Comment (optional)",
      ratingSend: "Send rating",
      ratingChoose: "Please choose 1 to 5 stars.",
      ratingThanks: "Thank you for your rating!",
      ratingFailed: "Your rating could not be sent. Please try again.",
      inputPlaceholder: "Type your message",
      inputLabel: "Message",
      agentTyping: "{agent} is typing…",
      send: "Send",
      sendFailed: "Your message could not be sent. Please try again.",
      languageFailed: "The assistant could not switch languages; it will follow the language you write in.",
      unreachable: "Customer service cannot be reached. Trying again…",
      reconnecting: "Connection lost. Reconnecting…",
    },
    zh: {
      pageTitle: "演示商店",
      shopName: "演示商店",
      categories: "服装 · 电子产品 · 食品 · 家居 · 礼品卡",
      tshirt: "纯棉T恤",
      tshirtPrice: "79.00 元",
      tshirtNote: "7天无理由退货",
      earbuds: "无线耳机",
      earbudsPrice: "499.00 元",
      earbudsNote: "15天质量保证",
      mangoes: "新鲜芒果 5 公斤",
      mangoesPrice: "128.00 元",
      mangoesNote: "生鲜易腐：不支持无理由退货",
      topup: "游戏充值码",
      topupPrice: "68.00 元",
      topupNote: "发放后不可退货",
      hint: "订单有问题？请咨询右下角的智能客服。可以试试订单 80000005 和邮箱 li.wei@example.com。",
      chatLabel: "在线客服",
      chatToggle: "联系客服",
      chatTitle: "在线客服",
      status_bot: "智能助手",
      status_queued: "正在等待人工客服",
      status_assigned: "人工客服",
      status_resolved: "已解决",
      ratingPrompt: "您对本次服务满意吗？",
      ratingStars: "评分",
      star: "{n} 星（满分 5 星）",
      ratingComment: "留言（选填）",
      ratingSend: "提交评价",
      ratingChoose: "请选择 1 到 5 颗星。",
      ratingThanks: "感谢您的评价！",
      ratingFailed: "评价提交失败，请重试。",
      inputPlaceholder: "请输入您的问题",
      inputLabel: "消息",
      agentTyping: "{agent} 正在输入…",
      send: "发送",
      sendFailed: "消息发送失败，请重试。",
      languageFailed: "助手暂时无法切换语言，将按照您输入的语言回复。",
      unreachable: "暂时无法连接客服，正在重试…",
      reconnecting: "连接已断开，正在重新连接…",
    },
    "zh-Hant": {
      pageTitle: "示範商店",
      shopName: "示範商店",
      categories: "服飾 · 電子產品 · 食品 · 居家 · 禮品卡",
      tshirt: "純棉T恤",
      tshirtPrice: "79.00 元",
      tshirtNote: "7天無理由退貨",
      earbuds: "無線耳機",
      earbudsPrice: "499.00 元",
      earbudsNote: "15天品質保證",
      mangoes: "新鮮芒果 5 公斤",
      mangoesPrice: "128.00 元",
      mangoesNote: "生鮮易腐：不支援無理由退貨",
      topup: "遊戲儲值碼",
      topupPrice: "68.00 元",
      topupNote: "發放後不可退貨",
      hint: "訂單有問題？請詢問右下角的智慧客服。可以試試訂單 80000005 和電子郵件 li.wei@example.com。",
      chatLabel: "線上客服",
      chatToggle: "聯絡客服",
      chatTitle: "線上客服",
      status_bot: "智慧助理",
      status_queued: "正在等候真人客服",
      status_assigned: "真人客服",
      status_resolved: "已解決",
      ratingPrompt: "您對本次服務滿意嗎？",
      ratingStars: "評分",
      star: "{n} 星（滿分 5 星）",
      ratingComment: "留言（選填）",
      ratingSend: "送出評價",
      ratingChoose: "請選擇 1 到 5 顆星。",
      ratingThanks: "感謝您的評價！",
      ratingFailed: "評價送出失敗，請再試一次。",
      inputPlaceholder: "請輸入您的問題",
      inputLabel: "訊息",
      agentTyping: "{agent} 正在輸入…",
      send: "傳送",
      sendFailed: "訊息傳送失敗，請再試一次。",
      languageFailed: "助理暫時無法切換語言，將依照您輸入的語言回覆。",
      unreachable: "暫時無法連線客服，正在重試…",
      reconnecting: "連線中斷，正在重新連線…",
    },
  };

  const i18n = window.ShopDeskI18n.create("shopdesk.language", STRINGS, languageChanged);
  const t = i18n.t;
  let conv = JSON.parse(localStorage.getItem(KEY) || "null");
  let lastSeq = 0;
  let status = "bot";
  let notice = null;  // {key} of the line above the log, so it follows the language
  let serverLanguage = null;  // the conversation's language as the gateway last said it
  let languageTurn = 0;  // counts the customer's switches: an older answer must not undo a newer switch
  let languageSent = Promise.resolve();
  let languagePending = 0;
  let unsentLanguage = null;  // the customer's switch the gateway could not be told yet
  let socket = null;

  const headers = () => ({ "Content-Type": "application/json", Authorization: `Bearer ${conv.token}` });
  const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

  function showNotice(key) {
    notice = key;
    const line = $("chat-notice");
    line.hidden = !key;
    line.textContent = key ? t(key) : "";
  }

  async function start() {
    if (!conv) {
      const language = i18n.language;
      unsentLanguage = null;
      const resp = await fetch("/api/conversations", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ language }),
      });
      if (!resp.ok) throw new Error(`opening answered ${resp.status}`);
      conv = await resp.json();
      localStorage.setItem(KEY, JSON.stringify(conv));
      serverLanguage = language;
      if (i18n.language !== language) await tellLanguage(i18n.language);  // switched while it opened
    }
    if (!(await catchUp())) {  // the stored conversation is gone: begin a new one
      localStorage.removeItem(KEY);
      conv = null;
      lastSeq = 0;
      serverLanguage = null;
      $("chat-log").textContent = "";
      return start();
    }
    connect();
    return undefined;
  }

  async function startUntilUp() {
    for (let wait = 2000; ; wait = Math.min(wait * 2, 30000)) {
      try {
        await start();
        if (notice === "unreachable") showNotice(null);
        return;
      } catch (err) {
        showNotice("unreachable");
        await sleep(wait);
      }
    }
  }

  async function catchUp() {
    const turn = languageTurn;
    const resp = await fetch(`/api/conversations/${conv.conversation_id}/messages?after=${lastSeq}`, { headers: headers() });
    if (!resp.ok) return false;
    const body = await resp.json();
    body.messages.forEach(render);
    setStatus(body.status);
    if (turn === languageTurn && !languagePending && !unsentLanguage) followConversation(body.language);
    return true;
  }

  // The widget speaks the conversation's language: the customer's switch, or the language they last wrote in.
  function followConversation(language) {
    if (!window.ShopDeskI18n.known(language) || language === serverLanguage) return;
    serverLanguage = language;
    i18n.set(language, "conversation");
  }

  function languageChanged(language, origin) {
    setStatus(status);
    labelStars();
    showNotice(notice);
    if (origin === "user" && conv) tellLanguage(language);
  }

  // One switch at a time, in order, so the gateway ends on the customer's last choice.
  function tellLanguage(language) {
    languageTurn += 1;  // now and once sent: transcripts read while the switch travels may predate it
    serverLanguage = language;
    languagePending += 1;
    languageSent = languageSent.then(() => postLanguage(language));
    return languageSent;
  }

  async function postLanguage(language) {
    let resp;
    try {
      resp = await fetch(`/api/conversations/${conv.conversation_id}/language`, {
        method: "POST", headers: headers(), body: JSON.stringify({ language }),
      });
    } catch (err) {
      unsentLanguage = language;  // the gateway is away: told again once the widget reconnects
    }
    try {
      if (resp && resp.ok) {
        if (language === unsentLanguage) unsentLanguage = null;
        if (notice === "languageFailed") showNotice(null);
      } else if (resp) {  // refused: the widget follows the conversation's language again
        showNotice("languageFailed");
        serverLanguage = null;
      }
    } finally {
      languagePending -= 1;
      languageTurn += 1;
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/conversations/${conv.conversation_id}?token=${encodeURIComponent(conv.token)}`);
    socket.onopen = () => {
      if (notice === "reconnecting") showNotice(null);
      if (unsentLanguage) { unsentLanguage = null; tellLanguage(i18n.language); }
    };
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "message") render(data.message);
      if (data.type === "status") setStatus(data.status);
      if (data.type === "rating_request" && $("rating").hidden) showRating();
      if (data.type === "typing" && data.who === "agent") showTyping(data.agent);
      if (data.type === "message" && data.message.author === "agent") showTyping(null);
    };
    socket.onclose = () => {
      showNotice("reconnecting");
      setTimeout(reconnect, 2000);
    };
  }

  async function reconnect() {
    try {
      if (await catchUp()) { connect(); return; }
    } catch (err) {
      setTimeout(reconnect, 5000);  // the gateway is still away
      return;
    }
    lastSeq = 0;  // the conversation is gone: a new one, in the widget's language
    conv = null;
    unsentLanguage = null;
    localStorage.removeItem(KEY);
    $("chat-log").textContent = "";
    startUntilUp();
  }

  // The agent's typing, shown under the log for a few seconds after each signal.
  let typingTimer = null;
  function showTyping(agent) {
    const line = $("chat-typing");
    clearTimeout(typingTimer);
    line.hidden = !agent;
    line.textContent = agent ? t("agentTyping", { agent }) : "";
    if (agent) typingTimer = setTimeout(() => { line.hidden = true; }, 5000);
  }

  // Tells the agent the customer is typing (the gateway passes at most one signal every 2 s).
  let typedAt = 0;
  function typing() {
    if (!socket || socket.readyState !== WebSocket.OPEN || Date.now() - typedAt < 2000) return;
    typedAt = Date.now();
    socket.send(JSON.stringify({ type: "typing" }));
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

  function setStatus(next) {
    status = next;
    const label = $("chat-status");
    label.dataset.status = next;
    label.textContent = t(`status_${next}`) === `status_${next}` ? next : t(`status_${next}`);
    if (!conv) return;
    if (next !== "resolved") $("rating").hidden = true;
    else if ($("rating").hidden && !localStorage.getItem(`${KEY}.rated.${conv.conversation_id}`)) showRating();
  }

  function showRating() {
    const form = $("rating");
    const stars = $("stars");
    stars.textContent = "";
    delete form.dataset.value;
    for (let n = 1; n <= 5; n += 1) {
      const star = document.createElement("button");
      star.type = "button";
      star.textContent = "★";
      star.dataset.value = n;
      star.onclick = () => { form.dataset.value = n; [...stars.children].forEach((s) => s.classList.toggle("on", s.dataset.value <= n)); };
      stars.appendChild(star);
    }
    labelStars();
    form.hidden = false;
  }

  function labelStars() {
    [...$("stars").children].forEach((star) => {
      star.title = t("star", { n: star.dataset.value });
      star.setAttribute("aria-label", star.title);
    });
  }

  function systemLine(text) {
    const line = document.createElement("li");
    line.className = "msg system";
    line.textContent = text;
    $("chat-log").appendChild(line);
    $("chat-log").scrollTop = $("chat-log").scrollHeight;
  }

  // A random id per message: sent again after a lost answer (a gateway that went away), it is stored once.
  function newClientId() {
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Sent until the gateway takes it (another gateway behind the load balancer, or this one back), for a
  // minute; a refusal (4xx) is shown at once.
  async function send(text, label) {
    if (!text.trim() || !conv) return false;
    const body = label ? { text, label } : { text };
    body.client_id = newClientId();
    const started = Date.now();
    for (let wait = 500; ; wait = Math.min(wait * 2, 8000)) {
      let resp = null;
      try {
        resp = await fetch(`/api/conversations/${conv.conversation_id}/messages`, {
          method: "POST", headers: headers(), body: JSON.stringify(body),
        });
      } catch (err) {
        resp = null;  // no answer: the message may or may not be stored; its id makes sending again safe
      }
      if (resp && resp.ok) {
        if (notice === "sendFailed" || notice === "unreachable") showNotice(null);
        await catchUp();
        return true;
      }
      if ((resp && resp.status < 500 && resp.status !== 429) || Date.now() - started > 60000) {
        showNotice("sendFailed");
        return false;
      }
      showNotice("unreachable");
      await sleep(wait);
    }
  }

  $("chat-form").onsubmit = async (event) => {
    event.preventDefault();
    const input = $("chat-input");
    const text = input.value;
    input.value = "";
    if (!(await send(text)) && !input.value) input.value = text;  // keep what failed, to send again
  };
  $("rating").onsubmit = async (event) => {
    event.preventDefault();
    const form = $("rating");
    const rating = Number(form.dataset.value || 0);
    if (!rating) { showNotice("ratingChoose"); return; }
    try {
      const resp = await fetch(`/api/conversations/${conv.conversation_id}/rating`, {
        method: "POST", headers: headers(), body: JSON.stringify({ rating, comment: $("rating-comment").value }),
      });
      if (!resp.ok) throw new Error(`rating answered ${resp.status}`);
    } catch (err) {
      showNotice("ratingFailed");
      return;
    }
    if (notice === "ratingChoose" || notice === "ratingFailed") showNotice(null);
    form.hidden = true;
    localStorage.setItem(`${KEY}.rated.${conv.conversation_id}`, "1");
    systemLine(t("ratingThanks"));
  };
  $("chat-input").addEventListener("input", typing);
  $("chat-toggle").onclick = () => $("chat").classList.toggle("closed");
  setStatus(status);
  startUntilUp();
})();
