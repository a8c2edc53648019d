// The runtime image (Dockerfile's last stage) installs no npm packages: it holds the CLI bundle and the packages the
// bundle leaves external, copied by `scripts/build.mjs --runtime-modules`. No Docker engine here, so this lays out the
// files the stage's COPY lines name in a folder outside the repository and runs the CLI from there, as the image does,
// against the embedded database: what the bundle needs and the image lacks would fail here.

import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { exec } from "../support/ChildProcess.ts"

const repository = path.resolve(import.meta.dirname, "..", "..")
const dockerfile = fs.readFileSync(path.join(repository, "Dockerfile"), "utf8")
/** The instructions of the last stage (the image that runs), without comments. */
const runtimeStage = dockerfile
  .slice(dockerfile.lastIndexOf("\nFROM "))
  .split("\n")
  .filter((line) => !line.trimStart().startsWith("#"))
  .join("\n")

describe("the runtime image's files", () => {
  it("install nothing from npm: the bundle and the external packages it needs are copied", () => {
    assert.notMatch(runtimeStage, /\bnpm\b/)
    assert.match(dockerfile, /RUN node scripts\/build\.mjs --runtime-modules\n/)
  })

  it.scoped(
    "run the CLI against the embedded database without the repository's node_modules",
    () =>
      Effect.gen(function* () {
        const image = yield* Effect.acquireRelease(
          Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-image-"))),
          (folder) => Effect.sync(() => fs.rmSync(folder, { recursive: true, force: true }))
        )
        // the build stage's dist/ (bundle + runtime modules), built into the image folder
        const built = yield* exec(
          process.execPath,
          ["scripts/build.mjs", `--runtime-modules=${path.join(image, "dist")}`],
          {
            cwd: repository
          }
        )
        assert.strictEqual(built.code, 0, built.stderr)
        fs.copyFileSync(path.join(repository, "dist", "seedtest.mjs"), path.join(image, "dist", "seedtest.mjs"))
        // the stage's other COPY lines, from the repository
        const copies = [...runtimeStage.matchAll(/^COPY (?!--from)(\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const)
        assert.deepStrictEqual(copies.map(([from]) => from).sort(), ["bin", "config/schedule.json"])
        for (const [from, to] of copies)
          fs.cpSync(path.join(repository, from), path.join(image, to), { recursive: true })
        const [entrypoint] = [...runtimeStage.matchAll(/^ENTRYPOINT \["node", "([^"]+)"\]$/gm)].map((m) => m[1]!)
        const env = { PATH: process.env.PATH ?? "", TZ: "UTC", SEEDTEST_DATA_DIR: path.join(image, "data") }
        const seedtest = (args: ReadonlyArray<string>) =>
          exec(process.execPath, [path.join(image, entrypoint!), ...args], { cwd: image, env, timeoutMs: 300_000 })

        const seeded = yield* seedtest(["seed", "--students", "12", "--weeks", "3"])
        assert.strictEqual(seeded.code, 0, seeded.stdout + seeded.stderr)
        const ran = yield* seedtest(["run", "compute-daily-kpis"])
        assert.strictEqual(ran.code, 0, ran.stdout + ran.stderr)
        const runs = yield* seedtest(["runs"])
        assert.strictEqual(runs.code, 0, runs.stderr)
        assert.match(runs.stdout, /compute-daily-kpis.*succeeded/)
      }),
    { timeout: Duration.toMillis(Duration.minutes(10)) }
  )
})
