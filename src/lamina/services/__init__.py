"""Embedded AWS-compatible services (queues today; topics, buses, buckets, logs later)."""
