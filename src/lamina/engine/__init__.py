"""The invoke engine: qualifier resolution, invocation, and (later) admission and async queues."""
