"""The Redes DAG, its configuration defaults and command-line flags."""
