"""Votes: the vote event contract, producing events, and the ledger the tally writes."""
