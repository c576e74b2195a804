"""What comes in, validated: SES events, send requests, CSV rows, addresses, DMARC reports."""
