import * as fs from "node:fs/promises"
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { fileStep } from "../../sinks/ReportFileError.ts"

/** What a sweep of the reports folder did: folders removed, and folders kept for a person to look at (and why). */
export interface SweptLeftovers {
  readonly removed: ReadonlyArray<string>
  readonly kept: ReadonlyArray<{ readonly folder: string; readonly why: string }>
}

const stagingFolder = /^\.staging-\d{4}-\d{2}-\d{2}-(run_[A-Za-z0-9_]+)$/
const previousFolder = /^\d{4}-\d{2}-\d{2}\.previous-(run_[A-Za-z0-9_]+)$/

/**
 * Removes what earlier report runs left in `root` when their process ended before cleaning up:
 * - `.staging-<week>-<run>` of a run that is no longer running (its files were never published, or were moved);
 * - `<week>.previous-<run>` of a run that committed (the week's new folder is the committed one).
 * A `.previous` folder of a run that did not commit is kept and named: the week's folder may then hold that run's
 * uncommitted pages, and which one to keep is a person's call. Run states come from `pipeline_run`.
 */
export const sweepReportLeftovers = Effect.fn("ReportLeftovers.sweep")(function* (root: string) {
  // a reports folder that does not exist yet has nothing to sweep
  const entries = yield* Effect.promise(() => fs.readdir(root).catch(() => [] as Array<string>))
  const leftovers = entries.flatMap(
    (name): ReadonlyArray<{ name: string; kind: "staging" | "previous"; runId: string }> => {
      const staging = stagingFolder.exec(name)
      if (staging !== null) return [{ name, kind: "staging", runId: staging[1]! }]
      const previous = previousFolder.exec(name)
      return previous === null ? [] : [{ name, kind: "previous", runId: previous[1]! }]
    }
  )
  if (leftovers.length === 0) return { removed: [], kept: [] } satisfies SweptLeftovers
  const sql = yield* SqlClient.SqlClient
  const runs = yield* sql<{ id: string; status: string }>`
    SELECT id, status FROM pipeline_run WHERE id IN ${sql.in(leftovers.map((l) => l.runId))}`
  const status = new Map(runs.map((r) => [r.id, r.status]))
  const removed: Array<string> = []
  const kept: Array<{ folder: string; why: string }> = []
  for (const leftover of leftovers) {
    const state = status.get(leftover.runId) ?? "unknown"
    const remove = leftover.kind === "staging" ? state !== "running" : state === "succeeded"
    if (remove) {
      const folder = path.join(root, leftover.name)
      yield* fileStep("Remove", folder, () => fs.rm(folder, { recursive: true, force: true }))
      removed.push(leftover.name)
    } else {
      kept.push({
        folder: leftover.name,
        why:
          leftover.kind === "staging"
            ? `run ${leftover.runId} is still running`
            : `run ${leftover.runId} ${state === "running" ? "is still running" : `did not commit (${state})`}; the week's folder may hold its uncommitted pages`
      })
    }
  }
  return { removed, kept } satisfies SweptLeftovers
})
