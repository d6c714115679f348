"""Script pipelines shipped with Mantle: their YAML specs (package data) and programs."""
