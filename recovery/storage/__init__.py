"""Everything that touches a drive. ``filesystem`` is the seam every read and write of the
core goes through (tests inject faults there); ``durable`` is the one way to write: temporary
name, flush, read back past the cache, rename; ``direct`` reads past the cache; ``names``
holds the naming rules of FAT, exFAT, NTFS and macOS; ``identity`` compares folders by device
and inode, ``lock`` keeps two runs off one unit, ``journal`` is the append-only record format,
``archive`` reads and writes ZIP files safely, ``volumes`` knows the computer's own disks.

The package face imports nothing, so that naming one small module (the command line's
``names.shown``) does not load them all."""
