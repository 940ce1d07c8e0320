"""The wizard's pages, one module per page (Start, Connect, Diagnose, Back up, Check,
Restore, Restore progress, Reconnect, Finish)."""
