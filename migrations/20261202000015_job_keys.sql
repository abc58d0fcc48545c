-- Work that must not run twice at once (one node's certificate-store read): a key, unique among
-- the jobs still queued or running. Queueing it again joins the pending job.
alter table job add column dedupe_key text;
create unique index job_pending_key_idx on job (dedupe_key) where state in ('queued', 'running');
