import { Context, Redacted } from "effect"

/**
 * The secret values of this process (database password, R service tokens). Anything stored or printed from a run —
 * errors, run records, logs — passes through `scrub`, so a secret that leaks into an error message never leaves.
 */
export class Redactor extends Context.Reference<Redactor>()("@seedtest/engine/Redactor", {
  defaultValue: () => make([])
}) {}

/** Masks each secret (of at least 4 characters) wherever it occurs. */
export const make = (secrets: ReadonlyArray<Redacted.Redacted<string> | string>) => {
  const values = secrets
    .map((s) => (typeof s === "string" ? s : Redacted.value(s)))
    .filter((s) => s.length >= 4)
    .sort((a, b) => b.length - a.length)
  return {
    secrets: values,
    scrub: (text: string): string => values.reduce((acc, secret) => acc.split(secret).join("<redacted>"), text)
  }
}

/** The same Redactor, also masking `more`. */
export const extend = (
  redactor: { readonly secrets: ReadonlyArray<string> },
  more: ReadonlyArray<Redacted.Redacted<string> | string>
) => make([...redactor.secrets, ...more])
