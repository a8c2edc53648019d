// Bundles the CLI into dist/seedtest.mjs so a cold `seedtest` starts fast (one file, tree-shaken Effect) instead of
// transpiling and resolving hundreds of modules. Runs on `npm ci` / `npm install` (the `prepare` script).
//   --lib              also compiles the library (ESM + .d.ts) into dist/lib, the package's `exports` (`npm pack`)
//   --runtime-modules[=DIR]  also copies the packages the bundle leaves external, with what they need, into
//                            DIR/node_modules (default dist): all the runtime image installs (see Dockerfile)

import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { build } from "esbuild"

// PGlite ships WASM next to its JS; pg-native is an optional peer of pg that we do not use; playwright-core finds
// its own files through __dirname (undefined in an ES module bundle) and is loaded only to print PDFs
const external = ["@electric-sql/pglite", "@electric-sql/pglite-socket", "pg-native", "playwright-core"]

await build({
  entryPoints: ["cli/main.ts"],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: "dist/seedtest.mjs",
  external,
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  },
  logLevel: "warning",
  sourcemap: "linked"
})

if (process.argv.includes("--lib")) {
  // a fresh folder: a module deleted from the sources must not linger in the package
  fs.rmSync("dist/lib", { recursive: true, force: true })
  execFileSync(process.execPath, [path.join("node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], {
    stdio: "inherit"
  })
  // the shipped schedule, next to the compiled config/schedule.js that looks for it
  fs.copyFileSync("config/schedule.json", "dist/lib/config/schedule.json")
}

const runtimeModules = process.argv.find((a) => a === "--runtime-modules" || a.startsWith("--runtime-modules="))
if (runtimeModules !== undefined) {
  const into = path.join(runtimeModules.includes("=") ? runtimeModules.slice(runtimeModules.indexOf("=") + 1) : "dist")
  // the closure, from package-lock.json, of the external packages that are installed (pg-native is not)
  const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages
  const copied = new Set()
  // where Node finds `name` from the package at `from`: its own node_modules, then each enclosing one
  const locate = (name, from) => {
    let dir = from
    while (true) {
      const key = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`
      if (lock[key] !== undefined) return key
      if (dir === "") return undefined
      const parent = dir.lastIndexOf("/node_modules/")
      dir = parent === -1 ? "" : dir.slice(0, parent)
    }
  }
  const copy = (key) => {
    if (copied.has(key)) return
    copied.add(key)
    fs.cpSync(key, path.join(into, key), { recursive: true })
    const entry = lock[key]
    const optionalPeers = Object.entries(entry.peerDependenciesMeta ?? {})
      .filter(([, m]) => m.optional)
      .map(([n]) => n)
    const needs = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.includes(n))
    ]
    for (const name of needs) {
      const found = locate(name, key)
      if (found !== undefined) copy(found)
    }
  }
  fs.rmSync(path.join(into, "node_modules"), { recursive: true, force: true })
  for (const name of external) {
    const key = locate(name, "")
    if (key !== undefined) copy(key)
  }
  console.log(
    `${path.join(into, "node_modules")}: ${[...copied].map((k) => k.slice(k.lastIndexOf("node_modules/") + 13)).join(", ")}`
  )
}
