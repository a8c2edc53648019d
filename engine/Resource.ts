/**
 * What a stage reads or writes: a table, or one column (or jsonb key) of it, e.g. `attempt`, `weekly_kpi.S`.
 */
export interface Resource {
  readonly table: string
  readonly column: string | undefined
}

/** Parses `table` or `table.column`. */
export const make = (id: string): Resource => {
  const dot = id.indexOf(".")
  return dot < 0 ? { table: id, column: undefined } : { table: id.slice(0, dot), column: id.slice(dot + 1) }
}

/** Several resources at once: `Resource.many("weekly_kpi.S", "attempt")`. */
export const many = (...ids: ReadonlyArray<string>): ReadonlyArray<Resource> => ids.map(make)

/** The columns of one table: `Resource.columns("weekly_kpi", ["I_t", "E_t"])`. */
export const columns = (table: string, names: ReadonlyArray<string>): ReadonlyArray<Resource> =>
  names.map((column) => ({ table, column }))

/** `table` or `table.column`. */
export const format = (resource: Resource): string =>
  resource.column === undefined ? resource.table : `${resource.table}.${resource.column}`

/**
 * Whether a write of `a` touches what `b` names: same table, and either side is the whole table or both name the
 * same column.
 */
export const overlaps = (a: Resource, b: Resource): boolean =>
  a.table === b.table && (a.column === undefined || b.column === undefined || a.column === b.column)
