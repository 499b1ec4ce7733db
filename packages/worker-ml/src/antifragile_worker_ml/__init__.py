"""ml-queue worker: LoRA fine-tuning and evaluation of the organisational model."""
