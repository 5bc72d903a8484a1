/* next/font for a preview page: the className/variable/style API with no download.
 *
 * Next.js fetches Google fonts at build time and self-hosts them; a render never reaches the
 * network, so a Google font is named first and followed by a local fallback stack of its kind
 * (sans-serif, serif, monospace): a machine that has the family shows it, any other shows the
 * fallback. A local font (next/font/local) is the session's own file, loaded by @font-face.
 */

export interface FontOptions {
  weight?: string | string[];
  style?: string | string[];
  subsets?: string[];
  display?: string;
  variable?: string;
  fallback?: string[];
  preload?: boolean;
  adjustFontFallback?: boolean | string;
  axes?: string[];
  declarations?: { prop: string; value: string }[];
}

export interface LocalFontSource {
  path: string;
  weight?: string;
  style?: string;
}

export interface LocalFontOptions extends Omit<FontOptions, "subsets" | "axes"> {
  src: string | LocalFontSource[];
}

export interface NextFont {
  className: string;
  variable: string;
  style: { fontFamily: string; fontWeight?: number; fontStyle?: string };
}

const MONOSPACE = /mono|code|courier|consol|inconsolata|fira code|jetbrains|hack/i;
const SERIF = /serif|playfair|merriweather|lora|garamond|crimson|libre baskerville|cormorant|bodoni|dm serif|noto serif|pt serif|source serif|spectral|fraunces|newsreader|instrument serif|eb garamond|cardo|prata|vollkorn|bitter/i;
const SANS_FALLBACK = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "Noto Sans", "sans-serif"];
const SERIF_FALLBACK = ["ui-serif", "Georgia", "Cambria", "Times New Roman", "Times", "serif"];
const MONO_FALLBACK = ["ui-monospace", "SFMono-Regular", "Menlo", "Monaco", "Consolas", "Liberation Mono", "Courier New", "monospace"];

/** The local stack that stands in for ``family``, by its kind. */
export function fallbackFor(family: string): string[] {
  if (MONOSPACE.test(family)) return MONO_FALLBACK;
  if (SERIF.test(family) && !/sans/i.test(family)) return SERIF_FALLBACK;
  return SANS_FALLBACK;
}

/* Generic families and system keywords are keywords: quoted, they would name a font. */
const KEYWORDS = new Set(["serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "ui-serif",
  "ui-sans-serif", "ui-monospace", "ui-rounded", "math", "emoji", "fangsong", "-apple-system", "BlinkMacSystemFont"]);

function quote(family: string): string {
  return KEYWORDS.has(family) ? family : `'${family.replace(/'/g, "\\'")}'`;
}

function stackOf(family: string, fallback: string[]): string {
  return [`'${family.replace(/'/g, "\\'")}'`, ...fallback.map(quote)].join(", ");
}

function slug(text: string): string {
  let hash = 5381;
  for (let i = 0; i < text.length; i++) hash = ((hash * 33) ^ text.charCodeAt(i)) >>> 0;
  return hash.toString(36);
}

let sheet: HTMLStyleElement | null = null;
const written = new Set<string>();

function addRule(rule: string): void {
  if (written.has(rule) || typeof document === "undefined") return;
  written.add(rule);
  if (!sheet) {
    sheet = document.createElement("style");
    sheet.setAttribute("data-next-font", "");
    document.head.appendChild(sheet);
  }
  sheet.appendChild(document.createTextNode(rule + "\n"));
}

function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}

function declare(family: string, options: FontOptions, fallback: string[]): NextFont {
  const stack = stackOf(family, fallback);
  const id = slug(family + JSON.stringify(options));
  const weight = single(options.weight);
  const style = single(options.style);
  const className = `__className_${id}`;
  const variable = `__variable_${id}`;
  const declarations = [`font-family:${stack}`];
  if (weight && weight !== "variable" && !weight.includes(" ")) declarations.push(`font-weight:${weight}`);
  if (style) declarations.push(`font-style:${style}`);
  addRule(`.${className}{${declarations.join(";")}}`);
  if (options.variable) addRule(`.${variable}{${options.variable}:${stack}}`);
  const result: NextFont = {
    className,
    variable: options.variable ? variable : "",
    style: { fontFamily: stack },
  };
  if (weight && /^\d+$/.test(weight)) result.style.fontWeight = Number(weight);
  if (style) result.style.fontStyle = style;
  return result;
}

/** A next/font/google loader: ``Inter({ subsets: ["latin"], variable: "--font-inter" })``. */
export function googleFont(family: string, options: FontOptions = {}): NextFont {
  return declare(family, options, options.fallback ?? fallbackFor(family));
}

const FORMATS: Record<string, string> = { woff2: "woff2", woff: "woff", ttf: "truetype", otf: "opentype", eot: "embedded-opentype" };
let localCount = 0;

/** next/font/local: ``urls`` maps each ``src`` as written to the file's URL in the render. */
export function localFont(options: LocalFontOptions, urls: Record<string, string>): NextFont {
  const family = `__localFont_${slug(JSON.stringify(options.src))}_${localCount++}`;
  const sources = typeof options.src === "string" ? [{ path: options.src }] : options.src;
  for (const source of sources) {
    const url = urls[source.path];
    if (!url) continue; // not in the session: the fallback stack shows
    const extension = source.path.split(".").pop()?.toLowerCase() ?? "";
    const face = [`font-family:'${family}'`, `src:url(${JSON.stringify(url)}) format('${FORMATS[extension] ?? extension}')`,
      `font-display:${options.display ?? "swap"}`];
    const weight = source.weight ?? single(options.weight);
    const style = source.style ?? single(options.style);
    if (weight) face.push(`font-weight:${weight}`);
    if (style) face.push(`font-style:${style}`);
    for (const declaration of options.declarations ?? []) face.push(`${declaration.prop}:${declaration.value}`);
    addRule(`@font-face{${face.join(";")}}`);
  }
  return declare(family, { ...options, weight: sources.length > 1 ? undefined : options.weight }, options.fallback ?? SANS_FALLBACK);
}
