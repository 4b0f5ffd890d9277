"""
### Create an election

Trigger this DAG to run an election. The trigger form asks for the title, the candidates and
their parties, the regions, how many synthetic voters to register and when voting opens and
closes. The run then:

1. **checks the definition** with the same rules as `tallyflow election create` (every
   problem is listed in the task log, each as `path: reason`);
2. **stores** the election as a draft;
3. **seeds** the synthetic voter roll (deterministic for the seed);
4. **validates** the registrations with Great Expectations (the task log links the Data Docs
   report) and fails if a critical expectation fails;
5. **schedules** the election. The `open_elections` DAG opens it at its opening time.

Paste a whole definition (see `schemas/election.schema.json`) into *Full definition* to
create multi-contest elections; it replaces the simple fields.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, task

from tallyflow.registrations import REGISTRATIONS_ASSET

FORM = "Election"
ADVANCED = "Advanced"


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    dagrun_timeout=timedelta(minutes=30),
    default_args={"retries": 1, "retry_delay": timedelta(seconds=10)},
    tags=["elections", "registrations"],
    doc_md=__doc__,
    params={
        "title": Param("City Mayor", type="string", minLength=1, maxLength=200,
                       title="Title", section=FORM),
        "description": Param(None, type=["null", "string"], format="multiline",
                             title="Description", section=FORM),
        "contest_title": Param("Mayor", type="string", minLength=1, title="Contest",
                               description="What voters choose, e.g. Mayor.", section=FORM),
        "candidates": Param(
            ["Ada Okafor | Harbour Party", "Bruno Lind | Meadow Alliance",
             "Chen Wei | Forge Union"],
            type="array", items={"type": "string"}, minItems=2, title="Candidates",
            description="One per line: Name | Party (the party is optional).", section=FORM,
        ),
        "regions": Param(
            ["North > Northport | 42000", "North > Pinefield | 18000",
             "South > Southgate | 27000", "South > Saltmarsh | 6000"],
            type="array", items={"type": "string"}, title="Regions",
            description="One precinct per line: District > Precinct | population.",
            section=FORM,
        ),
        "voters": Param(10_000, type="integer", minimum=0, maximum=10_000_000,
                        title="Synthetic voters", section=FORM),
        "opens_at": Param(None, type=["null", "string"], format="date-time",
                          title="Opens at", description="Empty: when this run starts.",
                          section=FORM),
        "closes_at": Param(None, type=["null", "string"], format="date-time",
                           title="Closes at", description="Empty: 12 hours after opening.",
                           section=FORM),
        "embargo_tallies_until_close": Param(False, type="boolean",
                                             title="Embargo tallies until close",
                                             section=FORM),
        "test_mode": Param(False, type="boolean", title="Test mode", section=FORM),
        "election_id": Param(None, type=["null", "string"], pattern="^[a-z0-9][a-z0-9-]{0,62}$",
                             title="Election id", description="Empty: made from the title.",
                             section=ADVANCED),
        "seed": Param(0, type="integer", title="Random seed for the voters", section=ADVANCED),
        "write_credentials": Param(
            False, type="boolean", title="Write voter credentials for the simulator",
            description="Saves voter_id,credential to the state directory. Test mode "
                        "elections only: any other is refused.",
            section=ADVANCED,
        ),
        "definition": Param(None, type=["null", "object"], title="Full definition",
                            description="A whole election definition; replaces the fields "
                                        "above.", section=ADVANCED),
    },
)
def create_election():
    @task
    def check_definition(params=None) -> dict:
        from datetime import UTC, datetime

        from tallyflow.elections.definition import parse_definition
        from tallyflow.elections.form import definition_from_form

        definition = definition_from_form(params, datetime.now(UTC))
        parse_definition(definition, source="trigger form")
        return definition

    @task
    def store_election(definition: dict) -> str:
        from tallyflow.elections.definition import parse_definition
        from tallyflow.elections.store import create_election
        from tallyflow.settings import get_settings

        election = parse_definition(definition)
        return create_election(get_settings().database_url, election, actor="airflow")

    @task(outlets=[Asset(REGISTRATIONS_ASSET)])
    def seed_registrations(election_id: str, params=None) -> int:
        from tallyflow.registrations.roll import seed_with_credentials_file
        from tallyflow.settings import get_settings

        settings = get_settings()
        return seed_with_credentials_file(
            settings.home, settings.database_url, election_id, params["voters"], params["seed"],
            write_credentials=params["write_credentials"],
        )

    @task
    def validate_registrations(election_id: str, _voters: int) -> dict:
        from tallyflow.registrations.quality import check_registrations
        from tallyflow.settings import get_settings

        return check_registrations(get_settings(), election_id)

    @task
    def schedule_election(election_id: str, _validation: dict) -> str:
        from tallyflow.elections.lifecycle import schedule_election
        from tallyflow.settings import get_settings

        schedule_election(get_settings().database_url, election_id, actor="airflow")
        return election_id

    election_id = store_election(check_definition())
    voters = seed_registrations(election_id)
    schedule_election(election_id, validate_registrations(election_id, voters))


create_election()
