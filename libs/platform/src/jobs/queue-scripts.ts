import { RedisScript } from './redis-script';

/*
 * The queue's atomic steps. KEYS are always queueKeys(...).all:
 *   1 ready    ZSET  priority -> priority, the priorities that have ready jobs; the jobs of priority p are the
 *                    LIST <ready>:<p> (FIFO: new and due jobs RPUSH, reclaims and hand-backs LPUSH, takes LPOP).
 *                    A list costs a tenth of a ZSET per job (no skiplist node, no dict entry) on enqueue and take
 *   2 delayed  ZSET  id -> run-at (Redis server time, ms)
 *   3 leases   ZSET  take token -> lease expiry (Redis server time, ms); one member per take, not per job
 *   4 jobs     HASH  id -> record: a header line written by the client, then the payload JSON (job-record.ts).
 *                    Lua reads the header with string.match and never decodes the payload (no cjson anywhere)
 *   5 att      HASH  id -> attempts finished so far (failed or lease expired); absent = 0
 *   6 hist     HASH  id -> JSON array of failed attempts {attempt, at, error}
 *   7 dead     ZSET  id -> dead-lettered at (ms)
 *   8 uniq     HASH  unique key -> id, while that job waits
 *   9 takes    HASH  take token -> "id,id,..." the jobs that take still holds (the fencing record: an ack, renewal
 *                    or hand-back counts only if its token still holds the job)
 *  10 rate     ZSET  "<at>:<token>:<count>" -> at, one entry per take within the rate window
 *  11 rate-used STRING sum of the counts in `rate` (expires with it)
 *  12 calls    ZSET  enqueue call id -> Redis time, calls of the last CALL_WINDOW_MS (a re-sent call is a no-op)
 * Times come from Redis TIME so that workers with skewed clocks agree on due times and lease expiry.
 *
 * The rule every script keeps: NO SCRIPT FAILS AFTER ITS FIRST WRITE (Redis keeps what a script wrote before an
 * error). Key types are checked before any write (WRONGTYPE is the one error a command can raise here); stored
 * values are parsed with tonumber/string.match and a value that does not parse is handled (the job is
 * dead-lettered with the reason), never raised.
 */

/** How long an enqueue call id is remembered, so a re-sent enqueue (ioredis re-sends after a reconnect) is a no-op. */
export const CALL_WINDOW_MS = 300_000;

const PRELUDE = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local TYPES = { 'zset', 'zset', 'zset', 'hash', 'hash', 'hash', 'zset', 'hash', 'hash', 'zset', 'string', 'zset' }
-- WRONGTYPE is the one error a command can raise in these scripts: refuse before any write instead.
local function checkTypes(...)
  for _, k in ipairs({ ... }) do
    local t = redis.call('TYPE', KEYS[k])['ok']
    if t ~= 'none' and t ~= TYPES[k] then
      return redis.error_reply('ERR job queue key ' .. KEYS[k] .. ' holds a ' .. t .. ', expected a ' .. TYPES[k])
    end
  end
  return nil
end
local function readyKey(p)
  return KEYS[1] .. ':' .. p
end
-- Dead-letters a job whose record this queue cannot read (or lost), counting the attempt, with the reason.
local deadUnreadable
-- Appends (or, with front, prepends in order) ids to the ready list of priority p. A list key of another
-- type (written by hand) cannot take them: they are dead-lettered with the reason instead of raising.
local function pushReady(p, ids, front, now)
  if #ids == 0 then return end
  local key = readyKey(p)
  local t = redis.call('TYPE', key)['ok']
  if t ~= 'none' and t ~= 'list' then
    for _, id in ipairs(ids) do deadUnreadable(id, now, 'ready list ' .. key .. ' holds a ' .. t) end
    return
  end
  if front then
    local rev = {}
    for k = #ids, 1, -1 do rev[#rev + 1] = ids[k] end
    redis.call('LPUSH', key, unpack(rev))
  else
    redis.call('RPUSH', key, unpack(ids))
  end
  redis.call('ZADD', KEYS[1], p, p)
end
-- Groups ids by priority: { [p] = { id, ... } } and the priorities in first-seen order.
local function byPriority()
  local groups, order = {}, {}
  return function(p, id)
    local g = groups[p]
    if not g then
      g = {}
      groups[p] = g
      order[#order + 1] = p
    end
    g[#g + 1] = id
  end, function(front, now)
    for _, p in ipairs(order) do pushReady(p, groups[p], front, now) end
  end
end
-- Header of a record: "J1<u|-> <priority> <maxAttempts> <dueAt> <enqueuedAt> <name> <uniqueKey>\\n<payload>".
-- Returns priority, maxAttempts, name; nil if the record is not one this queue wrote.
local function header(rec)
  local p, m, n = string.match(rec, '^J1[u-] (%-?%d+) (%d+) %d+ %d+ (%S+) ')
  p, m = tonumber(p), tonumber(m)
  if not p or p < -1000 or p > 1000 or not m then return nil end
  return p, m, n
end
local function appendHistory(id, entry)
  local h = redis.call('HGET', KEYS[6], id)
  if h and string.sub(h, 1, 1) == '[' and string.sub(h, -1) == ']' and #h > 2 then
    redis.call('HSET', KEYS[6], id, string.sub(h, 1, -2) .. ',' .. entry .. ']')
  else
    redis.call('HSET', KEYS[6], id, '[' .. entry .. ']')
  end
end
local function historyEntry(attempt, at, reason)
  return '{"attempt":' .. attempt .. ',"at":' .. at .. ',"error":"' .. reason .. '"}'
end
local function attempts(id)
  return tonumber(redis.call('HGET', KEYS[5], id) or '0') or 0
end
deadUnreadable = function(id, now, reason)
  local attempt = attempts(id) + 1
  redis.call('HSET', KEYS[5], id, attempt)
  appendHistory(id, historyEntry(attempt, now, reason))
  redis.call('ZADD', KEYS[7], now, id)
end
local UNREADABLE = 'unreadable record: not a job this queue wrote (payloads are never decoded in Redis)'
-- Removes the ids of table \`ids\` (packed as \`list\`, when given) from take \`token\` and returns those it held;
-- the others are stale (their lease expired and the job was reclaimed, or the token does not hold them).
local function unhold(token, ids, list)
  local packed = redis.call('HGET', KEYS[9], token)
  if not packed then return {} end
  if list and list == packed then
    -- The usual case: every job of the take settled in take order. No per-id work.
    redis.call('HDEL', KEYS[9], token)
    redis.call('ZREM', KEYS[3], token)
    return ids
  end
  local want = {}
  for _, id in ipairs(ids) do want[id] = true end
  local kept, got = {}, {}
  for id in string.gmatch(packed, '[^,]+') do
    if want[id] then
      got[#got + 1] = id
      want[id] = nil
    else
      kept[#kept + 1] = id
    end
  end
  if #kept == 0 then
    redis.call('HDEL', KEYS[9], token)
    redis.call('ZREM', KEYS[3], token)
  elseif #got > 0 then
    redis.call('HSET', KEYS[9], token, table.concat(kept, ','))
  end
  return got
end
-- Completed jobs, packed "token:id,id;token:id": only those their token still holds are deleted.
local function complete(packed)
  local stale = 0
  local hasAtt, hasHist = nil, nil
  for token, list in string.gmatch(packed, '([^:;]+):([^;]*)') do
    local ids = {}
    for id in string.gmatch(list, '[^,]+') do ids[#ids + 1] = id end
    local done = unhold(token, ids, list)
    stale = stale + #ids - #done
    if #done > 0 then
      redis.call('HDEL', KEYS[4], unpack(done))
      if hasAtt == nil then
        hasAtt = redis.call('EXISTS', KEYS[5]) == 1
        hasHist = redis.call('EXISTS', KEYS[6]) == 1
      end
      if hasAtt then redis.call('HDEL', KEYS[5], unpack(done)) end
      if hasHist then redis.call('HDEL', KEYS[6], unpack(done)) end
    end
  end
  return stale
end
`;

/**
 * Enqueue a batch. ARGV: channel, job count, one string of lines, shared ('1' or '0'), call id, enqueue ms.
 * With shared '0' the string packs 5 lines per job: unique key ('' for none), priority, delay ms, id, record;
 * with '1' (every job of the call has the same options) it starts with the first 3 lines once, then id and
 * record per job. Lines end with NUL: a record holds a newline (after its header) but no NUL (JSON.stringify
 * escapes it, and the client refuses it in unique keys). The client names the ids (UUIDv7) and the call (its first id): a second run of the same call (ioredis
 * re-sends unanswered commands after a reconnect) changes nothing and answers like the first.
 * Returns a pair per job NOT created because its unique key named a waiting job: its index (1-based) and that
 * job's id (a compact reply: building and parsing values per job cost as much as storing it).
 */
export const enqueueScript = new RedisScript(`${PRELUDE}
local bad = checkTypes(1, 2, 4, 5, 6, 7, 8, 12)
if bad then return bad end
local now = nowMs()
local count = tonumber(ARGV[2])
local packed = ARGV[3]
local pos = 1
local function line()
  local stop = string.find(packed, '\\0', pos, true) or (#packed + 1)
  local value = string.sub(packed, pos, stop - 1)
  pos = stop + 1
  return value
end
-- A unique key's job still waits if its record exists and it is not dead (the take frees the key).
local function waiting(id)
  return redis.call('HEXISTS', KEYS[4], id) == 1 and not redis.call('ZSCORE', KEYS[7], id)
end
local repeated = redis.call('ZSCORE', KEYS[12], ARGV[5])
local out, records, delayed, fresh = {}, {}, {}, {}
local addReady, pushAll = byPriority()
local shared = ARGV[4] == '1'
local ukey, priority, delay, id, rec
if shared then ukey, priority, delay = line(), tonumber(line()), tonumber(line()) end
for j = 1, count do
  if shared then
    id, rec = line(), line()
  else
    ukey, priority, delay, id, rec = line(), tonumber(line()), tonumber(line()), line(), line()
  end
  local existing = false
  if ukey ~= '' then
    existing = redis.call('HGET', KEYS[8], ukey)
    -- A key left pointing at a job that no longer waits (taken, dead, lost) is stale: the new job takes it.
    if existing and (existing == id or not (fresh[existing] or waiting(existing))) then existing = false end
  end
  if repeated then
    -- Second run of a call: report what the first did, write nothing.
    if existing and redis.call('HEXISTS', KEYS[4], id) == 0 then
      out[#out + 1] = j
      out[#out + 1] = existing
    end
  elseif existing then
    out[#out + 1] = j
    out[#out + 1] = existing
  else
    records[#records + 1] = id
    records[#records + 1] = rec
    if ukey ~= '' then
      redis.call('HSET', KEYS[8], ukey, id)
      fresh[id] = true
    end
    if delay > 0 then
      delayed[#delayed + 1] = now + delay
      delayed[#delayed + 1] = id
    else
      addReady(priority, id)
    end
  end
end
if repeated then return out end
redis.call('ZADD', KEYS[12], now, ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[12], '-inf', now - ${CALL_WINDOW_MS})
redis.call('PEXPIRE', KEYS[12], ${CALL_WINDOW_MS})
if #records > 0 then redis.call('HSET', KEYS[4], unpack(records)) end
pushAll(false, now)
if #delayed > 0 then redis.call('ZADD', KEYS[2], unpack(delayed)) end
if #records > 0 then redis.call('PUBLISH', ARGV[1], '1') end
return out
`);

/**
 * Take up to N jobs under one lease. ARGV: token, max, leaseMs, rateMax (0 = no limit), rateIntervalMs,
 * completions packed "token:id,id;token:id" (acks ride along with the take, saving a round trip per batch).
 * The client names the token, so a second run of the same take (a re-send, or the worker's own retry after a
 * connection error) returns the jobs that token still holds, with a renewed lease, instead of leasing more.
 * First records the completions, then promotes due delayed jobs and reclaims expired leases (a reclaim counts
 * as an attempt: dead-lettered at the last one, else ready again at once). Returns a flat array:
 *   nextDueMs (0: more jobs are ready, take again now; else ms until the next delayed job, lease expiry or
 *   rate window, -1 if none), count R of reclaimed or
 *   dead-lettered jobs, then R pairs (job name, 1 if dead-lettered), then 3 per taken job: id, attempt, record.
 */
export const takeScript = new RedisScript(`${PRELUDE}
local bad = checkTypes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
if bad then return bad end
local now = nowMs()
local token = ARGV[1]
local expiry = now + tonumber(ARGV[3])
complete(ARGV[6])
-- Appends id, attempt, record of each job to \`out\` (the reply; the jobs come last in it).
local function handOut(out, ids, recs)
  recs = recs or redis.call('HMGET', KEYS[4], unpack(ids))
  local hasAtt = redis.call('EXISTS', KEYS[5]) == 1
  local atts = hasAtt and redis.call('HMGET', KEYS[5], unpack(ids)) or nil
  local o = #out
  for k, id in ipairs(ids) do
    local rec = recs[k]
    if rec then
      out[o + 1] = id
      out[o + 2] = hasAtt and (tonumber(atts[k] or '0') or 0) + 1 or 1
      out[o + 3] = rec
      o = o + 3
    end
  end
  return o > 0
end
local held = redis.call('HGET', KEYS[9], token)
if held then
  -- The same take again: renew and return what it holds.
  local ids = {}
  for id in string.gmatch(held, '[^,]+') do ids[#ids + 1] = id end
  redis.call('ZADD', KEYS[3], expiry, token)
  local out = { 0, 0 }
  handOut(out, ids)
  return out
end
local reclaimed = {}
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
if #due > 0 then
  local addReady, pushAll = byPriority()
  local recs = redis.call('HMGET', KEYS[4], unpack(due))
  redis.call('ZREM', KEYS[2], unpack(due))
  for k, id in ipairs(due) do
    if recs[k] then
      local p = header(recs[k])
      if p then
        addReady(p, id)
      else
        deadUnreadable(id, now, UNREADABLE)
        reclaimed[#reclaimed + 1] = '(unreadable record)'
        reclaimed[#reclaimed + 1] = 1
      end
    end
  end
  pushAll(false, now)
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)
local addBack, pushBack = byPriority()
for _, t in ipairs(expired) do
  local packed = redis.call('HGET', KEYS[9], t)
  redis.call('HDEL', KEYS[9], t)
  redis.call('ZREM', KEYS[3], t)
  for id in string.gmatch(packed or '', '[^,]+') do
    local rec = redis.call('HGET', KEYS[4], id)
    if rec then
      local p, m, name = header(rec)
      if not p then
        deadUnreadable(id, now, UNREADABLE)
        reclaimed[#reclaimed + 1] = '(unreadable record)'
        reclaimed[#reclaimed + 1] = 1
      else
        local attempt = attempts(id) + 1
        redis.call('HSET', KEYS[5], id, attempt)
        appendHistory(id, historyEntry(attempt, now, 'lease expired: the worker stopped or lost Redis before finishing'))
        reclaimed[#reclaimed + 1] = name
        if attempt >= m then
          redis.call('ZADD', KEYS[7], now, id)
          reclaimed[#reclaimed + 1] = 1
        else
          addBack(p, id)
          reclaimed[#reclaimed + 1] = 0
        end
      end
    end
  end
end
-- Reclaimed jobs go back to the head of their priority: they were taken before the jobs waiting now.
pushBack(true, now)
local n = tonumber(ARGV[2])
local rateMax = tonumber(ARGV[4])
local interval = tonumber(ARGV[5])
local rateWait = -1
local used = 0
if rateMax > 0 then
  -- KEYS[11] keeps the sum of the window's counts, so a take reads only the entries that just left it.
  local expiredTakes = redis.call('ZRANGEBYSCORE', KEYS[10], '-inf', now - interval)
  used = tonumber(redis.call('GET', KEYS[11]) or '0') or 0
  for _, entry in ipairs(expiredTakes) do used = used - (tonumber(string.match(entry, ':(%d+)$')) or 0) end
  if #expiredTakes > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', now - interval) end
  if used < 0 or redis.call('EXISTS', KEYS[10]) == 0 then used = 0 end
  if rateMax - used < n then n = rateMax - used end
  if n <= 0 then
    n = 0
    rateWait = (tonumber(redis.call('ZRANGE', KEYS[10], 0, 0, 'WITHSCORES')[2]) or now) + interval - now
    if rateWait < 1 then rateWait = 1 end
  end
end
-- The reply: nextDue (set last), the reclaimed and dead-lettered jobs (all known once the take validated its
-- jobs), then the taken jobs, appended in place.
local out, took = nil, false
local function startReply()
  out = { -1, #reclaimed / 2 }
  for _, v in ipairs(reclaimed) do out[#out + 1] = v end
  return out
end
if n > 0 then
  -- Lowest priority number first; a priority whose list is empty (or not a list) leaves the set.
  local ids = {}
  for _ = 1, 50 do
    if #ids >= n then break end
    local top = redis.call('ZRANGE', KEYS[1], 0, 0)
    if #top == 0 then break end
    local key = readyKey(top[1])
    local want = n - #ids
    local got = false
    if redis.call('TYPE', key)['ok'] == 'list' then got = redis.call('LPOP', key, want) end
    if got then
      for _, id in ipairs(got) do ids[#ids + 1] = id end
    end
    if not got or #got < want or redis.call('EXISTS', key) == 0 then redis.call('ZREM', KEYS[1], top[1]) end
  end
  if #ids > 0 then
    local recs = redis.call('HMGET', KEYS[4], unpack(ids))
    local mine, mineRecs = {}, {}
    -- One scan of all ids for the separators of the packed lists (ids are UUIDs: there are none, as a rule).
    local badIds = string.find(table.concat(ids, ' '), '[,;:]') ~= nil
    for k, id in ipairs(ids) do
      local rec = recs[k]
      if rec then
        -- Only what this script needs is checked here (the cheap prefix, the unique key); the worker reads
        -- the rest of the header and dead-letters a record it cannot read, with the reason, by a fenced ack.
        local j, one, flag = string.byte(rec, 1, 3)
        if badIds and string.find(id, '[,;:]') then
          deadUnreadable(id, now, 'invalid job id: it contains , ; or : (ids are UUIDs written by the queue)')
          reclaimed[#reclaimed + 1] = '(invalid id)'
          reclaimed[#reclaimed + 1] = 1
        elseif j ~= 74 or one ~= 49 or (flag ~= 45 and flag ~= 117) then
          deadUnreadable(id, now, UNREADABLE)
          reclaimed[#reclaimed + 1] = '(unreadable record)'
          reclaimed[#reclaimed + 1] = 1
        else
          if flag == 117 then
            local u = string.match(rec, '^J1u %S+ %S+ %S+ %S+ %S+ ([^\\n]*)\\n')
            if u and redis.call('HGET', KEYS[8], u) == id then redis.call('HDEL', KEYS[8], u) end
          end
          mine[#mine + 1] = id
          mineRecs[#mineRecs + 1] = rec
        end
      end
    end
    if #mine > 0 then
      redis.call('HSET', KEYS[9], token, table.concat(mine, ','))
      redis.call('ZADD', KEYS[3], expiry, token)
      if rateMax > 0 then
        used = used + #mine
        redis.call('ZADD', KEYS[10], now, now .. ':' .. token .. ':' .. #mine)
        redis.call('PEXPIRE', KEYS[10], interval)
      end
      took = handOut(startReply(), mine, mineRecs)
    end
  end
end
if rateMax > 0 then redis.call('SET', KEYS[11], used, 'PX', interval) end
local nextDue = rateWait
if took and redis.call('ZCARD', KEYS[1]) > 0 then
  nextDue = 0 -- more jobs are ready: take again now
else
  -- The worker goes idle (it saves the empty take that would follow): when to look again is the next delayed
  -- job, lease expiry or rate window, whichever comes first.
  local d = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if d[2] then
    local w = tonumber(d[2]) - now
    if nextDue < 0 or w < nextDue then nextDue = w end
  end
  local l = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if l[2] then
    local w = tonumber(l[2]) - now
    if nextDue < 0 or w < nextDue then nextDue = w end
  end
  if nextDue >= 0 and nextDue < 1 then nextDue = 1 end
end
out = out or startReply()
out[1] = nextDue
return out
`);

/**
 * Settle a batch of jobs. ARGV: channel, completions packed "token:id,id;token:id", then 5 per failed attempt:
 * kind ('r' retry, 'd' dead), token, id, retry delay ms, history entry JSON.
 * Every outcome is applied only if its token still holds the job (fencing); a stale one changes nothing.
 * Returns the number of stale outcomes.
 */
export const ackScript = new RedisScript(`${PRELUDE}
local bad = checkTypes(1, 2, 3, 4, 5, 6, 7, 9)
if bad then return bad end
local now = nowMs()
local stale = complete(ARGV[2])
local woke = false
for i = 3, #ARGV, 5 do
  local kind, id = ARGV[i], ARGV[i + 2]
  if #unhold(ARGV[i + 1], { id }, id) == 1 then
    redis.call('HSET', KEYS[5], id, attempts(id) + 1)
    appendHistory(id, ARGV[i + 4])
    if kind == 'r' then
      redis.call('ZADD', KEYS[2], now + (tonumber(ARGV[i + 3]) or 0), id)
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

/** Extend leases. ARGV: leaseMs, then take tokens. Returns the tokens whose lease was lost. */
export const extendScript = new RedisScript(`${PRELUDE}
local bad = checkTypes(3)
if bad then return bad end
local expiry = nowMs() + tonumber(ARGV[1])
local lost = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[3], ARGV[i]) then
    redis.call('ZADD', KEYS[3], expiry, ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
`);

/**
 * Hand leased jobs back at once (graceful shutdown). The attempt is not counted: a hand-back is not a failure.
 * ARGV: channel, token, then ids. Returns the number handed back (jobs the token still held).
 */
export const releaseScript = new RedisScript(`${PRELUDE}
local bad = checkTypes(1, 3, 4, 5, 6, 7, 9)
if bad then return bad end
local now = nowMs()
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
local back = unhold(ARGV[2], ids, table.concat(ids, ','))
local addBack, pushBack = byPriority()
for _, id in ipairs(back) do
  local rec = redis.call('HGET', KEYS[4], id)
  if rec then
    local p = header(rec)
    if p then addBack(p, id) else deadUnreadable(id, now, UNREADABLE) end
  end
end
pushBack(true, now)
if #back > 0 then redis.call('PUBLISH', ARGV[1], '1') end
return #back
`);

/**
 * Move dead jobs back to ready with their attempt count reset (history kept). ARGV: channel, limit, then ids;
 * no ids means "the oldest `limit` dead jobs". A job whose record cannot be read stays dead. Returns the number moved.
 */
export const retryDeadScript = new RedisScript(`${PRELUDE}
local bad = checkTypes(1, 4, 5, 6, 7)
if bad then return bad end
local ids = {}
if #ARGV > 2 then
  for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('ZRANGE', KEYS[7], 0, tonumber(ARGV[2]) - 1)
end
local moved = 0
local now = nowMs()
local addReady, pushAll = byPriority()
for _, id in ipairs(ids) do
  local rec = redis.call('HGET', KEYS[4], id)
  local p = rec and header(rec)
  if p and redis.call('ZREM', KEYS[7], id) == 1 then
    redis.call('HDEL', KEYS[5], id)
    addReady(p, id)
    moved = moved + 1
  end
end
pushAll(false, now)
if moved > 0 then redis.call('PUBLISH', ARGV[1], '1') end
return moved
`);

/** Delete dead jobs for good. ARGV: limit, then ids; no ids means "the oldest `limit`". Returns the number deleted. */
export const purgeDeadScript = new RedisScript(`${PRELUDE}
local bad = checkTypes(4, 5, 6, 7)
if bad then return bad end
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

/** Depth by state (read only): ready, delayed, leased (jobs the takes hold), dead. */
export const statsScript = new RedisScript(`${PRELUDE}
local bad = checkTypes(1, 2, 7, 9)
if bad then return bad end
local ready = 0
for _, p in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = readyKey(p)
  if redis.call('TYPE', key)['ok'] == 'list' then ready = ready + redis.call('LLEN', key) end
end
local leased = 0
for _, packed in ipairs(redis.call('HVALS', KEYS[9])) do
  for _ in string.gmatch(packed, '[^,]+') do leased = leased + 1 end
end
return { ready, redis.call('ZCARD', KEYS[2]), leased, redis.call('ZCARD', KEYS[7]) }
`);
