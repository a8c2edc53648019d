import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer, Logger, LogLevel } from "effect"
import * as Telemetry from "../telemetry/Telemetry.ts"
import { backfill } from "./commands/backfill.ts"
import { list } from "./commands/list.ts"
import { next } from "./commands/next.ts"
import { plan } from "./commands/plan.ts"
import { run } from "./commands/run.ts"
import { runs } from "./commands/runs.ts"
import { scheduler } from "./commands/scheduler.ts"
import { seed } from "./commands/seed.ts"
import { ui } from "./commands/ui.ts"
import { RedactorFromConfig, scrub } from "./Environment.ts"
import { ExitCode, explain } from "./Failure.ts"

const seedtest = Command.make("seedtest").pipe(
  Command.withDescription(
    "seedtest-pipelines: the learning-analytics engine. Runs the model pipelines (KPIs, growth, forecast, survival, segments, report) on DATABASE_URL, or on an embedded database in SEEDTEST_DATA_DIR (default ./.seedtest) when DATABASE_URL is unset."
  ),
  Command.withSubcommands([list, plan, run, runs, seed, scheduler, next, backfill, ui])
)

const cli = Command.run(seedtest, { name: "seedtest", version: "0.1.0" })

/** Runs the command line and turns any failure into one clear message on stderr and a distinct exit code. */
const main = Effect.suspend(() => cli(process.argv)).pipe(
  // traces leave (and are flushed) within the command; a bad telemetry setting is reported like any setting
  Effect.provide(Telemetry.layer),
  Effect.as(ExitCode.ok as number),
  Effect.catchAllCause((cause) =>
    Effect.gen(function* () {
      const explained = explain(cause)
      if (explained === undefined) return ExitCode.userError
      yield* Console.error(yield* scrub(`error: ${explained.message}`))
      if (explained.hint !== undefined) yield* Console.error(explained.hint)
      if (explained.code === ExitCode.runFailed && explained.message.startsWith("internal error")) {
        yield* Effect.logDebug(Cause.pretty(cause))
      }
      return explained.code
    })
  ),
  Effect.provide(Layer.mergeAll(NodeContext.layer, RedactorFromConfig)),
  Logger.withMinimumLogLevel(LogLevel.Warning)
)

// SIGTERM and SIGINT interrupt the command. For the scheduler daemon that is how it is stopped (after its grace
// period), a success; any other command was cut short (130, as a shell reports Ctrl-C).
const daemon = process.argv[2] === "scheduler"

NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  teardown: (exit, onExit) =>
    onExit(
      Exit.isSuccess(exit)
        ? (exit.value as number)
        : Exit.isInterrupted(exit)
          ? daemon
            ? ExitCode.ok
            : 130
          : ExitCode.runFailed
    )
})
