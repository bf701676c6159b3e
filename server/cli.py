"""The `cqld` command: flags into a Config, then run the node until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from server import config


def parse_args(argv: list[str] | None = None) -> tuple[str | None, dict]:
    p = argparse.ArgumentParser(prog="cqld", description="A Cassandra-compatible CQL server (protocol v4).")
    p.add_argument("--config", help="TOML file of settings (also CQLD_CONFIG)")
    p.add_argument("--host", help="listen address (default 127.0.0.1; CQLD_HOST)")
    p.add_argument("--port", type=int, help="listen port, 0 for any free port (default 9042; CQLD_PORT)")
    p.add_argument("--data-dir", help="where data lives (default ./data; CQLD_DATA_DIR)")
    p.add_argument("--replicas", type=int, help="replica shards in the process (default 3; CQLD_REPLICAS)")
    p.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR (CQLD_LOG_LEVEL)")
    p.add_argument("--commitlog-sync", choices=["periodic", "batch"], help="durability mode (CQLD_COMMITLOG_SYNC)")
    args = vars(p.parse_args(argv))
    return args.pop("config"), args


def main(argv: list[str] | None = None) -> int:
    config_file, flags = parse_args(argv)
    cfg = config.load(config_file, flags)
    logging.basicConfig(
        level=getattr(logging, cfg.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from server.node import Node

    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency; asyncio is the fallback
        runner = asyncio.run
    return runner(Node(cfg).serve_forever())


if __name__ == "__main__":
    sys.exit(main())
