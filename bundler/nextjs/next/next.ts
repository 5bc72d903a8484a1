/* The "next" package itself: its types (Metadata, Viewport, NextConfig) are erased at build
 * time, so nothing is left to provide at run time. */
export {};
