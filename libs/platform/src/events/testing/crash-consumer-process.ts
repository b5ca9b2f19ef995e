// A consumer that records each event it starts in Redis and then hangs in its handler, for a test to SIGKILL.
import { Redis } from 'ioredis';
import { subscribe } from '../subscription';
import { orderPlaced } from './events-test-support';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const redis = new Redis(env('REDIS_URL'));
const prefix = env('PREFIX');
const subscription = subscribe(
  orderPlaced,
  'crash-test',
  async (_event, { eventId, deliveryCount }) => {
    await redis.rpush(`${prefix}started`, `${eventId}:${deliveryCount}`);
    await new Promise(() => undefined); // never finishes: killed in here
  },
  { redis, prefix, leaseMs: Number(env('LEASE_MS')) },
);
void subscription.start().then(() => process.stdout.write('ready\n'));
