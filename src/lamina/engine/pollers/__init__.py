"""Event source pollers: read a source, batch, filter, invoke synchronously, commit."""
