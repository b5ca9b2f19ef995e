import { readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import type { ContextEntry } from './image-spec';

/**
 * The tar stream the Engine API's /build takes as context. Entries are normalised (mtime 0, owner root,
 * mode 0644, or 0755 for executables) so the same files give the same tar, and the engine's layer cache
 * hits. Files are read one at a time as the engine consumes the stream. tar-stream 3 packs are streamx
 * streams; the Node Readable wrapped around it is what dockerode pipes into the request.
 *
 * @example
 * await buildImage(docker, packBuildContext(spec.context), spec, onEvent);
 */
export function packBuildContext(entries: readonly ContextEntry[]): Readable {
  const tar = pack();
  const queue = [...entries];
  const next = (error?: Error | null): void => {
    if (error) {
      tar.destroy(error);
      return;
    }
    const entry = queue.shift();
    if (!entry) {
      tar.finalize();
      return;
    }
    try {
      const mode = (statSync(entry.source).mode & 0o111) !== 0 ? 0o755 : 0o644;
      const header = { name: entry.name, mode, mtime: new Date(0), uid: 0, gid: 0 };
      tar.entry(header, readFileSync(entry.source), next);
    } catch (readError) {
      tar.destroy(readError as Error);
    }
  };
  next();
  return Readable.from(tar);
}
