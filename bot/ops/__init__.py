"""Running the bot: the CLI, settings, the runner (polling or webhook), the web endpoints,
metrics, logs and the doctor.
"""
