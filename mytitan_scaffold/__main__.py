"""`python -m mytitan_scaffold` is the `mytitan` command."""

from .cli import run

run()
