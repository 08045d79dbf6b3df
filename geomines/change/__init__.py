"""What changed between hazard snapshots, counted in people: compare and timeline."""
