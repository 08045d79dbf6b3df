"""Reading inputs: vector files (hazards, admin units) and population rasters."""
