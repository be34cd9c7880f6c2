"""Gate records: the JUnit XML record, the markdown decision record, and reading them back."""
