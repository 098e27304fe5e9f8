-- The last delivery a publication covered: validation failures of deliveries loaded after it
-- block the next publication, however many nights later it is attempted.
alter table credit.published add column max_delivery_id bigint not null default 0;
