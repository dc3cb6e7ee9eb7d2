"""The tasks: each package holds its experiment config, env, evaluation and run."""
