"""Re-orientation: turn a dropped object upright by torque, from noisy observed orientations."""
