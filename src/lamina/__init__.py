"""Lamina: a self-hosted implementation of the AWS Lambda invocation system."""

__version__ = "0.1.0.dev0"
