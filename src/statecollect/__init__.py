"""statecollect — 本科教学基本状态数据采集工具."""

__version__ = "0.1.0"
