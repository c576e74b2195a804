"""ses-feedback operator CLI: local mode, demo, suppression admin. Reuses the domain package."""
