-- Drift is checked for every subject the engine reconciles (a proxy map's rollout too), not only
-- the access policy: each drifted item says whose it is (the subject and its id; drift found
-- before this names no id: the next check fills it in).
alter table drift add column subject text not null default 'access_policy';
alter table drift alter column subject drop default;
alter table drift add column subject_id bigint;
