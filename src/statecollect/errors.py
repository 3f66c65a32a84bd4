"""The base of every error a user can cause and fix: a Chinese message and a hint."""

from __future__ import annotations

__all__ = ["EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "UserError"]

# exit statuses of every command: 0 all well, 1 problems found in the data, 2 bad usage or nothing usable
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
# stopped with Ctrl-C: typer's status for it, the shell's convention (128 + SIGINT)
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """Bad input, a missing file, a locked output: said plainly, never as a traceback."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
