-- An admin's decision to silence the alert of one certificate served on one endpoint, until a date.
create table alert_mute (
    endpoint_id bigint not null references endpoint (id) on delete cascade,
    sha256 text not null references certificate (sha256),
    -- who is handling it
    owner text not null,
    note text not null default '',
    until timestamptz not null,
    muted_by text not null,
    created_at timestamptz not null default now(),
    primary key (endpoint_id, sha256)
);
