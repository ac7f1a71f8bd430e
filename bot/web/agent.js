// The agent console: queue by priority then waiting time, live through a websocket; all text shown as text.
// The console speaks the agent's language (i18n.js); each conversation shows the customer's language.
(() => {
  const $ = (id) => document.getElementById(id);
  const BADGES = { en: "EN", zh: "中文", "zh-Hant": "繁體" };  // the customer's language, the same in every console
  const STRINGS = {
    en: {
      pageTitle: "Agent console",
      username: "Username",
      password: "Password",
      login: "Log in",
      loginWrong: "Wrong username or password.",
      loginTooMany: "Too many failed logins; try again in {seconds} s.",
      loginFailed: "Logging in failed. Please try again.",
      signedInAs: "Signed in as",
      reports: "Reports",
      queue: "Queue",
      mine: "Mine",
      empty: "Nobody here.",
      waiting: "waiting {time}",
      waited: "waited {time}",
      with: "with {name}",
      minutes: "{m} min {s} s",
      seconds: "{s} s",
      conversation: "Conversation {id}",
      claim: "Claim",
      resolve: "Resolve",
      handback: "Hand back to the bot",
      handbackPrompt: "What did you do? (the customer reads it, and the bot will know)",
      replyTo: "Reply to the customer in {language} (replies are not translated)",
      replyLabel: "Reply",
      send: "Send",
      lang_en: "English",
      lang_zh: "simplified Chinese",
      "lang_zh-Hant": "traditional Chinese",
      customerLanguage: "The customer's language: {language}",
      noOrder: "No order in this conversation",
      orderNumber: "Order",
      orderNote: "Note",
      orderStatus: "Status",
      orderCustomer: "Customer",
      orderAccount: "Account",
      orderTotal: "Total",
      orderItems: "Items",
      orderShipment: "Shipment",
      orderRefunds: "Refunds",
      none: "none",
      author_customer: "customer",
      author_bot: "bot",
      author_system: "system",
      author_note: "internal note",
      presence_online: "Online",
      presence_away: "Away",
      presence_offline: "Offline",
      presenceLabel: "My presence",
      team: "Team",
      others: "Colleagues' conversations",
      transfer: "Transfer",
      transferTo: "Transfer to",
      transferAgent: "{name} ({presence})",
      transferSkill: "anyone with the {skill} skill",
      transferNote: "Note for your colleague (the customer never sees it)",
      notePlaceholder: "Internal note: only agents see it",
      addNote: "Add note",
      cannedPick: "Canned reply…",
      customerTyping: "The customer is typing…",
      earlier: "Earlier conversations",
      noEarlier: "No earlier conversation of this verified customer.",
      notVerified: "The customer is not verified: no history shown.",
      customerOrders: "Their orders",
      newChat: "New chat for your skills",
      editSkills: "Skills of {name}, comma-separated",
      forMe: "for your skills",
      error_not_offered: "This conversation is offered to agents with its skill first; try again later.",
      error_supervisors_only: "Only a supervisor can do this.",
      error_not_yours: "Claim the conversation before acting on it.",
      error_invalid_transition: "The conversation has changed meanwhile; it is shown as it is now.",
      error_network: "The gateway cannot be reached. Please try again.",
    },
    zh: {
      pageTitle: "客服工作台",
      username: "用户名",
      password: "密码",
      login: "登录",
      loginWrong: "用户名或密码错误。",
      loginTooMany: "登录失败次数过多，请 {seconds} 秒后再试。",
      loginFailed: "登录失败，请重试。",
      signedInAs: "当前登录：",
      reports: "服务报表",
      queue: "排队中",
      mine: "我的会话",
      empty: "暂无会话。",
      waiting: "已等待 {time}",
      waited: "等待了 {time}",
      with: "由 {name} 处理",
      minutes: "{m} 分 {s} 秒",
      seconds: "{s} 秒",
      conversation: "会话 {id}",
      claim: "接入",
      resolve: "标记为已解决",
      handback: "交回机器人",
      handbackPrompt: "您做了哪些处理？（客户会看到，机器人也会知道）",
      replyTo: "用{language}回复客户（回复不会被翻译）",
      replyLabel: "回复",
      send: "发送",
      lang_en: "英文",
      lang_zh: "简体中文",
      "lang_zh-Hant": "繁体中文",
      customerLanguage: "客户的语言：{language}",
      noOrder: "此会话未涉及订单",
      orderNumber: "订单",
      orderNote: "备注",
      orderStatus: "状态",
      orderCustomer: "客户",
      orderAccount: "账户",
      orderTotal: "金额",
      orderItems: "商品",
      orderShipment: "物流",
      orderRefunds: "退款",
      none: "无",
      author_customer: "客户",
      author_bot: "机器人",
      author_system: "系统",
      author_note: "内部备注",
      presence_online: "在线",
      presence_away: "离开",
      presence_offline: "离线",
      presenceLabel: "我的状态",
      team: "团队",
      others: "同事的对话",
      transfer: "转接",
      transferTo: "转接给",
      transferAgent: "{name}（{presence}）",
      transferSkill: "具备「{skill}」技能的任何人",
      transferNote: "给同事的备注（客户看不到）",
      notePlaceholder: "内部备注：仅客服可见",
      addNote: "添加备注",
      cannedPick: "快捷回复…",
      customerTyping: "客户正在输入…",
      earlier: "历史对话",
      noEarlier: "这位已验证客户没有历史对话。",
      notVerified: "客户未验证身份：不显示历史。",
      customerOrders: "客户的订单",
      newChat: "有符合您技能的新对话",
      editSkills: "{name} 的技能，用逗号分隔",
      forMe: "符合您的技能",
      error_not_offered: "该对话优先分配给具备相应技能的客服，请稍后再试。",
      error_supervisors_only: "只有主管可以执行此操作。",
      error_not_yours: "请先接入此会话。",
      error_invalid_transition: "会话状态已变化，已显示最新状态。",
      error_network: "无法连接网关，请重试。",
      status_bot: "机器人",
      status_queued: "排队中",
      status_assigned: "处理中",
      status_resolved: "已解决",
      priority_urgent: "紧急",
      priority_high: "高",
      priority_normal: "普通",
      priority_low: "低",
      skill_general: "综合",
      skill_logistics: "物流",
      skill_refunds: "退款",
      skill_complaints: "投诉",
      skill_security: "账户安全",
      channel_web: "网页",
      channel_telegram: "Telegram",
      reason_customer_request: "客户要求人工",
      reason_verification_failed: "身份验证失败",
      reason_fallback: "机器人无法理解",
      reason_parcel_delayed: "包裹延误",
      reason_parcel_lost: "包裹丢失",
      reason_parcel_damaged: "包裹损坏",
      reason_refund_appeal: "退款申诉",
      reason_complaint_severe: "严重投诉",
      reason_angry_customer: "客户情绪激动",
      reason_security: "账户安全",
      reason_bot_unavailable: "机器人不可用",
    },
    "zh-Hant": {
      pageTitle: "客服工作台",
      username: "使用者名稱",
      password: "密碼",
      login: "登入",
      loginWrong: "使用者名稱或密碼錯誤。",
      loginTooMany: "登入失敗次數過多，請 {seconds} 秒後再試。",
      loginFailed: "登入失敗，請再試一次。",
      signedInAs: "目前登入：",
      reports: "服務報表",
      queue: "排隊中",
      mine: "我的對話",
      empty: "目前沒有對話。",
      waiting: "已等候 {time}",
      waited: "等候了 {time}",
      with: "由 {name} 處理",
      minutes: "{m} 分 {s} 秒",
      seconds: "{s} 秒",
      conversation: "對話 {id}",
      claim: "接手",
      resolve: "標記為已解決",
      handback: "交回機器人",
      handbackPrompt: "您做了哪些處理？（客戶會看到，機器人也會知道）",
      replyTo: "用{language}回覆客戶（回覆不會被翻譯）",
      replyLabel: "回覆",
      send: "傳送",
      lang_en: "英文",
      lang_zh: "簡體中文",
      "lang_zh-Hant": "繁體中文",
      customerLanguage: "客戶的語言：{language}",
      noOrder: "此對話未涉及訂單",
      orderNumber: "訂單",
      orderNote: "備註",
      orderStatus: "狀態",
      orderCustomer: "客戶",
      orderAccount: "帳戶",
      orderTotal: "金額",
      orderItems: "商品",
      orderShipment: "物流",
      orderRefunds: "退款",
      none: "無",
      author_customer: "客戶",
      author_bot: "機器人",
      author_system: "系統",
      author_note: "內部備註",
      presence_online: "在線",
      presence_away: "離開",
      presence_offline: "離線",
      presenceLabel: "我的狀態",
      team: "團隊",
      others: "同事的對話",
      transfer: "轉接",
      transferTo: "轉接給",
      transferAgent: "{name}（{presence}）",
      transferSkill: "具備「{skill}」技能的任何人",
      transferNote: "給同事的備註（客戶看不到）",
      notePlaceholder: "內部備註：僅客服可見",
      addNote: "新增備註",
      cannedPick: "快捷回覆…",
      customerTyping: "客戶正在輸入…",
      earlier: "歷史對話",
      noEarlier: "這位已驗證客戶沒有歷史對話。",
      notVerified: "客戶未驗證身分：不顯示歷史。",
      customerOrders: "客戶的訂單",
      newChat: "有符合您技能的新對話",
      editSkills: "{name} 的技能，以逗號分隔",
      forMe: "符合您的技能",
      error_not_offered: "該對話優先分配給具備相應技能的客服，請稍後再試。",
      error_supervisors_only: "只有主管可以執行此操作。",
      error_not_yours: "請先接手此對話。",
      error_invalid_transition: "對話狀態已變更，已顯示最新狀態。",
      error_network: "無法連線閘道，請再試一次。",
      status_bot: "機器人",
      status_queued: "排隊中",
      status_assigned: "處理中",
      status_resolved: "已解決",
      priority_urgent: "緊急",
      priority_high: "高",
      priority_normal: "普通",
      priority_low: "低",
      skill_general: "綜合",
      skill_logistics: "物流",
      skill_refunds: "退款",
      skill_complaints: "客訴",
      skill_security: "帳戶安全",
      channel_web: "網頁",
      channel_telegram: "Telegram",
      reason_customer_request: "客戶要求真人客服",
      reason_verification_failed: "身分驗證失敗",
      reason_fallback: "機器人無法理解",
      reason_parcel_delayed: "包裹延誤",
      reason_parcel_lost: "包裹遺失",
      reason_parcel_damaged: "包裹損壞",
      reason_refund_appeal: "退款申訴",
      reason_complaint_severe: "嚴重客訴",
      reason_angry_customer: "客戶情緒激動",
      reason_security: "帳戶安全",
      reason_bot_unavailable: "機器人無法使用",
    },
  };

  const i18n = window.ShopDeskI18n.create("shopdesk.agent.language", STRINGS, languageChanged);
  const t = i18n.t;
  let token = sessionStorage.getItem("shopdesk.agent");
  let me = JSON.parse(sessionStorage.getItem("shopdesk.agent.me") || "null");
  let openId = null;
  let lastSeq = 0;
  let loginError = null;  // {key, params}, so it follows the language
  let socket = null;
  let typedAt = 0;
  let typingTimer = null;
  let team = [];
  let seenQueue = null;  // ids of the queue at the last refresh: a new one for my skills rings

  // A code the gateway sends (status, priority, skill, channel, reason) in the agent's words; English shows codes.
  function word(kind, code) {
    if (code === null || code === undefined || code === "") return "";
    const key = `${kind}_${code}`;
    const text = t(key);
    return text === key ? String(code) : text;
  }

  class ApiFailure extends Error {
    constructor(code, message) { super(message); this.code = code; }
  }

  function failure(err) {
    if (!(err instanceof ApiFailure)) return t("error_network");
    const key = `error_${err.code}`;
    return t(key) === key ? err.message : t(key);
  }

  async function call(method, path, body) {
    const resp = await fetch(path, {
      method, headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await resp.json();
    if (resp.status === 401) { sessionStorage.clear(); location.reload(); }
    if (!resp.ok) throw new ApiFailure(data.error ? data.error.code : "", data.error ? data.error.message : resp.statusText);
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
    return m ? t("minutes", { m, s: Math.floor(seconds % 60) }) : t("seconds", { s: Math.floor(seconds) });
  }

  // The customer's language as a badge (EN / 中文 / 繁體); null when the gateway does not say.
  function languageBadge(language, node) {
    const badge = node || el("span");
    badge.className = "badge lang";
    badge.hidden = !BADGES[language];
    badge.textContent = BADGES[language] || "";
    badge.dataset.lang = BADGES[language] ? language : "";
    badge.title = BADGES[language] ? t("customerLanguage", { language: t(`lang_${language}`) }) : "";
    return badge;
  }

  // The escalation summary in the agent's language: the Chinese one for a Chinese console, when there is one.
  function summaryOf(data) {
    return i18n.language !== "en" && data.summary_zh ? data.summary_zh : data.summary || "";
  }

  async function refreshQueue() {
    const data = await call("GET", "/api/agent/queue");
    const lists = [["queue", data.queue], ["mine", data.mine]];
    if (data.others) lists.push(["others", data.others]);
    $("others").hidden = $("others-title").hidden = !data.others;
    for (const [listId, rows] of lists) {
      const list = $(listId);
      list.textContent = "";
      if (!rows.length) list.appendChild(el("li", t("empty"), "empty"));
      rows.forEach((row) => {
        const item = el("li", null, `row ${row.priority || ""}${row.for_me ? " for-me" : ""}`);
        item.dataset.id = row.id;
        item.appendChild(el("span", word("priority", row.priority), "badge priority"));
        item.appendChild(languageBadge(row.language));
        item.appendChild(el("strong", word("reason", row.reason)));
        item.appendChild(el("span", ` · ${word("skill", row.skill)} · ${word("channel", row.channel)} · ${t("waiting", { time: waited(row.waiting_seconds) })}`));
        if (listId === "others" && row.assignee) item.appendChild(el("span", ` · ${t("with", { name: row.assignee })}`));
        item.appendChild(el("div", row.last_message || "", "last"));
        const summary = summaryOf(row);
        if (summary) item.title = summary;
        item.onclick = () => open(row.id);
        list.appendChild(item);
      });
    }
    const fresh = data.queue.filter((row) => row.for_me && seenQueue !== null && !seenQueue.has(row.id));
    seenQueue = new Set(data.queue.map((row) => row.id));
    if (fresh.length) ring(fresh[0]);
  }

  // A new chat for my skills: a short tone and, if the agent allowed it, a browser notification.
  function ring(row) {
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      tone.frequency.value = 880;
      tone.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.2);
    } catch (err) { /* no sound here */ }
    if (window.Notification && Notification.permission === "granted") {
      new Notification(t("newChat"), { body: row.last_message || word("reason", row.reason), tag: row.id });
    }
    document.body.dataset.rang = row.id;  // what the browser test reads
  }

  async function refreshTeam() {
    team = (await call("GET", "/api/agent/agents")).agents;
    const list = $("team");
    list.textContent = "";
    team.forEach((a) => {
      const item = el("li", null, `member ${a.presence}`);
      item.dataset.username = a.username;
      item.appendChild(el("span", `${a.name} · ${t(`presence_${a.presence}`)}`, "who"));
      item.appendChild(el("span", ` · ${a.skills.map((k) => word("skill", k)).join(", ")}`));
      if (me.role === "supervisor") {
        item.title = t("editSkills", { name: a.name });
        item.onclick = async () => {
          const given = prompt(t("editSkills", { name: a.name }), a.skills.join(","));
          if (given === null) return;
          try {
            await call("PUT", `/api/agent/agents/${encodeURIComponent(a.username)}`, { skills: given.split(",").map((x) => x.trim()).filter(Boolean) });
          } catch (err) { $("d-error").textContent = failure(err); }
          refreshTeam();
        };
      }
      list.appendChild(item);
      if (a.username === me.username) $("presence").value = a.presence === "away" ? "away" : "online";
    });
  }

  function showTransferTargets(data) {
    const select = $("transfer-to");
    select.textContent = "";
    team.filter((a) => a.name !== data.assignee).forEach((a) => {
      const option = el("option", t("transferAgent", { name: a.name, presence: t(`presence_${a.presence}`) }));
      option.value = `agent:${a.username}`;
      select.appendChild(option);
    });
    ["general", "logistics", "refunds", "complaints", "security"].forEach((skill) => {
      const option = el("option", t("transferSkill", { skill: word("skill", skill) }));
      option.value = `skill:${skill}`;
      select.appendChild(option);
    });
  }

  async function showCanned(id) {
    const select = $("canned");
    while (select.options.length > 1) select.remove(1);
    const data = await call("GET", `/api/agent/conversations/${id}/canned`);
    if (id !== openId) return;
    data.replies.forEach((r) => {
      const option = el("option", `${r.shortcut}: ${r.text}`);
      option.value = r.text;
      select.appendChild(option);
    });
  }

  function showEarlier(data) {
    const box = $("earlier");
    box.textContent = "";
    box.appendChild(el("h3", t("earlier")));
    if (!data.customer_id) { box.appendChild(el("p", t("notVerified"), "hint")); return; }
    if (!data.earlier.length) box.appendChild(el("p", t("noEarlier"), "hint"));
    const list = el("ul");
    data.earlier.forEach((c) => {
      const item = el("li", `${c.created_at.slice(0, 10)} · ${word("status", c.status)} · ${word("channel", c.channel)}` +
        (c.reason ? ` · ${word("reason", c.reason)}` : "") + (c.order_number ? ` · ${c.order_number}` : "") +
        (c.rating ? ` · ${"★".repeat(c.rating)}` : ""));
      item.onclick = () => open(c.id);
      list.appendChild(item);
    });
    box.appendChild(list);
    const orders = data.customer_orders;
    if (orders && orders.orders) {
      box.appendChild(el("h3", t("customerOrders")));
      const ol = el("ul");
      orders.orders.forEach((o) => ol.appendChild(el("li", `${o.number} · ${o.status} · ${o.total} ${o.currency}`)));
      box.appendChild(ol);
    } else if (orders && orders.error) {
      box.appendChild(el("p", orders.error, "hint"));
    }
  }

  async function open(id) {
    openId = id;
    lastSeq = 0;
    const data = await call("GET", `/api/agent/conversations/${id}`);
    if (id !== openId) return;  // another conversation was opened meanwhile
    $("detail").hidden = false;
    $("d-error").textContent = "";
    $("d-title").textContent = t("conversation", { id: id.slice(0, 8).toUpperCase() });
    languageBadge(data.language, $("d-lang"));
    $("d-meta").textContent = [word("status", data.status), word("channel", data.channel), word("reason", data.reason),
      word("priority", data.priority), word("skill", data.skill)].join(" · ") +
      (data.assignee ? ` · ${t("with", { name: data.assignee })}` : "") +
      (data.metrics.waiting_seconds !== null ? ` · ${t("waited", { time: waited(data.metrics.waiting_seconds) })}` : "");
    $("d-summary").textContent = summaryOf(data);
    $("d-summary").hidden = !summaryOf(data);
    $("claim").hidden = data.status !== "queued";
    const mine = data.status === "assigned" && data.assignee === me.name;
    const supervising = me.role === "supervisor" && (data.status === "assigned" || data.status === "queued");
    $("resolve").hidden = !mine;
    $("handback").hidden = !mine;
    $("reply").hidden = !mine;
    $("transfer").hidden = !(mine || supervising);
    $("transfer-form").hidden = true;
    $("d-typing").hidden = true;
    showTransferTargets(data);
    showEarlier(data);
    if (mine) showCanned(id).catch(() => {});
    $("reply-text").placeholder = t("replyTo", { language: t(`lang_${BADGES[data.language] ? data.language : "en"}`) });
    $("transcript").textContent = "";
    data.messages.forEach(addMessage);
    showOrder(data.order);
  }

  function addMessage(m) {
    if (m.seq <= lastSeq) return;
    lastSeq = m.seq;
    const item = el("li", null, `msg ${m.author}`);
    const who = m.author === "agent" ? m.agent : m.author === "note" ? `${m.agent} · ${word("author", "note")}` : word("author", m.author);
    item.appendChild(el("span", who, "who"));
    item.appendChild(el("span", m.text, "text"));
    $("transcript").appendChild(item);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function showOrder(order) {
    const box = $("order");
    box.textContent = "";
    if (!order) { box.appendChild(el("dt", t("noOrder"))); return; }
    const rows = order.error ? [["orderNumber", order.number], ["orderNote", order.error]] : [
      ["orderNumber", order.number], ["orderStatus", order.status],
      ["orderCustomer", `${order.customer.name} (${order.customer.email}, ${order.customer.phone})`],
      ["orderAccount", order.customer.account_status], ["orderTotal", `${order.total} ${order.currency}`],
      ["orderItems", order.items.map((i) => i.name).join(", ")],
      ["orderShipment", order.shipments.map((s) => `${s.carrier} ${s.tracking_number}: ${s.status}`).join("; ") || t("none")],
      ["orderRefunds", order.refunds.map((r) => `${r.number}: ${r.stage}`).join("; ") || t("none")],
    ];
    rows.forEach(([k, v]) => { box.appendChild(el("dt", t(k))); box.appendChild(el("dd", v)); });
  }

  async function act(path, body) {
    try { await call("POST", `/api/agent/conversations/${openId}/${path}`, body); await open(openId); await refreshQueue(); }
    catch (err) {
      const shown = failure(err);
      if (err.code === "invalid_transition") await open(openId).catch(() => {});
      $("d-error").textContent = shown;
    }
  }

  function languageChanged() {
    showLoginError();
    if (!token || !me || $("desk").hidden) return;
    refreshQueue().catch(() => {});
    if (openId) open(openId).catch(() => {});
  }

  function showLoginError(key, params) {
    if (key !== undefined) loginError = key ? { key, params } : null;
    $("login-error").textContent = loginError ? t(loginError.key, loginError.params) : "";
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/api/agent/ws?token=${encodeURIComponent(token)}`);
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "presence") refreshTeam().catch(() => {});
      if (data.type === "typing" && data.conversation_id === openId) {
        $("d-typing").textContent = t("customerTyping");
        $("d-typing").hidden = false;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => { $("d-typing").hidden = true; }, 5000);
      }
      if (data.conversation_id === openId && data.type === "message") {
        addMessage(data.message);
        if (data.message.author === "customer") $("d-typing").hidden = true;
      }
      if (data.type === "status") { refreshQueue(); if (data.conversation_id === openId) open(openId); }
      if (data.type === "message") refreshQueue();
    };
    socket.onclose = () => setTimeout(connect, 2000);
  }

  function enter() {
    $("login").hidden = true;
    $("desk").hidden = false;
    $("me").textContent = me.name;
    $("reports-link").hidden = me.role !== "supervisor";
    if (window.Notification && Notification.permission === "default") Notification.requestPermission().catch(() => {});
    refreshTeam().catch(() => {});
    refreshQueue();
    connect();
    setInterval(refreshQueue, 15000);
  }

  $("login").onsubmit = async (event) => {
    event.preventDefault();
    let resp;
    let data;
    try {
      resp = await fetch("/api/agent/login", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: $("username").value, password: $("password").value }),
      });
      data = await resp.json();
    } catch (err) {
      showLoginError("error_network");
      return;
    }
    if (!resp.ok) {
      const code = data.error ? data.error.code : "";
      if (code === "unauthorized") showLoginError("loginWrong");
      else if (code === "too_many_attempts") showLoginError("loginTooMany", { seconds: resp.headers.get("Retry-After") || "60" });
      else showLoginError("loginFailed");
      return;
    }
    showLoginError(null);
    token = data.token; me = data.agent;
    sessionStorage.setItem("shopdesk.agent", token);
    sessionStorage.setItem("shopdesk.agent.me", JSON.stringify(me));
    enter();
  };
  $("claim").onclick = () => act("claim");
  $("resolve").onclick = () => act("resolve");
  $("handback").onclick = () => act("handback", { note: prompt(t("handbackPrompt")) || "" });
  $("transfer").onclick = () => { $("transfer-form").hidden = !$("transfer-form").hidden; };
  $("transfer-form").onsubmit = (event) => {
    event.preventDefault();
    const [kind, target] = $("transfer-to").value.split(":");
    const body = kind === "agent" ? { to_agent: target } : { to_skill: target };
    body.note = $("transfer-note").value;
    $("transfer-note").value = "";
    act("transfer", body);
  };
  $("note-form").onsubmit = (event) => {
    event.preventDefault();
    const text = $("note-text").value;
    $("note-text").value = "";
    if (text.trim()) act("notes", { text });
  };
  $("presence").onchange = async () => {
    try { await call("PUT", "/api/agent/presence", { presence: $("presence").value }); } catch (err) { $("d-error").textContent = failure(err); }
  };
  $("canned").onchange = () => {
    if ($("canned").value) $("reply-text").value = $("canned").value;
    $("canned").value = "";
    $("reply-text").focus();
  };
  $("reply-text").addEventListener("input", () => {
    if (!socket || socket.readyState !== WebSocket.OPEN || !openId || Date.now() - typedAt < 2000) return;
    typedAt = Date.now();
    socket.send(JSON.stringify({ type: "typing", conversation_id: openId }));
  });
  $("reply").onsubmit = (event) => {
    event.preventDefault();
    const text = $("reply-text").value;
    $("reply-text").value = "";
    if (text.trim()) act("messages", { text });
  };
  if (token && me) enter();
})();
