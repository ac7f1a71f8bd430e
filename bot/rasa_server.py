"""Rasa's own command line (`python -m bot.rasa_server run ...`), with `bot.rasa_speedups` applied first."""

from __future__ import annotations

from bot import rasa_speedups


def main() -> None:
    """Applies the remedies, then hands the arguments to Rasa's CLI unchanged."""
    rasa_speedups.apply()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
