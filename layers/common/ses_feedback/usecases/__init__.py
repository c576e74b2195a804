"""Use cases on one write path: feedback, sending, admin, bulk import, DMARC reports."""
