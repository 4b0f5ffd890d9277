-- The casting API reads each election's ballot layout with the same query as the tally and
-- the recount (sql/queries/ballot_layouts.sql), so the contests on a voter's ballot are
-- decided by one rule everywhere (tallyflow.elections.layout.on_ballot). That query also
-- reads a contest's kind, seats and options, and a district's regions through the
-- region_ancestry view: public facts of the election, which the results site shows too.
-- Still nothing of any ballot and nothing of the roll but a voter's precinct and party.
grant select (kind, seats, ballot_order) on contests to tallyflow_casting;
grant select (election_id, contest_id, option_id, ballot_order) on contest_options
    to tallyflow_casting;
grant select on region_ancestry to tallyflow_casting;
