"""The schedule stage: how each linalg op is split over the CPEs of a core group and into LDM-sized tiles."""
