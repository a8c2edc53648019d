import type { GrowthObservation } from "../models/schemas/Growth.ts"

/**
 * The rows of a fit request split into chunks of at most `size` students, each student's rows whole and in their
 * order; students keep the order of their first row, which is the order the fit answers them in, so the answers of
 * the chunks, concatenated, are in the fit's order.
 */
export const studentChunks = <R extends Pick<typeof GrowthObservation.Type, "student">>(
  rows: ReadonlyArray<R>,
  size: number
): ReadonlyArray<ReadonlyArray<R>> => {
  const byStudent = new Map<string, Array<R>>()
  for (const row of rows) {
    const own = byStudent.get(row.student)
    if (own === undefined) byStudent.set(row.student, [row])
    else own.push(row)
  }
  const students = [...byStudent.values()]
  const chunks: Array<ReadonlyArray<R>> = []
  for (let i = 0; i < students.length; i += size) chunks.push(students.slice(i, i + size).flat())
  return chunks
}
