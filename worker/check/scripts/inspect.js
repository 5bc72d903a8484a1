// After the page settled, in one round trip: does #root show anything (text, media, or a
// box with a background or a border), the page's own timings, and which errors were
// rejections.
() => {
  const shown = e => e.checkVisibility({ opacityProperty: true, visibilityProperty: true });
  const sized = r => r.width > 0 && r.height > 0;
  const blank = (() => {
    const root = document.getElementById("root");
    if (!root) return true;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim() || !shown(n.parentElement)) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      if (sized(range.getBoundingClientRect())) return false;
    }
    for (const e of root.querySelectorAll("*")) {
      if (!sized(e.getBoundingClientRect()) || !shown(e)) continue;
      if (/^(IMG|SVG|CANVAS|VIDEO|IFRAME|INPUT|TEXTAREA|SELECT|BUTTON|svg)$/.test(e.tagName))
        return false;
      const s = getComputedStyle(e);
      if (s.backgroundImage !== "none") return false;
      if (!/^rgba\(.*, 0\)$|^transparent$/.test(s.backgroundColor)) return false;
      if (["Top", "Right", "Bottom", "Left"].some(
          side => parseFloat(s["border" + side + "Width"]) > 0 &&
                  s["border" + side + "Style"] !== "none")) return false;
    }
    return true;
  })();
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const config = window.__STAGE__;
  const skipped = config && Array.isArray(config.blockedScripts) ? config.blockedScripts : [];
  return { blank, rejections: window.__stageCheck.state.rejections,
           blockedScripts: skipped.map(String),
           timings: { domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
                      firstContentfulPaint: fcp ? fcp.startTime : null } };
}
