"""Where to go first: communities near hazards, features of interest, and a priority list."""
