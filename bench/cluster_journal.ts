/** Checks acknowledged edits against the PostgreSQL journal: every one stored, seqs contiguous, none stored twice. */

/** What {@link checkJournal} found. */
export interface JournalCheck {
  /** Acknowledged edits looked for. */
  acked: number;
  /** Acknowledged edits not in the journal (must be 0). */
  lost: number;
  /** Journal rows of these maps. */
  rows: number;
  /** Maps whose seqs are not exactly 1..n (must be 0). */
  gappedMaps: number;
  /** Edit ids stored more than once in one map (must be 0). */
  storedTwice: number;
}

/** Acknowledged edit ids by map id, as peers collect them. */
export class AckBook {
  readonly byMap = new Map<string, Set<string>>();

  /** Records that `editId` was acknowledged on `mapId`. */
  add(mapId: string, editId: string): void {
    let set = this.byMap.get(mapId);
    if (!set) this.byMap.set(mapId, set = new Set());
    set.add(editId);
  }

  /** How many edits were acknowledged. */
  get size(): number {
    let n = 0;
    for (const s of this.byMap.values()) n += s.size;
    return n;
  }
}

/**
 * Reads the journal of every map in `book` (`edits`: seq and the edit id inside the stored frame)
 * with `sql` and compares.
 */
export async function checkJournal(
  sql: (query: string) => Promise<string>,
  book: AckBook,
): Promise<JournalCheck> {
  // What was acknowledged before the journal is read: an ack arriving while the query runs may
  // be of a commit after the query's snapshot, and would be counted lost when it is not.
  const acked = new Map([...book.byMap].map(([mapId, ids]) => [mapId, new Set(ids)]));
  const ids = [...acked.keys()];
  const result: JournalCheck = {
    acked: [...acked.values()].reduce((n, s) => n + s.size, 0),
    lost: 0,
    rows: 0,
    gappedMaps: 0,
    storedTwice: 0,
  };
  if (ids.length === 0) return result;
  const text = await sql(
    `SELECT map_id, seq, frame::json->>'id' FROM edits WHERE map_id IN (${
      ids.map((id) => `'${id.replace(/[^A-Za-z0-9_-]/g, "")}'`).join(",")
    }) ORDER BY map_id, seq`,
  );
  const stored = new Map<string, { seqs: number[]; ids: string[] }>();
  for (const line of text.split("\n").filter(Boolean)) {
    const [mapId, seq, ...rest] = line.split("|");
    let m = stored.get(mapId);
    if (!m) stored.set(mapId, m = { seqs: [], ids: [] });
    m.seqs.push(Number(seq));
    m.ids.push(rest.join("|"));
    result.rows++;
  }
  for (const [mapId, ackedIds] of acked) {
    const m = stored.get(mapId) ?? { seqs: [], ids: [] };
    if (m.seqs.some((s, i) => s !== i + 1)) result.gappedMaps++;
    const have = new Set(m.ids);
    result.storedTwice += m.ids.length - have.size;
    for (const id of ackedIds) if (!have.has(id)) result.lost++;
  }
  return result;
}
