/** A fresh run id: sortable by start time, unique across processes. */
export const makeRunId = (now: Date = new Date()): string =>
  `run_${now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}_${Math.random().toString(36).slice(2, 8)}`
