"""`ses-feedback doctor`: is a domain ready to send production mail through SES?

The checks are pure functions over facts: ``ses_checks.py`` and ``dns_checks.py``, helped by
``spf.py``, ``dmarc.py`` and ``records.py``. The facts come from two edges, DNS
(``dns_lookup.py``, dnspython) and SES (``ses_gateway.py``, SES v2), and ``diagnose.py``
ties them together.
"""
