"""The one exception the CLI turns into a one-line message and an exit code."""


class MytitanError(Exception):
    """A problem the user can fix; the message names it and says how."""

    exit_code = 2
