import { assert, describe, it } from "@effect/vitest"
import { html, trusted } from "../../console/Html.ts"
import { runsTable } from "../../console/RunsPage.ts"

const hostile = `"><script>alert(1)</script><img src=x onerror=alert(2)>`

describe("console markup", () => {
  it("escapes every interpolated value, in text and in attributes", () => {
    const out = html`<a title="${hostile}">${hostile}</a>${[hostile, 1, null, false]}`.text
    assert.notInclude(out, "<script>")
    assert.notInclude(out, "<img")
    assert.include(out, "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
    assert.strictEqual(html`${trusted("<b>kept</b>")}`.text, "<b>kept</b>")
  })

  it("shows a run with a hostile pipeline name and error message as text", () => {
    const started = new Date("2026-11-30T02:10:00Z")
    const out = runsTable(
      [
        {
          id: `run_${hostile}`,
          pipeline: hostile,
          trigger: "manual",
          status: "failed",
          started_at: started,
          finished_at: new Date(started.getTime() + 1500),
          error: { tag: "StageFailed", reason: null, stage: null, message: hostile }
        }
      ],
      new Date("2026-11-30T03:00:00Z")
    ).text
    assert.notInclude(out, "<script>")
    assert.notInclude(out, "<img")
    assert.notInclude(out, `href="/runs/run_"`)
    assert.include(out, encodeURIComponent(`run_${hostile}`))
  })
})
