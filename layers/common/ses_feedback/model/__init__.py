"""Types only: reasons and their order, address state, decisions, history entries, pages, answers."""
