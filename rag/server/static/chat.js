/* The chat page of one bot. It talks to the same /v1/chat/completions as any OpenAI client, streamed,
   sending the whole conversation so that follow-ups are read against it. Text from the server is only
   ever set as textContent: nothing it says becomes markup. No framework, no build step. */
(() => {
  "use strict";
  const bot = JSON.parse(document.getElementById("bot").textContent);
  const KEY = "rag-api-key";  // sessionStorage: asked once, kept until the tab closes
  const messages = [];
  let busy = false;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== false && value != null) node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  // ---- layout ----------------------------------------------------------------------------------
  const log = el("main", {id: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation"});
  const closeButton = el("button", {type: "button", class: "icon", "aria-label": "Close the passage", onclick: closePassage}, "✕");
  const passageTitle = el("h2", {id: "passage-title"});
  const passageWhere = el("p", {class: "where"});
  const passageText = el("blockquote");
  const passage = el("aside", {id: "passage", hidden: true, "aria-labelledby": "passage-title", tabindex: "-1"},
    el("header", {}, passageTitle, closeButton), passageWhere, passageText);
  const shell = el("div", {class: "shell"}, log, passage);
  const question = el("textarea", {id: "question", rows: "1", placeholder: `Ask ${bot.name}…`,
    "aria-label": "Your question", autocomplete: "off"});
  const send = el("button", {type: "submit"}, "Ask");
  const form = el("form", {class: "ask", onsubmit: (event) => { event.preventDefault(); submit(); }}, question, send);
  const updated = el("p", {class: "updated", id: "updated"});
  const header = el("header", {class: "top"},
    el("h1", {}, bot.name), el("p", {class: "about"}, bot.description || ""), updated,
    bot.bots.length > 1 ? el("a", {href: "/", class: "all"}, "All bots") : null,
    el("button", {type: "button", class: "icon", id: "new-chat", title: "New conversation", onclick: newChat}, "New"),
    el("button", {type: "button", class: "theme", "aria-label": "Switch light and dark", onclick: () => window.ragToggleTheme()}, "◐"));
  document.getElementById("app").append(header, shell,
    el("div", {}, form, el("div", {class: "hint"}, "Enter asks · Shift+Enter new line · [n] shows the passage · Esc closes it")));

  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
  });
  question.addEventListener("input", () => { question.style.height = "auto"; question.style.height = question.scrollHeight + "px"; });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (!passage.hidden) closePassage();
    else if (window.parent !== window) window.parent.postMessage({rag: "close"}, "*");  // in the widget: close it
  });

  function welcome() {
    const bubble = el("div", {class: "msg bot"}, el("span", {class: "who"}, bot.name),
      el("span", {class: "text"}, bot.welcome || `Ask me about ${bot.description || "my documents"}.`));
    if (bot.suggested.length) {
      bubble.append(el("div", {class: "suggested", role: "group", "aria-label": "Suggested questions"},
        ...bot.suggested.map((q) => el("button", {type: "button", onclick: () => { question.value = q; submit(); }}, q))));
    }
    log.append(bubble);
  }

  function newChat() {
    messages.length = 0;
    log.replaceChildren();
    closePassage();
    welcome();
    question.focus();
  }

  // ---- the API key -----------------------------------------------------------------------------
  function askKey() {
    return new Promise((resolve) => {
      const input = el("input", {type: "password", id: "key", autocomplete: "off", "aria-label": "API key"});
      const dialog = el("dialog", {"aria-labelledby": "key-title"},
        el("form", {method: "dialog"}, el("h2", {id: "key-title"}, "API key"),
          el("p", {}, "This server asks for a key. It is kept for this tab only."), input,
          el("button", {type: "submit"}, "Continue")));
      dialog.addEventListener("close", () => {
        if (input.value.trim()) sessionStorage.setItem(KEY, input.value.trim());
        dialog.remove();
        resolve(sessionStorage.getItem(KEY) || "");
      });
      document.body.append(dialog);
      dialog.showModal();
      input.focus();
    });
  }

  // ---- when the index last changed ------------------------------------------------------------------
  // Shown in the header; a watcher (`rag serve --watch`) or a rebuild elsewhere makes a new one, which the
  // next question reads. Learnt from each answer and from /health every 20 s while the tab is visible;
  // a change seen during the conversation is also said in it, before the answer that used it.
  let indexedAt = bot.indexedAt || "";

  function clock(iso) {
    const when = new Date(iso.replace(/([+-]\d\d)(\d\d)$/, "$1:$2"));
    if (isNaN(when)) return iso;
    const pad = (n) => String(n).padStart(2, "0");
    const time = `${pad(when.getHours())}:${pad(when.getMinutes())}:${pad(when.getSeconds())}`;
    const today = new Date().toDateString() === when.toDateString();
    return today ? time : `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${time}`;
  }

  function showIndexed(iso, before) {
    if (!iso || iso === indexedAt && updated.textContent) return;
    const changed = Boolean(indexedAt) && iso !== indexedAt;
    indexedAt = iso;
    updated.textContent = `Index updated ${clock(iso)}`;
    updated.title = `The documents were last indexed at ${iso}`;
    if (changed) {
      const note = el("div", {class: "msg note", role: "status"},
        `The index was updated at ${clock(iso)}: answers from here on use the new version of the documents.`);
      if (before && before.parentNode === log) log.insertBefore(note, before); else log.append(note);
    }
  }

  async function poll() {
    if (document.visibilityState !== "visible" || busy) return;
    try {
      const health = await (await fetch("/health")).json();
      showIndexed((health.indexed_at || {})[bot.name], null);
    } catch (_) { /* the server is away: the next poll or answer tells */ }
  }

  // ---- asking ----------------------------------------------------------------------------------
  async function submit() {
    const text = question.value.trim();
    if (!text || busy) return;
    busy = true; send.disabled = true;
    question.value = ""; question.style.height = "auto";
    log.append(el("div", {class: "msg me"}, el("span", {class: "sr-only"}, "You: "), text));
    messages.push({role: "user", content: text});
    const out = el("span", {class: "text"});
    const bubble = el("div", {class: "msg bot streaming", "aria-busy": "true"}, el("span", {class: "who"}, bot.name), out);
    log.append(bubble);
    bubble.scrollIntoView({block: "end"});
    try {
      const final = await stream(out, bubble);
      messages.push({role: "assistant", content: final.text});
      showIndexed(final.indexed_at, bubble.previousSibling);
      render(bubble, out, final);
    } catch (error) {
      messages.pop();
      out.textContent = out.textContent ? out.textContent + "\n" : "";
      out.append(el("span", {class: "error"}, String(error.message || error)));
    } finally {
      bubble.classList.remove("streaming"); bubble.removeAttribute("aria-busy");
      busy = false; send.disabled = false;
      question.focus();
    }
  }

  async function stream(out, bubble) {
    let key = sessionStorage.getItem(KEY) || (bot.needsKey ? await askKey() : "");
    for (let attempt = 0; ; attempt++) {
      const reply = await fetch("/v1/chat/completions", {
        method: "POST",
        headers: {"Content-Type": "application/json", ...(key ? {Authorization: `Bearer ${key}`} : {})},
        body: JSON.stringify({model: bot.name, stream: true, messages}),
      });
      if (reply.status === 401 && attempt === 0) {
        sessionStorage.removeItem(KEY);
        key = await askKey();
        continue;
      }
      if (!reply.ok) {
        let message = `the server answered ${reply.status}`;
        try { message = (await reply.json()).error.message; } catch (_) { /* not JSON */ }
        throw new Error(message);
      }
      return read(reply.body.getReader(), out, bubble);
    }
  }

  async function read(reader, out, bubble) {
    const decoder = new TextDecoder();
    let buffer = "", text = "", final = null;
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true}).replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const line of block.split("\n")) {
          if (!line.startsWith("data:")) continue;
          const data = line.slice(5).trim();
          if (data === "[DONE]") continue;
          const event = JSON.parse(data);
          if (event.error) throw new Error(event.error.message);
          const choice = event.choices[0];
          if (choice.delta.content) {
            text += choice.delta.content;
            out.textContent = text;
            bubble.scrollIntoView({block: "end"});
          }
          if (choice.finish_reason) final = event;
        }
      }
    }
    if (!final) throw new Error("the answer was cut off");
    return {...final, text};
  }

  // ---- an answer with its citations --------------------------------------------------------------
  const MARKS = {supported: ["✓", "supported by its passage"], partial: ["◐", "partly supported"],
                 unsupported: ["✗", "not supported by the cited passage"]};

  function citeButton(final, n) {
    return el("button", {type: "button", class: "cite", "aria-label": `Source ${n}`,
      onclick: (event) => openPassage(final, n, event.currentTarget)}, `[${n}]`);
  }

  function withCitations(final, text) {
    const nodes = [];
    let at = 0;
    for (const match of text.matchAll(/\[(\d+)\]/g)) {
      const n = Number(match[1]);
      if (!final.citations.some((c) => c.n === n)) continue;
      nodes.push(text.slice(at, match.index), citeButton(final, n));
      at = match.index + match[0].length;
    }
    nodes.push(text.slice(at));
    return nodes;
  }

  function where(c) {
    const lines = c.lines[0] === c.lines[1] ? `line ${c.lines[0]}` : `lines ${c.lines[0]}–${c.lines[1]}`;
    return `${c.path}, ${lines}` + (c.page ? `, page ${c.page}` : "") + (c.heading ? ` § ${c.heading}` : "");
  }

  function render(bubble, out, final) {
    const judged = final.sentences.some((s) => s.support && s.support !== "quoted");
    out.replaceChildren();
    if (final.abstained) {
      bubble.classList.add("abstained");
      out.textContent = final.text;
    } else if (judged) {  // an LLM's answer: each sentence with its citations and its support mark
      final.sentences.forEach((s, i) => {
        const [symbol, label] = MARKS[s.support] || ["", ""];
        out.append(i ? " " : "", s.text, ...s.citations.filter((n) => final.citations.some((c) => c.n === n))
          .map((n) => citeButton(final, n)), el("span", {class: `mark ${s.support}`, title: label, "aria-label": label}, symbol));
      });
    } else {
      out.append(...withCitations(final, final.text));
    }
    if (final.citations.length) {
      bubble.append(el("div", {class: "sources"},
        el("h3", {}, final.abstained ? "Nearest passages" : "Sources"),
        el("ul", {}, ...final.citations.map((c) => el("li", {}, el("button", {type: "button",
          onclick: (event) => openPassage(final, c.n, event.currentTarget)}, el("b", {}, `[${c.n}] `), where(c)))))));
    }
    const notes = [final.support, final.incomplete ? "the answer was cut off" : ""].filter(Boolean).join(" · ");
    const copy = el("button", {type: "button", onclick: () => copyAnswer(final, copy)}, "Copy");
    bubble.append(el("div", {class: "actions"}, copy, notes ? el("span", {class: "meta"}, notes) : null));
  }

  async function copyAnswer(final, button) {
    const text = [final.text, "", ...final.citations.map((c) => `[${c.n}] ${where(c)}`)].join("\n");
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {  // no clipboard API (plain http on another host): the old way
      const area = el("textarea", {"aria-hidden": "true"});
      area.value = text; document.body.append(area); area.select(); document.execCommand("copy"); area.remove();
    }
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 3000);
  }

  // ---- the passage behind [n] -----------------------------------------------------------------------
  let opener = null;

  function spans(final, c) {
    const found = [];
    for (const s of final.sentences) {
      if (!s.citations.includes(c.n)) continue;
      let start = c.quote.indexOf(s.text);
      if (start < 0 && s.char_span) start = s.char_span[0] - c.char_span[0];
      const end = start + s.text.length;
      if (start >= 0 && end <= c.quote.length && c.quote.slice(start, end) === s.text) found.push([start, end]);
    }
    return found.sort((a, b) => a[0] - b[0]);
  }

  function openPassage(final, n, from) {
    const c = final.citations.find((x) => x.n === n);
    if (!c) return;
    opener = from;
    passageTitle.textContent = `[${n}] ${c.path}`;
    passageWhere.textContent = where(c);
    const nodes = [];
    let at = 0;
    for (const [start, end] of spans(final, c)) {
      if (start < at) continue;
      nodes.push(c.quote.slice(at, start), el("mark", {}, c.quote.slice(start, end)));
      at = end;
    }
    nodes.push(c.quote.slice(at));
    passageText.replaceChildren(...nodes);
    passage.hidden = false;
    shell.classList.add("with-passage");
    const marked = passageText.querySelector("mark");
    if (marked) marked.scrollIntoView({block: "center"});
    passage.focus();
  }

  function closePassage() {
    passage.hidden = true;
    shell.classList.remove("with-passage");
    if (opener) opener.focus();
    opener = null;
  }

  welcome();
  showIndexed(indexedAt, null);
  setInterval(poll, 20000);
  question.focus();
})();
