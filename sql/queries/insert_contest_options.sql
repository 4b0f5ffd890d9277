insert into contest_options (
    election_id, contest_id, option_id, name, party_id, ballot_order, photo_url, bio
)
values %s
