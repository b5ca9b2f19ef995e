import { Router } from 'express';
import { parseRequest } from '@ittd/platform';
import type { PartnerSandboxDatabase } from '../data/database';
import { insertNote, listNotes } from '../data/note-repository';
import { createNoteBody, listNotesQuery } from '../domain/note';

/**
 * The example routes, relative to `/v1/notes`: create a note, list the latest ones. Invalid input is
 * answered 400 with a problem+json body by the platform.
 *
 * @example
 *   app.use('/v1/notes', noteRoutes(ctx.db));
 */
export function noteRoutes(db: PartnerSandboxDatabase): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const { text } = parseRequest(createNoteBody, req.body, 'The note is invalid.');
    res.status(201).json(await insertNote(db, text));
  });

  router.get('/', async (req, res) => {
    const { limit } = parseRequest(listNotesQuery, req.query, 'The query is invalid.');
    res.json({ notes: await listNotes(db, limit) });
  });

  return router;
}
