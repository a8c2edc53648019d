// The library as another service installs it: `npm pack` the project, install the tarball into a fresh project
// outside the repository, type-check a consumer there with its own strict NodeNext tsconfig, run it with plain `node`
// against the embedded database, and run the installed `seedtest` command.

import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { exec, type Finished } from "../support/ChildProcess.ts"

const repository = path.resolve(import.meta.dirname, "..", "..")
const manifest = JSON.parse(fs.readFileSync(path.join(repository, "package.json"), "utf8")) as {
  readonly dependencies: Record<string, string>
  readonly devDependencies: Record<string, string>
}

const npm = (args: ReadonlyArray<string>, cwd: string, timeoutMs = 300_000) =>
  exec("npm", args, { cwd, timeoutMs, env: { ...process.env, TZ: "UTC", npm_config_update_notifier: "false" } })

const succeeded = (step: string, finished: Finished) =>
  assert.strictEqual(finished.code, 0, `${step} failed:\n${finished.stdout}\n${finished.stderr}`)

/** A temporary folder outside the repository, removed when the test's scope closes. */
const temporaryFolder = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-consumer-"))),
  (folder) => Effect.sync(() => fs.rmSync(folder, { recursive: true, force: true }))
)

describe("the package, as another service installs it", () => {
  it.scoped(
    "packs, installs, type-checks and runs a consumer with plain node, and runs `npx seedtest`",
    () =>
      Effect.gen(function* () {
        const folder = yield* temporaryFolder
        assert.isFalse(folder.startsWith(repository), "the consumer lives outside the repository")

        // `npm pack` runs prepack/prepare: the bundle and the compiled library (dist/lib)
        const packed = yield* npm(["pack", "--json", "--pack-destination", folder], repository, 600_000)
        succeeded("npm pack", packed)
        const [tarball] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as ReadonlyArray<{
          readonly filename: string
          readonly files: ReadonlyArray<{ readonly path: string }>
        }>
        const files = tarball!.files.map((f) => f.path)
        for (const unwanted of ["bench/", "deploy/", "scripts/", "test/", "r-services/tests/", ".ci/"]) {
          assert.isEmpty(
            files.filter((f) => f.startsWith(unwanted)),
            `the tarball carries ${unwanted}`
          )
        }
        assert.isEmpty(
          files.filter((f) => path.basename(f).startsWith("Dockerfile")),
          "the tarball carries Dockerfiles"
        )
        assert.isEmpty(
          files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")),
          "TypeScript sources shipped"
        )
        for (const needed of ["dist/lib/index.js", "dist/lib/index.d.ts", "dist/seedtest.mjs", "bin/seedtest.mjs"]) {
          assert.include(files, needed)
        }

        const project = path.join(folder, "consumer")
        fs.mkdirSync(project)
        fs.writeFileSync(
          path.join(project, "package.json"),
          JSON.stringify({
            name: "consumer",
            private: true,
            type: "module",
            dependencies: {
              "seedtest-pipelines": `file:${path.join(folder, tarball!.filename)}`,
              "@effect/sql": manifest.dependencies["@effect/sql"],
              effect: manifest.dependencies.effect
            },
            devDependencies: {
              "@types/node": manifest.devDependencies["@types/node"],
              // @effect/sql-pg's declarations import pg's types
              "@types/pg": manifest.devDependencies["@types/pg"],
              typescript: manifest.devDependencies.typescript
            }
          })
        )
        fs.writeFileSync(
          path.join(project, "tsconfig.json"),
          JSON.stringify({
            compilerOptions: {
              target: "ES2022",
              module: "NodeNext",
              moduleResolution: "NodeNext",
              // @effect/platform's declarations name DOM types (ImageData, MessagePort)
              lib: ["ES2022", "DOM"],
              types: ["node"],
              strict: true,
              exactOptionalPropertyTypes: true,
              noUncheckedIndexedAccess: true,
              skipLibCheck: false,
              outDir: "out",
              rootDir: "."
            },
            include: ["main.ts", "consumer.ts"]
          })
        )
        // the consumer module the in-repository test runs, and an entry point that runs it on the embedded database
        fs.copyFileSync(path.join(import.meta.dirname, "consumer.ts"), path.join(project, "consumer.ts"))
        fs.copyFileSync(path.join(import.meta.dirname, "consumer-package", "main.ts"), path.join(project, "main.ts"))

        // from the npm cache where it can (the registry only for what the cache lacks)
        const installed = yield* npm(
          ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
          project,
          600_000
        )
        succeeded("npm install", installed)

        // the consumer's own tsc, with its own strict tsconfig, on the installed declarations
        const compiled = yield* exec(
          process.execPath,
          [path.join(project, "node_modules", "typescript", "bin", "tsc")],
          {
            cwd: project
          }
        )
        succeeded("tsc", compiled)

        // the embedded database's first start (WASM, migrations) is slow on a busy machine
        const ran = yield* exec(process.execPath, [path.join("out", "main.js"), path.join(folder, "data")], {
          cwd: project,
          env: { ...process.env, TZ: "UTC" },
          timeoutMs: 600_000
        })
        succeeded("node out/main.js", ran)
        const out = JSON.parse(ran.stdout) as {
          readonly stored: ReadonlyArray<{ readonly name: string; readonly length: number }>
          readonly records: ReadonlyArray<{ readonly status: string; readonly trigger: string }>
          readonly succeeded: ReadonlyArray<string>
          readonly registered: ReadonlyArray<string>
        }
        // "ada" is shorter than the minLength=4 the consumer passes
        assert.deepStrictEqual(
          out.stored.map((r) => [r.name, r.length]),
          [
            ["edsger", 6],
            ["grace", 5]
          ]
        )
        assert.deepStrictEqual(out.succeeded, ["names", "lengths", "store"])
        assert.deepStrictEqual(out.records, [{ status: "succeeded", trigger: "library" }])
        assert.include(
          out.registered,
          "compute-daily-kpis",
          "the registered pipelines, through seedtest-pipelines/pipelines"
        )

        // the installed command runs the bundle (no TypeScript sources, no tsx in the consumer)
        assert.isFalse(fs.existsSync(path.join(project, "node_modules", "tsx")), "tsx is a devDependency")
        const help = yield* exec("npx", ["--no-install", "seedtest", "--help"], { cwd: project, timeoutMs: 300_000 })
        succeeded("npx seedtest --help", help)
        assert.include(help.stdout, "seedtest")
        assert.include(help.stdout, "run")
        const list = yield* exec("npx", ["--no-install", "seedtest", "list"], { cwd: project, timeoutMs: 300_000 })
        succeeded("npx seedtest list", list)
        assert.include(list.stdout, "compute-daily-kpis")
      }),
    { timeout: Duration.toMillis(Duration.minutes(20)) }
  )
})
