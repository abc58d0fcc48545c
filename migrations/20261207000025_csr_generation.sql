-- Each CSR a node generates, and each regeneration of its certificate, makes the last one stale:
-- an upload planned from an older request is refused when it is confirmed.
alter table node_csr add column generation integer not null default 1;
