// Lua scripts of the Redis rolling-window limiter. Every operation is one script, so a check and its write are atomic
// across every process that shares the keys. Time is the Redis server's (TIME), so the machines' clocks never mix.
//
// Keys (one hash-tagged namespace, so a cluster keeps them on one slot):
//   inflight  sorted set: permit id -> lease expiry (ms). A request holds its slot here from permit until released.
//   log       sorted set: permit id -> completion time (ms). Every window counts its entries newer than now - window.
//   horizon   string: how far back the log is kept, the longest window of the processes using it (expires unused).
//   share     hash: cut, at, recovery: the shared backing-off share (same rule as the in-memory limiter).

const prelude = `
local function now_ms()
  local t = redis.call('TIME')
  -- to the microsecond: a completion rounded down would open the next window up to a millisecond early
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end

-- a lease not renewed in time belongs to a process that stopped (crashed, or cut off from Redis): its request may
-- still reach the server until then, so it counts as completed at its expiry
local function expire(inflight, log, now)
  local gone = redis.call('ZRANGEBYSCORE', inflight, '-inf', now, 'WITHSCORES')
  for i = 1, #gone, 2 do
    redis.call('ZADD', log, gone[i + 1], gone[i])
  end
  if #gone > 0 then
    redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
  end
end

-- keeps the log as long as the longest window of any process using it
local function trim(log, horizon, now, longest)
  local h = tonumber(redis.call('GET', horizon)) or 0
  if longest >= h then
    redis.call('SET', horizon, longest, 'PX', longest * 2)
    h = longest
  end
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - h)
  redis.call('PEXPIRE', log, h + 1000)
end

-- the share of the limits allowed at now, the share it was cut to, when, and how fast it comes back
local function share_at(key, now)
  local s = redis.call('HMGET', key, 'cut', 'at', 'recovery')
  local cut, at, recovery = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
  if not cut or not at or not recovery or cut >= 1 then
    return 1, 1, now, 1
  end
  return math.min(1, cut + (now - at) / recovery), cut, at, recovery
end

local function limit_of(limit, share)
  if share >= 1 then return limit end
  return math.max(1, math.floor(limit * share + 1e-9))
end
`

/**
 * KEYS: inflight, log, horizon, share. ARGV: id, lease ms, longest window ms, window count, then limit and window ms
 * for each window. Returns {1, now, share} when the slot is taken, or {0, now, share, wake, on_release}: retry at
 * `wake` (server ms), or when a release comes first if `on_release` is 1. A release never opens a window earlier than
 * a computed `wake` (the completion it logs is the newest), so only a wait for a slot in flight listens for one.
 */
export const acquire = `${prelude}
local inflight, log = KEYS[1], KEYS[2]
local id, lease, longest, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
expire(inflight, log, now)
trim(log, KEYS[3], now, longest)
local share, cut, at, recovery = share_at(KEYS[4], now)

-- a retry after a reply that was lost on the way: the slot is already ours
if redis.call('ZSCORE', inflight, id) then
  redis.call('ZADD', inflight, now + lease, id)
  return {1, now, tostring(share)}
end

local running = redis.call('ZCARD', inflight)
local wake = nil
local wait_release = false
for i = 0, n - 1 do
  local window = tonumber(ARGV[6 + 2 * i])
  local limit = limit_of(tonumber(ARGV[5 + 2 * i]), share)
  local since = '(' .. (now - window)
  local completed = redis.call('ZCOUNT', log, since, '+inf')
  local excess = running + completed - limit + 1
  if excess > 0 then
    if excess > completed then
      wait_release = true
      break
    end
    local e = redis.call('ZRANGEBYSCORE', log, since, '+inf', 'WITHSCORES', 'LIMIT', excess - 1, 1)
    local opens = tonumber(e[2]) + window
    if wake == nil or opens > wake then wake = opens end
  end
end

if not wait_release and wake == nil then
  redis.call('ZADD', inflight, now + lease, id)
  redis.call('PEXPIRE', inflight, lease + longest + 1000)
  return {1, now, tostring(share)}
end

if wait_release then
  -- a release wakes the waiters; without one, the earliest lease ends at the latest then
  local first = redis.call('ZRANGE', inflight, 0, 0, 'WITHSCORES')
  wake = tonumber(first[2]) or (now + lease)
end
if share < 1 then
  -- while the share comes back, a limit grows by one request at a known time: look again then
  local grows = nil
  for i = 0, n - 1 do
    local limit = tonumber(ARGV[5 + 2 * i])
    local t = at + ((limit_of(limit, share) + 1) / limit - cut) * recovery
    if grows == nil or t < grows then grows = t end
  end
  wake = math.min(wake, math.ceil(grows))
end
return {0, now, tostring(share), math.ceil(math.max(now + 1, wake)), wait_release and 1 or 0}
`

/**
 * KEYS: inflight, log, horizon. ARGV: id, longest window ms, channel. The request is done: its slot moves to the log
 * at the server's now, and waiters everywhere are told. A permit never admitted leaves no trace.
 */
export const release = `${prelude}
local inflight, log, id = KEYS[1], KEYS[2], ARGV[1]
local now = now_ms()
local held = redis.call('ZREM', inflight, id) == 1
if held or redis.call('ZSCORE', log, id) then
  redis.call('ZADD', log, now, id)
end
trim(log, KEYS[3], now, tonumber(ARGV[2]))
if held then
  redis.call('PUBLISH', ARGV[3], '1')
end
return now
`

/**
 * KEYS: inflight, log. ARGV: id, lease ms, longest window ms. The request still runs: its lease is extended (and put
 * back if it lapsed, or if Redis restarted and lost it).
 */
export const renew = `${prelude}
local now = now_ms()
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]) + 1000)
return now
`

/**
 * KEYS: share. ARGV: floor, recovery ms, cut. Multiplies the shared share by `cut` (never below the floor); it comes
 * back linearly over `recovery` ms per whole share. Returns the new share.
 */
export const backOff = `${prelude}
local now = now_ms()
local share = share_at(KEYS[1], now)
local floor, recovery = tonumber(ARGV[1]), tonumber(ARGV[2])
local cut = math.max(floor, share * tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], 'cut', tostring(cut), 'at', now, 'recovery', recovery)
redis.call('PEXPIRE', KEYS[1], math.ceil((1 - cut) * recovery) + 1000)
return tostring(cut)
`

/** KEYS: share. Returns the share allowed now. */
export const share = `${prelude}
local share = share_at(KEYS[1], now_ms())
return tostring(share)
`
