"""`ses-feedback doctor`: is a domain ready to send production mail through SES?

The checks are pure functions over facts (``checks.py``, ``spf.py``, ``dmarc.py``); the facts
come from two edges, DNS (``dns_lookup.py``, dnspython) and SES (``ses_gateway.py``, SES v2),
and ``diagnose.py`` ties them together.
"""
