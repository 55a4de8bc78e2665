"""``python -m haia.cli``."""

from haia.cli import main

main()
