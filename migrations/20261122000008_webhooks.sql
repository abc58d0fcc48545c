-- Notifications: webhooks receive one message per alert state transition, never one per scan.

create table webhook (
    id bigint generated always as identity primary key,
    name text not null unique check (length(name) between 1 and 100),
    url text not null,
    -- json: Gatehouse's own JSON; slack: {"text": ...} for Slack-compatible incoming webhooks
    format text not null check (format in ('json', 'slack')),
    created_by text not null,
    created_at timestamptz not null default now()
);

-- The last judged state of each certificate on each endpoint; a change is a transition.
create table alert_status (
    endpoint_id bigint not null references endpoint (id) on delete cascade,
    sha256 text not null references certificate (sha256),
    state text not null check (state in ('ok', 'warning', 'critical', 'expired')),
    changed_at timestamptz not null default now(),
    primary key (endpoint_id, sha256)
);

-- One transition: a certificate on an endpoint went from one state to another ('gone': no
-- longer served there).
create table transition (
    id bigint generated always as identity primary key,
    endpoint_id bigint references endpoint (id) on delete set null,
    sha256 text not null,
    from_state text,
    to_state text not null,
    -- the message as sent (node, port, subject, days left, ...)
    detail jsonb not null,
    created_at timestamptz not null default now()
);

-- Delivering one transition to one webhook, with retries.
create table delivery (
    id bigint generated always as identity primary key,
    transition_id bigint not null references transition (id) on delete cascade,
    webhook_id bigint not null references webhook (id) on delete cascade,
    state text not null check (state in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_status integer,
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz not null default now(),
    unique (transition_id, webhook_id)
);
create index delivery_due_idx on delivery (next_attempt_at) where state = 'pending';
