// Served by the API host inside index.html: the page lives under a base path
// (/<app sid>/, /<app sid>/@preview/, …), and its routes with it. fetch("api/x") resolves
// there by itself; this sends fetch("/api/x") and XMLHttpRequest("/api/x") there too.
(() => {
  const meta = document.querySelector('meta[name="stage-base"]');
  const base = meta ? meta.getAttribute("content") : "/";
  if (base === "/") return;
  const rebase = (url) => {
    const parsed = new URL(url, document.baseURI);
    if (parsed.origin !== location.origin) return null;
    if (parsed.pathname !== "/api" && !parsed.pathname.startsWith("/api/")) return null;
    parsed.pathname = base + parsed.pathname.slice(1);
    return parsed.href;
  };
  const fetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const moved = rebase(url);
    if (moved === null) return fetch(input, init);
    return fetch(input instanceof Request ? new Request(moved, input) : moved, init);
  };
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    return open.call(this, method, rebase(String(url)) ?? url, ...rest);
  };
})();
