/* A chat bubble for any website:
     <script src="http://HOST:PORT/widget.js" data-bot="NAME"></script>
   It adds a button in the corner; the button opens the bot's chat page (HOST/bots/NAME?embed=1) in a
   panel. Its styles live in a shadow root, so the host page's CSS and ours never meet; the page
   itself runs in a frame on rag's own origin, so the host page never sees the API key. */
(() => {
  "use strict";
  const me = document.currentScript;
  if (!me || document.getElementById("rag-widget")) return;
  const origin = new URL(me.src, location.href).origin;
  const bot = me.dataset.bot || "default";
  const title = me.dataset.title || `Chat with ${bot}`;

  const host = document.createElement("div");
  host.id = "rag-widget";
  const root = host.attachShadow({mode: "open"});
  const style = document.createElement("style");
  style.textContent = `
    :host { all: initial; }
    .bubble { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%;
      border: none; background: #2f5fd0; color: #fff; font-size: 26px; cursor: pointer; z-index: 2147483646;
      box-shadow: 0 4px 14px rgba(0, 0, 0, .25); }
    .bubble:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
    .panel { position: fixed; right: 20px; bottom: 88px; width: min(400px, calc(100vw - 40px));
      height: min(620px, calc(100vh - 110px)); border-radius: 14px; overflow: hidden; z-index: 2147483647;
      box-shadow: 0 8px 30px rgba(0, 0, 0, .3); background: #fff; }
    .panel[hidden] { display: none; }
    iframe { width: 100%; height: 100%; border: 0; display: block; }`;
  const button = document.createElement("button");
  button.className = "bubble";
  button.type = "button";
  button.textContent = "💬";
  button.setAttribute("aria-label", title);
  button.setAttribute("aria-expanded", "false");
  const panel = document.createElement("div");
  panel.className = "panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  root.append(style, panel, button);

  function toggle(open) {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "✕" : "💬";
    if (open && !panel.firstChild) {  // the page loads on the first open, not with the host page
      const frame = document.createElement("iframe");
      frame.title = title;
      frame.src = `${origin}/bots/${encodeURIComponent(bot)}?embed=1`;
      frame.allow = "clipboard-write";
      panel.append(frame);
    }
    if (open && panel.firstChild) panel.firstChild.focus();
  }

  button.addEventListener("click", () => toggle(panel.hidden));
  window.addEventListener("message", (event) => {  // Esc pressed inside the chat (its own origin only)
    if (event.origin === origin && event.data && event.data.rag === "close" && !panel.hidden) {
      toggle(false);
      button.focus();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) { toggle(false); button.focus(); }
  });
  (document.body || document.documentElement).append(host);
})();
