"""Inference workers fed through Redis: the bot's client (`client.RemoteWorker`), the worker
process's loop (`serve.StreamServer`) and the wire format both agree on (`protocol`).

Redis Streams with a consumer group give acknowledged delivery: a note stays pending until the
worker that took it has written the reply, so a worker killed mid-note leaves it for another
worker to claim. The `redis` package (redis.asyncio) is the maintained client; it is imported
only when VOICEMOOD_REDIS_URL is set or `voicemood worker` runs.
"""
