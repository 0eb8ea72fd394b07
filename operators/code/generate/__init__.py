"""Code-domain operators of this category; each module registers one."""
