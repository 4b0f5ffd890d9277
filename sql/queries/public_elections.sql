-- What anyone may see of each election: no roll, no credentials.
select
    election_id,
    title,
    status,
    is_test,
    opens_at,
    closes_at
from elections
order by opens_at desc, election_id
