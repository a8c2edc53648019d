// Imports flow one way: engine < config < sources, sinks < stages < pipelines < cli. A module may import from its own
// layer and the layers below it, never from a layer above: the kernel stays free of the domain, and a sink or a source
// can be reused without the stages that use it.

import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"

const repository = path.resolve(import.meta.dirname, "..", "..")

/** Each top-level folder's layer: lower numbers are lower layers. `index.ts` (the package entry) sits on top. */
const layers: Record<string, number> = {
  engine: 0,
  config: 1,
  db: 1,
  sources: 2,
  sinks: 2,
  telemetry: 2,
  stages: 3,
  pipelines: 4,
  console: 5,
  cohort: 5,
  cli: 6,
  "index.ts": 7
}

/** Upward imports that are allowed: none. */
const knownExceptions = new Set<string>()

const filesOf = (dir: string): ReadonlyArray<string> =>
  fs.readdirSync(path.join(repository, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(dir, entry.name)
    if (entry.isDirectory()) return filesOf(relative)
    return entry.name.endsWith(".ts") ? [relative] : []
  })

/** The module specifiers of a file: static imports and re-exports (type-only too), dynamic imports. */
const specifiers = (source: string): ReadonlyArray<string> => [
  ...[...source.matchAll(/^\s*(?:import|export)\b[^"]*?\bfrom\s+"([^"]+)"/gm)].map((m) => m[1]!),
  ...[...source.matchAll(/^\s*import\s+"([^"]+)"/gm)].map((m) => m[1]!),
  ...[...source.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]!)
]

const layerOf = (file: string): string => (file.includes("/") ? file.slice(0, file.indexOf("/")) : file)

/** Every import in the layered folders, as "from -> to" (repository-relative), with both layers. */
const imports = Object.keys(layers).flatMap((top) =>
  (top.endsWith(".ts") ? [top] : filesOf(top)).flatMap((file) =>
    specifiers(fs.readFileSync(path.join(repository, file), "utf8"))
      .filter((s) => s.startsWith("."))
      .map((s) => {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), s))
        return { file, target, edge: `${file} -> ${target}` }
      })
  )
)

describe("imports flow one way", () => {
  it("finds the imports it checks (the scan is not vacuous)", () => {
    assert.isAbove(imports.length, 300)
    assert.deepStrictEqual(specifiers(`import type {\n  A,\n  B\n} from "../x/Y.ts"\nexport * as Z from "./Z.ts"\n`), [
      "../x/Y.ts",
      "./Z.ts"
    ])
  })

  it("no module imports from a layer above its own", () => {
    const upward = imports.filter(({ file, target }) => {
      const to = layers[layerOf(target)]
      return to !== undefined && to > layers[layerOf(file)]!
    })
    const unexpected = upward.map((i) => i.edge).filter((edge) => !knownExceptions.has(edge))
    assert.deepStrictEqual(unexpected, [], "upward imports (move what they import down a layer)")
    const gone = [...knownExceptions].filter((edge) => !upward.some((i) => i.edge === edge))
    assert.deepStrictEqual(gone, [], "known exceptions that no longer occur: remove them from this test")
  })

  it("the kernel's entry exports only the kernel; the package entry adds what sits above it", () => {
    const kernel = imports.filter((i) => i.file === "engine/index.ts").map((i) => layerOf(i.target))
    assert.deepStrictEqual([...new Set(kernel)], ["engine"])
    const entry = imports.filter((i) => i.file === "index.ts").map((i) => i.target)
    assert.includeMembers(entry, ["engine/index.ts", "sinks/TableWriter.ts", "sources/Database.ts", "db/Migrations.ts"])
  })
})
