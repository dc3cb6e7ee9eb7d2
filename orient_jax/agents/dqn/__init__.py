"""Branching DQN (one Q head per action dimension) for continuous control."""
