"""The shop platform API stub: a seeded stand-in for the shop's back office."""
