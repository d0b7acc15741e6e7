// Lua scripts of the Redis ClientHealth store: the 429 pause and the circuit of one API key, shared by every process.
// Each operation is one script (atomic across processes), timed by the Redis server's clock (TIME). They follow the
// in-process store (internal/clientHealth.ts) rule for rule; only the probe is a lease here, so that a process that
// stops with the probe out does not hold every other process back for longer than the lease.
//
// Keys (in the limiter's hash-tagged namespace):
//   health  hash: the State's fields (times in server ms, booleans as 0/1); absent fields are the initial state.
//   probe   string: the token of the process whose probe is out, expiring with its lease.
// Every change is published on the health channel, which wakes the waiters of every process.
//
// Replies carry the server's now, so that the store can turn server times into its own clock's.

const prelude = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local NUMBERS = {'pauseUntil', 'pauses', 'consecutiveFailures', 'streakSince', 'unavailableSince', 'openedAt',
  'nextProbeAt', 'openings', 'outages', 'outageMillis'}

local function load(key)
  local h = redis.call('HGETALL', key)
  local s = {}
  for i = 1, #h, 2 do s[h[i]] = h[i + 1] end
  for _, f in ipairs(NUMBERS) do s[f] = tonumber(s[f]) end
  s.circuit = s.circuit or 'closed'
  s.pauseUntil = s.pauseUntil or 0
  s.pauses = s.pauses or 0
  s.consecutiveFailures = s.consecutiveFailures or 0
  s.openings = s.openings or 0
  s.outages = s.outages or 0
  s.outageMillis = s.outageMillis or 0
  s.probeNeeded = s.probeNeeded == '1'
  s.gaveUp = s.gaveUp == '1'
  return s
end

local FIELDS = {'circuit', 'pauseUntil', 'pauses', 'consecutiveFailures', 'streakSince', 'unavailableSince',
  'openedAt', 'nextProbeAt', 'openings', 'outages', 'outageMillis', 'lastFailure'}

-- writes the whole state, tells every process, and keeps it a day past its last change
local function save(key, channel, s)
  local args = {'probeNeeded', s.probeNeeded and '1' or '0', 'gaveUp', s.gaveUp and '1' or '0'}
  for _, f in ipairs(FIELDS) do
    if s[f] ~= nil then
      table.insert(args, f)
      table.insert(args, tostring(s[f]))
    end
  end
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(args))
  redis.call('PEXPIRE', key, 86400000)
  redis.call('PUBLISH', channel, '1')
end

-- the probe key is the lease; only the token that took it gives it back
local function release_probe(probe, token)
  if token ~= '' and redis.call('GET', probe) == token then
    redis.call('DEL', probe)
    return true
  end
  return false
end

local function pause_for(first, max, jitter, openings)
  return math.floor(math.min(max, first * 2 ^ math.min(openings, 40)) * jitter + 0.5)
end

local function opened(s, now, failure, first, max, jitter)
  s.circuit = 'open'
  s.openedAt = now
  s.unavailableSince = s.streakSince or now
  s.nextProbeAt = now + pause_for(first, max, jitter, 0)
  s.openings = 0
  s.outages = s.outages + 1
  s.lastFailure = failure
end

local function closed(s, now)
  s.circuit = 'closed'
  if s.openedAt then s.outageMillis = s.outageMillis + now - s.openedAt end
  s.openedAt = nil
  s.unavailableSince = nil
  s.nextProbeAt = nil
  s.openings = 0
  s.gaveUp = false
end

local TRANSITIONS = {opened = 1, reopened = 2, closed = 3}
`

/** KEYS: health, probe. Returns {now, probe in flight (0/1), field, value, ...}. */
export const read = `${prelude}
local now = now_ms()
local reply = {now, redis.call('EXISTS', KEYS[2])}
local h = redis.call('HGETALL', KEYS[1])
for i = 1, #h do table.insert(reply, h[i]) end
return reply
`

/**
 * KEYS: health, probe. ARGV: channel, max outage ms (-1: none), probe token, probe lease ms. Returns
 * {now, 1, probe, gave up, first} to go, or {now, 0, until (-1: until a change)} to wait. A probe whose lease lapsed
 * counts as released: the next request probes instead.
 */
export const enter = `${prelude}
local now = now_ms()
local s = load(KEYS[1])
local channel, max_outage, token, lease = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local probing = redis.call('PTTL', KEYS[2])
local in_flight = probing > 0
if s.circuit == 'probing' and not in_flight then s.circuit = 'open' end
if now < s.pauseUntil then return {now, 0, s.pauseUntil} end
if s.circuit ~= 'closed' and s.unavailableSince then
  local deadline = max_outage >= 0 and (s.unavailableSince + max_outage) or nil
  if deadline and now >= deadline then
    local first = not s.gaveUp
    if first then
      s.gaveUp = true
      save(KEYS[1], channel, s)
    end
    return {now, 1, 0, 1, first and 1 or 0}
  end
  if s.circuit == 'open' and s.nextProbeAt and now < s.nextProbeAt then
    return {now, 0, deadline and math.min(s.nextProbeAt, deadline) or s.nextProbeAt}
  end
end
if in_flight then
  -- the lease's end wakes nobody: look again then at the latest
  return {now, 0, now + probing}
end
if s.probeNeeded or s.circuit == 'open' then
  redis.call('SET', KEYS[2], token, 'PX', lease)
  s.probeNeeded = false
  if s.circuit == 'open' then s.circuit = 'probing' end
  save(KEYS[1], channel, s)
  return {now, 1, 1, 0, 0}
end
return {now, 1, 0, 0, 0}
`

/** KEYS: health, probe. ARGV: channel, probe token ('' when not the probe). Returns {now, transition}. */
export const succeeded = `${prelude}
local now = now_ms()
local s = load(KEYS[1])
local probe = ARGV[2] ~= ''
release_probe(KEYS[2], ARGV[2])
if s.circuit == 'closed' then
  if probe or s.consecutiveFailures > 0 then
    s.consecutiveFailures = 0
    s.streakSince = nil
    save(KEYS[1], ARGV[1], s)
  end
  return {now, 0}
end
closed(s, now)
s.consecutiveFailures = 0
s.streakSince = nil
save(KEYS[1], ARGV[1], s)
return {now, TRANSITIONS.closed}
`

/**
 * KEYS: health, probe. ARGV: channel, probe token, failure, threshold, first pause ms, max pause ms, jitter.
 * Returns {now, transition}.
 */
export const failed = `${prelude}
local now = now_ms()
local s = load(KEYS[1])
local probe = ARGV[2] ~= ''
local failure, threshold = ARGV[3], tonumber(ARGV[4])
local first, max, jitter = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
release_probe(KEYS[2], ARGV[2])
s.consecutiveFailures = s.consecutiveFailures + 1
s.streakSince = s.streakSince or now
s.lastFailure = failure
if probe and s.circuit == 'probing' then
  s.openings = s.openings + 1
  s.circuit = 'open'
  s.nextProbeAt = now + pause_for(first, max, jitter, s.openings)
  save(KEYS[1], ARGV[1], s)
  return {now, TRANSITIONS.reopened}
end
if s.circuit == 'closed' and s.consecutiveFailures >= threshold then
  opened(s, now, failure, first, max, jitter)
  save(KEYS[1], ARGV[1], s)
  return {now, TRANSITIONS.opened}
end
save(KEYS[1], ARGV[1], s)
return {now, 0}
`

/** KEYS: health. ARGV: channel, failure, first pause ms, max pause ms, jitter. Returns {now, transition}. */
export const open = `${prelude}
local now = now_ms()
local s = load(KEYS[1])
if s.circuit ~= 'closed' then return {now, 0} end
opened(s, now, ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
save(KEYS[1], ARGV[1], s)
return {now, TRANSITIONS.opened}
`

/**
 * KEYS: health, probe. ARGV: channel, probe token, pause ms. A 429 is an answer: an open circuit closes and the pause
 * takes over. Returns {now, starts (0/1), closed (0/1)}.
 */
export const rateLimited = `${prelude}
local now = now_ms()
local s = load(KEYS[1])
local was = s.circuit
if was ~= 'closed' then closed(s, now) end
local starts = s.pauseUntil <= now
release_probe(KEYS[2], ARGV[2])
s.consecutiveFailures = 0
s.streakSince = nil
s.pauseUntil = math.max(s.pauseUntil, now + tonumber(ARGV[3]))
if starts then s.pauses = s.pauses + 1 end
s.probeNeeded = true
save(KEYS[1], ARGV[1], s)
return {now, starts and 1 or 0, was ~= 'closed' and 1 or 0}
`

/** KEYS: health, probe. ARGV: channel, probe token. The probe ended without an answer. */
export const releaseProbe = `${prelude}
local now = now_ms()
if release_probe(KEYS[2], ARGV[2]) then
  local s = load(KEYS[1])
  if s.circuit == 'probing' then s.circuit = 'open' end
  save(KEYS[1], ARGV[1], s)
end
return now
`
