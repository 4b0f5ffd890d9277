select
    election_id,
    title,
    description,
    opens_at,
    closes_at,
    status,
    is_tally_embargoed,
    is_test,
    voting_age,
    definition,
    definition_sha256,
    registrations_updated_at,
    roll_fingerprint,
    roll_frozen_at,
    created_at,
    updated_at
from elections
where election_id = %(election_id)s
