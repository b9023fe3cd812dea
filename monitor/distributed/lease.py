"""Leases on the shared request queue: scrapy-redis pops a request and forgets it, so a worker killed while it
handled one would lose it. Here a pop moves the request, in one Redis script, from the queue into a lease with an
expiry (Redis's own clock, so machines' clocks do not matter); the worker renews its leases while it works and
releases each once Scrapy is done with its request (its response handled, its items and new requests handed on,
or its failure handled). A lease that expires — its worker was killed, or hangs — goes back on the queue with its
priority, the next time any worker or ``monitor seed`` looks (workers look every few seconds and at start).

A request may therefore be handled twice (a worker that hung past its lease and woke up); that is safe: the
writer stores an article once whatever the number of deliveries (an upsert on its canonical URL).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import redis

from monitor.distributed import redis_url as names

_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('HSET', KEYS[2], ARGV[1], r[1])
redis.call('HSET', KEYS[3], ARGV[1], r[2])
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[2]), ARGV[1])
return r[1]
"""

_RENEW = """
local t = redis.call('TIME')
local at = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[1])
local n = 0
for i = 2, #ARGV do n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', at, ARGV[i]) end
return n
"""

# ARGV[1] = 'expired' (then ARGV[2] is the most to take) or 'ids' (then the lease ids follow)
_REQUEUE = """
local ids
if ARGV[1] == 'expired' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  ids = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
else
  ids = {}
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local n = 0
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[2], id)
  if data then
    redis.call('ZADD', KEYS[1], tonumber(redis.call('HGET', KEYS[3], id) or '0'), data)
    n = n + 1
  end
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
end
return n
"""

_PUSH_ONCE = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), ARGV[3])
return 1
"""

_KEYS = [names.QUEUE, names.LEASES, names.LEASE_SCORES, names.LEASE_EXPIRY]


class Leases:
    """The queue's leases, for one worker (or a seed, which only re-queues expired ones)."""

    def __init__(self, client: redis.Redis, ttl: float, owner: str | None = None):
        self.client = client
        self.ttl = ttl
        self.owner = owner or uuid.uuid4().hex[:12]
        self.count = 0
        self._pop = client.register_script(_POP)
        self._renew = client.register_script(_RENEW)
        self._requeue = client.register_script(_REQUEUE)
        self._push_once = client.register_script(_PUSH_ONCE)

    def pop(self) -> tuple[str, bytes] | None:
        """Take the queue's first request under a new lease: (lease id, serialised request), or None."""
        self.count += 1
        lease = f"{self.owner}:{self.count}"
        data = self._pop(keys=_KEYS, args=[lease, self.ttl])
        return (lease, data) if data else None

    def renew(self, leases: Iterable[str]) -> int:
        ids = list(leases)
        return int(self._renew(keys=[names.LEASE_EXPIRY], args=[self.ttl, *ids])) if ids else 0

    def release(self, leases: Iterable[str]) -> None:
        ids = list(leases)
        if not ids:
            return
        pipe = self.client.pipeline(transaction=True)
        pipe.hdel(names.LEASES, *ids)
        pipe.hdel(names.LEASE_SCORES, *ids)
        pipe.zrem(names.LEASE_EXPIRY, *ids)
        pipe.execute()

    def requeue_expired(self, most: int = 1000) -> int:
        """Put the requests of expired leases back on the queue; how many."""
        return int(self._requeue(keys=_KEYS, args=["expired", most]))

    def requeue(self, leases: Iterable[str]) -> int:
        """Put these leases' requests back on the queue at once (a worker stopping with requests unhandled)."""
        ids = list(leases)
        return int(self._requeue(keys=_KEYS, args=["ids", *ids])) if ids else 0

    def push_once(self, run_set: str, member: str, score: float, data: bytes, keep: int) -> bool:
        """Queue a request unless ``member`` is already in ``run_set`` (atomically): False when it was."""
        return bool(self._push_once(keys=[names.QUEUE, run_set], args=[member, score, data, keep]))

    def claim(self, run_set: str, member: str, keep: int) -> bool:
        """Add ``member`` to ``run_set`` without queueing anything: False when a worker had added it already."""
        pipe = self.client.pipeline()
        pipe.sadd(run_set, member)
        pipe.expire(run_set, keep)
        added, _ = pipe.execute()
        return bool(added)

    def held(self) -> int:
        """Leases held by every worker now."""
        return int(self.client.hlen(names.LEASES))
