-- The voters behind a batch's credentials (SHA-256, hex), with what turnout needs, whether
-- they voted (a ballot counted, or waiting for its group) and their party (for the
-- primaries on their ballot).
select
    voters.election_id,
    encode(voters.credential_sha256, 'hex') as credential_sha256,
    voters.voter_id,
    voters.region_id,
    case
        when ages.age < 25 then '18-24'
        when ages.age < 35 then '25-34'
        when ages.age < 45 then '35-44'
        when ages.age < 55 then '45-54'
        when ages.age < 65 then '55-64'
        else '65+'
    end as age_band,
    voters.gender,
    checkins.voter_id is not null or exists (
        select from held_ballots
        where
            held_ballots.election_id = voters.election_id
            and held_ballots.voter_id = voters.voter_id
    ) as has_voted,
    voters.party_id
from voters
inner join elections on elections.election_id = voters.election_id
cross join
    lateral (
        select
            extract(
                year from age((elections.opens_at at time zone 'UTC')::date, voters.birth_date)
            )::integer as age
    ) as ages
left join checkins
    on checkins.election_id = voters.election_id and checkins.voter_id = voters.voter_id
where voters.credential_sha256 = any(
    array(select decode(h, 'hex') from unnest(%(credential_hashes)s::text[]) as h)
)
