/* The Next.js app router in a preview page: the generated entry hands it every page and
 * layout of app/, and it renders the route the hash names inside its layouts.
 *
 * The root layout renders <html> and <body>: their attributes (class, lang, style, data-*)
 * go onto the document's own elements, <head> children into document.head, and the body's
 * children into #root. `export const metadata` of the layouts and the page gives the title
 * and description, with Next.js's title templates.
 */
import {
  Component,
  Fragment,
  Suspense,
  createElement,
  isValidElement,
  use,
  useLayoutEffect,
  type ComponentType,
  type ReactElement,
  type ReactNode,
} from "react";
import { createPortal } from "react-dom";
import { createRoot } from "react-dom/client";
import {
  NotFoundSignal,
  RedirectSignal,
  isControlSignal,
  isExternal,
  match,
  navigate,
  setParams,
  useLocation,
  type Params,
  type Segment,
} from "stage:next/router";

type MetadataProps = { params: Promise<Params>; searchParams: Promise<Record<string, string>> };
type Module = {
  default?: unknown;
  metadata?: Metadata;
  generateMetadata?: (props: MetadataProps, parent: Promise<Metadata>) => Metadata | Promise<Metadata>;
};
type Metadata = { title?: string | { default?: string; template?: string; absolute?: string } | null; description?: string | null };

export interface Route {
  path: string; // the page file, for messages
  segments: Segment[];
  page: Module;
  layouts: Module[]; // outermost first
  loading?: Module;
  error?: Module;
}

export interface AppTree {
  routes: Route[];
  rootLayouts: Module[]; // wrap the not-found page
  notFound?: Module;
}

function componentOf(module: Module | undefined, path: string): ComponentType<any> | null {
  if (!module) return null;
  const value = module.default;
  if (typeof value === "function" || (typeof value === "object" && value !== null)) {
    return value as ComponentType<any>;
  }
  throw new Error(`${path} has no default export: a Next.js page or layout exports its component as default`);
}

/* Next.js 15 passes params and searchParams as promises that also carry the values, so both
 * `await params` and `params.id` work; marked fulfilled so React's use() never suspends. */
function settledPromise<T extends object>(value: T): Promise<T> & T {
  const promise = Promise.resolve(value) as Promise<T> & T & { status: string; value: T };
  promise.status = "fulfilled";
  promise.value = value;
  return Object.assign(promise, value);
}

const asyncResults = new WeakMap<object, Map<string, Promise<ReactNode>>>();

/* Server components may be async functions; in the browser their promise is awaited with
 * use(), one promise per component and props so a re-render does not start it again. */
function Call({ component, props, cacheKey, unwrap }: { component: ComponentType<any>; props: Record<string, unknown>; cacheKey: string; unwrap?: boolean }): ReactNode {
  const fn = component as unknown as (p: unknown) => ReactNode | Promise<ReactNode>;
  let byKey = asyncResults.get(component);
  if (!byKey) asyncResults.set(component, (byKey = new Map()));
  let pending = byKey.get(cacheKey);
  if (!pending) {
    if (byKey.size > 50) byKey.clear(); // one entry per location visited: keep it bounded
    pending = Promise.resolve(fn(props));
    byKey.set(cacheKey, pending);
  }
  const rendered = use(pending);
  return unwrap ? unwrapDocument(rendered) : rendered;
}

function isAsync(component: unknown): boolean {
  return typeof component === "function" && component.constructor?.name === "AsyncFunction";
}

function renderComponent(component: ComponentType<any>, props: Record<string, unknown>, cacheKey: string): ReactNode {
  if (isAsync(component)) return createElement(Call, { component, props, cacheKey });
  return createElement(component, props);
}

/* ---- <html>, <head> and <body> of the root layout, onto the document ---- */

const applied = new WeakMap<Element, { classes: string[]; attributes: string[] }>();

function applyAttributes(element: Element, props: Record<string, unknown>): void {
  const before = applied.get(element) ?? { classes: [], attributes: [] };
  const classes = String(props.className ?? props.class ?? "").split(/\s+/).filter(Boolean);
  for (const name of before.classes) if (!classes.includes(name)) element.classList.remove(name);
  for (const name of classes) element.classList.add(name); // next-themes' own class stays
  const attributes: string[] = [];
  for (const [key, value] of Object.entries(props)) {
    if (key === "children" || key === "className" || key === "class" || key === "style"
      || key === "suppressHydrationWarning" || key.startsWith("on") || value == null || value === false) continue;
    const name = key === "htmlFor" ? "for" : key;
    element.setAttribute(name, value === true ? "" : String(value));
    attributes.push(name);
  }
  for (const name of before.attributes) if (!attributes.includes(name)) element.removeAttribute(name);
  const style = props.style as Record<string, string | number> | undefined;
  if (style && element instanceof HTMLElement) {
    for (const [key, value] of Object.entries(style)) {
      if (key.startsWith("--")) element.style.setProperty(key, String(value));
      else (element.style as unknown as Record<string, string>)[key] = typeof value === "number" && value !== 0 ? `${value}px` : String(value);
    }
  }
  applied.set(element, { classes, attributes });
}

function DocumentElement({ target, props, children }: { target: "html" | "body"; props: Record<string, unknown>; children?: ReactNode }): ReactNode {
  const element = target === "html" ? document.documentElement : document.body;
  const key = JSON.stringify(props, (k, v) => (k === "children" ? undefined : v));
  useLayoutEffect(() => applyAttributes(element, props), [key]);
  return createElement(Fragment, null, children);
}

function HeadChildren({ children }: { children?: ReactNode }): ReactNode {
  return createPortal(children, document.head);
}

/* What the root layout rendered, with <html>/<body>/<head> taken off into the document. */
function unwrapDocument(node: ReactNode): ReactNode {
  if (Array.isArray(node)) return node.map((child, index) => createElement(Fragment, { key: index }, unwrapDocument(child)));
  if (!isValidElement(node)) return node;
  const element = node as ReactElement<Record<string, unknown>>;
  if (element.type === Fragment) return unwrapDocument(element.props.children as ReactNode);
  if (element.type === "html" || element.type === "body") {
    return createElement(DocumentElement, { target: element.type, props: element.props }, unwrapDocument(element.props.children as ReactNode));
  }
  if (element.type === "head") return createElement(HeadChildren, null, element.props.children as ReactNode);
  return node;
}

/* A layout as a plain function call, so its returned <html> can be unwrapped; hooks in a
 * "use client" layout belong to this component, which renders nothing else. */
function RootLayout({ layout, path, children, params, cacheKey }: { layout: Module; path: string; children: ReactNode; params: Params; cacheKey: string }): ReactNode {
  const component = componentOf(layout, path)!;
  const props = { children, params: settledPromise(params) };
  if (typeof component !== "function") return unwrapDocument(createElement(component, props));
  if (isAsync(component)) return createElement(Call, { component, props, cacheKey, unwrap: true });
  return unwrapDocument((component as (p: unknown) => ReactNode)(props));
}

/* ---- metadata ---- */

let metadataRequest = 0;

/* Static `metadata` applies at once; when a module exports `generateMetadata`, its result
 * replaces it once every one has settled (unless the user navigated on meanwhile). */
function applyMetadata(modules: Module[], props?: MetadataProps): void {
  const request = ++metadataRequest;
  setMetadata(modules.map((module) => module.metadata));
  if (!props || !modules.some((module) => module.generateMetadata)) return;
  const parent = Promise.resolve({});
  Promise.all(modules.map((module) => module.generateMetadata
    ? Promise.resolve().then(() => module.generateMetadata!(props, parent)).catch((error) => {
      console.warn("generateMetadata failed:", error);
      return module.metadata;
    })
    : module.metadata)).then((list) => {
    if (request === metadataRequest) setMetadata(list);
  });
}

function setMetadata(list: (Metadata | undefined)[]): void {
  let title: string | undefined;
  let template: string | undefined;
  let description: string | undefined;
  for (const metadata of list) {
    if (!metadata) continue;
    const value = metadata.title;
    if (typeof value === "string") title = template ? template.replace("%s", value) : value;
    else if (value) {
      if (value.absolute) title = value.absolute;
      else if (value.default) title = value.default;
      if (value.template) template = value.template;
    }
    if (metadata.description) description = metadata.description;
  }
  if (title !== undefined) document.title = title;
  if (description !== undefined) {
    let meta = document.head.querySelector<HTMLMetaElement>('meta[name="description"]');
    if (!meta) {
      meta = document.createElement("meta");
      meta.name = "description";
      document.head.appendChild(meta);
    }
    meta.content = description;
  }
}

/* ---- not-found, redirect, error.tsx ---- */

function DefaultNotFound(): ReactNode {
  return createElement("div", { style: { fontFamily: "system-ui, sans-serif", height: "100vh", display: "flex", alignItems: "center", justifyContent: "center" } },
    createElement("h1", { style: { fontSize: 24, fontWeight: 500, margin: 0 } }, "404 | This page could not be found."));
}

type BoundaryProps = { children: ReactNode; fallback: (error: Error, reset: () => void) => ReactNode; resetKey: string };
type BoundaryState = { error: Error | null; resetKey: string };

class Boundary extends Component<BoundaryProps, BoundaryState> {
  state: BoundaryState = { error: null, resetKey: this.props.resetKey };

  static getDerivedStateFromError(error: Error): Partial<BoundaryState> {
    return { error };
  }

  static getDerivedStateFromProps(props: BoundaryProps, state: BoundaryState): Partial<BoundaryState> | null {
    return props.resetKey !== state.resetKey ? { error: null, resetKey: props.resetKey } : null;
  }

  render(): ReactNode {
    const { error } = this.state;
    if (error === null) return this.props.children;
    return this.props.fallback(error, () => this.setState({ error: null }));
  }
}

function Redirect({ signal }: { signal: RedirectSignal }): null {
  useLayoutEffect(() => navigate(signal.href, { replace: signal.replace }), [signal]);
  return null;
}

/* ---- the app ---- */

function App({ tree }: { tree: AppTree }): ReactNode {
  const location = useLocation();
  const found = match(tree.routes, location.pathname);
  const params = found?.params ?? {};
  setParams(params);
  const resetKey = location.pathname + location.search;
  const notFoundPage = (): ReactNode => {
    applyMetadata([...tree.rootLayouts, ...(tree.notFound ? [tree.notFound] : [])]);
    const NotFound = componentOf(tree.notFound, "app/not-found") ?? DefaultNotFound;
    return createElement(NotFound);
  };
  const control = (error: Error, reset: () => void, inner?: () => ReactNode): ReactNode => {
    if (error instanceof RedirectSignal) return createElement(Redirect, { signal: error });
    if (error instanceof NotFoundSignal) return notFoundPage();
    if (inner) return inner();
    void reset;
    throw error;
  };

  let content: ReactNode;
  let layouts: Module[];
  if (found) {
    const { route } = found;
    layouts = route.layouts;
    const searchParams = Object.fromEntries(new URLSearchParams(location.search));
    applyMetadata([...route.layouts, route.page],
      { params: settledPromise(params), searchParams: settledPromise(searchParams) });
    const Page = componentOf(route.page, route.path)!;
    content = renderComponent(Page, { params: settledPromise(params), searchParams: settledPromise(searchParams) }, resetKey);
    if (route.loading) content = createElement(Suspense, { fallback: createElement(componentOf(route.loading, route.path)!) }, content);
    const ErrorPage = componentOf(route.error, route.path);
    content = createElement(Boundary, {
      resetKey,
      fallback: (error, reset) => control(error, reset, ErrorPage ? () => createElement(ErrorPage, { error, reset }) : undefined),
    }, content);
  } else {
    layouts = tree.rootLayouts;
    content = notFoundPage();
  }
  for (let index = layouts.length - 1; index >= 0; index--) {
    const layout = layouts[index];
    const children = content;
    content = index === 0
      ? createElement(RootLayout, { layout, path: "app/layout", params, children, cacheKey: resetKey })
      : renderComponent(componentOf(layout, "layout")!, { children, params: settledPromise(params) }, resetKey);
  }
  return createElement(Boundary, { resetKey, fallback: (error, reset) => control(error, reset) }, content);
}

/* A plain <a href="/about"> in a Next.js app opens that route too (Next.js would load it from
 * the server); here it opens in place, since "/about" is no file of the version's folder. */
function openAppLinks(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.("a[href]");
  if (!anchor || (anchor.getAttribute("target") ?? "_self") !== "_self" || anchor.hasAttribute("download")) return;
  const href = anchor.getAttribute("href") ?? "";
  if (!href.startsWith("/") || isExternal(href)) return;
  event.preventDefault();
  navigate(href);
}

export function mountApp(tree: AppTree): void {
  const sorted = [...tree.routes].sort((a, b) => specificity(b.segments) - specificity(a.segments));
  document.addEventListener("click", openAppLinks);
  const container = document.getElementById("root")!;
  createRoot(container, {
    // redirect() and notFound() are control flow, not errors worth a console line.
    onCaughtError(error: unknown, info: { componentStack?: string }) {
      if (isControlSignal(error)) return;
      console.error(error, info.componentStack ?? "");
    },
  }).render(createElement(App, { tree: { ...tree, routes: sorted } }));
}

function specificity(segments: Segment[]): number {
  // Each segment counts in base 4: static 3, dynamic 2, catch-all 1, optional catch-all 0.
  let score = 0;
  for (const segment of segments) {
    score = score * 4 + { static: 3, dynamic: 2, catchAll: 1, optionalCatchAll: 0 }[segment.kind];
  }
  return score * 64 + segments.length;
}
