"""`python -m bot.platform [--reseed]`: serve the platform stub, or reseed its demo data."""

from __future__ import annotations

import argparse
import sys

from bot.clock import utcnow
from bot.db import make_engine, make_sessionmaker
from bot.platform.app import create_app
from bot.platform.config import PlatformConfig
from bot.platform.schema import prepare
from bot.platform.seed import ensure_seeded
from bot.settings import startup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.platform", description=__doc__)
    parser.add_argument("--reseed", action="store_true", help="replace all data with fresh demo data and exit")
    args = parser.parse_args(argv)
    config = startup("platform", PlatformConfig.from_env)
    if config is None:
        return 2
    if args.reseed:
        engine = make_engine(config.database_url)
        prepare(engine)
        with make_sessionmaker(engine).begin() as session:
            ensure_seeded(session, utcnow(), force=True)
        print(f"platform: demo data reseeded in {config.database_url}")
        return 0
    create_app(config).run(host=config.host, port=config.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
