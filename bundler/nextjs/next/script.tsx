/* next/script for a preview page. The page's Content-Security-Policy runs scripts of the
 * render only, so an inline script runs from the file the build made of its text (see
 * bundler/nextjs/scripts.py): makeScript gets those files, text → URL, per importing module.
 * A script from another site is never loaded, and says so. */
import { useEffect, type ReactNode } from "react";

export interface ScriptProps {
  id?: string;
  src?: string;
  strategy?: "beforeInteractive" | "afterInteractive" | "lazyOnload" | "worker";
  children?: ReactNode;
  dangerouslySetInnerHTML?: { __html: string };
  onLoad?: () => void;
  onReady?: () => void;
  onError?: (error: unknown) => void;
  [attribute: string]: unknown;
}

const started = new Set<string>();

function load(url: string, id: string | undefined, props: ScriptProps): void {
  const script = document.createElement("script");
  if (id) script.id = id;
  script.src = url;
  script.async = false;
  script.onload = () => {
    props.onLoad?.();
    props.onReady?.();
  };
  script.onerror = (event) => props.onError?.(event);
  document.body.appendChild(script);
}

export function makeScript(files: Map<string, string>) {
  return function Script(props: ScriptProps): null {
    const { id, src, children, dangerouslySetInnerHTML } = props;
    const code = dangerouslySetInnerHTML?.__html ?? (typeof children === "string" ? children : "");
    useEffect(() => {
      const key = id ?? src ?? code;
      if (started.has(key)) return;
      started.add(key);
      if (src) {
        if (/^([a-z][a-z\d+.-]*:)?\/\//i.test(src)) {
          const error = new Error(`next/script: ${src} was not loaded; a preview page runs only the scripts of its own render`);
          console.warn(error.message);
          props.onError?.(error);
        } else {
          load(src.startsWith("/") ? "." + src : src, id, props); // a file of /public/
        }
        return;
      }
      const url = files.get(code);
      if (url) load(url, id, props);
      else console.warn(`next/script${id ? ` "${id}"` : ""}: an inline script built at run time cannot run under a preview page's Content-Security-Policy; write its text as a literal`);
    }, []);
    return null;
  };
}
