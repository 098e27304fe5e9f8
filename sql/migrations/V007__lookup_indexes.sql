-- An enterprise looked up by any of its codes (the regulators' most common question) must not
-- scan every enterprise of the run: one index per code kind, within the run.
create index if not exists enterprise_uscc on resolve.enterprise (run_id, uscc);
create index if not exists enterprise_org_code on resolve.enterprise (run_id, org_code);
create index if not exists enterprise_reg_no on resolve.enterprise (run_id, reg_no);
create index if not exists enterprise_tax_no on resolve.enterprise (run_id, tax_no);
create index if not exists enterprise_customs_code on resolve.enterprise (run_id, customs_code);
create index if not exists enterprise_head on resolve.enterprise (run_id, head_enterprise_id);
