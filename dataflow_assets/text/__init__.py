"""The text domain: pre-training filtering (``text_pretrain``) and SFT synthesis (``text_sft``)."""
