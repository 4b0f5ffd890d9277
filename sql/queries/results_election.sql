-- What anyone may see of one election, with its certificate digest once certified and how
-- many of its ballots wait for their group (election-wide).
select
    elections.election_id,
    elections.title,
    elections.description,
    elections.status,
    elections.is_test,
    elections.is_tally_embargoed,
    elections.opens_at,
    elections.closes_at,
    elections.roll_fingerprint,
    certificates.certificate_sha256,
    certificates.certified_at,
    coalesce(ballots_waiting.ballots, 0) as ballots_waiting
from elections
left join certificates on certificates.election_id = elections.election_id
left join ballots_waiting on ballots_waiting.election_id = elections.election_id
where elections.election_id = %(election_id)s
