import type { PartnerSandboxDatabase } from '../data/database';
import { countItems, insertItem } from '../data/item-repository';
import { saveUser } from '../data/user-repository';
import { accessTokenFor } from './access-token';
import { SAMPLE_EVENT_COUNT, SAMPLE_LIST, SAMPLE_USER, SAMPLES } from './sandbox-catalog';

/** The `data` of the `POST /ifttt/v1/test/setup` answer (`TestSetupResponse`). */
export interface TestSetup {
  accessToken: string;
  samples: typeof SAMPLES;
}

/**
 * Prepares the sandbox for IFTTT's endpoint tests and returns their data: the sample user exists (its
 * bearer token is `accessToken`) and the sample list has at least {@link SAMPLE_EVENT_COUNT} items, so each
 * trigger answers at least 3 events for its samples. Safe to call any number of times, also by several
 * replicas at once (at worst a few extra sample items).
 *
 * @example
 *   const { accessToken, samples } = await prepareTestSetup(db, config.SERVICE_KEY);
 */
export async function prepareTestSetup(db: PartnerSandboxDatabase, serviceKey: string): Promise<TestSetup> {
  await saveUser(db, SAMPLE_USER);
  const missing = SAMPLE_EVENT_COUNT - (await countItems(db, SAMPLE_LIST));
  for (let n = 1; n <= missing; n++) {
    await insertItem(db, {
      list: SAMPLE_LIST,
      title: `Sample item ${n}`,
      description: 'Created by the test setup',
    });
  }
  return { accessToken: accessTokenFor(serviceKey, SAMPLE_USER.id), samples: SAMPLES };
}
