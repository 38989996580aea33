"""The Lambda control plane: functions, versions, aliases, code, runtimes."""
