"""The position family: a learned positional embedding added to a sequence."""
