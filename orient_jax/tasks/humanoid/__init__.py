"""Humanoid-v4 (Gymnasium semantics) in MJX, trained with PPO or branching DQN."""
