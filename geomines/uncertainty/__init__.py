"""How sure, and who: the range across population grids, the distance curve, age and sex."""
