"""Command-line entry points. No logic lives here beyond argument handling."""

from __future__ import annotations

import argparse
from pathlib import Path

from lamina.config import DEFAULT_ACCOUNT_ID, DEFAULT_PORT, DEFAULT_REGION, Config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lamina", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the Lamina server")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help=f"port to listen on (default {DEFAULT_PORT})")
    serve.add_argument("--data-dir", type=Path, help="where state is kept (default ./.lamina)")
    serve.add_argument("--region", help=f"default region (default {DEFAULT_REGION})")
    serve.add_argument("--account-id", help=f"default account (default {DEFAULT_ACCOUNT_ID})")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--time-scale",
        type=float,
        help="multiply platform-side waits (async retry delays, backoff, event age);"
        " 0.01 turns a minute into 0.6 s",
    )
    serve.add_argument(
        "--strict-runtimes",
        action="store_true",
        default=None,
        help="refuse python3.x functions whose exact interpreter is missing",
    )
    logs = commands.add_parser("logs", help="show a function's logs (like sam logs)")
    logs.add_argument("function", help="function name or ARN")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    logs.add_argument("--since", default="10m", help="how far back to start (30s, 10m, 2h, 1d)")
    logs.add_argument(
        "--endpoint-url", help=f"server URL (default http://127.0.0.1:{DEFAULT_PORT})"
    )
    logs.add_argument("--region", help=f"region (default {DEFAULT_REGION})")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve_command(args)
    if args.command == "logs":
        from lamina.logs_cli import run as logs_command

        return logs_command(
            args.function,
            follow=args.follow,
            since=args.since,
            endpoint_url=args.endpoint_url,
            region=args.region,
        )
    return 2


def serve_command(args: argparse.Namespace) -> int:
    from lamina.server import run
    from lamina.services.logs.server_logging import configure as configure_logging

    config = Config.from_env(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        region=args.region,
        account_id=args.account_id,
        log_level=args.log_level,
        strict_runtimes=args.strict_runtimes,
        time_scale=args.time_scale,
    )
    configure_logging(config.log_level)
    return run(config)
