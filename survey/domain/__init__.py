"""Domain actions shared by the web app, the CLI and the pipeline: teams, rounds, actions, ..."""
