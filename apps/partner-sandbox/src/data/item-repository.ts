import type { PartnerSandboxDatabase } from './database';

/** An item of a list: one event of the `new_item` trigger. */
export interface Item {
  id: string;
  list: string;
  title: string;
  description: string;
  createdAt: Date;
}

const COLUMNS = ['id', 'list', 'title', 'description', 'created_at'] as const;

function toItem(row: {
  id: string;
  list: string;
  title: string;
  description: string;
  created_at: Date;
}): Item {
  return {
    id: row.id,
    list: row.list,
    title: row.title,
    description: row.description,
    createdAt: row.created_at,
  };
}

/**
 * Adds an item to a list; returns it as saved.
 *
 * @example
 *   const item = await insertItem(db, { list: 'inbox', title: 'Buy milk' });
 */
export async function insertItem(
  db: PartnerSandboxDatabase,
  item: { list: string; title: string; description?: string },
): Promise<Item> {
  const row = await db
    .insertInto('items')
    .values({ list: item.list, title: item.title, description: item.description ?? '' })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toItem(row);
}

/**
 * The newest items of a list first, at most `limit`.
 *
 * @example
 *   const items = await listItems(db, 'inbox', 50);
 */
export async function listItems(db: PartnerSandboxDatabase, list: string, limit: number): Promise<Item[]> {
  if (limit === 0) return [];
  const rows = await db
    .selectFrom('items')
    .select(COLUMNS)
    .where('list', '=', list)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toItem);
}

/** How many items a list has. */
export async function countItems(db: PartnerSandboxDatabase, list: string): Promise<number> {
  const row = await db
    .selectFrom('items')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('list', '=', list)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
