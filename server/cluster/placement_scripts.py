"""The Lua scripts behind ``placement``: each runs atomically in Redis.

Redis runs a script as one command: no other client's command runs in between
(https://redis.io/docs/latest/develop/interact/programmability/eval-intro/).
So when many nodes ask at once to place one meeting, or to take over one whose
node died, the first script to run decides and every later one finds its
decision: exactly one claim wins. Node entries are JSON, read with the cjson
library Redis gives scripts.

The scripts read node keys they build from the prefix rather than receive in
KEYS; every key shares the prefix's hash tag (``keys``), so they sit in one slot.
"""

from __future__ import annotations

__all__ = ["LOOKUP", "PLACE", "RELEASE"]

# KEYS[1]: the meeting's claim (hash: node, generation). KEYS[2]: the set of node ids.
# KEYS[3]: the claim counter. ARGV[1]: the key prefix. ARGV[2]: the meeting id.
# Returns {node, generation, outcome}: 'held' when a live node already holds the meeting,
# 'placed' for a new claim, 'taken_over' when the holder was dead; nil when no live,
# non-draining node can take it.
#
# The least-loaded node: the fewest of (meetings + participants), where meetings is the
# larger of those it reported and those placed on it (placements count at once, between
# two heartbeats), then the lowest CPU, then the smallest id, so that every caller that
# sees the same table picks the same node.
PLACE = """
local prefix, meeting = ARGV[1], ARGV[2]
local holder = redis.call('HGET', KEYS[1], 'node')
if holder and redis.call('EXISTS', prefix .. 'node:' .. holder) == 1 then
  return {holder, redis.call('HGET', KEYS[1], 'generation'), 'held'}
end
local best, best_score, best_cpu
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local entry = redis.call('GET', prefix .. 'node:' .. id)
  if entry then
    local ok, node = pcall(cjson.decode, entry)
    if ok and type(node) == 'table' and node.draining == false then
      local placed = redis.call('SCARD', prefix .. 'node:' .. id .. ':meetings')
      local rooms = tonumber(node.rooms) or 0
      local score = math.max(rooms, placed) + (tonumber(node.participants) or 0)
      local cpu = tonumber(node.cpu) or 0
      if best == nil or score < best_score or (score == best_score and
          (cpu < best_cpu or (cpu == best_cpu and id < best))) then
        best, best_score, best_cpu = id, score, cpu
      end
    end
  end
end
if best == nil then
  return nil
end
local outcome = 'placed'
if holder then
  redis.call('SREM', prefix .. 'node:' .. holder .. ':meetings', meeting)
  outcome = 'taken_over'
end
local generation = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'node', best, 'generation', generation)
redis.call('SADD', prefix .. 'node:' .. best .. ':meetings', meeting)
return {best, tostring(generation), outcome}
"""

# KEYS[1]: the meeting's claim. ARGV[1]: the key prefix.
# Returns {node, generation, 1 if that node is alive else 0}, or nil if unplaced.
LOOKUP = """
local holder = redis.call('HGET', KEYS[1], 'node')
if not holder then
  return nil
end
return {holder, redis.call('HGET', KEYS[1], 'generation'),
        redis.call('EXISTS', ARGV[1] .. 'node:' .. holder)}
"""

# KEYS[1]: the meeting's claim. ARGV[1]: the key prefix. ARGV[2]: the meeting id.
# ARGV[3]: the node releasing it. Deletes the claim only if that node holds it (a node
# that was taken for dead and came back cannot release its successor's claim); 1 if so.
RELEASE = """
if redis.call('HGET', KEYS[1], 'node') ~= ARGV[3] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. 'node:' .. ARGV[3] .. ':meetings', ARGV[2])
return 1
"""
