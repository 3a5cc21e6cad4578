//! Inventory: the live state of every system that plan needs, read in parallel.
