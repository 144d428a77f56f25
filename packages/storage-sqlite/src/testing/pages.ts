/**
 * Where a table's pages are in a database file (SQLite's dbstat), for tests that damage
 * exactly those pages: "the raw samples are damaged, the accounts still read".
 */
import { openReadOnly } from '../db.js';

/** The page numbers (1-based) of a table's B-tree in the file, in order. */
export function pagesOf(path: string, table: string): number[] {
  const db = openReadOnly(path);
  try {
    const rows = db
      .prepare('SELECT pageno FROM dbstat WHERE name = ? ORDER BY pageno')
      .all(table) as { pageno: number }[];
    return rows.map((r) => r.pageno);
  } finally {
    db.close();
  }
}
