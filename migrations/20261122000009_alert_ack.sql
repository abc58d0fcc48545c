-- An alert can be acknowledged (someone is on it; it keeps alerting) or muted (silenced until
-- the date): the same record, told apart by its kind.
alter table alert_mute add column kind text not null default 'mute' check (kind in ('mute', 'ack'));
