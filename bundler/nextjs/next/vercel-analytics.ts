/* @vercel/analytics and @vercel/speed-insights, which v0's root layout mounts: a preview is
 * nobody's production traffic, and their script (/_vercel/insights/script.js) exists only on
 * Vercel, so they render nothing and send nothing. */
export function Analytics(): null {
  return null;
}

export function SpeedInsights(): null {
  return null;
}

export function track(): void {}

export function inject(): void {}

export function injectSpeedInsights(): void {}

export function computeRoute(pathname: string | null): string | null {
  return pathname;
}
