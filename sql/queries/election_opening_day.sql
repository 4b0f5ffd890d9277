-- The UTC date an election opens on (voters' ages are taken on it).
select (opens_at at time zone 'UTC')::date
from elections
where election_id = %(election_id)s
