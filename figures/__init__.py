"""Figures: one module per figure group, thin: results in, files out."""
