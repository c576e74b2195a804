"""ses-feedback domain: SES feedback models, suppression policy, store and sending rules."""
