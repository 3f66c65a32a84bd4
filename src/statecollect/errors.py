"""The base of every error a user can cause and fix: a Chinese message and a hint."""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """Bad input, a missing file, a locked output: said plainly, never as a traceback."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
