"""The ``contribution`` section of a policy file. Owned by contributions (issue 4)."""
