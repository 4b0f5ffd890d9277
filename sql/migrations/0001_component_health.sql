-- Health of each platform component as last seen by the platform_health DAG.
create table if not exists component_health (
    component text not null,
    checked_at timestamptz not null default now(),
    is_healthy boolean not null,
    detail text not null,
    primary key (component, checked_at)
);

create index if not exists component_health_latest_idx
    on component_health (component, checked_at desc);
