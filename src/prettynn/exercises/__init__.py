"""Exercise declarations, one module per chapter topic; importing this registers them all."""

from . import linear  # noqa: F401
