import { Effect, Option } from "effect"
import { Console } from "./ConsoleOptions.ts"
import { ConsoleStore, type SlotRow } from "./ConsoleStore.ts"
import * as Format from "./Format.ts"
import { html } from "./Html.ts"
import { page, statusBadge } from "./Layout.ts"
import { cachedUpcoming } from "./UpcomingFires.ts"

const HISTORY_DAYS = 14

/** Slots grouped by their UTC day, newest day first. */
export const slotsByDay = (slots: ReadonlyArray<SlotRow>): ReadonlyArray<readonly [string, ReadonlyArray<SlotRow>]> => {
  const days = new Map<string, Array<SlotRow>>()
  for (const s of slots) {
    const day = s.slot.toISOString().slice(0, 10)
    days.set(day, [...(days.get(day) ?? []), s])
  }
  return [...days].sort(([a], [b]) => b.localeCompare(a))
}

/** `/schedule`: the upcoming fires in the order they will run, and what happened to each slot of the last days. */
export const schedulePage = Effect.gen(function* () {
  const { registry, schedule, token } = yield* Console
  const store = yield* ConsoleStore
  const now = new Date()
  const upcoming = (yield* cachedUpcoming(registry, schedule))
    .filter((u) => u.fire.getTime() > now.getTime())
    .slice(0, 20)
  const history = slotsByDay(yield* store.slots(new Date(now.getTime() - HISTORY_DAYS * 86_400_000)))
  const body = html`
<h2>Upcoming fires</h2>
<p class="muted">In the order they will run: a pipeline waits for the same-day fires of the pipelines it reads from (what <code>seedtest next</code> prints).</p>
<div class="scroll"><table id="upcoming"><thead><tr><th>fires</th><th>pipeline</th><th>waits for</th></tr></thead><tbody>${upcoming.map(
    (u) =>
      html`<tr><td title="${Format.relative(u.fire, now)}">${Format.utc(u.fire)}</td><td><a href="${`/pipelines/${encodeURIComponent(u.pipeline)}`}">${u.pipeline}</a></td>
<td>${u.after.length === 0 ? "—" : u.after.join(", ")}${u.startsAfter > u.fire ? html` <span class="muted">(not before ${Format.utc(u.startsAfter)})</span>` : ""}</td></tr>`
  )}</tbody></table></div>
<h2>Slot history (last ${HISTORY_DAYS} days)</h2>
${
  history.length === 0
    ? html`<p class="muted" id="no-slots">No scheduled slot in the last ${HISTORY_DAYS} days: the scheduler (<code>seedtest scheduler</code>) has not run here.</p>`
    : history.map(
        ([day, slots]) =>
          html`<div class="card" data-day="${day}"><strong>${day}</strong> <span class="muted">${(
            ["succeeded", "failed", "skipped", "running", "pending"] as const
          ).map((st) => {
            const n = slots.filter((s) => s.status === st).length
            return n === 0 ? "" : ` · ${n} ${st}`
          })}</span>
<div class="scroll"><table><thead><tr><th>slot</th><th>pipeline</th><th>status</th><th>attempts</th><th>run / why</th></tr></thead><tbody>${slots.map(
            (s) =>
              html`<tr><td>${s.slot.toISOString().slice(11, 16)}</td><td>${s.pipeline}</td><td>${statusBadge(s.status)}</td><td class="num">${s.attempts}</td>
<td>${s.run_id === null ? "" : html`<a class="mono" href="${`/runs/${encodeURIComponent(s.run_id)}`}">${s.run_id}</a> `}${s.detail === null ? "" : html`<span class="muted">${s.detail}</span>`}</td></tr>`
          )}</tbody></table></div></div>`
      )
}`
  return page({ title: "Schedule", section: "schedule", readOnly: Option.isNone(token), body })
})
