"""`make bench`: the worker measured against bare esbuild and Vite (see bench/README.md)."""
