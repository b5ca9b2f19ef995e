import type { Note } from '../domain/note';
import type { PartnerSandboxDatabase } from './database';

/**
 * Stores a note and returns it as saved.
 *
 * @example
 *   const note = await insertNote(db, 'buy milk');
 */
export async function insertNote(db: PartnerSandboxDatabase, text: string): Promise<Note> {
  const row = await db
    .insertInto('notes')
    .values({ text })
    .returning(['id', 'text', 'created_at'])
    .executeTakeFirstOrThrow();
  return { id: row.id, text: row.text, createdAt: row.created_at.toISOString() };
}

/**
 * The most recent notes first, at most `limit`.
 *
 * @example
 *   const notes = await listNotes(db, 20);
 */
export async function listNotes(db: PartnerSandboxDatabase, limit: number): Promise<Note[]> {
  const rows = await db
    .selectFrom('notes')
    .select(['id', 'text', 'created_at'])
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ id: row.id, text: row.text, createdAt: row.created_at.toISOString() }));
}
