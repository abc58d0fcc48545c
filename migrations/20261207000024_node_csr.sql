-- The CSR each node generated last through the console (`set csr gen`, then `show csr own`):
-- shown and downloaded, and what a signed certificate is checked against before its upload.
create table node_csr (
    node_id bigint not null references node (id) on delete cascade,
    unit text not null check (unit in ('tomcat')),
    pem text not null check (length(pem) < 16384),
    generated_at timestamptz not null default now(),
    generated_by text not null,
    primary key (node_id, unit)
);

-- Cloud Connect: its certificate goes into both Finesse nodes' tomcat-trust (seed 001).
alter table node drop constraint node_kind_check;
alter table node add constraint node_kind_check check (kind in ('finesse', 'cuic', 'livedata', 'ids', 'idp',
    'uccx', 'socialminer', 'cloud_connect', 'mediasense', 'imp', 'cucm', 'broadworks', 'reverse_proxy',
    'load_balancer', 'other'));
