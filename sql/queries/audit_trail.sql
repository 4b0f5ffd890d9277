-- One election's audit trail in the order it was recorded, each entry beside the digest of
-- the one before it and its own digest computed again (audit_entry_sha256): an entry
-- edited shows as a digest that differs, one removed as a broken link.
select
    election_audit_log.audit_id,
    election_audit_log.recorded_at,
    election_audit_log.action,
    election_audit_log.actor,
    election_audit_log.outcome,
    election_audit_log.detail,
    election_audit_log.previous_sha256,
    election_audit_log.entry_sha256,
    audit_entry_sha256(
        election_audit_log.previous_sha256, election_audit_log.audit_id,
        election_audit_log.election_id, election_audit_log.action, election_audit_log.actor,
        election_audit_log.outcome, election_audit_log.detail, election_audit_log.recorded_at
    ) as recomputed_sha256
from election_audit_log
where election_audit_log.election_id = %(election_id)s
order by election_audit_log.audit_id
