select election_id
from elections
where status = 'scheduled' and opens_at <= %(now)s and closes_at > %(now)s
order by opens_at, election_id
