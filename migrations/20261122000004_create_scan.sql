-- Live TLS probes: scans, what each probe saw, and the certificates served.

-- Every certificate ever seen, once, by its SHA-256 fingerprint.
create table certificate (
    sha256 text primary key check (length(sha256) = 64),
    der bytea not null,
    subject_cn text,
    issuer_cn text,
    serial text not null,
    not_before timestamptz not null,
    not_after timestamptz not null,
    -- the parsed facts (certs::CertInfo); findings are computed when read, so expiry is current
    info jsonb not null,
    first_seen_at timestamptz not null default now()
);
create index certificate_not_after_idx on certificate (not_after);

create table scan (
    id bigint generated always as identity primary key,
    -- who started it: a username, token:<name>, or system:scheduler
    requested_by text not null,
    state text not null check (state in ('running', 'done', 'cancelled')),
    total integer not null,
    done integer not null default 0,
    started_at timestamptz not null default now(),
    finished_at timestamptz
);

-- One handshake with one endpoint.
create table probe (
    id bigint generated always as identity primary key,
    scan_id bigint references scan (id) on delete set null,
    endpoint_id bigint not null references endpoint (id) on delete cascade,
    probed_at timestamptz not null default now(),
    ok boolean not null,
    -- a stable reason code when not ok: dns, refused, timeout, not_tls, tls_alert:<name>, ...
    error_code text,
    error_message text,
    protocol text,
    -- IANA name
    cipher_suite text,
    alpn text,
    client_certificate_requested boolean,
    handshake_ms double precision,
    -- null: verified; else why not
    public_trust_error text,
    -- null when the cluster has no CAs of its own
    cluster_trusted boolean,
    cluster_trust_error text
);
create index probe_endpoint_idx on probe (endpoint_id, probed_at desc);

-- The chain a probe was served, leaf first.
create table probe_chain (
    probe_id bigint not null references probe (id) on delete cascade,
    position integer not null,
    sha256 text not null references certificate (sha256),
    primary key (probe_id, position)
);

-- What an endpoint has served over time: first and last time each certificate was seen there.
create table observation (
    endpoint_id bigint not null references endpoint (id) on delete cascade,
    sha256 text not null references certificate (sha256),
    position integer not null,
    first_seen_at timestamptz not null,
    last_seen_at timestamptz not null,
    primary key (endpoint_id, sha256, position)
);
