import type { PartnerSandboxDatabase } from './database';

/** A sandbox user. */
export interface SandboxUser {
  id: string;
  name: string;
}

/**
 * Creates the user, or renames it when it exists; returns it as saved.
 *
 * @example
 *   await saveUser(db, { id: 'sandbox-user', name: 'Sandbox Test User' });
 */
export async function saveUser(db: PartnerSandboxDatabase, user: SandboxUser): Promise<SandboxUser> {
  return db
    .insertInto('users')
    .values(user)
    .onConflict((oc) => oc.column('id').doUpdateSet({ name: user.name }))
    .returning(['id', 'name'])
    .executeTakeFirstOrThrow();
}

/** The user with `id`, if there is one. */
export async function findUser(db: PartnerSandboxDatabase, id: string): Promise<SandboxUser | undefined> {
  return db.selectFrom('users').select(['id', 'name']).where('id', '=', id).executeTakeFirst();
}
