import type { Migration } from 'kysely';
import * as createNotes from './0001-create-notes';

/**
 * The partner-sandbox service's migrations as a static record (the service is bundled, so it cannot read a
 * folder at run time). Keys sort in the order they run; add new files here.
 */
export const partnerSandboxMigrations: Record<string, Migration> = {
  '0001-create-notes': createNotes,
};
