"""`python -m mytitan_scaffold` is the `mytitan` command."""

from .cli import app

app(prog_name="mytitan")
