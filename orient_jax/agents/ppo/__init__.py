"""Proximal policy optimisation in pure JAX: networks, losses, config, training."""
