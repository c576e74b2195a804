"""What people see: the pages the public unsubscribe routes answer with, and their words per language."""
