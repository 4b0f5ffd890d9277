-- The parties holding a primary in an election (a contest on their voters' ballots only).
select distinct party_id
from contests
where election_id = %(election_id)s and party_id is not null
order by party_id
