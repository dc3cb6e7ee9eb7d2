"""Named config presets for the experiment scripts."""
