"""`make bench`: figures, not pass/fail. Each module has ``run(endpoint) -> list[str]``."""
