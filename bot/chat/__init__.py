"""The chat bot proper: the Application, its handlers, the sender and its budget, keyboards, texts.

Nothing here imports bot.tools (the sandbox, benchmarks, demo, stats); a layering test keeps it so.
"""
