"""Standard results feeds built from the results export (NIST SP 1500-100)."""
