import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSourceUrl } from '../../src/docker/git-revision';

const scratch = mkdtempSync(join(tmpdir(), 'ittd-git-revision-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function repoWithOrigin(name: string, origin?: string): string {
  const dir = join(scratch, name);
  execFileSync('git', ['init', '-q', dir]);
  if (origin) execFileSync('git', ['-C', dir, 'remote', 'add', 'origin', origin]);
  return dir;
}

describe('readSourceUrl (the OCI source label)', () => {
  it('drops credentials from an https origin', () => {
    const dir = repoWithOrigin('https', 'https://ci:s3cret@git.example.com/ittd/ittd.git');
    expect(readSourceUrl(dir, {})).toBe('https://git.example.com/ittd/ittd.git');
  });

  it('keeps an scp-like origin as it is', () => {
    expect(readSourceUrl(repoWithOrigin('scp', 'git@git.example.com:ittd/ittd.git'), {})).toBe(
      'git@git.example.com:ittd/ittd.git',
    );
  });

  it('gives a clone of a local folder, and a repository without origin, as file URLs', () => {
    expect(readSourceUrl(repoWithOrigin('local', '/srv/git/ittd'), {})).toBe('file:///srv/git/ittd');
    const bare = repoWithOrigin('none');
    expect(readSourceUrl(bare, {})).toBe(`file://${bare}`);
  });

  it('prefers ITTD_SOURCE_URL', () => {
    expect(
      readSourceUrl(repoWithOrigin('env', '/srv/git/ittd'), { ITTD_SOURCE_URL: 'https://x.test/r' }),
    ).toBe('https://x.test/r');
  });
});
