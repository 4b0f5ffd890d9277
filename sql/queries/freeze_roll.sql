update elections
set
    status = 'open',
    roll_fingerprint = %(roll_fingerprint)s,
    roll_frozen_at = now(),
    updated_at = now()
where election_id = %(election_id)s and status = 'scheduled'
returning election_id
