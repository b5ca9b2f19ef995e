import { RedisScript } from './redis-script';

/*
 * The queue's atomic steps. KEYS are always queueKeys(...).all:
 *   1 ready    ZSET  id -> (priority + 1000) * 2^42 + id   (lower runs first, FIFO within a priority)
 *   2 delayed  ZSET  id -> run-at (Redis server time, ms)
 *   3 leases   ZSET  id -> lease expiry (Redis server time, ms), plus LEASE_PIN at +inf (see below)
 *   4 jobs     HASH  id -> record JSON {n,p,m,u?,t,r,d} (written once, never re-encoded by Lua)
 *   5 att      HASH  id -> attempts finished so far (failed or lease expired); absent = 0. The running attempt is
 *                    att + 1, which is also the fencing token of its lease. Takes only read it (no write per job).
 *   6 hist     HASH  id -> JSON array of failed attempts {attempt, at, error}
 *   7 dead     ZSET  id -> dead-lettered at (ms)
 *   8 uniq     HASH  unique key -> id, while that job waits
 *   9 seq      STRING last id given
 *  10 rate     ZSET  "<at>:<first id>:<count>" -> at, one entry per take within the rate window
 *  11 rate-used STRING sum of the counts in `rate` (expires with it)
 * Times come from Redis TIME so that workers with skewed clocks agree on due times and lease expiry.
 */

/**
 * A member kept in the leases ZSET at score +inf. Longer than Redis's `zset-max-listpack-value` (64), it keeps
 * the set in skiplist encoding for good: a small leases set (under 128 members, the usual case) would otherwise
 * be a listpack, where every ZADD/ZREM scans the whole list, and leasing plus acking a batch of 50 cost ~430 us
 * of Redis time instead of ~120 us (measured on Redis 7.0). Readers of lease expiries use `(+inf` as the upper
 * bound, so the pin is never taken for a job.
 */
export const LEASE_PIN = `lease-set-pin:${'-'.repeat(64)}`;

const PRELUDE = `
local LEASE_PIN = '${LEASE_PIN}'
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function readyScore(priority, id)
  return (tonumber(priority) + 1000) * 4398046511104 + tonumber(id)
end
local function appendHistory(key, id, entry)
  local h = redis.call('HGET', key, id)
  if h then
    redis.call('HSET', key, id, string.sub(h, 1, -2) .. ',' .. entry .. ']')
  else
    redis.call('HSET', key, id, '[' .. entry .. ']')
  end
end
-- Completed jobs, packed "id,id,...": no fencing needed (the job did run), so four commands per batch; a
-- ready, delayed or dead entry left without a record (the job was reclaimed meanwhile) is skipped where met.
local function complete(packed)
  if packed == '' then return end
  local ids = {}
  for id in string.gmatch(packed, '%d+') do ids[#ids + 1] = id end
  redis.call('ZREM', KEYS[3], unpack(ids))
  redis.call('HDEL', KEYS[4], unpack(ids))
  if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('HDEL', KEYS[5], unpack(ids)) end
  if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('HDEL', KEYS[6], unpack(ids)) end
end
local function leased(id, attempt)
  return redis.call('ZSCORE', KEYS[3], id) and tonumber(redis.call('HGET', KEYS[5], id) or '0') + 1 == tonumber(attempt)
end
`;

/**
 * Enqueue a batch. ARGV: channel, job count, one string of lines, shared ('1' or '0'). With shared '0' the
 * string packs 4 lines per job: unique key ('' for none), priority, delay ms, record; with '1' (every job of
 * the call has the same options) it starts with those 3 lines once, then one record line per job (a quarter of
 * the lines to split in Lua). JSON.stringify never emits a raw newline; unique keys are refused if they hold
 * one. One string instead of 4 arguments per job cuts the client's encoding work by about ten.
 * Jobs get the ids base + 1 .. base + count, in order. Returns base, then a pair per job NOT created because its
 * unique key already named a waiting job: its index (1-based) and that job's id. A compact reply, since
 * building and parsing 2 values per job cost as much as storing it.
 */
export const enqueueScript = new RedisScript(`${PRELUDE}
local now = nowMs()
local count = tonumber(ARGV[2])
local packed = ARGV[3]
local base = redis.call('INCRBY', KEYS[9], count) - count
local out, records, ready, delayed = { base }, {}, {}, {}
local pos = 1
local function line()
  local stop = string.find(packed, '\\n', pos, true) or (#packed + 1)
  local value = string.sub(packed, pos, stop - 1)
  pos = stop + 1
  return value
end
local shared = ARGV[4] == '1'
local ukey, priority, delay, rec
if shared then ukey, priority, delay = line(), line(), tonumber(line()) end
for j = 1, count do
  if shared then
    rec = line()
  else
    ukey, priority, delay, rec = line(), line(), tonumber(line()), line()
  end
  local existing = false
  if ukey ~= '' then existing = redis.call('HGET', KEYS[8], ukey) end
  if existing then
    out[#out + 1] = j
    out[#out + 1] = existing
  else
    local id = base + j
    records[#records + 1] = id
    records[#records + 1] = rec
    if ukey ~= '' then redis.call('HSET', KEYS[8], ukey, id) end
    if delay > 0 then
      delayed[#delayed + 1] = now + delay
      delayed[#delayed + 1] = id
    else
      ready[#ready + 1] = readyScore(priority, id)
      ready[#ready + 1] = id
    end
  end
end
if #records > 0 then redis.call('HSET', KEYS[4], unpack(records)) end
if #ready > 0 then redis.call('ZADD', KEYS[1], unpack(ready)) end
if #delayed > 0 then redis.call('ZADD', KEYS[2], unpack(delayed)) end
if #records > 0 then redis.call('PUBLISH', ARGV[1], '1') end
return out
`);

/**
 * Take up to N jobs. ARGV: max, leaseMs, rateMax (0 = no limit), rateIntervalMs, completed ids packed like
 * in ackScript (acks ride along with the take, saving a round trip per batch).
 * First records the completions, then promotes due delayed jobs and reclaims expired leases (a reclaim counts as an attempt: dead-lettered
 * at the last one, else ready again at once). Returns a flat array:
 *   nextDueMs (-1 if nothing is scheduled; computed only when nothing was taken), reclaimed count R, then R pairs (job name, 1 if dead-lettered),
 *   then 3 per taken job: id, attempt, record.
 */
export const takeScript = new RedisScript(`${PRELUDE}
local now = nowMs()
complete(ARGV[5])
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
if #due > 0 then
  local args = {}
  local recs = redis.call('HMGET', KEYS[4], unpack(due))
  for k, id in ipairs(due) do
    if recs[k] then
      args[#args + 1] = readyScore(cjson.decode(recs[k]).p, id)
      args[#args + 1] = id
    end
  end
  redis.call('ZREM', KEYS[2], unpack(due))
  if #args > 0 then redis.call('ZADD', KEYS[1], unpack(args)) end
end
local reclaimed = {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[3], id)
  local rec = redis.call('HGET', KEYS[4], id)
  if rec then
    local job = cjson.decode(rec)
    local attempt = tonumber(redis.call('HGET', KEYS[5], id) or '0') + 1
    redis.call('HSET', KEYS[5], id, attempt)
    appendHistory(KEYS[6], id, '{"attempt":' .. attempt .. ',"at":' .. now ..
      ',"error":"lease expired: the worker stopped or lost Redis before finishing"}')
    reclaimed[#reclaimed + 1] = job.n
    if attempt >= job.m then
      redis.call('ZADD', KEYS[7], now, id)
      reclaimed[#reclaimed + 1] = 1
    else
      redis.call('ZADD', KEYS[1], readyScore(job.p, id), id)
      reclaimed[#reclaimed + 1] = 0
    end
  end
end
local n = tonumber(ARGV[1])
local rateMax = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local rateWait = -1
local used = 0
if rateMax > 0 then
  -- KEYS[11] keeps the sum of the window's counts, so a take reads only the entries that just left it.
  local expiredTakes = redis.call('ZRANGEBYSCORE', KEYS[10], '-inf', now - interval)
  used = tonumber(redis.call('GET', KEYS[11]) or '0')
  for _, entry in ipairs(expiredTakes) do used = used - tonumber(string.match(entry, ':(%d+)$')) end
  if #expiredTakes > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', now - interval) end
  if used < 0 or redis.call('EXISTS', KEYS[10]) == 0 then used = 0 end
  if rateMax - used < n then n = rateMax - used end
  if n <= 0 then
    n = 0
    rateWait = tonumber(redis.call('ZRANGE', KEYS[10], 0, 0, 'WITHSCORES')[2]) + interval - now
  end
end
local taken = {}
if n > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], n)
  if #popped > 0 then
    local ids = {}
    for k = 1, #popped, 2 do ids[#ids + 1] = popped[k] end
    local recs = redis.call('HMGET', KEYS[4], unpack(ids))
    local atts = {}
    if redis.call('EXISTS', KEYS[5]) == 1 then atts = redis.call('HMGET', KEYS[5], unpack(ids)) end
    local leases = {}
    local expiry = now + tonumber(ARGV[2])
    for k, id in ipairs(ids) do
      local rec = recs[k]
      if rec then
        leases[#leases + 1] = expiry
        leases[#leases + 1] = id
        if string.find(rec, '"u":', 1, true) then
          local u = cjson.decode(rec).u
          if type(u) == 'string' and redis.call('HGET', KEYS[8], u) == id then redis.call('HDEL', KEYS[8], u) end
        end
        taken[#taken + 1] = id
        taken[#taken + 1] = tonumber(atts[k] or '0') + 1
        taken[#taken + 1] = rec
      end
    end
    local count = #leases / 2
    if count > 0 then
      leases[#leases + 1] = '+inf'
      leases[#leases + 1] = LEASE_PIN
      redis.call('ZADD', KEYS[3], unpack(leases))
      if rateMax > 0 then
        used = used + count
        redis.call('ZADD', KEYS[10], now, now .. ':' .. leases[2] .. ':' .. count)
        redis.call('PEXPIRE', KEYS[10], interval)
      end
    end
  end
end
if rateMax > 0 then redis.call('SET', KEYS[11], used, 'PX', interval) end
local nextDue = rateWait
if #taken == 0 then
  -- Only an idle worker needs to know when to look again: the next delayed job or lease expiry.
  local d = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if d[2] then
    local w = tonumber(d[2]) - now
    if nextDue < 0 or w < nextDue then nextDue = w end
  end
  local l = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if l[2] then
    local w = tonumber(l[2]) - now
    if nextDue < 0 or w < nextDue then nextDue = w end
  end
  if nextDue >= 0 and nextDue < 1 then nextDue = 1 end
end
local out = { nextDue, #reclaimed / 2 }
for _, v in ipairs(reclaimed) do out[#out + 1] = v end
for _, v in ipairs(taken) do out[#out + 1] = v end
return out
`);

/**
 * Settle a batch of jobs. ARGV: channel, completed ids packed as "id,id,...", then 5 per failed attempt: kind
 * ('r' retry, 'd' dead), id, attempt, retry delay ms, history entry JSON.
 * A completion needs no fencing (see `complete`). A failure is applied only if this run still holds
 * the lease with the same attempt; otherwise a newer run owns the job. Returns the number of failures skipped.
 */
export const ackScript = new RedisScript(`${PRELUDE}
local now = nowMs()
local stale = 0
complete(ARGV[2])
local woke = false
for i = 3, #ARGV, 5 do
  local kind, id = ARGV[i], ARGV[i + 1]
  if leased(id, ARGV[i + 2]) then
    redis.call('ZREM', KEYS[3], id)
    redis.call('HSET', KEYS[5], id, ARGV[i + 2])
    appendHistory(KEYS[6], id, ARGV[i + 4])
    if kind == 'r' then
      redis.call('ZADD', KEYS[2], now + tonumber(ARGV[i + 3]), id)
      woke = true
    else
      redis.call('ZADD', KEYS[7], now, id)
    end
  else
    stale = stale + 1
  end
end
if woke then redis.call('PUBLISH', ARGV[1], '1') end
return stale
`);

/** Extend leases. ARGV: leaseMs, then pairs id, attempt. Returns the ids whose lease was lost. */
export const extendScript = new RedisScript(`${PRELUDE}
local expiry = nowMs() + tonumber(ARGV[1])
local lost = {}
for i = 2, #ARGV, 2 do
  if leased(ARGV[i], ARGV[i + 1]) then
    redis.call('ZADD', KEYS[3], 'XX', expiry, ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
`);

/**
 * Hand leased jobs back at once (graceful shutdown). The attempt is not counted: a hand-back is not a failure
 * (the worker that hands back never acks that run, since the next run reuses its attempt number).
 * ARGV: channel, then pairs id, attempt. Returns the number handed back.
 */
export const releaseScript = new RedisScript(`${PRELUDE}
local released = 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if leased(id, ARGV[i + 1]) then
    redis.call('ZREM', KEYS[3], id)
    local rec = redis.call('HGET', KEYS[4], id)
    if rec then redis.call('ZADD', KEYS[1], readyScore(cjson.decode(rec).p, id), id) end
    released = released + 1
  end
end
if released > 0 then redis.call('PUBLISH', ARGV[1], '1') end
return released
`);

/**
 * Move dead jobs back to ready with their attempt count reset (history kept). ARGV: channel, limit, then ids;
 * no ids means "the oldest `limit` dead jobs". Returns the number moved.
 */
export const retryDeadScript = new RedisScript(`${PRELUDE}
local ids = {}
if #ARGV > 2 then
  for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('ZRANGE', KEYS[7], 0, tonumber(ARGV[2]) - 1)
end
local moved = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', KEYS[7], id) == 1 then
    local rec = redis.call('HGET', KEYS[4], id)
    if rec then
      redis.call('HDEL', KEYS[5], id)
      redis.call('ZADD', KEYS[1], readyScore(cjson.decode(rec).p, id), id)
      moved = moved + 1
    end
  end
end
if moved > 0 then redis.call('PUBLISH', ARGV[1], '1') end
return moved
`);

/** Delete dead jobs for good. ARGV: limit, then ids; no ids means "the oldest `limit`". Returns the number deleted. */
export const purgeDeadScript = new RedisScript(`${PRELUDE}
local ids = {}
if #ARGV > 1 then
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('ZRANGE', KEYS[7], 0, tonumber(ARGV[1]) - 1)
end
local purged = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', KEYS[7], id) == 1 then
    redis.call('HDEL', KEYS[4], id)
    redis.call('HDEL', KEYS[5], id)
    redis.call('HDEL', KEYS[6], id)
    purged = purged + 1
  end
end
return purged
`);
