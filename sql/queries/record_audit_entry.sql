-- recorded_at is the statement's clock, not the transaction's start: the tally judges a
-- ballot against the recorded opening instant, which must not precede the status change.
insert into election_audit_log (election_id, action, actor, outcome, detail, recorded_at)
values (%(election_id)s, %(action)s, %(actor)s, %(outcome)s, %(detail)s, clock_timestamp())
