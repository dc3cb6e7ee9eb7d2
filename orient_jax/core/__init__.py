"""Task-agnostic infrastructure: configs, run directories, checkpoints, the host loop, sharding, stages."""
