// Bundles the CLI into dist/seedtest.mjs so a cold `seedtest` starts fast (one file, tree-shaken Effect) instead of
// transpiling and resolving hundreds of modules. Runs on `npm ci` / `npm install` (the `prepare` script).
import { build } from "esbuild"

await build({
  entryPoints: ["cli/main.ts"],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: "dist/seedtest.mjs",
  // PGlite ships WASM next to its JS; pg-native is an optional peer of pg that we do not use; playwright-core finds
  // its own files through __dirname (undefined in an ES module bundle) and is loaded only to print PDFs
  external: ["@electric-sql/pglite", "@electric-sql/pglite-socket", "pg-native", "playwright-core"],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: "warning",
  sourcemap: "linked"
})
