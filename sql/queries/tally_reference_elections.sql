-- Every election, with what the tally judges an event's time against (a few rows): its
-- opening and closing times, and the instant it was opened (from the audit trail).
select
    elections.election_id,
    elections.status,
    elections.opens_at,
    elections.closes_at,
    opened.opened_at
from elections
left join lateral (
    select max(election_audit_log.recorded_at) as opened_at
    from election_audit_log
    where
        election_audit_log.election_id = elections.election_id
        and election_audit_log.action = 'open'
        and election_audit_log.outcome = 'ok'
) as opened on true
