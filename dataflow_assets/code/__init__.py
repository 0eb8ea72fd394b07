"""The code domain's asset group ``code``: instruction/code pairs synthesized from seed code and seed tasks, kept
only when their tests provably pass in the sandbox, formatted for supervised fine-tuning."""
