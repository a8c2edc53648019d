import { finiteOrNull } from "./Numbers.ts"

/**
 * R_t: of the items answered wrongly in the previous 28 days that came back in the last 28 days (`returned`), the
 * share whose latest attempt is now correct (`recovered`). Null when no such item exists — no earlier wrong answer,
 * or none of them came back: there is nothing to recover from yet.
 */
export const recovery = (returned: number, recovered: number): number | null =>
  returned <= 0 ? null : finiteOrNull(Math.min(recovered, returned) / returned)
