"""CloudWatch Logs-style storage of function logs (the read API comes later)."""
