"""The ground every module stands on: the unit of work, the acting user, access, audit, errors, references."""
