-- Ballots waiting for their group, over every election.
select count(*) as ballots
from held_ballots
