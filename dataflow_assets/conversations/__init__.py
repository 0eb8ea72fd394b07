"""The conversations domain's asset group (``conversations``): dialogues and tool-use trajectories from seeds."""
