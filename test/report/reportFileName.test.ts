import { assert, describe, it } from "@effect/vitest"
import { reportFileName } from "../../stages/report/ReportPage.ts"

describe("a student's report file name", () => {
  it("never takes the cohort index's name, nor a hidden one, whatever the id", () => {
    for (const id of ["index", "INDEX", "Index", "", ".", "..", ".hidden", "...", "index.html"]) {
      const file = reportFileName(id, "html")
      assert.notStrictEqual(file.toLowerCase(), "index.html", id)
      assert.isFalse(file.startsWith("."), `${JSON.stringify(id)} → ${file}`)
      assert.notInclude(file, "/")
      assert.isTrue(file.endsWith(".html"))
    }
  })

  it("keeps distinct ids apart even on a case-insensitive file system", () => {
    const ids = [
      "ada",
      "Ada",
      "ADA",
      "a.da",
      "a_da",
      "a/da",
      "a\\da",
      "..",
      ".",
      "",
      "index",
      "Index",
      "s00001",
      "s00001~0"
    ]
    const names = ids.map((id) => reportFileName(id, "pdf").toLowerCase())
    assert.strictEqual(new Set(names).size, ids.length, names.join(" "))
  })

  it("keeps a plain id as its own name, so links stay readable", () => {
    assert.strictEqual(reportFileName("s00001", "html"), "s00001.html")
    assert.strictEqual(reportFileName("stu-42_b", "pdf"), "stu-42_b.pdf")
  })
})
