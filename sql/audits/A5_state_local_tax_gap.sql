-- A5 state_local_tax_gap (AUDITS.md)
--
-- Rule: AIC 登记状态 is 存续 (exactly; 在业 does not count), at least 12 VAT returns, and no
-- local-tax declaration ever.
--
-- The status is the enterprise's register entry (audit.enterprise_registration: its live
-- AIC registration, the latest approved when it has several). "Ever" is every live local-tax
-- declaration, whatever its period; arrears announcements are not declarations.
--
-- Near misses, not reported: 在业 (or 注销, 吊销, 迁出, no registration); 11 VAT returns or
-- fewer (counting live return records: a deleted return or an older version of a return
-- does not count); any live local-tax declaration. A local-tax declaration that was
-- deleted is no declaration: the enterprise is reported.
-- Evidence: the registration and every live VAT return.
--
-- The enterprises with live VAT returns and no live local-tax declaration come from the
-- run's summary (audit.vat_without_local, sql/audits/summaries/vat_without_local.sql): how
-- many returns, the register entry's status, and the evidence (the registration and each
-- return as evidence records, with the counts), built by the night and copied as it is.
-- Its hash (evidence_hash, computed as the night stored it) comes along: a rerun tells
-- a changed finding by it without reading the evidence.
select enterprise_id, evidence, evidence_hash
from audit.vat_without_local
where status = '存续'
  and returns >= 12
