"""Pipelines and their stages, deals moving through them, products, and orders from won deals."""
