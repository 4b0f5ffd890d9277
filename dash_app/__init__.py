"""The Tallyflow results site (Dash Pages). Reads pre-aggregated tables only."""
