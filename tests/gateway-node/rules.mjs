// The contract's input rules as this gateway implements them, for comparison with the
// worker's: reads {"paths": [...]} on stdin, prints {"valid": [bool per path],
// "forbidden": base64 of a bitmap over every code point, 1 where rule 2 forbids it}.
import { FORBIDDEN_CATEGORIES, validatePath } from "./gateway.mjs";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { paths } = JSON.parse(input);
const valid = paths.map(path => { try { validatePath(path); return true; } catch { return false; } });
const bitmap = Buffer.alloc(0x110000 / 8);
for (let cp = 0; cp < 0x110000; cp++) {
  if (FORBIDDEN_CATEGORIES.test(String.fromCodePoint(cp))) bitmap[cp >> 3] |= 1 << (cp & 7);
}
process.stdout.write(JSON.stringify({ valid, forbidden: bitmap.toString("base64") }) + "\n");
