-- What anyone may see of each election: no roll, no credentials.
select
    elections.election_id,
    title,
    status,
    is_test,
    opens_at,
    closes_at,
    roll_fingerprint,
    certificates.certificate_sha256
from elections
left join certificates using (election_id)
order by opens_at desc, election_id
