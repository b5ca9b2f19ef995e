import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index';
import { logCollector } from './support';

describe('createLogger', () => {
  it('writes JSON lines with the service name and redacts secret keys and credentials', () => {
    const logs = logCollector();
    const logger = createLogger({
      service: 'applets',
      secretKeys: ['DATABASE_URL'],
      destination: logs.stream,
    });
    logger.info({ DATABASE_URL: 'postgres://u:hunter2@db/x' }, 'top level');
    logger.info({ config: { DATABASE_URL: 'postgres://u:hunter2@db/x', PORT: 3000 } }, 'nested');
    logger.info({ req: { headers: { authorization: 'Bearer hunter2' } } }, 'header');
    logger.debug('below the level');
    expect(logs.lines.map((line) => line.msg)).toEqual(['top level', 'nested', 'header']);
    expect(logs.lines[0]).toMatchObject({ level: 'info', service: 'applets', DATABASE_URL: '[redacted]' });
    expect(logs.lines[1]).toMatchObject({ config: { DATABASE_URL: '[redacted]', PORT: 3000 } });
    expect(Date.parse(String(logs.lines[0].time))).not.toBeNaN();
    expect(JSON.stringify(logs.lines)).not.toContain('hunter2');
  });
});
