/* next/navigation for a preview page: the router's hooks over the hash location. */
import { useMemo } from "react";
import {
  NotFoundSignal,
  RedirectSignal,
  navigate,
  params,
  useLocation,
  type NavigateOptions,
  type Params,
} from "stage:next/router";

export interface AppRouterInstance {
  push(href: string, options?: NavigateOptions): void;
  replace(href: string, options?: NavigateOptions): void;
  back(): void;
  forward(): void;
  refresh(): void;
  prefetch(href: string): void;
}

const router: AppRouterInstance = {
  push: (href, options) => navigate(href, options),
  replace: (href, options) => navigate(href, { ...options, replace: true }),
  back: () => window.history.back(),
  forward: () => window.history.forward(),
  refresh: () => window.dispatchEvent(new Event("hashchange")),
  prefetch: () => undefined, // every route is in the bundle already
};

export function useRouter(): AppRouterInstance {
  return router;
}

export function usePathname(): string {
  return useLocation().pathname;
}

/** Read-only URLSearchParams of the current route, as Next.js gives them. */
export function useSearchParams(): URLSearchParams {
  const { search } = useLocation();
  return useMemo(() => new URLSearchParams(search), [search]);
}

export function useParams<T extends Params = Params>(): T {
  useLocation(); // re-render on navigation
  return params() as T;
}

export function useSelectedLayoutSegments(): string[] {
  return useLocation().pathname.split("/").filter(Boolean);
}

export function useSelectedLayoutSegment(): string | null {
  return useSelectedLayoutSegments()[0] ?? null;
}

export enum RedirectType {
  push = "push",
  replace = "replace",
}

/** Stop rendering and open ``href`` instead (replacing the current entry by default). */
export function redirect(href: string, type: RedirectType = RedirectType.replace): never {
  throw new RedirectSignal(href, type !== RedirectType.push);
}

export function permanentRedirect(href: string, type: RedirectType = RedirectType.replace): never {
  throw new RedirectSignal(href, type !== RedirectType.push);
}

/** Stop rendering and show the app's not-found page. */
export function notFound(): never {
  throw new NotFoundSignal();
}

export function unstable_rethrow(error: unknown): void {
  if (error instanceof RedirectSignal || error instanceof NotFoundSignal) throw error;
}

