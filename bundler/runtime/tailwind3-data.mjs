// Prints Tailwind v3's default theme (resolved: no functions left) and its colour palette
// as JSON: what a sandboxed tailwind.config gets for `tailwindcss/defaultTheme` and
// `tailwindcss/colors`.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const resolveConfig = require("tailwindcss3/resolveConfig");
const colors = require("tailwindcss3/colors");

// The palette's old names (lightBlue, …) are getters that warn; they are not data.
const palette = Object.fromEntries(Object.entries(Object.getOwnPropertyDescriptors(colors))
  .filter(([, d]) => "value" in d).map(([name, d]) => [name, d.value]));
const theme = resolveConfig({ content: [{ raw: "", extension: "html" }] }).theme;
process.stdout.write(JSON.stringify({ defaultTheme: theme, colors: palette }));
