"""`python -m bot.gateway`: serve the gateway; `add-agent NAME` creates an agent account."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from bot.clock import utcnow
from bot.db import create_schema, make_engine, make_sessionmaker
from bot.gateway.app import create_app
from bot.gateway.config import GatewayConfig
from bot.gateway.logins import ROLES, ensure_agent, normalized_skills
from bot.gateway.models import Base
from bot.settings import startup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.gateway", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    add = sub.add_parser("add-agent", help="create an agent (password from AGENT_PASSWORD or a prompt)")
    add.add_argument("username")
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--skills", default="general", help="comma-separated, e.g. refunds,logistics")
    add.add_argument("--role", choices=ROLES, default="agent", help="a supervisor sees every conversation")
    args = parser.parse_args(argv)
    config = startup("gateway", GatewayConfig.from_env)
    if config is None:
        return 2
    if args.command == "add-agent":
        password = os.environ.get("AGENT_PASSWORD") or getpass.getpass(f"password for {args.username}: ")
        if len(password) < 8:
            print("gateway: the password needs at least 8 characters", file=sys.stderr)
            return 2
        try:
            skills = normalized_skills(args.skills)
        except ValueError as exc:
            print(f"gateway: {exc}", file=sys.stderr)
            return 2
        engine = make_engine(config.database_url)
        create_schema(engine, Base.metadata)
        created = ensure_agent(
            make_sessionmaker(engine),
            args.username,
            args.name or args.username,
            password,
            skills,
            utcnow(),
            args.role,
        )
        print(f"gateway: agent {args.username} {'created' if created else 'already exists'}")
        return 0 if created else 1
    create_app(config).run(host=config.host, port=config.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
