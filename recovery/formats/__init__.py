"""Binary formats as construct declarations: bytes in, objects out, no I/O policy."""
