-- Several replicas on one database: background work as durable jobs, periodic schedules that
-- fire once per period across replicas, the sign-in throttle and the setup link in the
-- database. (README, "Operations".)

-- One piece of background work. Any replica takes a queued job (`for update skip locked`) and
-- holds it with a lease it renews while it works; a job whose lease runs out (its replica died)
-- is queued again while it has attempts left, else it ends `interrupted`. A cancel is a flag
-- the running replica reads when it renews the lease, so it reaches the job wherever it runs.
create table job (
    id bigint generated always as identity primary key,
    -- what to run: scan, sample, sweep, judge, ...
    kind text not null check (length(kind) between 1 and 50),
    payload jsonb not null default '{}',
    state text not null default 'queued'
        check (state in ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
    run_after timestamptz not null default now(),
    attempts integer not null default 0,
    max_attempts integer not null default 1 check (max_attempts >= 1),
    -- the replica that holds it, and until when
    owner text,
    lease_until timestamptz,
    cancel_requested boolean not null default false,
    error text,
    -- who asked: a username, token:<name>, or system:<schedule>; and in which request (the
    -- job's log lines name it, so one request can be followed through the log)
    created_by text not null,
    request_id text,
    created_at timestamptz not null default now(),
    started_at timestamptz,
    finished_at timestamptz
);
create index job_queued_idx on job (run_after, id) where state = 'queued';
create index job_running_idx on job (lease_until) where state = 'running';
create index job_finished_idx on job (finished_at) where finished_at is not null;

-- A periodic schedule: the replica whose update moves `next_at` forward fires it; the others
-- find it no longer due. One row per schedule name.
create table schedule (
    name text primary key,
    next_at timestamptz not null,
    last_fired_at timestamptz,
    last_fired_by text
);

-- A scan is queued, then run by a job (resumed by another replica when its own dies).
alter table scan drop constraint scan_state_check;
alter table scan add constraint scan_state_check
    check (state in ('queued', 'running', 'done', 'cancelled', 'interrupted'));
alter table scan add column job_id bigint references job (id) on delete set null;
create index scan_job_idx on scan (job_id);

-- Failed sign-ins, per account (`account:<lowercased name>`) and per client address
-- (`address:<ip>`), counted in a sliding window by whichever replica answers.
create table sign_in_failure (
    key text not null,
    at timestamptz not null default now()
);
create index sign_in_failure_key_idx on sign_in_failure (key, at);

-- First-start setup: the SHA-256 of each one-time token a replica printed (each replica that
-- starts before the first admin exists prints its own); all go when the first admin is made.
create table setup_token (
    sha256 text primary key check (length(sha256) = 64),
    created_at timestamptz not null default now()
);
