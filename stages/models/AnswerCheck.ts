/**
 * Checks of a model answer against its request, for answers that decode but are wrong: an R service (or whatever
 * answers at its URL) that returns users it was never sent, a user twice, or a cluster it does not define. Each
 * returns the first problem as text, or undefined when the answer fits the request.
 */

/** Every answered id was sent, and none is answered twice; `where` names the list (`segments`). */
export const idsWereSent = (
  sent: Iterable<string>,
  answered: ReadonlyArray<string>,
  where: string
): string | undefined => {
  const known = new Set(sent)
  const seen = new Set<string>()
  for (const [i, id] of answered.entries()) {
    if (!known.has(id)) return `${where}.${i} is "${id}", which was never sent`
    if (seen.has(id)) return `${where}.${i}: "${id}" is answered twice`
    seen.add(id)
  }
  return undefined
}

/** Every assignment names one of the defined clusters. */
export const clustersAreDefined = (
  defined: Iterable<number>,
  assigned: ReadonlyArray<{ readonly cluster: number }>,
  where: string
): string | undefined => {
  const clusters = new Set(defined)
  const i = assigned.findIndex((a) => !clusters.has(a.cluster))
  return i < 0
    ? undefined
    : `${where}.${i}.cluster is ${assigned[i]!.cluster}, which is not one of the clusters ${[...clusters].sort((a, b) => a - b).join(", ")}`
}

/** The first problem of several checks. */
export const firstProblem = (...problems: ReadonlyArray<() => string | undefined>): string | undefined => {
  for (const problem of problems) {
    const found = problem()
    if (found !== undefined) return found
  }
  return undefined
}
