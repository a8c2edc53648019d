#!/usr/bin/env node
// The `seedtest` command. Uses the bundle in dist/ (built by `npm ci` / `npm run build`) when it is newer than every
// source file, else runs the TypeScript sources through tsx, so an edited checkout never runs stale code.
// SEEDTEST_CLI=bundle forbids that fallback (the CLI test suites set it: they must test what users run).
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const bundle = path.join(root, "dist", "seedtest.mjs")
const SOURCES = [
  "cli",
  "console",
  "telemetry",
  "engine",
  "pipelines",
  "stages",
  "sources",
  "sinks",
  "config",
  "db",
  "cohort"
]

const newestSource = () => {
  let newest = 0
  const walk = (dir) => {
    let entries
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(full).mtimeMs)
    }
  }
  for (const dir of SOURCES) walk(path.join(root, dir))
  return newest
}

let fresh = false
try {
  fresh = fs.statSync(bundle).mtimeMs >= newestSource()
} catch {
  fresh = false
}
if (!fresh && process.env.SEEDTEST_CLI === "bundle") {
  process.stderr.write(
    `error: SEEDTEST_CLI=bundle but ${bundle} is missing or older than the sources; run \`npm run build\`\n`
  )
  process.exit(3)
}
if (fresh) {
  await import(pathToFileURL(bundle).href)
} else {
  // tsx is a devDependency: a checkout has it, an installed package has no sources to run through it
  const tsx = await import("tsx/esm/api").catch(() => undefined)
  if (tsx === undefined) {
    process.stderr.write(
      `error: ${bundle} is missing or older than the sources, and tsx (a devDependency) is not ` +
        "installed to run the sources; run `npm run build`\n"
    )
    process.exit(3)
  }
  tsx.register()
  await import(pathToFileURL(path.join(root, "cli", "main.ts")).href)
}
