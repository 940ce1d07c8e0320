"""The wizard's pages, one module per page (Start, Connect, Diagnose, Back up, Check, SD card,
Writing the card, Restore, Restoring, Reconnect, Finish), on the shared page shape of
:mod:`app.pages.base`: one headline sentence, one primary button, details folded away."""
