-- A cluster's security posture, one row per scan: the report as the API returns it, and its
-- score and counts apart so the trend is read without opening every report.
create table posture_scan (
    id bigserial primary key,
    cluster_id bigint not null references cluster (id) on delete cascade,
    -- 0 to 100 (formula in domain/src/posture/rules.rs and the README)
    score integer not null check (score between 0 and 100),
    critical integer not null,
    high integer not null,
    medium integer not null,
    low integer not null,
    -- findings, gaps and the nodes looked at (domain::posture::PostureReport)
    report jsonb not null,
    -- who ran the scan (a user, `system:schedule`)
    created_by text not null,
    created_at timestamptz not null default now()
);

create index posture_scan_cluster on posture_scan (cluster_id, created_at desc);

-- Where a node's other services listen when not at the product's defaults (behind NAT, or the
-- simulator's loopback ports): http 80, http_alt 8082, xmpp 5222, bosh 7071, desktop 8445,
-- cti 8012.
create table node_port (
    node_id bigint not null references node (id) on delete cascade,
    service text not null check (service in ('http', 'http_alt', 'xmpp', 'bosh', 'desktop', 'cti')),
    port integer not null check (port between 1 and 65535),
    primary key (node_id, service)
);
