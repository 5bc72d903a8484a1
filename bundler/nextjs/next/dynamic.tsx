/* next/dynamic: a component loaded by a loader function, shown behind its `loading`. */
import { Suspense, createElement, lazy, type ComponentType, type ReactNode } from "react";

type Loaded<P> = ComponentType<P> | { default: ComponentType<P> };
type Loader<P> = () => Promise<Loaded<P>>;

export interface DynamicOptions<P> {
  loading?: (props: { error?: Error | null; isLoading?: boolean; pastDelay?: boolean }) => ReactNode;
  ssr?: boolean;
  loader?: Loader<P>;
}

export default function dynamic<P = Record<string, unknown>>(
  loader: Loader<P> | DynamicOptions<P>,
  options: DynamicOptions<P> = {},
): ComponentType<P> {
  const settings = typeof loader === "function" ? { ...options, loader } : { ...loader, ...options };
  const load = settings.loader;
  if (!load) throw new Error("next/dynamic needs a loader: dynamic(() => import(\"./Component\"))");
  const Lazy = lazy(async () => {
    const loaded = await load();
    const component = typeof loaded === "object" && loaded !== null && "default" in loaded ? loaded.default : loaded;
    return { default: component as ComponentType<any> };
  });
  const fallback = settings.loading ? createElement(settings.loading, { isLoading: true, pastDelay: true, error: null }) : null;
  function Dynamic(props: P) {
    return createElement(Suspense, { fallback }, createElement(Lazy, props as any));
  }
  return Dynamic as ComponentType<P>;
}
