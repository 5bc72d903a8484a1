/* next/link: an <a> whose href opens the route in place (see stage:next/router). */
import { Children, cloneElement, forwardRef, isValidElement, type AnchorHTMLAttributes, type MouseEvent, type ReactElement, type ReactNode } from "react";
import { isExternal, navigate, toHref } from "stage:next/router";

type Url = string | { pathname?: string; query?: Record<string, string | number | string[] | undefined>; hash?: string; search?: string };

export interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> {
  href: Url;
  as?: Url;
  replace?: boolean;
  scroll?: boolean;
  prefetch?: boolean | null;
  shallow?: boolean;
  passHref?: boolean;
  legacyBehavior?: boolean;
  locale?: string | false;
  onNavigate?: (event: { preventDefault(): void }) => void;
  children?: ReactNode;
}

export function formatUrl(url: Url): string {
  if (typeof url === "string") return url;
  let search = url.search ?? "";
  if (!search && url.query) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(url.query)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) query.append(key, String(item));
    }
    const text = query.toString();
    search = text ? "?" + text : "";
  }
  const hash = url.hash ? (url.hash.startsWith("#") ? url.hash : "#" + url.hash) : "";
  return (url.pathname ?? "") + search + hash;
}

function opensInPlace(event: MouseEvent<HTMLAnchorElement>, target?: string): boolean {
  return !event.defaultPrevented && event.button === 0 && !event.metaKey && !event.ctrlKey
    && !event.shiftKey && !event.altKey && (!target || target === "_self");
}

const Link = forwardRef<HTMLAnchorElement, LinkProps>(function Link(props, ref) {
  const {
    href, as, replace, scroll, prefetch: _prefetch, shallow: _shallow, passHref: _passHref,
    legacyBehavior, locale: _locale, onNavigate, onClick, children, ...rest
  } = props;
  const url = formatUrl(as ?? href);
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (isExternal(url) || !opensInPlace(event, rest.target)) return;
    let cancelled = false;
    onNavigate?.({ preventDefault: () => { cancelled = true; } });
    event.preventDefault();
    if (!cancelled) navigate(url, { replace, scroll });
  };
  if (legacyBehavior && isValidElement(children)) {
    const child = Children.only(children) as ReactElement<Record<string, unknown>>;
    return cloneElement(child, { href: toHref(url), onClick: handleClick, ref });
  }
  return (
    <a {...rest} ref={ref} href={toHref(url)} onClick={handleClick}>
      {children}
    </a>
  );
});

export default Link;

export function useLinkStatus(): { pending: boolean } {
  return { pending: false };
}
