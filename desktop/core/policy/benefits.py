"""Reimbursement sections of a policy file (inpatient, outpatient, dabing, assistance …).
Owned by the estimator (issue 3)."""
