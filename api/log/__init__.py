"""The search log: what staff asked (masked), kept beside the index, and the analytics read from it."""
