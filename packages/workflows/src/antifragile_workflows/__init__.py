"""Workflow definitions. They import only antifragile_core and temporalio."""
