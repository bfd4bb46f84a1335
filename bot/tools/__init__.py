"""Tools around the bot, never on its hot path: the sandbox Bot API, the benchmarks, the demo
and the stats report.
"""
