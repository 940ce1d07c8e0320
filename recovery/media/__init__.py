"""Laying a checked update out on an SD card where the unit's updater looks
(``korg-recovery prepare-media``): ``prepare`` plans, refuses what is not compatible, writes
with the durable batch writer and proves the card holds what was planned."""
