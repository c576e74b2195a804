"""The stack as template.yaml defines it: the template read as data, and the local stack's names."""
