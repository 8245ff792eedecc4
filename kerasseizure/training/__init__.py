"""Losses, metrics, cross-validation protocols, the fit loop, distillation and strategies."""
