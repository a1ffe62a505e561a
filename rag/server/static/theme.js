/* Light or dark: the visitor's choice (kept in localStorage) over the system's. Loaded in <head> so the
   page never flashes the other theme. */
(() => {
  "use strict";
  const KEY = "rag-theme";
  const root = document.documentElement;
  const saved = localStorage.getItem(KEY);
  if (saved === "light" || saved === "dark") root.dataset.theme = saved;
  const current = () => root.dataset.theme ||
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  window.ragToggleTheme = () => {
    root.dataset.theme = current() === "dark" ? "light" : "dark";
    localStorage.setItem(KEY, root.dataset.theme);
  };
  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("theme");
    if (button) button.addEventListener("click", window.ragToggleTheme);
  });
})();
