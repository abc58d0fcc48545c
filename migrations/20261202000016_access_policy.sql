-- The access policy (trusted proxies, client-auth, CORS, frame-ancestors) and the
-- reconciliation engine's plans, which every feature that changes appliances shares.

-- One policy; one cluster, or the clusters behind one proxy pair, follow it.
create table access_policy (
    id bigint generated always as identity primary key,
    created_at timestamptz not null default now()
);

create table access_policy_cluster (
    cluster_id bigint primary key references cluster (id) on delete cascade,
    policy_id bigint not null references access_policy (id) on delete cascade
);
create index access_policy_cluster_policy_idx on access_policy_cluster (policy_id);

-- Every saved version is kept; the highest is the policy in force.
create table access_policy_version (
    policy_id bigint not null references access_policy (id) on delete cascade,
    version integer not null check (version >= 1),
    -- domain::access_policy::AccessPolicy as JSON
    document jsonb not null,
    author text not null,
    -- why it was saved (the admin's words, or "adopted from <node>", "restored version N")
    reason text not null default '',
    created_at timestamptz not null default now(),
    primary key (policy_id, version)
);

-- A plan: the commands that turn what was read from nodes into the desired state, shown before
-- anything runs and run only after an admin confirms it.
create table plan (
    id bigint generated always as identity primary key,
    -- what it reconciles: 'access_policy' (later: proxy maps, trust, posture)
    subject text not null,
    subject_id bigint not null,
    -- the version of the desired state it was made from
    subject_version integer not null,
    state text not null check (state in ('reading', 'ready', 'applying', 'applied', 'failed', 'cancelled', 'superseded')),
    created_by text not null,
    created_at timestamptz not null default now(),
    confirmed_by text,
    confirmed_at timestamptz,
    finished_at timestamptz,
    -- the apply job (the last one when resumed)
    job_id bigint
);
create index plan_subject_idx on plan (subject, subject_id, created_at desc);

-- One node of a plan: what was read, what it should be, and how far apply got.
create table plan_node (
    plan_id bigint not null references plan (id) on delete cascade,
    node_id bigint not null references node (id) on delete cascade,
    -- apply order within its cluster: primary/publisher first
    position integer not null,
    state text not null check (state in ('reading', 'unreachable', 'in_sync', 'planned', 'applying',
        'verifying', 'verified', 'failed', 'changed', 'cancelled')),
    -- domain::reconcile::States read when the plan was made
    observed jsonb,
    desired jsonb not null,
    -- domain::reconcile::NodePlan
    node_plan jsonb,
    -- what still differs after a failed or changed apply ([{item, expected, actual}])
    remaining jsonb,
    error text,
    updated_at timestamptz not null default now(),
    primary key (plan_id, node_id)
);

-- Each command of a node's plan as it ran.
create table plan_step (
    plan_id bigint not null,
    node_id bigint not null,
    position integer not null,
    state text not null default 'pending' check (state in ('pending', 'running', 'done', 'failed', 'cancelled')),
    -- the appliance's whole output (passwords never appear in these commands)
    output text,
    error text,
    started_at timestamptz,
    finished_at timestamptz,
    primary key (plan_id, node_id, position),
    foreign key (plan_id, node_id) references plan_node (plan_id, node_id) on delete cascade
);

-- Services a node must restart for applied changes to take effect.
create table restart_pending (
    node_id bigint not null references node (id) on delete cascade,
    service text not null,
    since timestamptz not null default now(),
    primary key (node_id, service)
);

-- What differs between a managed node and its cluster's policy, as the drift job last read it.
create table drift (
    node_id bigint not null references node (id) on delete cascade,
    item text not null,
    expected text not null,
    actual text not null,
    since timestamptz not null default now(),
    checked_at timestamptz not null default now(),
    primary key (node_id, item)
);

-- When the drift job last read each managed node, and why it could not.
create table drift_check (
    node_id bigint primary key references node (id) on delete cascade,
    checked_at timestamptz not null default now(),
    error text
);

-- Webhook messages are no longer only about certificates: drift appears and is resolved.
alter table transition alter column sha256 drop not null;

-- A service restart on a node asked from the console, with the states it streamed.
create table service_restart (
    id bigint generated always as identity primary key,
    node_id bigint not null references node (id) on delete cascade,
    service text not null,
    state text not null check (state in ('queued', 'running', 'done', 'failed')),
    -- the lines the node printed so far (`Cisco Finesse Tomcat[STARTING]`, ...)
    lines text not null default '',
    error text,
    -- restarts of one rolling restart share it: the first restart's id
    batch bigint,
    requested_by text not null,
    created_at timestamptz not null default now(),
    finished_at timestamptz
);
create index service_restart_node_idx on service_restart (node_id, id desc);
