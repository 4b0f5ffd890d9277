-- Elections certification should pick up: open past their closing time, or closed and
-- never yet refused (a refused one waits for a person to fix it and trigger it again).
select elections.election_id
from elections
where
    (elections.status = 'open' and elections.closes_at <= now())
    or (
        elections.status = 'closed'
        and not exists (
            select 1
            from election_audit_log
            where
                election_audit_log.election_id = elections.election_id
                and starts_with(election_audit_log.action, 'certify.')
                and election_audit_log.outcome <> 'ok'
        )
    )
order by elections.closes_at, elections.election_id
