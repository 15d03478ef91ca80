"""Devices at the window: the 二代身份证 desktop card readers. Qt-free and SQL-free; imports
only core."""
