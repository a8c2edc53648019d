/** Markup that is already safe to put in a page: built by `html`, never from a raw string of user data. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

/** Escapes a text for an HTML element body or a quoted attribute. */
export const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c]!)

/** A value that may appear inside `html`: markup, text (escaped), numbers, lists of those; null/undefined/false render nothing. */
export type Part = Html | string | number | null | undefined | false | ReadonlyArray<Part>

const render = (part: Part): string => {
  if (part === null || part === undefined || part === false) return ""
  if (part instanceof Html) return part.text
  if (Array.isArray(part)) return (part as ReadonlyArray<Part>).map(render).join("")
  return escape(String(part))
}

/**
 * The only way pages build markup: every interpolated value is escaped unless it is itself `Html`, so a pipeline
 * name, an error message or a parameter value can never inject markup.
 */
export const html = (strings: TemplateStringsArray, ...parts: ReadonlyArray<Part>): Html =>
  new Html(strings.reduce((out, s, i) => out + s + (i < parts.length ? render(parts[i]!) : ""), ""))

/** Markup produced by a trusted renderer (elkjs layout or Vega's SVG), marked as such at the one place it is made. */
export const trusted = (markup: string): Html => new Html(markup)

/** A URL with query parameters, each encoded. */
export const href = (path: string, query: Record<string, string | number | undefined> = {}): string => {
  const q = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
  return q.length === 0 ? path : `${path}?${q.join("&")}`
}
