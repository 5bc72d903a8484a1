/* The app router's location, kept in the URL's hash: "index.html#/items/42?tab=specs".
 *
 * A render is served from a versioned folder of a bucket, later under an app's base path, and
 * from file:// by the local store. No static host rewrites "/items/42" to index.html, and
 * file:// pages cannot push a path, so the route lives in the fragment: every URL the router
 * writes reloads, deep-links and goes back to the same page from any folder. A fragment that
 * does not start with "/" ("#features") stays an in-page anchor on the current route.
 */
import { useSyncExternalStore } from "react";

export type Segment =
  | { kind: "static"; name: string }
  | { kind: "dynamic"; name: string }
  | { kind: "catchAll"; name: string }
  | { kind: "optionalCatchAll"; name: string };

export type Params = Record<string, string | string[]>;

export interface Location {
  pathname: string;
  search: string;
}

export interface Match<T> {
  route: T;
  params: Params;
}

const listeners = new Set<() => void>();
let current: Location = read();

function read(): Location {
  const hash = typeof window === "undefined" ? "" : window.location.hash;
  if (hash === "" || hash === "#") return { pathname: "/", search: "" };
  // "#features" is an anchor on the route already shown.
  if (!hash.startsWith("#/")) return current ?? { pathname: "/", search: "" };
  return split(hash.slice(1));
}

function split(path: string): Location {
  const query = path.indexOf("?");
  const pathname = query < 0 ? path : path.slice(0, query);
  return { pathname: normalise(pathname), search: query < 0 ? "" : path.slice(query) };
}

function normalise(pathname: string): string {
  const parts: string[] = [];
  for (const part of pathname.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

function notify(): void {
  const next = read();
  if (next.pathname === current.pathname && next.search === current.search) return;
  current = next;
  for (const listener of listeners) listener();
}

if (typeof window !== "undefined") {
  window.addEventListener("hashchange", notify);
  window.addEventListener("popstate", notify);
}

export function location(): Location {
  return current;
}

export function useLocation(): Location {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
    () => current,
  );
}

/** True for an href that leaves the app: another scheme or host. */
export function isExternal(href: string): boolean {
  return /^[a-zA-Z][a-zA-Z\d+.-]*:/.test(href) || href.startsWith("//");
}

/** The app path an href means from the current route ("../x", "?q=1", "/a" alike). */
export function resolve(href: string): Location {
  if (href.startsWith("?")) return { pathname: current.pathname, search: href };
  const hashless = href.split("#")[0];
  if (hashless.startsWith("/")) return split(hashless);
  const base = current.pathname.endsWith("/") ? current.pathname : current.pathname + "/..";
  return split(base + "/" + hashless);
}

/** What an <a href> must hold so that the browser itself opens the route. */
export function toHref(href: string): string {
  if (isExternal(href) || href.startsWith("#")) return href;
  const target = resolve(href);
  return "#" + target.pathname + target.search;
}

export interface NavigateOptions {
  replace?: boolean;
  scroll?: boolean;
}

/** Open ``href``: an app route in place, an anchor by scrolling, another site by leaving. */
export function navigate(href: string, options: NavigateOptions = {}): void {
  if (isExternal(href)) {
    if (options.replace) window.location.replace(href);
    else window.location.assign(href);
    return;
  }
  if (href.startsWith("#")) {
    scrollToAnchor(href.slice(1));
    return;
  }
  const target = resolve(href);
  const fragment = href.includes("#") ? href.slice(href.indexOf("#") + 1) : "";
  const url = "#" + target.pathname + target.search;
  if (options.replace) window.history.replaceState(window.history.state, "", url);
  else window.history.pushState(null, "", url);
  notify();
  if (fragment) setTimeout(() => scrollToAnchor(fragment), 0);
  else if (options.scroll !== false) window.scrollTo(0, 0);
}

function scrollToAnchor(id: string): void {
  const element = id ? document.getElementById(decodeURIComponent(id)) : null;
  if (element) element.scrollIntoView();
  else if (!id) window.scrollTo(0, 0);
}

/** The route among ``routes`` that ``pathname`` opens, with its params; static segments
 * win over dynamic ones, and dynamic ones over catch-alls (Next.js's order). */
export function match<T extends { segments: Segment[] }>(
  routes: readonly T[],
  pathname: string,
): Match<T> | null {
  const parts = pathname.split("/").filter(Boolean).map(decode);
  for (const route of routes) {
    const params = matchSegments(route.segments, parts);
    if (params) return { route, params };
  }
  return null;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function matchSegments(segments: Segment[], parts: string[]): Params | null {
  const params: Params = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === "catchAll" || segment.kind === "optionalCatchAll") {
      const rest = parts.slice(i);
      if (rest.length === 0 && segment.kind === "catchAll") return null;
      if (rest.length > 0) params[segment.name] = rest;
      return params;
    }
    if (i >= parts.length) return null;
    if (segment.kind === "static" && segment.name !== parts[i]) return null;
    if (segment.kind === "dynamic") params[segment.name] = parts[i];
  }
  return segments.length === parts.length ? params : null;
}

/* The matched route's params, set by the app on each render (useParams reads them). */
let currentParams: Params = {};

export function setParams(params: Params): void {
  currentParams = params;
}

export function params(): Params {
  return currentParams;
}

/* redirect() and notFound() stop a render by throwing, as in Next.js; the app catches these. */
export class RedirectSignal extends Error {
  readonly digest: string;
  constructor(
    readonly href: string,
    readonly replace: boolean,
  ) {
    super(`NEXT_REDIRECT: ${href}`);
    this.digest = `NEXT_REDIRECT;${replace ? "replace" : "push"};${href}`;
  }
}

export class NotFoundSignal extends Error {
  readonly digest = "NEXT_NOT_FOUND";
  constructor() {
    super("NEXT_NOT_FOUND");
  }
}

export function isControlSignal(error: unknown): boolean {
  return error instanceof RedirectSignal || error instanceof NotFoundSignal;
}
