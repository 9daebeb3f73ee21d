"""Audio in, an honest emotion answer out: decoding, models, the shared worker, long-note analysis.

Knows nothing of Telegram, Discord or storage; callers pass plain configuration values in.
"""
