// The pages' languages (English, simplified and traditional Chinese): detection, the switch, and the strings.
// Only our own strings go through here, always as text (textContent and attributes, never HTML).
window.ShopDeskI18n = (() => {
  const LANGUAGES = ["en", "zh", "zh-Hant"];
  const NAMES = { en: "English", zh: "简体", "zh-Hant": "繁體" };  // each in its own language, as switches show them
  const HTML_LANG = { en: "en", zh: "zh-Hans", "zh-Hant": "zh-Hant" };
  const TRADITIONAL_REGIONS = ["tw", "hk", "mo"];
  const COMMON = { en: { language: "Language" }, zh: { language: "语言" }, "zh-Hant": { language: "語言" } };

  const known = (language) => LANGUAGES.includes(language);

  // One browser language tag as ours: zh-TW, zh-HK, zh-MO and zh-Hant* read traditional, other zh simplified.
  function fromTag(tag) {
    const parts = String(tag || "").toLowerCase().replace(/_/g, "-").split("-");
    if (parts[0] === "en") return "en";
    if (parts[0] !== "zh") return null;
    if (parts.includes("hant")) return "zh-Hant";
    if (parts.includes("hans")) return "zh";
    return parts.slice(1).some((p) => TRADITIONAL_REGIONS.includes(p)) ? "zh-Hant" : "zh";
  }

  // The first of the browser's languages we write; English when there is none.
  function detect(tags) {
    const list = tags && tags.length ? tags : [navigator.language];
    for (const tag of list) {
      const language = fromTag(tag);
      if (language) return language;
    }
    return "en";
  }

  function stored(key) {
    try { return localStorage.getItem(key); } catch (err) { return null; }  // storage can be off
  }

  function store(key, value) {
    try { localStorage.setItem(key, value); } catch (err) { /* the choice then lasts for this page only */ }
  }

  // strings: {en: {key: text}, zh: {...}, "zh-Hant": {...}}; "{name}" in a text is filled from params.
  // onChange(language, origin) runs after every change; origin is "user" (the switch) or what set() was given.
  function create(storageKey, strings, onChange) {
    const table = (l) => ({ ...COMMON[l], ...(strings[l] || {}) });
    const saved = stored(storageKey);
    let language = known(saved) ? saved : detect(navigator.languages);
    const switches = [];

    function t(key, params) {
      const own = table(language);
      const english = table("en");
      let text = key in own ? own[key] : key in english ? english[key] : key;
      Object.entries(params || {}).forEach(([name, value]) => { text = text.split(`{${name}}`).join(String(value)); });
      return text;
    }

    // Fills every element marked data-i18n (text), data-i18n-placeholder, -aria-label and -title.
    function apply(root) {
      const scope = root || document;
      scope.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
      for (const attr of ["placeholder", "aria-label", "title"]) {
        scope.querySelectorAll(`[data-i18n-${attr}]`).forEach((node) => node.setAttribute(attr, t(node.getAttribute(`data-i18n-${attr}`))));
      }
      document.documentElement.lang = HTML_LANG[language];
      switches.forEach(markSwitch);
    }

    function markSwitch(box) {
      box.setAttribute("aria-label", t("language"));
      [...box.children].forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === language)));
    }

    // Buttons English / 简体 / 繁體 in every element marked data-lang-switch.
    function mountSwitches(root) {
      (root || document).querySelectorAll("[data-lang-switch]").forEach((box) => {
        box.textContent = "";
        box.setAttribute("role", "group");
        LANGUAGES.forEach((l) => {
          const button = document.createElement("button");
          button.type = "button";
          button.dataset.lang = l;
          button.lang = HTML_LANG[l];
          button.textContent = NAMES[l];
          button.onclick = () => set(l, "user");
          box.appendChild(button);
        });
        switches.push(box);
      });
    }

    function set(next, origin) {
      if (!known(next) || next === language) return false;
      language = next;
      store(storageKey, next);
      apply(document);
      if (onChange) onChange(next, origin || "user");
      return true;
    }

    mountSwitches(document);
    apply(document);
    return { t, apply, set, get language() { return language; } };
  }

  return { LANGUAGES, NAMES, HTML_LANG, known, fromTag, detect, create };
})();
