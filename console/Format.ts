/** How long something took, for people: `850 ms`, `12.3 s`, `4 min 05 s`. */
export const duration = (millis: number | null): string => {
  if (millis === null) return "—"
  if (millis < 1000) return `${Math.round(millis)} ms`
  if (millis < 60_000) return `${(millis / 1000).toFixed(1)} s`
  const s = Math.round(millis / 1000)
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`
}

/** A UTC time as `2026-11-23 04:30 UTC` (the console shows every time in UTC, like the schedule file's default). */
export const utc = (date: Date | null): string =>
  date === null ? "—" : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`

/** How long ago, relative to `now`: `3 min ago`, `in 2 h`. */
export const relative = (date: Date, now: Date): string => {
  const diff = date.getTime() - now.getTime()
  const abs = Math.abs(diff)
  const text =
    abs < 60_000
      ? `${Math.round(abs / 1000)} s`
      : abs < 3_600_000
        ? `${Math.round(abs / 60_000)} min`
        : abs < 172_800_000
          ? `${Math.round(abs / 3_600_000)} h`
          : `${Math.round(abs / 86_400_000)} d`
  return diff < 0 ? `${text} ago` : `in ${text}`
}

/** A number for a table cell: fixed decimals, `—` when absent. */
export const num = (value: number | null | undefined, digits = 3): string =>
  value === null || value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits)
