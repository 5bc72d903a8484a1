/* next/router (the pages router's hook), for app router code that still imports it: the same
 * hash location, in the shape that API has. */
import { useMemo } from "react";
import { navigate, params, useLocation, type NavigateOptions } from "stage:next/router";

type Url = string | { pathname?: string; query?: Record<string, string | string[] | undefined> };

function format(url: Url): string {
  if (typeof url === "string") return url;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(url.query ?? {})) {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) query.append(key, item);
  }
  const search = query.toString();
  return (url.pathname ?? "") + (search ? "?" + search : "");
}

const noEvents = { on: () => undefined, off: () => undefined, emit: () => undefined };

export function useRouter() {
  const location = useLocation();
  return useMemo(() => {
    const query: Record<string, string | string[]> = { ...params() };
    for (const [key, value] of new URLSearchParams(location.search)) query[key] = value;
    return {
      pathname: location.pathname,
      asPath: location.pathname + location.search,
      route: location.pathname,
      query,
      isReady: true,
      isFallback: false,
      basePath: "",
      events: noEvents,
      push: async (url: Url, _as?: Url, options?: NavigateOptions) => { navigate(format(url), options); return true; },
      replace: async (url: Url, _as?: Url, options?: NavigateOptions) => { navigate(format(url), { ...options, replace: true }); return true; },
      back: () => window.history.back(),
      reload: () => window.location.reload(),
      prefetch: async () => undefined,
    };
  }, [location]);
}

export default { useRouter };
