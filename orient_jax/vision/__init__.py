"""See: the orientation CNN (model, data, training, metrics)."""
