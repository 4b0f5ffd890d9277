insert into election_audit_log (election_id, action, actor, outcome, detail)
values (%(election_id)s, %(action)s, %(actor)s, %(outcome)s, %(detail)s)
