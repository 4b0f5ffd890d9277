insert into elections (
    election_id,
    title,
    description,
    opens_at,
    closes_at,
    is_tally_embargoed,
    is_test,
    voting_age,
    definition,
    definition_sha256
)
values (
    %(election_id)s,
    %(title)s,
    %(description)s,
    %(opens_at)s,
    %(closes_at)s,
    %(is_tally_embargoed)s,
    %(is_test)s,
    %(voting_age)s,
    %(definition)s,
    %(definition_sha256)s
)
on conflict (election_id) do nothing
returning election_id
