insert into contests (election_id, contest_id, title, kind, seats, threshold, ballot_order)
values %s
