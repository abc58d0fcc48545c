-- CA certificates an admin trusts for one cluster (a private PKI, the appliances' own CAs):
-- every probe of the cluster's endpoints is also verified against them.
create table cluster_ca (
    cluster_id bigint not null references cluster (id) on delete cascade,
    sha256 text not null check (length(sha256) = 64),
    der bytea not null,
    subject text not null,
    not_after timestamptz not null,
    added_by text not null,
    added_at timestamptz not null default now(),
    primary key (cluster_id, sha256)
);
