insert into parties (election_id, party_id, name, abbreviation, colour)
values %s
