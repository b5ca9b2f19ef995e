import { decimalInteger, text } from '@ittd/platform';
import { z } from 'zod';

/** A note as the API answers it. */
export interface Note {
  id: string;
  text: string;
  createdAt: string;
}

/** The body of `POST /v1/notes`; `text()` is the platform's string rule (no NUL, no lone surrogate). */
export const createNoteBody = z.object({
  text: text().trim().min(1, { error: 'must not be empty' }).max(500, { error: 'at most 500 characters' }),
});

/** The query of `GET /v1/notes`; `decimalInteger` reads plain decimal digits only (`?limit=0x10` is a 400). */
export const listNotesQuery = z.object({
  limit: decimalInteger({ min: 1, max: 100 }).default(20),
});
