// The class names on the page's elements that no stylesheet's selector names, as
// `{ classes: [first `limit` of them, sorted], total }`: a page that lost its theme, its
// Tailwind config or a stylesheet shows it here (`bg-primary` everywhere, nothing defining
// it). Read after the page settled. Every readable stylesheet counts: <link>ed and <style>
// elements, constructed sheets, rules nested in @media, @layer, @supports and CSS nesting.
// Marker classes that libraries and Tailwind use as hooks, never as styles, are not listed.
(limit) => {
  const MARKERS = /^(group|peer)(\/.*)?$|^(dark|light|lucide|toaster)$|^(lucide|recharts|rdp|stage)-|^(x|y|z|angle|radius)Axis$/;
  const CLASS = /\.((?:\\[0-9a-fA-F]{1,6}[ \t\n]?|\\[^\n0-9a-fA-F]|[\w-]|[^\x00-\x7f])+)/g;
  const unescape = token => token
    .replace(/\\([0-9a-fA-F]{1,6})[ \t\n]?/g, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/\\(.)/g, "$1");
  const defined = new Set();
  const visit = rules => {
    for (const rule of rules) {
      if (rule.selectorText) {
        for (const match of rule.selectorText.matchAll(CLASS)) defined.add(unescape(match[1]));
      }
      if (rule.cssRules) visit(rule.cssRules);
    }
  };
  const sheets = [...document.styleSheets, ...(document.adoptedStyleSheets || [])];
  for (const sheet of sheets) {
    let rules;
    try { rules = sheet.cssRules; } catch (error) { continue; }  // another origin's sheet
    visit(rules);
  }
  const missing = new Set();
  for (const element of document.querySelectorAll("[class]")) {
    if (element.closest("#stage-error-overlay")) continue;
    for (const name of element.classList) {
      if (!defined.has(name) && !MARKERS.test(name)) missing.add(name);
    }
  }
  const classes = [...missing].sort();
  return { classes: classes.slice(0, limit), total: classes.length };
}
