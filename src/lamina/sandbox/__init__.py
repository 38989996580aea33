"""Execution environments: zygote-forked, sandboxed runtime processes speaking the Runtime API.

Public surface for the invoke engine; see :class:`EnvironmentPool`.
"""

from lamina.sandbox.pool import EnvironmentPool, LogSink
from lamina.sandbox.records import FunctionImage, Invocation, InvocationResult

__all__ = ["EnvironmentPool", "FunctionImage", "Invocation", "InvocationResult", "LogSink"]
