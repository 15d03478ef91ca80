-- Issue 19: a group the county's policy names (退役军人及军属, 刑满释放人员, 一类低保 …), for
-- its exemptions and subsidies; '' = none. The codes and labels are the policy file's
-- ([[contribution.groups]]), checked by the registration service.
ALTER TABLE person ADD COLUMN local_group TEXT NOT NULL DEFAULT '';
