-- The roll as the voters suite checks it, with the derived columns its rules need.
copy (
    select
        voters.voter_id,
        voters.full_name,
        trim(regexp_replace(lower(voters.full_name), '[^[:alnum:]]+', ' ', 'g'))
            as normalised_name,
        to_char(voters.birth_date, 'YYYY-MM-DD') as birth_date,
        voters.gender,
        voters.region_id,
        to_char(voters.registered_on, 'YYYY-MM-DD') as registered_on,
        extract(
            year from age((elections.opens_at at time zone 'UTC')::date, voters.birth_date)
        )::integer
            as age_on_election_day
    from voters
    inner join elections on elections.election_id = voters.election_id
    where voters.election_id = %(election_id)s
) to stdout with (format csv)
